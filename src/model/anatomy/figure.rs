//! The labelled anatomy figure of `dorsalhorn anatomy`: regions blended by their soft weights,
//! labels, the DREZ, a legend and a scale bar.

use super::{Region, Tissue};
use crate::output::canvas::Canvas;

impl Tissue {
    /// The labelled anatomy figure: regions blended by their soft weights, lamina and tract
    /// labels, the DREZ on the pia, a legend and a 100 µm scale bar.
    pub fn figure(&self) -> Canvas {
        let scale = ((900.0 / self.nx as f64).floor() as usize).max(1);
        let (mw, mh) = (self.nx * scale, self.ny * scale);
        let margin = 16;
        let legend_w = 250;
        let title_h = 34;
        let title = format!(
            "{} L4-L5 HEMICORD, DORSAL HORN: SPACING {} µm, {} X {} CELLS",
            self.outline.animal.name().to_uppercase(),
            self.h,
            self.nx,
            self.ny
        );
        let width = (mw + legend_w + 3 * margin).max(Canvas::text_width(&title, 2) + 2 * margin);
        let mut c = Canvas::new(
            width,
            mh.max(13 * 22 + 40) + title_h + 2 * margin,
            [255, 255, 255],
        );
        let (ox, oy) = (margin, margin + title_h);
        for y in 0..self.ny {
            for x in 0..self.nx {
                let w = &self.weights[y * self.nx + x];
                let mut rgb = [0.0f32; 3];
                for (k, r) in Region::ALL.iter().enumerate() {
                    for ch in 0..3 {
                        rgb[ch] += w[k] * r.colour()[ch] as f32;
                    }
                }
                let col = rgb.map(|v| v.round().clamp(0.0, 255.0) as u8);
                c.fill_rect(ox + x * scale, oy + y * scale, scale, scale, col);
            }
        }
        // Dorsal root entry zone: a dark band just outside the pia.
        let o = &self.outline;
        for px in 0..mw {
            let x = (px as f64 + 0.5) / scale as f64 * self.h;
            if o.is_drez(x) {
                let py = (o.pia(x) / self.h * scale as f64) as usize;
                c.fill_rect(ox + px, (oy + py).saturating_sub(4), 1, 3, [40, 40, 40]);
            }
        }
        // Labels at each region's centroid.
        for r in Region::ALL.iter().skip(1) {
            let (mut sx, mut sy, mut sw) = (0.0, 0.0, 0.0);
            for i in 0..self.weights.len() {
                if self.dominant(i) == *r {
                    sx += (i % self.nx) as f64;
                    sy += (i / self.nx) as f64;
                    sw += 1.0;
                }
            }
            if sw < 1.0 {
                continue;
            }
            let (mut lx, mut ly) = (sx / sw, sy / sw);
            // Thin laminae: put the label at their lateral edge, where the bands are widest apart.
            if matches!(r, Region::I | Region::IIo | Region::IIi) {
                let (y_r, x_r) = self.label_anchor(*r);
                lx = x_r;
                ly = y_r;
            }
            let text = r.label();
            let ts = 2;
            let px = (ox as f64 + lx * scale as f64) as usize;
            let py = (oy as f64 + ly * scale as f64) as usize;
            c.text_halo(
                px.saturating_sub(Canvas::text_width(text, ts) / 2),
                py.saturating_sub(7),
                text,
                ts,
                [0, 0, 0],
                [255, 255, 255],
            );
        }
        // Title and scale bar.
        c.text(margin, margin, &title, 2, [0, 0, 0]);
        let bar = (100.0 / self.h * scale as f64).round() as usize;
        let by = oy + mh - 20;
        c.fill_rect(ox + 10, by, bar, 4, [0, 0, 0]);
        c.text(ox + 10, by - 18, "100 µm", 2, [0, 0, 0]);
        // Legend.
        let lx = ox + mw + margin;
        for (k, r) in Region::ALL.iter().skip(1).enumerate() {
            let y = oy + k * 22;
            c.fill_rect(lx, y, 18, 16, r.colour());
            c.text(lx + 26, y + 2, r.label(), 1, [0, 0, 0]);
            c.text(lx + 56, y + 2, &r.long_name().to_uppercase(), 1, [0, 0, 0]);
        }
        c.fill_rect(lx, oy + 12 * 22 + 12, 18, 3, [40, 40, 40]);
        c.text(lx + 26, oy + 12 * 22 + 8, "DREZ", 1, [0, 0, 0]);
        c.text(
            lx + 56,
            oy + 12 * 22 + 8,
            "DORSAL ROOT ENTRY ZONE",
            1,
            [0, 0, 0],
        );
        c
    }

    /// (y, x) in cells of a point inside thin lamina r near the lateral side of the cap.
    fn label_anchor(&self, r: Region) -> (f64, f64) {
        let o = &self.outline;
        // Walk the cap's lateral-dorsal diagonal and take the middle of the band of r.
        let (mut first, mut last) = (None, None);
        for k in 0..2000 {
            let t = k as f64 / 2000.0;
            let x = o.xc + (0.55 + 0.1 * t) * o.a;
            let y = o.yc - o.b + t * 0.6 * o.b;
            if o.classify(x, y) == r {
                first.get_or_insert((x, y));
                last = Some((x, y));
            }
        }
        let offset = match r {
            Region::I => 0.0,
            Region::IIo => 0.08,
            _ => 0.16,
        } * o.a;
        match (first, last) {
            (Some(a), Some(b)) => (
                (a.1 + b.1) / 2.0 / self.h,
                ((a.0 + b.0) / 2.0 + offset) / self.h,
            ),
            _ => (o.yc / self.h, o.xc / self.h),
        }
    }
}
