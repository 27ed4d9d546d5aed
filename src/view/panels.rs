//! The window's field panels: the layout of 1, 2 or 4 panels, each drawn by the figures' shared
//! panel code ([`crate::figure::panel`]) with the window's probes, hover read-out and clicks.

use super::App;
use crate::colormap::Colormap;
use crate::figure::panel::{PanelArt, draw_panel, fmt_num};
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

    /// Draws panel `k` into `cell` (the shared drawing of [`crate::figure::panel`]), then the
    /// probes and the hover read-out; returns the grid cell clicked, if any.
    #[expect(
        clippy::too_many_arguments,
        reason = "a panel needs its rectangle, field, range, colormap, geometry and probes"
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
        let p = &mut ui_state.panels[k];
        let ready = p.values.len() == nx * ny;
        if ready {
            if p.auto {
                p.range = p.colormap.auto_range(&p.values);
            }
            if p.texture.is_none() {
                let rgb = p.colormap.colorize(&p.values, p.range);
                let image = egui::ColorImage::from_rgb([nx, ny], &rgb);
                p.texture = Some(ctx.load_texture(
                    format!("field{k}"),
                    image,
                    egui::TextureOptions::NEAREST,
                ));
            }
        }
        let art = PanelArt {
            field: p.field,
            time_s: ui_state.snap.as_ref().map(|s| s.time_s),
            image: ready.then(|| p.texture.as_ref().map(|t| t.id())).flatten(),
            range: p.range,
            gradient: ui_state
                .gradients
                .iter()
                .find(|(c, _)| *c == p.colormap)
                .map(|(_, g)| g.id()),
            nx,
            ny,
            h_um: h,
            overlays: ui_state.outlines.then_some(&ui_state.overlays),
            whole_pixels: true,
        };
        let (placed, drawn) = draw_panel(ui, cell, &art);
        let img = placed.img;
        p.rect_px = [img.min.x, img.min.y, img.max.x, img.max.y];
        if !drawn {
            return None;
        }
        let painter = ui.painter_at(cell);
        let (name, (_, unit)) = (field_name(p.field), field_info(p.field));
        let id = egui::Id::unique(("field panel", k));
        let resp = ui.interact(img, id, egui::Sense::click());
        for (n, probe) in ui_state.probes.iter().enumerate() {
            let c = egui::pos2(
                (probe.cell % nx) as f32 + 0.5,
                (probe.cell / nx) as f32 + 0.5,
            );
            let at = placed.to_screen(c);
            painter.circle_stroke(at, 5.0, egui::Stroke::new(2.0, probe.colour));
            painter.text(
                at + egui::vec2(7.0, -7.0),
                egui::Align2::LEFT_BOTTOM,
                (n + 1).to_string(),
                egui::FontId::proportional(12.0),
                probe.colour,
            );
        }
        let scale = placed.scale;
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
