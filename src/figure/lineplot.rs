//! A [`PlotGrid`] drawn as PNG: the same panels, series, shaded ranges, marks and legend as its
//! SVG, drawn by egui_plot offscreen ([`super::offscreen`]) in the light theme.

use super::offscreen::Offscreen;
use crate::error::Error;
use crate::gpu::Gpu;
use crate::output::plot::PlotGrid;

fn c32(c: [u8; 3]) -> egui::Color32 {
    egui::Color32::from_rgb(c[0], c[1], c[2])
}

/// About five round grid lines over the visible range, all of one weight, so every tick is
/// labelled (egui_plot's default fades the labels of finer steps out on small panels).
fn round_grid(input: egui_plot::GridInput) -> Vec<egui_plot::GridMark> {
    let ticks = crate::output::plot::nice_ticks(input.bounds.0, input.bounds.1, 5);
    let step = match ticks[..] {
        [a, b, ..] => b - a,
        _ => (input.bounds.1 - input.bounds.0).abs().max(1e-12),
    };
    ticks
        .into_iter()
        .map(|value| egui_plot::GridMark {
            value,
            step_size: step,
        })
        .collect()
}

/// RGB pixels of `grid` at `size`.
pub fn draw(gpu: &Gpu, grid: &PlotGrid, size: [u32; 2]) -> Result<Vec<u8>, Error> {
    let ctx = egui::Context::default();
    ctx.set_visuals(egui::Visuals::light());
    let bg = ctx.global_style().visuals.panel_fill;
    let mut off = Offscreen::new(gpu);
    // 1600 points across: a five-panel row keeps 320 points a panel, room for the tick labels.
    let ppp = (size[0] as f32 / 1600.0).max(0.5);
    off.draw(gpu, &ctx, size, ppp, [bg.r(), bg.g(), bg.b()], |ui| {
        let screen = ui.max_rect();
        let painter = ui.painter().clone();
        let ink = ui.visuals().strong_text_color();
        painter.text(
            egui::pos2(10.0, 6.0),
            egui::Align2::LEFT_TOP,
            &grid.title,
            egui::FontId::proportional(17.0),
            ink,
        );
        let cols = grid.cols.clamp(1, grid.panels.len().max(1));
        let rows = grid.panels.len().div_ceil(cols).max(1);
        let legend_h = 22.0 * grid.legend.len().div_ceil(4).max(1) as f32 + 22.0;
        let top = 32.0;
        let area_h = screen.height() - top - legend_h;
        let (pw, ph) = (screen.width() / cols as f32, area_h / rows as f32);
        for (k, p) in grid.panels.iter().enumerate() {
            let (c, r) = (k % cols, k / cols);
            let rect = egui::Rect::from_min_size(
                egui::pos2(c as f32 * pw, top + r as f32 * ph),
                egui::vec2(pw, ph),
            )
            .shrink(6.0);
            draw_panel(ui, k, p, rect);
        }
        let ly = top + area_h + 8.0;
        for (k, (name, c, dashed)) in grid.legend.iter().enumerate() {
            let x = 20.0 + (k % 4) as f32 * (screen.width() - 40.0) / 4.0;
            let y = ly + 22.0 * (k / 4) as f32 + 6.0;
            let stroke = egui::Stroke::new(2.5, c32(*c));
            if *dashed {
                painter.extend(egui::Shape::dashed_line(
                    &[egui::pos2(x, y), egui::pos2(x + 26.0, y)],
                    stroke,
                    6.0,
                    3.0,
                ));
            } else {
                painter.line_segment([egui::pos2(x, y), egui::pos2(x + 26.0, y)], stroke);
            }
            painter.text(
                egui::pos2(x + 32.0, y),
                egui::Align2::LEFT_CENTER,
                name,
                egui::FontId::proportional(13.0),
                ink,
            );
        }
        painter.text(
            egui::pos2(10.0, screen.height() - 4.0),
            egui::Align2::LEFT_BOTTOM,
            &grid.note,
            egui::FontId::proportional(10.0),
            ui.visuals().weak_text_color(),
        );
    })
}

/// One panel of the grid into `rect`: its title (with the x label) and its plot.
fn draw_panel(ui: &mut egui::Ui, k: usize, p: &crate::output::plot::LinePlot, rect: egui::Rect) {
    use egui_plot::{Line, LineStyle, Plot, PlotPoints, Points, Span, VLine};
    let mut child = ui.new_child(egui::UiBuilder::new().max_rect(rect));
    // The x label goes beside the title: under the axis it would cover the tick labels. One
    // line, cut with "…" at the panel's edge, so a long title never runs into the next panel.
    let mut title = egui::text::LayoutJob::default();
    let style = child.style().clone();
    egui::RichText::new(&p.title).strong().append_to(
        &mut title,
        &style,
        egui::FontSelection::Default,
        egui::Align::Center,
    );
    if !p.x_label.is_empty() {
        egui::RichText::new(format!("  (x: {})", p.x_label))
            .weak()
            .append_to(
                &mut title,
                &style,
                egui::FontSelection::Default,
                egui::Align::Center,
            );
    }
    child.add(egui::Label::new(title).truncate());
    let (xr, yr) = p.bounds();
    Plot::new(("lineplot", k))
        .width(rect.width())
        .height(rect.height() - 22.0)
        .reset()
        .y_axis_min_width(40.0)
        .x_grid_spacer(round_grid)
        .y_grid_spacer(round_grid)
        .x_axis_formatter(|m, _| crate::output::plot::label(m.value))
        .y_axis_formatter(|m, _| crate::output::plot::label(m.value))
        .include_x(xr[0])
        .include_x(xr[1])
        .include_y(yr[0])
        .include_y(yr[1])
        .allow_drag(false)
        .allow_zoom(false)
        .allow_scroll(false)
        .allow_boxed_zoom(false)
        .show(&mut child, |plot| {
            for &(a, b, c) in &p.spans {
                let [r, g, bl] = c;
                // A span narrower than half a percent of the axis (a 30-min session
                // over a week) is drawn as a line, so it stays visible.
                if (b - a) < 0.005 * (xr[1] - xr[0]) {
                    plot.add(
                        VLine::new("", 0.5 * (a + b))
                            .color(egui::Color32::from_rgba_unmultiplied(r, g, bl, 110))
                            .width(2.5),
                    );
                } else {
                    plot.add(
                        Span::new("", a..=b)
                            .fill(egui::Color32::from_rgba_unmultiplied(r, g, bl, 60))
                            .border_width(0.0),
                    );
                }
            }
            for (x, _, c) in &p.marks {
                plot.add(
                    VLine::new("", *x)
                        .color(c32(*c))
                        .style(LineStyle::dashed_loose()),
                );
            }
            // About one point per 2 pixels (see `output::plot::thin`).
            let min_dx =
                2.0 * (xr[1] - xr[0]) / (rect.width() * ui.ctx().pixels_per_point()) as f64;
            for s in &p.series {
                let finite: Vec<[f64; 2]> = s
                    .points
                    .iter()
                    .filter(|q| q[0].is_finite() && q[1].is_finite())
                    .copied()
                    .collect();
                let finite = if s.dots {
                    finite
                } else {
                    crate::output::plot::thin(&finite, min_dx)
                };
                let mut line = Line::new(s.name.as_str(), PlotPoints::from(finite.clone()))
                    .color(c32(s.colour))
                    .width(1.8);
                if s.dashed {
                    line = line.style(LineStyle::dashed_dense());
                }
                plot.line(line);
                if s.dots {
                    plot.points(
                        Points::new(s.name.as_str(), PlotPoints::from(finite))
                            .color(c32(s.colour))
                            .radius(3.0),
                    );
                }
            }
        });
}
