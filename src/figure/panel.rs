//! One field panel as the window and the composed figures draw it: the title, the model time,
//! the cells in a colormap at whole device pixels per cell, lamina outlines and labels, the scale
//! bar, the colorbar with its ticks and unit; and the number and time formatting they use.

use crate::colormap::Colormap;
use crate::model::anatomy::Region;
use crate::model::network::state::{field_info, field_name};

/// "day 2, 10:30 (t = 34.50 h)".
pub fn format_time(t_s: f64) -> String {
    let minutes = (t_s / 60.0).round() as u64;
    format!(
        "day {}, {:02}:{:02}  (t = {:.2} h)",
        minutes / 1440,
        (minutes % 1440) / 60,
        minutes % 60,
        t_s / 3600.0
    )
}

/// "30 min", "2.0 h", "1.5 d".
pub fn format_duration(s: f64) -> String {
    if s >= 86400.0 {
        format!("{:.1} d", s / 86400.0)
    } else if s >= 3600.0 {
        format!("{:.1} h", s / 3600.0)
    } else {
        format!("{:.0} min", s / 60.0)
    }
}

/// A value with three decimals, or in scientific notation outside 0.01–1000.
pub fn fmt_num(v: f32) -> String {
    let a = v.abs();
    if a != 0.0 && !(0.01..1000.0).contains(&a) {
        format!("{v:.2e}")
    } else {
        format!("{v:.3}")
    }
}

/// A colorbar tick: enough significant digits that ticks `span` apart read differently.
pub fn fmt_tick(v: f32, span: f32) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let a = v.abs().max(span.abs());
    if a == 0.0 || !a.is_finite() {
        return fmt_num(v);
    }
    // Digits needed to resolve span/2 relative to the largest magnitude shown.
    let extra = ((a / (0.5 * span.abs()).max(a * 1e-7)).log10().ceil() as usize).max(2);
    if (0.01..1000.0).contains(&a) && extra <= 3 {
        fmt_num(v)
    } else {
        format!("{v:.*e}", extra.min(7))
    }
}

/// Lamina outlines (edges between cells of different dominant regions, in cell units) and label
/// positions (the cell of each region nearest its centroid).
#[derive(Debug, Clone, Default)]
pub struct Overlays {
    pub segments: Vec<[egui::Pos2; 2]>,
    pub labels: Vec<(egui::Pos2, &'static str)>,
}

impl Overlays {
    /// The overlays of a grid whose cells have the dominant regions `region` (`Region as u8`).
    pub fn of(nx: usize, ny: usize, region: &[u8]) -> Overlays {
        let mut segments = Vec::new();
        for y in 0..ny {
            for x in 0..nx {
                let a = region[y * nx + x];
                if x + 1 < nx && region[y * nx + x + 1] != a {
                    let xx = (x + 1) as f32;
                    segments.push([egui::pos2(xx, y as f32), egui::pos2(xx, (y + 1) as f32)]);
                }
                if y + 1 < ny && region[(y + 1) * nx + x] != a {
                    let yy = (y + 1) as f32;
                    segments.push([egui::pos2(x as f32, yy), egui::pos2((x + 1) as f32, yy)]);
                }
            }
        }
        let mut labels = Vec::new();
        for r in Region::ALL.iter().skip(1) {
            let cells: Vec<usize> = (0..nx * ny).filter(|&i| region[i] == *r as u8).collect();
            if cells.len() < 12 {
                continue;
            }
            let (sx, sy) = cells.iter().fold((0.0, 0.0), |(a, b), &i| {
                (a + (i % nx) as f64, b + (i / nx) as f64)
            });
            let (cx, cy) = (sx / cells.len() as f64, sy / cells.len() as f64);
            let best = cells
                .iter()
                .min_by(|&&a, &&b| {
                    let d =
                        |i: usize| ((i % nx) as f64 - cx).powi(2) + ((i / nx) as f64 - cy).powi(2);
                    d(a).total_cmp(&d(b))
                })
                .copied()
                .unwrap_or(0);
            labels.push((
                egui::pos2((best % nx) as f32 + 0.5, (best / nx) as f32 + 0.5),
                r.label(),
            ));
        }
        Overlays { segments, labels }
    }
}

/// The vertical colour gradient of `colormap` (top = high), for colorbars.
pub fn gradient_texture(ctx: &egui::Context, colormap: Colormap) -> egui::TextureHandle {
    let rgb: Vec<u8> = (0..256)
        .rev()
        .flat_map(|i| colormap.at(i as f32 / 255.0))
        .collect();
    let img = egui::ColorImage::from_rgb([1, 256], &rgb);
    ctx.load_texture(
        format!("gradient_{colormap:?}"),
        img,
        egui::TextureOptions::LINEAR,
    )
}

/// Points above a panel's image for its title and time (the window's panels).
pub const TITLE_H: f32 = 34.0;
/// Points above a panel's image for its title alone (the figures, whose header has the time).
pub const TITLE_ONLY_H: f32 = 22.0;
/// Points right of the image for the colorbar and its ticks.
pub const BAR_W: f32 = 78.0;
/// Points below the image for the scale bar.
pub const BELOW_H: f32 = 24.0;

/// What one panel shows.
pub struct PanelArt<'a> {
    pub field: usize,
    pub time_s: Option<f64>,
    /// The cells' colours, as a texture (None: the values are not there yet).
    pub image: Option<egui::TextureId>,
    pub range: (f32, f32),
    pub gradient: Option<egui::TextureId>,
    pub nx: usize,
    pub ny: usize,
    pub h_um: f64,
    pub overlays: Option<&'a Overlays>,
    /// Draw every cell with the same whole number of device pixels where it can (the window);
    /// otherwise the image fills its room (figures, where a cell of 1.7 pixels drawn as 1
    /// would waste most of the panel).
    pub whole_pixels: bool,
}

/// Where a panel's image went: its rectangle (points) and points per cell.
#[derive(Debug, Clone, Copy)]
pub struct Placed {
    pub img: egui::Rect,
    pub scale: f32,
}

impl Placed {
    /// Screen position of a point in cell units.
    pub fn to_screen(&self, q: egui::Pos2) -> egui::Pos2 {
        egui::pos2(
            self.img.min.x + q.x * self.scale,
            self.img.min.y + q.y * self.scale,
        )
    }
}

/// Draws one field panel into `cell`. Returns where the image is; `drawn` is false when there
/// was no image to draw (a waiting message is shown instead).
#[expect(
    clippy::too_many_lines,
    reason = "one field panel's drawing (title, image, outlines, scale bar, colorbar, ticks) from top to bottom"
)]
pub fn draw_panel(ui: &egui::Ui, cell: egui::Rect, art: &PanelArt) -> (Placed, bool) {
    let (nx, ny, h) = (art.nx, art.ny, art.h_um);
    let painter = ui.painter_at(cell);
    let title_h = if art.time_s.is_some() {
        TITLE_H
    } else {
        TITLE_ONLY_H
    };
    let bar_w = BAR_W;
    let (name, (meaning, unit)) = (field_name(art.field), field_info(art.field));
    painter.text(
        cell.min,
        egui::Align2::LEFT_TOP,
        format!("{name} — {meaning}"),
        egui::FontId::proportional(15.0),
        ui.visuals().strong_text_color(),
    );
    if let Some(t) = art.time_s {
        painter.text(
            cell.min + egui::vec2(0.0, 18.0),
            egui::Align2::LEFT_TOP,
            format_time(t),
            egui::FontId::monospace(12.0),
            ui.visuals().text_color(),
        );
    }
    // Below the image: the scale bar (outside the data, so the image keeps every cell).
    let below = BELOW_H;
    let avail = egui::Rect::from_min_max(
        cell.min + egui::vec2(0.0, title_h),
        cell.max - egui::vec2(bar_w, below),
    );
    let scale = (avail.width() / nx as f32)
        .min(avail.height() / ny as f32)
        .max(0.1);
    // Whole device pixels per cell where possible, so every cell is drawn the same size.
    let ppp = ui.ctx().pixels_per_point();
    let scale = if art.whole_pixels && scale * ppp >= 1.0 {
        (scale * ppp).floor() / ppp
    } else {
        scale
    };
    let size = egui::vec2(nx as f32 * scale, ny as f32 * scale);
    let img = egui::Rect::from_min_size(
        egui::pos2(
            ((avail.min.x + (avail.width() - size.x) / 2.0) * ppp).round() / ppp,
            (avail.min.y * ppp).round() / ppp,
        ),
        size,
    );
    let placed = Placed { img, scale };
    let Some(tex) = art.image else {
        painter.text(
            img.center(),
            egui::Align2::CENTER_CENTER,
            "waiting for the simulation…",
            egui::FontId::proportional(14.0),
            ui.visuals().text_color(),
        );
        return (placed, false);
    };
    painter.image(
        tex,
        img,
        egui::Rect::from_min_max(egui::pos2(0.0, 0.0), egui::pos2(1.0, 1.0)),
        egui::Color32::WHITE,
    );
    if let Some(ov) = art.overlays {
        let stroke = egui::Stroke::new(1.0, egui::Color32::from_white_alpha(150));
        for seg in &ov.segments {
            painter.line_segment([placed.to_screen(seg[0]), placed.to_screen(seg[1])], stroke);
        }
        for (pos, label) in &ov.labels {
            let at = placed.to_screen(*pos);
            painter.text(
                at + egui::vec2(1.0, 1.0),
                egui::Align2::CENTER_CENTER,
                *label,
                egui::FontId::proportional(12.0),
                egui::Color32::BLACK,
            );
            painter.text(
                at,
                egui::Align2::CENTER_CENTER,
                *label,
                egui::FontId::proportional(12.0),
                egui::Color32::WHITE,
            );
        }
    }
    // Scale bar: 100 µm, or 200 / 50 µm to stay between 40 and 200 pixels.
    let mut bar_um = 100.0;
    while (bar_um / h) as f32 * scale > 200.0 && bar_um > 10.0 {
        bar_um /= 2.0;
    }
    while ((bar_um / h) as f32 * scale) < 40.0 {
        bar_um *= 2.0;
    }
    let len = (bar_um / h) as f32 * scale;
    let y = img.max.y + 8.0;
    let x0 = img.min.x;
    let ink = ui.visuals().strong_text_color();
    painter.line_segment(
        [egui::pos2(x0, y), egui::pos2(x0 + len, y)],
        egui::Stroke::new(3.0, ink),
    );
    painter.text(
        egui::pos2(x0 + len + 6.0, y),
        egui::Align2::LEFT_CENTER,
        format!("{bar_um:.0} µm"),
        egui::FontId::proportional(12.0),
        ink,
    );
    // Colorbar with range and unit.
    let bar = egui::Rect::from_min_size(
        egui::pos2(img.max.x + 10.0, img.min.y + 6.0),
        egui::vec2(14.0, (img.height() - 26.0).max(20.0)),
    );
    if let Some(g) = art.gradient {
        painter.image(
            g,
            bar,
            egui::Rect::from_min_max(egui::pos2(0.0, 0.0), egui::pos2(1.0, 1.0)),
            egui::Color32::WHITE,
        );
    }
    painter.rect_stroke(
        bar,
        0.0,
        egui::Stroke::new(1.0, ui.visuals().text_color()),
        egui::StrokeKind::Outside,
    );
    let (lo, hi) = art.range;
    for (frac, v) in [(0.0, hi), (0.5, 0.5 * (lo + hi)), (1.0, lo)] {
        let yy = bar.min.y + frac * bar.height();
        painter.line_segment(
            [egui::pos2(bar.max.x, yy), egui::pos2(bar.max.x + 4.0, yy)],
            egui::Stroke::new(1.0, ui.visuals().text_color()),
        );
        painter.text(
            egui::pos2(bar.max.x + 6.0, yy),
            egui::Align2::LEFT_CENTER,
            fmt_tick(v, hi - lo),
            egui::FontId::monospace(11.0),
            ui.visuals().text_color(),
        );
    }
    painter.text(
        egui::pos2(bar.min.x, bar.max.y + 6.0),
        egui::Align2::LEFT_TOP,
        unit,
        egui::FontId::proportional(11.0),
        ui.visuals().text_color(),
    );
    (placed, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_of_a_narrow_range_read_differently() {
        let (lo, hi) = (3.01e-3f32, 3.02e-3f32);
        let mid = 0.5 * (lo + hi);
        let t: Vec<String> = [hi, mid, lo]
            .iter()
            .map(|&v| fmt_tick(v, hi - lo))
            .collect();
        assert_ne!(t[0], t[1], "{t:?}");
        assert_ne!(t[1], t[2], "{t:?}");
        assert_eq!(fmt_tick(0.5, 1.0), "0.500");
        assert_eq!(fmt_tick(0.0, 2.0), "0");
    }

    #[test]
    fn model_time_reads_as_day_and_clock() {
        assert_eq!(
            format_time(86400.0 + 10.5 * 3600.0),
            "day 1, 10:30  (t = 34.50 h)"
        );
    }

    #[test]
    fn overlays_follow_region_edges() {
        // Two regions side by side on a 4 × 2 grid: one vertical edge of two segments.
        let region = [1u8, 1, 2, 2, 1, 1, 2, 2];
        let ov = Overlays::of(4, 2, &region);
        assert_eq!(ov.segments.len(), 2);
        assert!(ov.segments.iter().all(|s| s[0].x == 2.0 && s[1].x == 2.0));
    }
}
