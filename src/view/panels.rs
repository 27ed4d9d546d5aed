//! The field panels: colour images with colorbars, ticks, outlines, scale bar and probes, and
//! the number and time formatting they use.

use super::App;
use crate::colormap::Colormap;
use crate::model::network::state::{field_info, field_name};
use crate::view::ui::{PROBE_COLOURS, Probe};

pub(crate) struct Panel {
    pub(crate) field: usize,
    pub(crate) colormap: Colormap,
    pub(crate) auto: bool,
    pub(crate) range: (f32, f32),
    pub(crate) texture: Option<egui::TextureHandle>,
    /// The values shown (for hover read-out and ranges).
    pub(crate) values: Vec<f32>,
    /// Pixel rectangle of the image in the last frame (physical pixels).
    pub(crate) rect_px: [f32; 4],
}

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

pub(crate) fn format_duration(s: f64) -> String {
    if s >= 86400.0 {
        format!("{:.1} d", s / 86400.0)
    } else if s >= 3600.0 {
        format!("{:.1} h", s / 3600.0)
    } else {
        format!("{:.0} min", s / 60.0)
    }
}

fn fmt_num(v: f32) -> String {
    let a = v.abs();
    if a != 0.0 && !(0.01..1000.0).contains(&a) {
        format!("{v:.2e}")
    } else {
        format!("{v:.3}")
    }
}

/// A colorbar tick: enough significant digits that ticks `span` apart read differently.
fn fmt_tick(v: f32, span: f32) -> String {
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

impl App {
    pub(super) fn fields(&mut self, ui: &mut egui::Ui) {
        let Some(g) = &self.ui.geometry else {
            ui.centered_and_justified(|ui| {
                ui.label(format!(
                    "Settling the baseline tissue ({:.0} %): {} d of baseline input with transport, \
                     then θ is calibrated per cell (MODEL.md §8.1).",
                    100.0 * self.ui.progress,
                    self.opts.scenario.settle_s / 86400.0
                ));
            });
            return;
        };
        let (nx, ny, h) = (g.nx, g.ny, g.h_um);
        let area = ui.available_rect_before_wrap();
        let (cols, rows) = match self.ui.layout {
            1 => (1, 1),
            2 => (2, 1),
            _ => (2, 2),
        };
        let cell_w = area.width() / cols as f32;
        let cell_h = area.height() / rows as f32;
        let ctx = ui.ctx().clone();
        let mut clicked: Option<usize> = None;
        for k in 0..self.ui.layout {
            let (c, r) = (k % cols, k / cols);
            let cell = egui::Rect::from_min_size(
                area.min + egui::vec2(c as f32 * cell_w, r as f32 * cell_h),
                egui::vec2(cell_w, cell_h),
            )
            .shrink(4.0);
            if let Some(i) = self.panel(ui, &ctx, k, cell, nx, ny, h) {
                clicked = Some(i);
            }
        }
        ui.allocate_rect(area, egui::Sense::hover());
        if let Some(i) = clicked {
            if let Some(pos) = self.ui.probes.iter().position(|p| p.cell == i) {
                self.ui.probes.remove(pos);
            } else if self.ui.probes.len() < PROBE_COLOURS.len() {
                let used: Vec<_> = self.ui.probes.iter().map(|p| p.colour).collect();
                let colour = PROBE_COLOURS
                    .iter()
                    .copied()
                    .find(|c| !used.contains(c))
                    .unwrap_or(PROBE_COLOURS[0]);
                self.ui.probes.push(Probe {
                    cell: i,
                    colour,
                    history: Vec::new(),
                });
            } else {
                self.ui.status = "at most 6 probes: click a probe to remove it".into();
            }
            self.ui.watch_dirty = true;
        }
    }

    /// Draws panel `k` into `cell`; returns the grid cell clicked, if any.
    #[expect(
        clippy::too_many_arguments,
        reason = "a panel needs its rectangle, field, range, colormap, geometry and probes"
    )]
    #[expect(
        clippy::too_many_lines,
        reason = "one field panel's drawing (image, colorbar, ticks, outlines, probes) from top to bottom"
    )]
    fn panel(
        &mut self,
        ui: &mut egui::Ui,
        ctx: &egui::Context,
        k: usize,
        cell: egui::Rect,
        nx: usize,
        ny: usize,
        h: f64,
    ) -> Option<usize> {
        let ui_state = &mut self.ui;
        let outlines = ui_state.outlines;
        let p = &mut ui_state.panels[k];
        let painter = ui.painter_at(cell);
        let title_h = 34.0;
        let bar_w = 78.0;
        let (name, (meaning, unit)) = (field_name(p.field), field_info(p.field));
        painter.text(
            cell.min,
            egui::Align2::LEFT_TOP,
            format!("{name} — {meaning}"),
            egui::FontId::proportional(15.0),
            ui.visuals().strong_text_color(),
        );
        if let Some(s) = &ui_state.snap {
            painter.text(
                cell.min + egui::vec2(0.0, 18.0),
                egui::Align2::LEFT_TOP,
                format_time(s.time_s),
                egui::FontId::monospace(12.0),
                ui.visuals().text_color(),
            );
        }
        // Below the image: the scale bar (outside the data, so the image keeps every cell).
        let below = 24.0;
        let avail = egui::Rect::from_min_max(
            cell.min + egui::vec2(0.0, title_h),
            cell.max - egui::vec2(bar_w, below),
        );
        let scale = (avail.width() / nx as f32)
            .min(avail.height() / ny as f32)
            .max(0.1);
        // Whole device pixels per cell where possible, so every cell is drawn the same size.
        let ppp = ctx.pixels_per_point();
        let scale = if scale * ppp >= 1.0 {
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
        p.rect_px = [img.min.x, img.min.y, img.max.x, img.max.y];
        if p.values.len() != nx * ny {
            painter.text(
                img.center(),
                egui::Align2::CENTER_CENTER,
                "waiting for the simulation…",
                egui::FontId::proportional(14.0),
                ui.visuals().text_color(),
            );
            return None;
        }
        if p.auto {
            p.range = p.colormap.auto_range(&p.values);
        }
        if p.texture.is_none() {
            let rgb = p.colormap.colorize(&p.values, p.range);
            let image = egui::ColorImage::from_rgb([nx, ny], &rgb);
            p.texture =
                Some(ctx.load_texture(format!("field{k}"), image, egui::TextureOptions::NEAREST));
        }
        let tex = p.texture.as_ref().expect("just made");
        painter.image(
            tex.id(),
            img,
            egui::Rect::from_min_max(egui::pos2(0.0, 0.0), egui::pos2(1.0, 1.0)),
            egui::Color32::WHITE,
        );
        let to_screen =
            |q: egui::Pos2| egui::pos2(img.min.x + q.x * scale, img.min.y + q.y * scale);
        if outlines {
            let stroke = egui::Stroke::new(1.0, egui::Color32::from_white_alpha(150));
            for seg in &ui_state.outline_segments {
                painter.line_segment([to_screen(seg[0]), to_screen(seg[1])], stroke);
            }
            for (pos, label) in &ui_state.region_labels {
                let at = to_screen(*pos);
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
        if let Some((_, g)) = ui_state.gradients.iter().find(|(c, _)| *c == p.colormap) {
            painter.image(
                g.id(),
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
        for (frac, v) in [
            (0.0, p.range.1),
            (0.5, 0.5 * (p.range.0 + p.range.1)),
            (1.0, p.range.0),
        ] {
            let yy = bar.min.y + frac * bar.height();
            painter.line_segment(
                [egui::pos2(bar.max.x, yy), egui::pos2(bar.max.x + 4.0, yy)],
                egui::Stroke::new(1.0, ui.visuals().text_color()),
            );
            painter.text(
                egui::pos2(bar.max.x + 6.0, yy),
                egui::Align2::LEFT_CENTER,
                fmt_tick(v, p.range.1 - p.range.0),
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
        let id = egui::Id::unique(("field panel", k));
        let resp = ui.interact(img, id, egui::Sense::click());
        for (n, probe) in ui_state.probes.iter().enumerate() {
            let c = egui::pos2(
                (probe.cell % nx) as f32 + 0.5,
                (probe.cell / nx) as f32 + 0.5,
            );
            let at = to_screen(c);
            painter.circle_stroke(at, 5.0, egui::Stroke::new(2.0, probe.colour));
            painter.text(
                at + egui::vec2(7.0, -7.0),
                egui::Align2::LEFT_BOTTOM,
                (n + 1).to_string(),
                egui::FontId::proportional(12.0),
                probe.colour,
            );
        }
        let cell_at = |pos: egui::Pos2| {
            let x = ((pos.x - img.min.x) / scale).floor();
            let y = ((pos.y - img.min.y) / scale).floor();
            (x >= 0.0 && y >= 0.0 && (x as usize) < nx && (y as usize) < ny)
                .then(|| y as usize * nx + x as usize)
        };
        if let Some(pos) = resp.hover_pos()
            && let Some(i) = cell_at(pos)
        {
            let v = p.values[i];
            let region = ui_state
                .geometry
                .as_ref()
                .map(|g| crate::model::anatomy::Region::ALL[g.region[i] as usize].label())
                .unwrap_or("");
            resp.clone().on_hover_text_at_pointer(format!(
                "{name} = {}  {unit}\nx = {:.0} µm, y = {:.0} µm (cell {}, {})\n{region}",
                if v.is_finite() {
                    fmt_num(v)
                } else {
                    "— (outside)".into()
                },
                (i % nx) as f64 * h + h / 2.0,
                (i / nx) as f64 * h + h / 2.0,
                i % nx,
                i / nx
            ));
        }
        if resp.clicked()
            && let Some(pos) = resp.interact_pointer_pos()
            && let Some(i) = cell_at(pos)
            && p.values[i].is_finite()
        {
            return Some(i);
        }
        None
    }
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
}
