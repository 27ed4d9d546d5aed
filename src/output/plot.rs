//! Line plots as data and as SVG: a grid of small panels sharing one legend, each with series,
//! shaded x ranges (EA sessions) and vertical marks (injury onset, doses). `dorsalhorn plot`
//! and the sweep's outcome plots write them; `figure::plot` draws the same description as PNG.
//! The tick and label helpers are shared with the validation figures.

/// One line of a panel.
#[derive(Debug, Clone)]
pub struct Series {
    pub name: String,
    pub points: Vec<[f64; 2]>,
    pub colour: [u8; 3],
    pub dashed: bool,
    /// Draw a dot at each point (few points, e.g. a sweep's members).
    pub dots: bool,
}

/// One panel: a title, axis labels, lines, shaded x ranges and vertical marks.
#[derive(Debug, Clone, Default)]
pub struct LinePlot {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub series: Vec<Series>,
    /// Shaded x ranges with their colour (EA sessions).
    pub spans: Vec<(f64, f64, [u8; 3])>,
    /// Vertical lines with a label and colour (pain model onset, doses).
    pub marks: Vec<(f64, String, [u8; 3])>,
}

/// Panels in a grid with one legend under them.
#[derive(Debug, Clone, Default)]
pub struct PlotGrid {
    pub title: String,
    pub cols: usize,
    pub panels: Vec<LinePlot>,
    /// (name, colour, dashed) entries of the legend.
    pub legend: Vec<(String, [u8; 3], bool)>,
    /// A line of small print (sources, what the marks mean).
    pub note: String,
}

/// Colours for runs or members, in order (Okabe–Ito, colour-blind safe).
pub const PALETTE: [[u8; 3]; 8] = [
    [0, 114, 178],
    [213, 94, 0],
    [0, 158, 115],
    [204, 121, 167],
    [230, 159, 0],
    [86, 180, 233],
    [0, 0, 0],
    [240, 228, 66],
];

/// XML-escapes `s`.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// About `n` round tick values covering [lo, hi].
pub fn nice_ticks(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    let span = (hi - lo).max(1e-12);
    let raw = span / n as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| span / s <= n as f64)
        .unwrap_or(10.0 * mag);
    let mut t = (lo / step).ceil() * step;
    let mut out = Vec::new();
    while t <= hi + 1e-9 * step {
        out.push(if t.abs() < 1e-12 * step { 0.0 } else { t });
        t += step;
    }
    out
}

/// A tick label: plain with up to 4 decimals, scientific outside 0.001–10 000.
pub fn label(v: f64) -> String {
    let a = v.abs();
    if a == 0.0 {
        "0".into()
    } else if !(1e-3..1e4).contains(&a) {
        format!("{v:.1e}")
    } else {
        let s = format!("{v:.4}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// Thins a series (sorted by x) for drawing at `min_dx` data units per point: one point per
/// bin of that width, the one furthest from the point kept before it, so a dip narrower than a
/// bin (an EA session's minimum on a week-long axis) keeps its depth; the first and last points
/// stay. A line through points closer than its own width draws as wedges in egui.
pub fn thin(points: &[[f64; 2]], min_dx: f64) -> Vec<[f64; 2]> {
    let Some((&first, rest)) = points.split_first() else {
        return Vec::new();
    };
    if min_dx.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater) {
        return points.to_vec();
    }
    let mut out = vec![first];
    let mut bin: Option<(i64, [f64; 2])> = None;
    for &p in rest {
        let k = ((p[0] - first[0]) / min_dx).floor() as i64;
        let last = *out.last().expect("first is kept");
        match bin {
            Some((bk, best)) if bk == k => {
                if (p[1] - last[1]).abs() > (best[1] - last[1]).abs() {
                    bin = Some((k, p));
                }
            }
            Some((_, best)) => {
                out.push(best);
                bin = Some((k, p));
            }
            None => bin = Some((k, p)),
        }
    }
    if let Some((_, best)) = bin {
        out.push(best);
    }
    if let (Some(l), Some(&end)) = (out.last_mut(), points.last()) {
        *l = end;
    }
    out
}

fn rgb(c: [u8; 3]) -> String {
    format!("rgb({},{},{})", c[0], c[1], c[2])
}

impl LinePlot {
    /// The finite x and y ranges of the series, spans and marks (y always includes 0).
    pub fn bounds(&self) -> ([f64; 2], [f64; 2]) {
        let mut x = [f64::INFINITY, f64::NEG_INFINITY];
        let mut y = [0.0f64, f64::NEG_INFINITY];
        for s in &self.series {
            for p in s
                .points
                .iter()
                .filter(|p| p[0].is_finite() && p[1].is_finite())
            {
                x = [x[0].min(p[0]), x[1].max(p[0])];
                y = [y[0].min(p[1]), y[1].max(p[1])];
            }
        }
        for &(a, b, _) in &self.spans {
            x = [x[0].min(a), x[1].max(b)];
        }
        for (m, _, _) in &self.marks {
            x = [x[0].min(*m), x[1].max(*m)];
        }
        if !x[0].is_finite() {
            x = [0.0, 1.0];
        }
        if x[1] <= x[0] {
            x = [x[0] - 0.5, x[0] + 0.5];
        }
        if !y[1].is_finite() || y[1] <= y[0] {
            y[1] = y[0] + 1.0;
        }
        (x, [y[0], y[1] + 0.05 * (y[1] - y[0])])
    }

    /// The panel's SVG elements in the box (x0, y0, w, h).
    fn svg_into(&self, s: &mut String, x0: f64, y0: f64, w: f64, h: f64) {
        let (px0, py0, pw, ph) = (x0 + 58.0, y0 + 24.0, w - 70.0, h - 62.0);
        let (xr, yr) = self.bounds();
        let sx = |x: f64| px0 + (x - xr[0]) / (xr[1] - xr[0]) * pw;
        let sy = |y: f64| py0 + ph - (y - yr[0]) / (yr[1] - yr[0]) * ph;
        s.push_str(&format!(
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"13\" font-weight=\"bold\">{}</text>\n",
            x0 + 8.0,
            y0 + 15.0,
            esc(&self.title)
        ));
        for &(a, b, c) in &self.spans {
            s.push_str(&format!(
                "<rect x=\"{:.1}\" y=\"{py0:.1}\" width=\"{:.2}\" height=\"{ph:.1}\" fill=\"{}\" fill-opacity=\"0.25\"/>\n",
                sx(a),
                (sx(b) - sx(a)).max(1.0),
                rgb(c)
            ));
        }
        s.push_str(&format!(
            "<rect x=\"{px0:.1}\" y=\"{py0:.1}\" width=\"{pw:.1}\" height=\"{ph:.1}\" fill=\"none\" stroke=\"#444\"/>\n"
        ));
        for t in nice_ticks(xr[0], xr[1], 6) {
            s.push_str(&format!(
                "<line x1=\"{0:.1}\" x2=\"{0:.1}\" y1=\"{1:.1}\" y2=\"{2:.1}\" stroke=\"#444\"/><text x=\"{0:.1}\" y=\"{3:.1}\" font-size=\"10\" text-anchor=\"middle\">{4}</text>\n",
                sx(t),
                py0 + ph,
                py0 + ph + 4.0,
                py0 + ph + 15.0,
                label(t)
            ));
        }
        for t in nice_ticks(yr[0], yr[1], 4) {
            s.push_str(&format!(
                "<line x1=\"{0:.1}\" x2=\"{1:.1}\" y1=\"{2:.1}\" y2=\"{2:.1}\" stroke=\"#ddd\"/><text x=\"{3:.1}\" y=\"{4:.1}\" font-size=\"10\" text-anchor=\"end\">{5}</text>\n",
                px0,
                px0 + pw,
                sy(t),
                px0 - 4.0,
                sy(t) + 3.5,
                label(t)
            ));
        }
        s.push_str(&format!(
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"middle\">{}</text>\n",
            px0 + pw / 2.0,
            py0 + ph + 30.0,
            esc(&self.x_label)
        ));
        s.push_str(&format!(
            "<text transform=\"translate({:.1},{:.1}) rotate(-90)\" font-size=\"11\" text-anchor=\"middle\">{}</text>\n",
            x0 + 12.0,
            py0 + ph / 2.0,
            esc(&self.y_label)
        ));
        for (m, what, c) in &self.marks {
            s.push_str(&format!(
                "<line x1=\"{0:.1}\" x2=\"{0:.1}\" y1=\"{py0:.1}\" y2=\"{1:.1}\" stroke=\"{2}\" stroke-dasharray=\"4 3\"><title>{3}</title></line>\n",
                sx(*m),
                py0 + ph,
                rgb(*c),
                esc(what)
            ));
        }
        for ser in &self.series {
            let pts: Vec<String> = ser
                .points
                .iter()
                .filter(|p| p[0].is_finite() && p[1].is_finite())
                .map(|p| format!("{:.1},{:.1}", sx(p[0]), sy(p[1])))
                .collect();
            s.push_str(&format!(
                "<polyline points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"1.6\"{}><title>{}</title></polyline>\n",
                pts.join(" "),
                rgb(ser.colour),
                if ser.dashed { " stroke-dasharray=\"6 3\"" } else { "" },
                esc(&ser.name)
            ));
            if ser.dots {
                for p in ser
                    .points
                    .iter()
                    .filter(|p| p[0].is_finite() && p[1].is_finite())
                {
                    s.push_str(&format!(
                        "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"{}\"/>\n",
                        sx(p[0]),
                        sy(p[1]),
                        rgb(ser.colour)
                    ));
                }
            }
        }
    }
}

impl PlotGrid {
    /// The grid as a standalone SVG document, `panel_w` × `panel_h` points per panel.
    pub fn svg(&self, panel_w: f64, panel_h: f64) -> String {
        let cols = self.cols.clamp(1, self.panels.len().max(1));
        let rows = self.panels.len().div_ceil(cols).max(1);
        let top = 30.0;
        let legend_h = 22.0 * self.legend.len().div_ceil(4).max(1) as f64 + 20.0;
        let (w, h) = (
            cols as f64 * panel_w,
            top + rows as f64 * panel_h + legend_h,
        );
        let mut s = format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w:.0}\" height=\"{h:.0}\" viewBox=\"0 0 {w:.0} {h:.0}\" font-family=\"sans-serif\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n<text x=\"10\" y=\"20\" font-size=\"15\" font-weight=\"bold\">{}</text>\n",
            esc(&self.title)
        );
        for (k, p) in self.panels.iter().enumerate() {
            let (c, r) = (k % cols, k / cols);
            p.svg_into(
                &mut s,
                c as f64 * panel_w,
                top + r as f64 * panel_h,
                panel_w,
                panel_h,
            );
        }
        let ly = top + rows as f64 * panel_h + 10.0;
        for (k, (name, c, dashed)) in self.legend.iter().enumerate() {
            let (lx, yy) = (
                20.0 + (k % 4) as f64 * (w - 40.0) / 4.0,
                ly + 22.0 * (k / 4) as f64,
            );
            s.push_str(&format!(
                "<line x1=\"{lx:.1}\" x2=\"{:.1}\" y1=\"{yy:.1}\" y2=\"{yy:.1}\" stroke=\"{}\" stroke-width=\"2.5\"{}/><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\">{}</text>\n",
                lx + 26.0,
                rgb(*c),
                if *dashed { " stroke-dasharray=\"6 3\"" } else { "" },
                lx + 32.0,
                yy + 4.0,
                esc(name)
            ));
        }
        s.push_str(&format!(
            "<text x=\"10\" y=\"{:.1}\" font-size=\"10\" fill=\"#555\">{}</text>\n</svg>\n",
            h - 6.0,
            esc(&self.note)
        ));
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_cover_the_range() {
        assert_eq!(nice_ticks(0.0, 7.0, 6), vec![0.0, 2.0, 4.0, 6.0]);
        assert_eq!(label(0.25), "0.25");
        assert_eq!(label(12345.0), "1.2e4");
    }

    #[test]
    fn thinning_keeps_a_narrow_dip_and_the_ends() {
        // A week sampled every 2 h with a 30-min dip sampled every 5 min.
        let mut pts: Vec<[f64; 2]> = (0..=84).map(|k| [k as f64 / 12.0, 3.0]).collect();
        for k in 1..6 {
            pts.push([1.5 + k as f64 * 5.0 / 1440.0, 3.0 - 0.5 * k as f64]);
        }
        pts.sort_by(|a, b| a[0].total_cmp(&b[0]));
        let t = thin(&pts, 7.0 / 600.0);
        assert!(t.len() < pts.len());
        assert_eq!(t.first(), pts.first());
        assert_eq!(t.last(), pts.last());
        let min = t.iter().map(|p| p[1]).fold(f64::INFINITY, f64::min);
        assert_eq!(min, 0.5, "the dip's depth survives");
        assert!(t.windows(2).all(|w| w[1][0] > w[0][0]));
    }

    #[test]
    fn the_svg_has_every_series_and_legend_entry() {
        let grid = PlotGrid {
            title: "t & <t>".into(),
            cols: 2,
            panels: vec![LinePlot {
                title: "P".into(),
                series: vec![Series {
                    name: "a".into(),
                    points: vec![[0.0, 1.0], [1.0, f64::NAN], [2.0, 3.0]],
                    colour: PALETTE[0],
                    dashed: false,
                    dots: true,
                }],
                spans: vec![(0.5, 0.6, PALETTE[1])],
                ..LinePlot::default()
            }],
            legend: vec![("a".into(), PALETTE[0], false)],
            note: String::new(),
        };
        let svg = grid.svg(300.0, 200.0);
        assert!(svg.contains("t &amp; &lt;t&gt;"));
        assert_eq!(svg.matches("<polyline").count(), 1);
        assert_eq!(svg.matches("<circle").count(), 2, "NaN points are skipped");
    }
}
