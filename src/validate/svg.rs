//! One SVG figure per finding: a panel per compared quantity (at most four) with the time
//! courses of the arms its checks compare, the compared time points (dashed) and windows
//! (shaded) marked; a finding with spatial quantities adds the lamina profile of the first
//! one's field inside and outside the paw band. SVG keeps the figures sharp, small and free of a font or plotting
//! dependency, and GitHub and browsers show them inline.

use super::eval::{Runs, series, when_text};
use super::finding::{Finding, Measure, When};
use super::quantity::Quantity;
use super::report::short;
use crate::model::network::state::{RATE_NAMES, STATE_NAMES};
use crate::output::plot::{esc, label, nice_ticks};
use crate::tissue::spatial::{PROFILE, SpatialStat, profile_quantities};

const W: f64 = 760.0;
const PANEL_H: f64 = 220.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 180.0;
const TOP: f64 = 56.0;
const GAP: f64 = 46.0;
/// Characters per legend line: the legend text has RIGHT − 35 = 145 px at the default 12 px
/// sans-serif, whose digits and capitals are about 7 px wide.
const LEGEND_CHARS: usize = 20;
const COLOURS: [&str; 8] = [
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf",
];

struct Panel {
    name: String,
    quantity: Quantity,
    arms: Vec<String>,
    marks: Vec<When>,
}

/// Splits `text` at spaces into lines of at most `width` characters (a longer word gets its own
/// line); lines beyond `max_lines` are dropped and the last kept line ends in "…".
fn wrap(text: &str, width: usize, max_lines: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut cur = String::new();
    for word in text.split_whitespace() {
        if !cur.is_empty() && cur.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut cur));
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(word);
    }
    if !cur.is_empty() {
        lines.push(cur);
    }
    if lines.len() > max_lines {
        lines.truncate(max_lines);
        let last = lines.last_mut().expect("max_lines > 0");
        *last = format!("{}…", short(last, width.saturating_sub(1)));
    }
    lines.into_iter().map(|l| short(&l, width)).collect()
}

fn collect_measure(p: &mut Vec<Panel>, m: &Measure) {
    let i = match p.iter().position(|x| x.name == m.quantity_name) {
        Some(i) => i,
        None => {
            p.push(Panel {
                name: m.quantity_name.clone(),
                quantity: m.quantity.clone(),
                arms: Vec::new(),
                marks: Vec::new(),
            });
            p.len() - 1
        }
    };
    for a in m.arms_read() {
        if !p[i].arms.iter().any(|x| x == a) {
            p[i].arms.push(a.to_string());
        }
    }
    if !p[i].marks.contains(&m.when) {
        p[i].marks.push(m.when);
    }
    if let Some(per) = &m.per {
        collect_measure(p, per);
    }
}

/// The figure of one finding.
#[expect(clippy::too_many_lines, reason = "one SVG figure from top to bottom")]
pub fn figure(f: &Finding, runs: &Runs) -> String {
    let mut panels: Vec<Panel> = Vec::new();
    for c in &f.checks {
        for (a, b) in &c.pairs {
            collect_measure(&mut panels, a);
            if let Some(b) = b {
                collect_measure(&mut panels, b);
            }
        }
    }
    panels.truncate(4);
    let profile = profile_of(runs, &panels);
    let title = wrap(&format!("{}: {}", f.about.id, f.about.finding), 84, 3);
    let top = TOP + 17.0 * (title.len() as f64 - 1.0);
    let h = top + (panels.len() + usize::from(profile.is_some())) as f64 * (PANEL_H + GAP) + 10.0;
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{h}\" viewBox=\"0 0 {W} {h}\" font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
    );
    for (i, line) in title.iter().enumerate() {
        s.push_str(&format!(
            "<text x=\"{}\" y=\"{}\" font-size=\"14\" font-weight=\"bold\">{}</text>\n",
            LEFT - 60.0,
            22.0 + 17.0 * i as f64,
            esc(line)
        ));
    }
    let arm_colour = |name: &str| {
        let i = f.arms.iter().position(|a| a.name == name).unwrap_or(0);
        COLOURS[i % COLOURS.len()]
    };
    let arm_label = |name: &str| {
        f.arms
            .iter()
            .find(|a| a.name == name)
            .map(|a| a.label.clone())
            .unwrap_or_else(|| name.to_string())
    };
    for (pi, p) in panels.iter().enumerate() {
        let y0 = top + pi as f64 * (PANEL_H + GAP);
        let (x1, y1) = (W - RIGHT, y0 + PANEL_H);
        let data: Vec<(String, Vec<(f64, f64)>)> = p
            .arms
            .iter()
            .filter(|a| runs.arms.contains_key(*a))
            .map(|a| (a.clone(), series(runs, a, &p.quantity)))
            .collect();
        let tmax = data
            .iter()
            .flat_map(|(_, s)| s.iter().map(|x| x.0))
            .fold(0.0f64, f64::max)
            .max(1e-6);
        // Show the compared times with half their extent either side (the whole run when the
        // marks span most of it), so that a 30-min window on day 3 is not a sliver.
        let (mut lo_t, mut hi_t) = (f64::INFINITY, f64::NEG_INFINITY);
        for m in &p.marks {
            match *m {
                When::At(t) if t.is_finite() => (lo_t, hi_t) = (lo_t.min(t), hi_t.max(t)),
                When::Window(a, b) => (lo_t, hi_t) = (lo_t.min(a), hi_t.max(b)),
                _ => {}
            }
        }
        let (xa, xb) = if lo_t.is_finite() {
            let pad = 0.5 * (hi_t - lo_t).max(1.0);
            ((lo_t - pad).max(0.0), (hi_t + pad).min(tmax))
        } else {
            (0.0, tmax)
        };
        let (xa, xb) = if xb - xa > 0.6 * tmax {
            (0.0, tmax)
        } else {
            (xa, xb)
        };
        let span = (xb - xa).max(1e-6);
        let days = span > 72.0;
        let tu = if days { 24.0 } else { 1.0 };
        let visible = |t: f64| t >= xa - 1e-9 && t <= xb + 1e-9;
        let vals = data
            .iter()
            .flat_map(|(_, s)| s.iter().filter(|x| visible(x.0)).map(|x| x.1))
            .filter(|v| v.is_finite());
        let (mut lo, mut hi) = vals.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
        if !lo.is_finite() {
            (lo, hi) = (0.0, 1.0);
        }
        if hi - lo < 1e-12 * hi.abs().max(1e-12) {
            (lo, hi) = (lo - 0.5 * lo.abs().max(1e-6), hi + 0.5 * hi.abs().max(1e-6));
        }
        let pad = 0.05 * (hi - lo);
        let (lo, hi) = (lo - pad, hi + pad);
        let sx = |t: f64| LEFT + ((t - xa) / span).clamp(0.0, 1.0) * (x1 - LEFT);
        let sy = |v: f64| y1 - (v - lo) / (hi - lo) * PANEL_H;
        for m in &p.marks {
            match *m {
                When::At(t) if t.is_finite() => s.push_str(&format!(
                    "<line x1=\"{x:.1}\" y1=\"{y0}\" x2=\"{x:.1}\" y2=\"{y1}\" stroke=\"#888\" stroke-dasharray=\"4 3\"/>\n",
                    x = sx(t)
                )),
                When::Window(a, b) => s.push_str(&format!(
                    "<rect x=\"{:.1}\" y=\"{y0}\" width=\"{:.1}\" height=\"{PANEL_H}\" fill=\"#f0e68c\" fill-opacity=\"0.45\"/>\n",
                    sx(a),
                    (sx(b) - sx(a)).max(1.0)
                )),
                _ => {}
            }
        }
        frame_and_value_axis(&mut s, y0, x1, (lo, hi), &sy);
        for t in nice_ticks(xa / tu, xb / tu, 8) {
            let x = sx(t * tu);
            s.push_str(&format!(
                "<line x1=\"{x:.1}\" y1=\"{y1}\" x2=\"{x:.1}\" y2=\"{}\" stroke=\"black\"/><text x=\"{x:.1}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n",
                y1 + 4.0,
                y1 + 16.0,
                label(t)
            ));
        }
        s.push_str(&format!(
            "<text x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\">time ({})</text>\n",
            0.5 * (LEFT + x1),
            y1 + 31.0,
            if days { "days" } else { "hours" }
        ));
        s.push_str(&format!(
            "<text x=\"{LEFT}\" y=\"{}\" font-weight=\"bold\">{}</text>\n",
            y0 - 6.0,
            esc(&p.name)
        ));
        let mut ly = y0 + 14.0;
        for (arm, ser) in &data {
            let pts: Vec<String> = ser
                .iter()
                .filter(|x| x.1.is_finite() && visible(x.0))
                .map(|&(t, v)| format!("{:.1},{:.1}", sx(t), sy(v)))
                .collect();
            let c = arm_colour(arm);
            s.push_str(&format!(
                "<polyline fill=\"none\" stroke=\"{c}\" stroke-width=\"1.8\" points=\"{}\"/>\n",
                pts.join(" ")
            ));
            ly = legend_entry(&mut s, (x1, ly), c, "", &arm_label(arm));
        }
    }
    if let Some(pr) = profile {
        let y0 = top + panels.len() as f64 * (PANEL_H + GAP);
        draw_profile(&mut s, &pr, y0, &arm_label(&pr.arm));
    }
    s.push_str("</svg>\n");
    s
}

/// A panel's frame and its value axis (ticks and labels at the left).
fn frame_and_value_axis(
    s: &mut String,
    y0: f64,
    x1: f64,
    (lo, hi): (f64, f64),
    sy: &dyn Fn(f64) -> f64,
) {
    s.push_str(&format!(
        "<rect x=\"{LEFT}\" y=\"{y0}\" width=\"{}\" height=\"{PANEL_H}\" fill=\"none\" stroke=\"black\"/>\n",
        x1 - LEFT
    ));
    for t in nice_ticks(lo, hi, 5) {
        let y = sy(t);
        s.push_str(&format!(
            "<line x1=\"{}\" y1=\"{y:.1}\" x2=\"{LEFT}\" y2=\"{y:.1}\" stroke=\"black\"/><text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>\n",
            LEFT - 4.0,
            LEFT - 6.0,
            y + 4.0,
            label(t)
        ));
    }
}

/// A lamina profile of the first spatial quantity's field: inside and outside the paw band, in
/// its first panel's first arm at its first compared time (a window's middle).
struct Profile {
    field: String,
    arm: String,
    when: String,
    inside: Vec<f64>,
    outside: Vec<f64>,
}

fn profile_of(runs: &Runs, panels: &[Panel]) -> Option<Profile> {
    let p = panels
        .iter()
        .find(|p| matches!(p.quantity, Quantity::Spatial(_)))?;
    let Quantity::Spatial(q) = p.quantity else {
        return None;
    };
    let arm = p.arms.iter().find(|a| runs.arms.contains_key(*a))?.clone();
    let t = match p.marks.first()? {
        When::At(t) => *t,
        When::Window(a, b) => 0.5 * (a + b),
    };
    let at = |stat: SpatialStat| -> Vec<f64> {
        profile_quantities(q.field)
            .into_iter()
            .filter(|s| s.stat == stat)
            .map(|s| {
                let ser = series(runs, &arm, &Quantity::Spatial(s));
                ser.iter()
                    .min_by(|a, b| (a.0 - t).abs().total_cmp(&(b.0 - t).abs()))
                    .map_or(f64::NAN, |x| x.1)
            })
            .collect()
    };
    let field = STATE_NAMES
        .iter()
        .chain(RATE_NAMES.iter())
        .nth(q.field)
        .map_or_else(String::new, |n| n.to_string());
    let (inside, outside) = (at(SpatialStat::In), at(SpatialStat::Out));
    Some(Profile {
        field,
        arm,
        when: when_text(When::At(t)),
        inside,
        outside,
    })
}

fn draw_profile(s: &mut String, pr: &Profile, y0: f64, arm_label: &str) {
    let (x1, y1) = (W - RIGHT, y0 + PANEL_H);
    let vals = pr
        .inside
        .iter()
        .chain(pr.outside.iter())
        .copied()
        .filter(|v| v.is_finite());
    let (lo, hi) = vals.fold((0.0f64, f64::NEG_INFINITY), |(a, b), v| {
        (a.min(v), b.max(v))
    });
    let hi = if hi.is_finite() && hi > lo {
        hi
    } else {
        lo + 1.0
    };
    let hi = hi + 0.05 * (hi - lo);
    let n = PROFILE.len();
    let sx = |k: usize| LEFT + (k as f64 + 0.5) / n as f64 * (x1 - LEFT);
    let sy = |v: f64| y1 - (v - lo) / (hi - lo) * PANEL_H;
    frame_and_value_axis(s, y0, x1, (lo, hi), &sy);
    for (k, name) in PROFILE.iter().enumerate() {
        s.push_str(&format!(
            "<text x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\">{name}</text>\n",
            sx(k),
            y1 + 16.0
        ));
    }
    s.push_str(&format!(
        "<text x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\">lamina (dorsal → ventral), white matter</text>\n",
        0.5 * (LEFT + x1),
        y1 + 31.0
    ));
    s.push_str(&format!(
        "<text x=\"{LEFT}\" y=\"{}\" font-weight=\"bold\">{} across the laminae, {} at {}</text>\n",
        y0 - 6.0,
        esc(&pr.field),
        esc(&short(arm_label, 40)),
        esc(&pr.when)
    ));
    let mut ly = y0 + 14.0;
    for (values, dash, what) in [
        (
            &pr.inside,
            "",
            "inside the paw band (injured / stimulated territory)",
        ),
        (
            &pr.outside,
            " stroke-dasharray=\"6 4\"",
            "outside it (lateral third)",
        ),
    ] {
        let xy: Vec<(f64, f64)> = values
            .iter()
            .enumerate()
            .filter(|(_, v)| v.is_finite())
            .map(|(k, v)| (sx(k), sy(*v)))
            .collect();
        let pts: Vec<String> = xy.iter().map(|(x, y)| format!("{x:.1},{y:.1}")).collect();
        s.push_str(&format!(
            "<polyline fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"1.8\"{dash} points=\"{}\"/>\n",
            pts.join(" ")
        ));
        for (x, y) in &xy {
            s.push_str(&format!(
                "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"3\" fill=\"#1f77b4\"/>\n"
            ));
        }
        ly = legend_entry(s, (x1, ly), "#1f77b4", dash, what);
    }
}

/// One legend entry right of a panel at height `ly`: a line sample (`dash`: extra SVG
/// attributes) and the wrapped text; returns the next entry's height.
fn legend_entry(
    s: &mut String,
    (x1, mut ly): (f64, f64),
    colour: &str,
    dash: &str,
    text: &str,
) -> f64 {
    s.push_str(&format!(
        "<line x1=\"{}\" y1=\"{ly}\" x2=\"{}\" y2=\"{ly}\" stroke=\"{colour}\" stroke-width=\"3\"{dash}/>\n",
        x1 + 10.0,
        x1 + 30.0,
    ));
    for line in wrap(text, LEGEND_CHARS, 3) {
        s.push_str(&format!(
            "<text x=\"{}\" y=\"{}\">{}</text>\n",
            x1 + 35.0,
            ly + 4.0,
            esc(&line)
        ));
        ly += 14.0;
    }
    ly + 4.0
}

#[cfg(test)]
mod tests {
    use super::wrap;

    #[test]
    fn wrap_splits_at_spaces_and_marks_what_it_drops() {
        assert_eq!(
            wrap("AMD3100 from d7, u 0.3", super::LEGEND_CHARS, 3),
            ["AMD3100 from d7, u", "0.3"]
        );
        assert_eq!(
            wrap("CCI + anti-CX3CR1 daily from d0", 22, 3),
            ["CCI + anti-CX3CR1", "daily from d0"]
        );
        let long = wrap("one two three four five six seven", 9, 2);
        assert_eq!(long.len(), 2);
        assert_eq!(long[0], "one two");
        assert!(
            long[1].ends_with('…') && long[1].chars().count() <= 9,
            "{long:?}"
        );
        // A word longer than the width is cut rather than overflowing.
        assert!(wrap("supercalifragilistic", 8, 2)[0].chars().count() <= 8);
    }
}
