//! One composed figure: the header (scenario, model time, what the protocol is doing), the
//! field panels in the grid that draws the cells largest, the pain-index course with the
//! protocol marked and a cursor at the figure's time, and the small print.

use super::panel::{self, Overlays, PanelArt, draw_panel, format_time};
use super::{Scene, StoryStep};
use crate::model::network::protocol::{DRUG_CATALOGUE, PainModel};
use crate::output::plot::label;
use crate::scenario::figures::{FigureOptions, RangeMode};

/// The panel grid (columns, rows) for `n` panels in `area` (points) that draws an `nx` × `ny`
/// grid largest, given the room each panel keeps for its title, scale bar and colorbar.
pub fn best_layout(n: usize, area: egui::Vec2, nx: usize, ny: usize) -> (usize, usize) {
    let mut best = (n, 1, 0.0f32);
    for cols in 1..=n {
        let rows = n.div_ceil(cols);
        let w = area.x / cols as f32 - 8.0 - panel::BAR_W;
        let h = area.y / rows as f32 - 8.0 - panel::TITLE_ONLY_H - panel::BELOW_H;
        let scale = (w / nx as f32).min(h / ny as f32);
        // Prefer fewer empty cells when the scales tie.
        if scale > best.2 * 1.001 {
            best = (cols, rows, scale);
        }
    }
    (best.0, best.1)
}

/// The footer's note on how the colour ranges were chosen.
fn range_note(opts: &FigureOptions) -> String {
    let kinds: Vec<&str> = opts
        .ranges
        .iter()
        .map(|r| match r {
            RangeMode::Run => "the run's min–max",
            RangeMode::Frame => "this figure's min–max",
            RangeMode::Fixed(..) => "fixed",
        })
        .collect();
    if kinds.iter().all(|k| *k == kinds[0]) {
        format!("colour ranges: {}", kinds[0])
    } else {
        let each: Vec<String> = opts
            .fields
            .iter()
            .zip(&kinds)
            .map(|(f, k)| format!("{} {k}", crate::model::network::state::field_name(*f)))
            .collect();
        format!("colour ranges: {}", each.join(", "))
    }
}

/// The pain model as the scenario names it (`sham` has no generator but is labelled as itself).
fn pain_model_label(scene: &Scene, p: PainModel) -> String {
    if let Some(name) = &scene.pain_name {
        return match name.as_str() {
            "cfa" | "snl" | "sni" | "cci" => name.to_uppercase(),
            other => other.replace('_', " "),
        };
    }
    match p {
        PainModel::None => "no pain model",
        PainModel::Formalin => "formalin",
        PainModel::Cfa => "CFA",
        PainModel::Snl => "SNL",
        PainModel::Sni => "SNI",
        PainModel::Cci => "CCI",
        PainModel::BoneCancer => "bone cancer",
    }
    .to_string()
}

/// What the protocol is doing at `t_s`, for the header.
fn protocol_now(scene: &Scene, t_s: f64) -> String {
    let mut parts = Vec::new();
    if let Some(p) = scene.protocol.pain
        && p != PainModel::None
    {
        let since = t_s - scene.protocol.pain_onset_s;
        parts.push(if since >= 0.0 {
            format!(
                "{} {} ago",
                pain_model_label(scene, p),
                panel::format_duration(since)
            )
        } else {
            format!(
                "{} in {}",
                pain_model_label(scene, p),
                panel::format_duration(-since)
            )
        });
    }
    if let Some(s) = scene
        .protocol
        .sessions
        .iter()
        .find(|s| t_s >= s.start_s - 1e-6 && t_s < s.start_s + s.duration_s - 1e-6)
    {
        parts.push(format!(
            "EA on: {} Hz, {} mA",
            label(s.frequency_hz),
            label(s.intensity_ma)
        ));
    } else {
        let done = scene
            .protocol
            .sessions
            .iter()
            .filter(|s| s.start_s + s.duration_s <= t_s + 1e-6)
            .count();
        if let Some(first) = scene.protocol.sessions.first() {
            let same = scene.protocol.sessions.iter().all(|s| {
                s.frequency_hz == first.frequency_hz && s.intensity_ma == first.intensity_ma
            });
            let what = if same {
                format!(
                    "EA {} Hz, {} mA",
                    label(first.frequency_hz),
                    label(first.intensity_ma)
                )
            } else {
                "EA".to_string()
            };
            parts.push(format!(
                "{what}: {done} of {} sessions done",
                scene.protocol.sessions.len()
            ));
        }
    }
    let given: Vec<String> = scene
        .doses
        .iter()
        .filter(|d| d.start_s <= t_s + 1e-6)
        .map(|d| DRUG_CATALOGUE[d.drug].0.to_string())
        .collect();
    if !given.is_empty() {
        let mut g = given.clone();
        g.dedup();
        parts.push(format!("given: {}", g.join(", ")));
    }
    parts.join("   ·   ")
}

/// One figure: header, panels, pain course, footer; returns where each panel's image went.
#[expect(
    clippy::too_many_arguments,
    reason = "a figure is its scene, options, time, panels, colorbar, outlines and pain course"
)]
#[expect(
    clippy::too_many_lines,
    reason = "one figure's layout from top to bottom: header, panels, pain course, footer"
)]
pub(super) fn compose(
    ui: &mut egui::Ui,
    scene: &Scene,
    opts: &FigureOptions,
    story: Option<(usize, &StoryStep)>,
    t_s: f64,
    panels: &[super::Panel],
    gradient: egui::TextureId,
    overlays: Option<&Overlays>,
    pain: &[[f64; 3]],
    y_max: f64,
) -> Vec<panel::Placed> {
    let screen = ui.max_rect();
    let (w, h) = (screen.width(), screen.height());
    let painter = ui.painter().clone();
    let strong = ui.visuals().strong_text_color();
    let text = ui.visuals().text_color();
    let weak = ui.visuals().weak_text_color();
    // Header.
    let (heading, desc) = match story {
        Some((i, s)) => (
            format!("Step {} of {}: {}", i + 1, scene.steps().len(), s.title),
            scene.name.clone(),
        ),
        None => (scene.name.clone(), scene.description.clone()),
    };
    // The left column stops short of the time and protocol on the right; long lines end in "…".
    let left_w = (w - 360.0).max(200.0);
    for (y, text_, font, colour) in [
        (6.0, heading, egui::FontId::proportional(20.0), strong),
        (31.0, desc, egui::FontId::proportional(12.0), text),
    ] {
        let rect = egui::Rect::from_min_size(egui::pos2(10.0, y), egui::vec2(left_w, 24.0));
        let mut child = ui.new_child(egui::UiBuilder::new().max_rect(rect));
        child.add(egui::Label::new(egui::RichText::new(text_).font(font).color(colour)).truncate());
    }
    painter.text(
        egui::pos2(w - 10.0, 6.0),
        egui::Align2::RIGHT_TOP,
        format_time(t_s),
        egui::FontId::monospace(18.0),
        strong,
    );
    painter.text(
        egui::pos2(w - 10.0, 31.0),
        egui::Align2::RIGHT_TOP,
        protocol_now(scene, t_s),
        egui::FontId::proportional(12.0),
        text,
    );
    let mut header_h = 50.0;
    if let Some((_, step)) = story {
        header_h += caption_box(
            ui,
            step,
            egui::Rect::from_min_max(
                egui::pos2(10.0, header_h),
                egui::pos2(w - 10.0, header_h + (0.2 * h).clamp(90.0, 190.0)),
            ),
        );
    }
    let footer_h = 16.0;
    let plot_h = if opts.plot {
        (0.24 * h).clamp(110.0, 220.0)
    } else {
        0.0
    };
    // Panels.
    let area = egui::Rect::from_min_max(
        egui::pos2(6.0, header_h),
        egui::pos2(w - 6.0, h - footer_h - plot_h),
    );
    let (cols, _) = story
        .and_then(|(_, s)| s.layout)
        .or(opts.layout)
        .filter(|(c, r)| c * r >= panels.len())
        .unwrap_or_else(|| best_layout(panels.len(), area.size(), scene.nx, scene.ny));
    let rows = panels.len().div_ceil(cols);
    let mut placed = Vec::new();
    let cell_w = area.width() / cols as f32;
    let mut cell_h = area.height() / rows as f32;
    // Centre the panels vertically when they need less height than there is.
    let fit = ((cell_w - 8.0 - panel::BAR_W) / scene.nx as f32)
        .min((cell_h - 8.0 - panel::TITLE_ONLY_H - panel::BELOW_H) / scene.ny as f32);
    let fit = fit.max(0.1);
    let needed = panel::TITLE_ONLY_H + panel::BELOW_H + 8.0 + scene.ny as f32 * fit + 1.0;
    let area = if needed < cell_h {
        let spare = (cell_h - needed) * rows as f32;
        cell_h = needed;
        area.with_min_y(area.min.y + spare / 2.0)
    } else {
        area
    };
    for (k, (field, tex, range)) in panels.iter().enumerate() {
        let (c, r) = (k % cols, k / cols);
        let cell = egui::Rect::from_min_size(
            area.min + egui::vec2(c as f32 * cell_w, r as f32 * cell_h),
            egui::vec2(cell_w, cell_h),
        )
        .shrink(4.0);
        let art = PanelArt {
            field: *field,
            time_s: None,
            image: Some(tex.id()),
            range: *range,
            gradient: Some(gradient),
            nx: scene.nx,
            ny: scene.ny,
            h_um: scene.h_um,
            overlays,
            whole_pixels: false,
        };
        placed.push(draw_panel(ui, cell, &art).0);
    }
    // The pain-index course with the protocol marked and a cursor at this figure's time.
    if opts.plot {
        use egui_plot::{Corner, Legend, Line, LineStyle, Plot, PlotPoints, Span, VLine};
        let rect = egui::Rect::from_min_max(
            egui::pos2(10.0, h - footer_h - plot_h + 4.0),
            egui::pos2(w - 10.0, h - footer_h - 2.0),
        );
        let mut child = ui.new_child(egui::UiBuilder::new().max_rect(rect));
        let ppp = ui.ctx().pixels_per_point();
        // Hours on the axis of runs shorter than 2 days.
        let (unit_s, axis) = if scene.duration_s < 2.0 * 86400.0 {
            (3600.0, "time (h)")
        } else {
            (86400.0, "time (days)")
        };
        let now: Vec<&[f64; 3]> = pain.iter().filter(|p| p[0] <= t_s + 1e-6).collect();
        Plot::new("figure pain course")
            .width(rect.width())
            .height(rect.height())
            .reset()
            // The legend sits where the course has not been drawn yet: on the right early in
            // the run, on the left later.
            .legend(
                Legend::default().position(if t_s < 0.55 * scene.duration_s {
                    Corner::RightTop
                } else {
                    Corner::LeftTop
                }),
            )
            .x_axis_label(axis)
            .y_axis_label("pain index (1 = naive)")
            .include_x(0.0)
            .include_x(scene.duration_s / unit_s)
            .include_y(0.0)
            .include_y(y_max * 1.08)
            .allow_drag(false)
            .allow_zoom(false)
            .allow_scroll(false)
            .allow_boxed_zoom(false)
            .show(&mut child, |plot| {
                for s in &scene.protocol.sessions {
                    plot.add(
                        Span::new(
                            "EA session",
                            (s.start_s / unit_s)..=((s.start_s + s.duration_s) / unit_s),
                        )
                        .fill(egui::Color32::from_rgba_unmultiplied(80, 150, 255, 70))
                        .border_color(egui::Color32::from_rgb(80, 150, 255))
                        .border_width(1.0),
                    );
                }
                if let Some(p) = scene.protocol.pain
                    && p != PainModel::None
                {
                    plot.add(
                        VLine::new(
                            format!("{} induced", pain_model_label(scene, p)),
                            scene.protocol.pain_onset_s / unit_s,
                        )
                        .color(egui::Color32::from_rgb(160, 160, 160))
                        .style(LineStyle::dashed_loose()),
                    );
                }
                for d in &scene.doses {
                    plot.add(
                        VLine::new(
                            format!("dose: {}", DRUG_CATALOGUE[d.drug].0),
                            d.start_s / unit_s,
                        )
                        .color(egui::Color32::from_rgb(90, 190, 110)),
                    );
                }
                // About one point per 2 pixels, so the 5-min samples inside EA sessions draw
                // as a clean dip on a week-long axis.
                let min_dx =
                    2.0 * (scene.duration_s / unit_s) / (rect.width() * ppp).max(1.0) as f64;
                let series = |k: usize| -> PlotPoints {
                    let pts: Vec<[f64; 2]> = now.iter().map(|p| [p[0] / unit_s, p[k]]).collect();
                    PlotPoints::from(crate::output::plot::thin(&pts, min_dx))
                };
                let (m, ht) = (series(1), series(2));
                plot.line(
                    Line::new("P_mech", m)
                        .color(egui::Color32::from_rgb(255, 150, 60))
                        .width(2.0),
                );
                plot.line(
                    Line::new("P_heat", ht)
                        .color(egui::Color32::from_rgb(230, 60, 80))
                        .width(2.0),
                );
                if let Some((label, course)) = scene.control() {
                    for (k, colour, name) in [
                        (1, egui::Color32::from_rgb(255, 150, 60), "P_mech"),
                        (2, egui::Color32::from_rgb(230, 60, 80), "P_heat"),
                    ] {
                        let pts: Vec<[f64; 2]> = course
                            .iter()
                            .filter(|p| p[0] <= t_s + 1e-6)
                            .map(|p| [p[0] / unit_s, p[k]])
                            .collect();
                        plot.line(
                            Line::new(
                                format!("{name}, {label}"),
                                PlotPoints::from(crate::output::plot::thin(&pts, min_dx)),
                            )
                            .color(colour)
                            .style(LineStyle::dashed_dense())
                            .width(1.5),
                        );
                    }
                }
                // The cursor has no legend entry (an empty name).
                plot.add(VLine::new("", t_s / unit_s).color(strong).width(1.5));
            });
    }
    painter.text(
        egui::pos2(10.0, h - 3.0),
        egui::Align2::LEFT_BOTTOM,
        &scene.footer,
        egui::FontId::proportional(10.0),
        weak,
    );
    painter.text(
        egui::pos2(w - 10.0, h - 3.0),
        egui::Align2::RIGHT_BOTTOM,
        range_note(opts),
        egui::FontId::proportional(10.0),
        weak,
    );
    placed
}

/// A demo step's caption, question and evidence line in `rect` (wrapped); returns the height
/// used (points), at most the rect's.
fn caption_box(ui: &mut egui::Ui, step: &StoryStep, rect: egui::Rect) -> f32 {
    let mut child = ui.new_child(egui::UiBuilder::new().max_rect(rect));
    child.set_clip_rect(rect);
    child.spacing_mut().item_spacing.y = 4.0;
    let text = child.visuals().strong_text_color();
    child.label(egui::RichText::new(&step.caption).size(15.0).color(text));
    if let Some(q) = &step.question {
        child.label(
            egui::RichText::new(format!("Question: {q}"))
                .size(15.0)
                .strong()
                .color(child.visuals().warn_fg_color),
        );
    }
    child.label(
        egui::RichText::new(&step.source)
            .size(11.0)
            .color(child.visuals().weak_text_color()),
    );
    (child.min_rect().height() + 8.0).min(rect.height())
}
