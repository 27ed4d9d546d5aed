//! The window's controls: top bar, interventions (EA, drugs, boluses, pain models), probes and
//! their plots, keyboard shortcuts, saving the scenario and exporting probe CSVs.
//!
//! Longer than 600 lines: the controls are one egui screen (top bar, interventions, probes, plots);
//! the layout code reads best in the order it draws.

use super::{App, HELP, MAX_SPEED, MIN_SPEED};
use crate::colormap::Colormap;
use crate::figure::panel::{format_duration, format_time};
use crate::model::network::protocol::DRUG_CATALOGUE;
use crate::model::network::state::{FIELDS, field_info, field_name};
use crate::output;
use crate::scenario::edit::{add_ea, next_minute, push_array, stop_ea};
use crate::view::gfx::ensure_gradients;
use crate::view::sim_thread::{Edit, ToSim};
use std::time::Duration;

pub(crate) struct Probe {
    pub(crate) cell: usize,
    pub(crate) colour: egui::Color32,
    /// (time h, every field).
    pub(crate) history: Vec<(f64, Vec<f32>)>,
}

pub(crate) const PROBE_COLOURS: [egui::Color32; 6] = [
    egui::Color32::from_rgb(255, 255, 255),
    egui::Color32::from_rgb(0, 220, 255),
    egui::Color32::from_rgb(255, 120, 220),
    egui::Color32::from_rgb(120, 255, 120),
    egui::Color32::from_rgb(255, 170, 60),
    egui::Color32::from_rgb(170, 140, 255),
];

const EA_MODES: [&str; 4] = ["single", "alternating", "simultaneous", "manual"];
const ROUTES: [&str; 4] = ["ip", "iv", "intrathecal", "infusion"];
const PAIN_MODELS: [&str; 6] = ["cfa", "formalin", "snl", "sni", "cci", "bone_cancer"];

impl App {
    fn edit(
        &mut self,
        f: impl FnOnce(&mut toml::Table, f64) -> Result<(), String> + Send + 'static,
    ) {
        let origin = self.ui.origin.clone();
        let edit: Edit = Box::new(move |mut t, now| {
            f(&mut t, now)?;
            let sc = crate::scenario::dorsal_horn::from_table(&origin, t.clone())
                .map_err(|e| e.to_string())?;
            Ok((t, sc))
        });
        let _ = self.to_sim.send(ToSim::Edit(edit));
    }

    fn start_ea(&mut self) {
        let (mode, freq, ma, minutes) = (
            EA_MODES[self.ui.ea_mode],
            self.ui.ea_freq,
            self.ui.ea_ma,
            self.ui.ea_minutes,
        );
        let index = self
            .ui
            .toml
            .get("ea")
            .and_then(|v| v.as_array())
            .map_or(0, |a| a.len());
        self.ui.live_ea = Some(index);
        self.ui.status = format!("EA {mode} {freq:.1} Hz {ma:.1} mA for {minutes:.0} min");
        self.edit(move |t, now| {
            add_ea(t, now, mode, freq, ma, minutes);
            Ok(())
        });
    }

    fn stop_ea(&mut self) {
        let Some(index) = self.ui.live_ea.take() else {
            self.ui.status = "no session started from the window is running".into();
            return;
        };
        self.ui.status = "EA stopped".into();
        self.edit(move |t, now| stop_ea(t, index, now));
    }

    fn apply_drug(&mut self) {
        let (name, _, _, what) = DRUG_CATALOGUE[self.ui.drug];
        let route = ROUTES[self.ui.route];
        let u_max = self.ui.u_max;
        let hours = self.ui.infusion_h;
        self.ui.status = format!("{name} ({what}), {route}, u_max {u_max:.2}");
        self.edit(move |t, now| {
            let mut d = toml::Table::new();
            d.insert("drug".into(), name.into());
            d.insert("route".into(), route.into());
            d.insert("u_max".into(), u_max.into());
            d.insert("at_h".into(), (next_minute(now) / 3600.0).into());
            if route == "infusion" {
                d.insert("duration_h".into(), hours.into());
            }
            push_array(t, "dose", d);
            Ok(())
        });
    }

    fn bolus(&mut self, drug: &'static str) {
        self.ui.status = format!("{drug} bolus");
        self.edit(move |t, now| {
            let mut b = toml::Table::new();
            b.insert("drug".into(), drug.into());
            b.insert("at_h".into(), (next_minute(now) / 3600.0).into());
            push_array(t, "bolus", b);
            Ok(())
        });
    }

    fn trigger_pain(&mut self) {
        let model = PAIN_MODELS[self.ui.pain_model];
        self.ui.status = format!("pain model {model}");
        self.edit(move |t, now| {
            let current = t
                .get("pain")
                .and_then(|p| p.get("model"))
                .and_then(|m| m.as_str())
                .unwrap_or("none");
            if model == "sni" {
                return Err(
                    "SNI's injured and tested territories are laid out when the tissue is \
                     built (MODEL.md §11.4), so it cannot start mid-run: open the viewer with \
                     --set pain.model=\"sni\" (and pain.onset_h for a later onset)"
                        .into(),
                );
            }
            if current != "none" && current != "sham" {
                return Err(format!(
                    "the scenario already has a pain model ({current}); reset with a scenario \
                     without one (e.g. --set pain.model=\"none\") to trigger another"
                ));
            }
            let mut p = toml::Table::new();
            p.insert("model".into(), model.into());
            p.insert("onset_h".into(), (next_minute(now) / 3600.0).into());
            t.insert("pain".into(), toml::Value::Table(p));
            Ok(())
        });
    }

    fn reset(&mut self) {
        match crate::scenario::dorsal_horn::from_table(&self.ui.origin, self.ui.original.clone()) {
            Ok(sc) => {
                let _ = self.to_sim.send(ToSim::Reset(Box::new(sc)));
                let ui = &mut self.ui;
                ui.toml = ui.original.clone();
                ui.pain.clear();
                for p in ui.probes.iter_mut() {
                    p.history.clear();
                }
                ui.target_s = 0.0;
                ui.live_ea = None;
                ui.sim_error = None;
                ui.status = "reset to t = 0".into();
            }
            Err(e) => self.ui.status = e.to_string(),
        }
    }

    fn save_scenario(&mut self) {
        let path = self.opts.out_dir.join("viewed_scenario.toml");
        let text = format!(
            "# Written by `dorsalhorn view`: the scenario with every intervention made in the\n\
             # window. `dorsalhorn run {}` replays the viewing.\n{}",
            path.display(),
            toml::to_string(&self.ui.toml).unwrap_or_default()
        );
        self.ui.status = match output::write_atomic(&path, text.as_bytes()) {
            Ok(()) => format!("saved {}", path.display()),
            Err(e) => e.to_string(),
        };
    }

    fn export_csv(&mut self) {
        let dir = &self.opts.out_dir;
        let mut probes = String::from("probe,cell_x,cell_y,x_um,y_um,time_h");
        for f in 0..FIELDS {
            probes.push(',');
            probes.push_str(field_name(f));
        }
        probes.push('\n');
        let (nx, h) = self
            .ui
            .geometry
            .as_ref()
            .map_or((1, 1.0), |g| (g.nx, g.h_um));
        for (k, p) in self.ui.probes.iter().enumerate() {
            let (cx, cy) = (p.cell % nx, p.cell / nx);
            for (t, v) in &p.history {
                probes.push_str(&format!(
                    "{},{cx},{cy},{:.1},{:.1},{t:.4}",
                    k + 1,
                    (cx as f64 + 0.5) * h,
                    (cy as f64 + 0.5) * h
                ));
                for x in v {
                    probes.push_str(&format!(",{x:.6e}"));
                }
                probes.push('\n');
            }
        }
        let mut pain = String::from("time_h,P_mech,P_heat\n");
        for p in &self.ui.pain {
            pain.push_str(&format!("{:.4},{:.6},{:.6}\n", p[0], p[1], p[2]));
        }
        let a = dir.join("probes.csv");
        let b = dir.join("pain_index.csv");
        self.ui.status = match output::write_atomic(&a, probes.as_bytes())
            .and_then(|_| output::write_atomic(&b, pain.as_bytes()))
        {
            Ok(()) => format!("wrote {} and {}", a.display(), b.display()),
            Err(e) => e.to_string(),
        };
    }

    fn shortcuts(&mut self, ctx: &egui::Context) {
        if ctx.egui_wants_keyboard_input() {
            return;
        }
        use egui::Key;
        let pressed = |k: Key| ctx.input(|i| i.key_pressed(k));
        if pressed(Key::Space) {
            self.toggle_play();
        }
        // In a guided demo → and ← go from step to step (demo_keys).
        if pressed(Key::N) || (pressed(Key::ArrowRight) && !self.guided()) {
            self.single_step();
        }
        if pressed(Key::Plus) || pressed(Key::Equals) || pressed(Key::ArrowUp) {
            self.ui.speed = (self.ui.speed * 2.0).min(MAX_SPEED);
        }
        if pressed(Key::Minus) || pressed(Key::ArrowDown) {
            self.ui.speed = (self.ui.speed / 2.0).max(MIN_SPEED);
        }
        if pressed(Key::O) {
            self.ui.outlines = !self.ui.outlines;
        }
        if pressed(Key::H) || pressed(Key::F1) {
            self.ui.help = !self.ui.help;
        }
        if pressed(Key::Escape) {
            self.ui.help = false;
        }
        if pressed(Key::E) {
            if self.ui.snap.as_ref().is_some_and(|s| s.ea_on) {
                self.stop_ea();
            } else {
                self.start_ea();
            }
        }
        if pressed(Key::R) {
            self.reset();
        }
        if pressed(Key::S) || pressed(Key::F12) {
            self.request_screenshot();
        }
        if pressed(Key::C) {
            self.export_csv();
        }
        for (k, n) in [(Key::Num1, 1), (Key::Num2, 2), (Key::Num4, 4)] {
            if pressed(k) {
                self.ui.layout = n;
                self.ui.watch_dirty = true;
            }
        }
    }

    pub(super) fn toggle_play(&mut self) {
        self.ui.playing = !self.ui.playing;
        if !self.ui.playing {
            let _ = self.to_sim.send(ToSim::Pause);
        } else if let Some(s) = &self.ui.snap {
            self.ui.target_s = s.time_s;
            if self.guided() {
                self.ui.status = "playing to the next step".into();
            }
        }
    }

    fn single_step(&mut self) {
        if self.ui.playing {
            self.toggle_play();
        }
        let _ = self.to_sim.send(ToSim::Steps(1));
    }

    pub(super) fn build_ui(&mut self, root: &mut egui::Ui) {
        let ctx = root.ctx().clone();
        self.demo_keys(&ctx);
        self.shortcuts(&ctx);
        ensure_gradients(&mut self.ui, &ctx);
        // Panels are not filled: the frame is cleared to the panel colour instead, which saves
        // a full-window blended layer (a third of the frame time on lavapipe).
        ctx.all_styles_mut(|s| s.visuals.panel_fill = egui::Color32::TRANSPARENT);
        egui::Panel::top("top").show(root, |ui| self.top_bar(ui));
        // A guided demo shows its captions instead of the controls; "What if…?" brings the
        // controls back beside them.
        if self.ui.demo.is_some() {
            egui::Panel::right("demo")
                .resizable(true)
                .default_size(380.0)
                .show(root, |ui| self.demo_panel(ui));
        }
        if !self.guided() {
            egui::Panel::left("controls")
                .resizable(true)
                .default_size(300.0)
                .show(root, |ui| {
                    egui::ScrollArea::vertical().show(ui, |ui| self.controls(ui));
                });
        }
        egui::Panel::bottom("plots")
            .resizable(true)
            .default_size(210.0)
            .show(root, |ui| self.plots(ui));
        egui::CentralPanel::default().show(root, |ui| self.fields(ui));
        if self.ui.help {
            egui::Window::new("Keyboard shortcuts")
                .collapsible(false)
                .resizable(false)
                .anchor(egui::Align2::CENTER_CENTER, [0.0, 0.0])
                .show(&ctx, |ui| {
                    egui::Grid::new("keys").striped(true).show(ui, |ui| {
                        for (k, what) in HELP {
                            ui.monospace(*k);
                            ui.label(*what);
                            ui.end_row();
                        }
                    });
                });
        }
        if self.ui.sim_error.is_some() || self.ui.geometry.is_none() {
            ctx.request_repaint_after(Duration::from_millis(100));
        }
    }

    fn top_bar(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            ui.strong(format!("dorsalhorn · {}", self.opts.scenario.name));
            ui.separator();
            match &self.ui.snap {
                Some(s) => {
                    ui.label(
                        egui::RichText::new(format_time(s.time_s))
                            .monospace()
                            .strong(),
                    );
                    if s.ea_on {
                        ui.colored_label(egui::Color32::from_rgb(120, 220, 255), "EA on");
                    }
                    ui.label(format!("P_mech {:.2}  P_heat {:.2}", s.p_mech, s.p_heat));
                }
                None => {
                    ui.add(
                        egui::ProgressBar::new(self.ui.progress as f32)
                            .desired_width(220.0)
                            .text(format!(
                                "settling the baseline ({} d)",
                                self.opts.scenario.settle_s / 86400.0
                            )),
                    );
                }
            }
            ui.separator();
            ui.label(if self.ui.playing { "playing" } else { "paused" });
            ui.label(format!("{}/s", format_duration(self.ui.speed)));
            let fps = match (self.ui.frame_times.front(), self.ui.frame_times.back()) {
                (Some(a), Some(b)) if self.ui.frame_times.len() > 1 => {
                    (self.ui.frame_times.len() - 1) as f64
                        / b.duration_since(*a).as_secs_f64().max(1e-9)
                }
                _ => 0.0,
            };
            ui.label(format!("{fps:.0} fps"));
            ui.separator();
            ui.label(&self.ui.status);
        });
        if let Some(e) = &self.ui.sim_error {
            ui.colored_label(
                egui::Color32::from_rgb(255, 110, 110),
                format!("The simulation stopped: {e}\nPress R to reset."),
            );
        }
    }

    #[expect(clippy::too_many_lines, reason = "one egui side panel in screen order")]
    fn controls(&mut self, ui: &mut egui::Ui) {
        ui.heading("Playback");
        ui.horizontal(|ui| {
            if ui
                .button(if self.ui.playing { "Pause" } else { "Play" })
                .on_hover_text("Space")
                .clicked()
            {
                self.toggle_play();
            }
            if ui
                .button("Step")
                .on_hover_text("N or →: one transport step")
                .clicked()
            {
                self.single_step();
            }
            if ui
                .button("Reset")
                .on_hover_text("R: back to t = 0")
                .clicked()
            {
                self.reset();
            }
        });
        ui.add(
            egui::Slider::new(&mut self.ui.speed, MIN_SPEED..=MAX_SPEED)
                .logarithmic(true)
                .custom_formatter(|v, _| format!("{}/s", format_duration(v)))
                .text("speed"),
        )
        .on_hover_text("Model time per second of wall time (+/−)");
        ui.separator();
        ui.heading("Display");
        ui.horizontal(|ui| {
            ui.label("panels");
            for n in [1, 2, 4] {
                if ui
                    .selectable_label(self.ui.layout == n, n.to_string())
                    .clicked()
                {
                    self.ui.layout = n;
                    self.ui.watch_dirty = true;
                }
            }
        });
        ui.checkbox(&mut self.ui.outlines, "lamina outlines (O)");
        for k in 0..self.ui.layout {
            let p = &mut self.ui.panels[k];
            ui.push_id(k, |ui| {
                ui.horizontal(|ui| {
                    let before = p.field;
                    egui::ComboBox::from_id_salt("field")
                        .width(110.0)
                        .selected_text(field_name(p.field))
                        .show_ui(ui, |ui| {
                            for f in 0..FIELDS {
                                ui.selectable_value(&mut p.field, f, field_name(f))
                                    .on_hover_text(field_info(f).0);
                            }
                        });
                    if p.field != before {
                        p.values.clear();
                        p.texture = None;
                        self.ui.watch_dirty = true;
                    }
                    egui::ComboBox::from_id_salt("cmap")
                        .width(80.0)
                        .selected_text(p.colormap.name())
                        .show_ui(ui, |ui| {
                            for name in Colormap::NAMES {
                                let c = Colormap::from_name(name).expect("listed name");
                                if ui.selectable_value(&mut p.colormap, c, *name).changed() {
                                    p.texture = None;
                                }
                            }
                        });
                });
                ui.horizontal(|ui| {
                    if ui.checkbox(&mut p.auto, "auto range").changed() {
                        p.texture = None;
                    }
                    if !p.auto {
                        let lo = ui.add(egui::DragValue::new(&mut p.range.0).speed(0.001));
                        let hi = ui.add(egui::DragValue::new(&mut p.range.1).speed(0.001));
                        if lo.changed() || hi.changed() {
                            p.texture = None;
                        }
                    }
                });
            });
        }
        ui.separator();
        ui.heading("Electroacupuncture");
        ui.label("ST36 + SP6, starts at the next whole minute");
        egui::ComboBox::from_label("mode")
            .selected_text(EA_MODES[self.ui.ea_mode])
            .show_ui(ui, |ui| {
                for (k, m) in EA_MODES.iter().enumerate() {
                    ui.selectable_value(&mut self.ui.ea_mode, k, *m);
                }
            });
        ui.add(
            egui::Slider::new(&mut self.ui.ea_freq, 0.1..=200.0)
                .logarithmic(true)
                .suffix(" Hz")
                .text("frequency"),
        );
        ui.add(
            egui::Slider::new(&mut self.ui.ea_ma, 0.0..=10.0)
                .suffix(" mA")
                .text("intensity"),
        );
        ui.add(
            egui::Slider::new(&mut self.ui.ea_minutes, 1.0..=120.0)
                .suffix(" min")
                .text("duration"),
        );
        let ea_on = self.ui.snap.as_ref().is_some_and(|s| s.ea_on);
        ui.horizontal(|ui| {
            if ui
                .add_enabled(!ea_on, egui::Button::new("Start EA"))
                .on_hover_text("E")
                .clicked()
            {
                self.start_ea();
            }
            if ui
                .add_enabled(
                    ea_on && self.ui.live_ea.is_some(),
                    egui::Button::new("Stop EA"),
                )
                .on_hover_text("E")
                .clicked()
            {
                self.stop_ea();
            }
        });
        ui.separator();
        ui.heading("Drugs");
        egui::ComboBox::from_label("drug")
            .selected_text(DRUG_CATALOGUE[self.ui.drug].0)
            .show_ui(ui, |ui| {
                for (k, d) in DRUG_CATALOGUE.iter().enumerate() {
                    ui.selectable_value(&mut self.ui.drug, k, d.0)
                        .on_hover_text(d.3);
                }
            });
        ui.small(DRUG_CATALOGUE[self.ui.drug].3);
        egui::ComboBox::from_label("route")
            .selected_text(ROUTES[self.ui.route])
            .show_ui(ui, |ui| {
                for (k, r) in ROUTES.iter().enumerate() {
                    ui.selectable_value(&mut self.ui.route, k, *r);
                }
            });
        ui.add(egui::Slider::new(&mut self.ui.u_max, 0.0..=1.0).text("peak occupancy"));
        if ROUTES[self.ui.route] == "infusion" {
            ui.add(
                egui::Slider::new(&mut self.ui.infusion_h, 0.5..=168.0)
                    .logarithmic(true)
                    .suffix(" h")
                    .text("infusion"),
            );
        }
        ui.horizontal(|ui| {
            if ui.button("Apply drug").clicked() {
                self.apply_drug();
            }
            if ui
                .button("Naloxone")
                .on_hover_text("1 mg/kg i.p. bolus")
                .clicked()
            {
                self.bolus("naloxone");
            }
            if ui
                .button("MK-801")
                .on_hover_text("0.5 mg/kg i.v. bolus")
                .clicked()
            {
                self.bolus("mk801");
            }
        });
        ui.separator();
        ui.heading("Pain model");
        let current = self
            .ui
            .toml
            .get("pain")
            .and_then(|p| p.get("model"))
            .and_then(|m| m.as_str())
            .unwrap_or("none")
            .to_string();
        ui.label(format!("now: {current}"));
        ui.horizontal(|ui| {
            egui::ComboBox::from_id_salt("pain")
                .selected_text(PAIN_MODELS[self.ui.pain_model])
                .show_ui(ui, |ui| {
                    for (k, m) in PAIN_MODELS.iter().enumerate() {
                        ui.selectable_value(&mut self.ui.pain_model, k, *m);
                    }
                });
            let none = current == "none" || current == "sham";
            if ui.add_enabled(none, egui::Button::new("Trigger")).clicked() {
                self.trigger_pain();
            }
        });
        ui.separator();
        ui.heading("Probes and files");
        ui.label("Click the tissue to place a probe (up to 6).");
        ui.horizontal(|ui| {
            if ui.button("Clear probes").clicked() {
                self.ui.probes.clear();
                self.ui.watch_dirty = true;
            }
            if ui.button("Export CSV").on_hover_text("C").clicked() {
                self.export_csv();
            }
        });
        ui.horizontal(|ui| {
            if ui.button("Screenshot").on_hover_text("S or F12").clicked() {
                self.request_screenshot();
            }
            if ui
                .button("Save scenario")
                .on_hover_text("The scenario with every intervention, for `dorsalhorn run`")
                .clicked()
            {
                self.save_scenario();
            }
        });
        ui.small(format!("files go to {}", self.opts.out_dir.display()));
        if ui.button("Help (H)").clicked() {
            self.ui.help = !self.ui.help;
        }
    }

    fn plots(&mut self, ui: &mut egui::Ui) {
        use egui_plot::{Legend, Line, Plot, PlotPoints};
        let half = (ui.available_width() - 12.0) / 2.0;
        let height = 190.0;
        ui.horizontal(|ui| {
            ui.vertical(|ui| {
                ui.set_width(half);
                ui.horizontal(|ui| {
                    ui.label("probes:");
                    egui::ComboBox::from_id_salt("plot_field")
                        .selected_text(field_name(self.ui.plot_field))
                        .show_ui(ui, |ui| {
                            for f in 0..FIELDS {
                                ui.selectable_value(&mut self.ui.plot_field, f, field_name(f));
                            }
                        });
                    ui.label(field_info(self.ui.plot_field).1);
                });
                let f = self.ui.plot_field;
                let nx = self.ui.geometry.as_ref().map_or(1, |g| g.nx);
                Plot::new("probe_plot")
                    .height(height - 24.0)
                    .legend(Legend::default())
                    .x_axis_label("time (h)")
                    .show(ui, |plot| {
                        for (k, p) in self.ui.probes.iter().enumerate() {
                            let pts: PlotPoints = p
                                .history
                                .iter()
                                .filter(|(_, v)| v[f].is_finite())
                                .map(|(t, v)| [*t, v[f] as f64])
                                .collect();
                            let name =
                                format!("probe {} ({}, {})", k + 1, p.cell % nx, p.cell / nx);
                            plot.line(Line::new(name, pts).color(p.colour));
                        }
                    });
            });
            ui.vertical(|ui| {
                ui.set_width(half);
                ui.label("pain index (§4.11; 1 = naive)");
                Plot::new("pain_plot")
                    .height(height - 24.0)
                    .legend(Legend::default())
                    .x_axis_label("time (h)")
                    .show(ui, |plot| {
                        let m: PlotPoints = self.ui.pain.iter().map(|p| [p[0], p[1]]).collect();
                        let h: PlotPoints = self.ui.pain.iter().map(|p| [p[0], p[2]]).collect();
                        plot.line(
                            Line::new("P_mech", m).color(egui::Color32::from_rgb(255, 150, 60)),
                        );
                        plot.line(
                            Line::new("P_heat", h).color(egui::Color32::from_rgb(230, 60, 80)),
                        );
                    });
            });
        });
    }
}
