//! The window's guided demonstrations (`dorsalhorn demo NAME`): the caption panel (step,
//! caption, question, evidence and source on demand), next and previous step, playback that
//! stops at each step's moment (and waits there when the step pauses), each step's fields,
//! ranges, probes and speed, and "What if…?", which leaves the guided timeline at the current
//! step for free play with the window's controls.

use super::App;
use super::sim_thread::{Edit, ToSim};
use super::ui::{PROBE_COLOURS, Probe};
use crate::figure::panel::format_time;
use crate::run::demo::evidence_line;
use crate::scenario::demo::Demo;
use crate::scenario::figures::RangeMode;

/// A demo being played.
pub(crate) struct DemoState {
    pub(crate) demo: Demo,
    /// The step on screen.
    pub(crate) step: usize,
    /// Left the guided timeline ("What if…?"): the controls are the user's.
    pub(crate) free: bool,
    pub(crate) show_source: bool,
    /// Going to this step's time as fast as the simulation can (next, previous, --step).
    pub(crate) jump: Option<usize>,
    /// The step's view still has to be applied (after the geometry is known).
    pub(crate) view_pending: bool,
    /// A reset was sent and its first snapshot (step 0) has not come back: the model time on
    /// screen is the old one and must not end a jump.
    pub(crate) reset_pending: bool,
}

impl DemoState {
    pub(crate) fn new(demo: Demo, start_step: usize) -> DemoState {
        DemoState {
            demo,
            step: 0,
            free: false,
            show_source: false,
            jump: (start_step > 0).then_some(start_step),
            view_pending: true,
            reset_pending: false,
        }
    }

    /// Whether the guided timeline drives the window (a demo, not left for free play).
    pub(crate) fn guided(&self) -> bool {
        !self.free
    }
}

impl App {
    /// Whether a guided demo is playing.
    pub(super) fn guided(&self) -> bool {
        self.ui.demo.as_ref().is_some_and(DemoState::guided)
    }

    /// Shows step `k`: its fields, ranges, probes and speed.
    fn apply_step_view(&mut self, k: usize) {
        let ui = &mut self.ui;
        let Some(d) = ui.demo.as_mut() else {
            return;
        };
        d.step = k;
        let step = d.demo.steps[k].clone();
        let speed = step.speed_h_per_s.unwrap_or(d.demo.speed_h_per_s);
        for (i, (&f, mode)) in step.fields.iter().zip(&step.ranges).enumerate() {
            let p = &mut ui.panels[i];
            p.texture = None;
            if p.field != f {
                p.field = f;
                p.values = Vec::new();
            }
            match *mode {
                RangeMode::Fixed(lo, hi) => {
                    p.auto = false;
                    p.range = (lo, hi);
                }
                _ => p.auto = true,
            }
        }
        ui.layout = step.fields.len();
        ui.plot_field = step.fields[0];
        ui.speed = speed * 3600.0;
        if let Some(g) = &ui.geometry
            && !step.probes.is_empty()
        {
            ui.probes = step
                .probes
                .iter()
                .zip(PROBE_COLOURS)
                .filter_map(|(p, colour)| {
                    let (cx, cy) = ((p[0] / g.h_um) as usize, (p[1] / g.h_um) as usize);
                    (cx < g.nx && cy < g.ny).then_some(Probe {
                        cell: cy * g.nx + cx,
                        colour,
                        history: Vec::new(),
                    })
                })
                .collect();
        }
        ui.watch_dirty = true;
    }

    /// Called every frame before the simulation is asked for time: follows the timeline (the
    /// step at the model time, stops at paused steps, finishes jumps) and returns the time the
    /// playback must not pass (the next step's), if any.
    pub(super) fn demo_tick(&mut self) -> Option<f64> {
        let geometry = self.ui.geometry.is_some();
        let t_s = self.ui.snap.as_ref().map(|s| s.time_s)?;
        let d = self.ui.demo.as_mut()?;
        if d.free {
            return None;
        }
        if d.view_pending && geometry {
            d.view_pending = false;
            let k = d.step;
            self.apply_step_view(k);
        }
        let d = self.ui.demo.as_mut()?;
        if let Some(j) = d.jump {
            let target = d.demo.steps[j].at_h * 3600.0;
            if t_s >= target - 1e-6 && !d.reset_pending {
                d.jump = None;
                self.apply_step_view(j);
                self.ui.playing = false;
                self.ui.status =
                    "at the step: Play (Space) goes on, Next (Right arrow) skips ahead".into();
            } else {
                let _ = self.to_sim.send(ToSim::Until(target));
            }
            return Some(target);
        }
        if d.reset_pending {
            return None;
        }
        let k = d.demo.step_at(t_s / 3600.0);
        if k != d.step && t_s >= d.demo.steps[k].at_h * 3600.0 - 1e-6 {
            let pause = d.demo.steps[k].pause;
            self.apply_step_view(k);
            if pause && self.ui.playing {
                self.ui.playing = false;
                let _ = self.to_sim.send(ToSim::Pause);
                self.ui.status =
                    "paused at the step: Play (Space) or Next (Right arrow) goes on".into();
            }
        }
        let d = self.ui.demo.as_ref()?;
        d.demo.steps.get(d.step + 1).map(|s| s.at_h * 3600.0)
    }

    /// Goes to step `k` (forward: plays there fast; back, or with `reset`: from t = 0 again).
    pub(super) fn goto_step(&mut self, k: usize, reset: bool) {
        let now = self.ui.snap.as_ref().map_or(0.0, |s| s.time_s);
        let Some(d) = self.ui.demo.as_mut() else {
            return;
        };
        if d.free || k >= d.demo.steps.len() {
            return;
        }
        let target = d.demo.steps[k].at_h * 3600.0;
        if reset || target < now - 1e-6 {
            let full = d.demo.table_through(None);
            match d.demo.scenario() {
                Ok(sc) => {
                    let _ = self.to_sim.send(ToSim::Reset(Box::new(sc)));
                    self.ui.toml = full;
                    self.ui.live_ea = None;
                    self.ui.sim_error = None;
                    self.ui.pain.clear();
                    for p in self.ui.probes.iter_mut() {
                        p.history.clear();
                    }
                }
                Err(e) => {
                    self.ui.status = e.to_string();
                    return;
                }
            }
        }
        let reset = reset || target < now - 1e-6;
        let d = self.ui.demo.as_mut().expect("checked above");
        d.reset_pending |= reset;
        d.jump = Some(k);
        self.ui.playing = false;
        self.ui.target_s = target;
        self.ui.status = format!("going to step {}…", k + 1);
    }

    /// "What if…?": leaves the guided timeline at the current step. The steps after it are
    /// removed from the scenario (the past and this step's own changes stay) and the controls
    /// open, so the next intervention is the user's.
    fn what_if(&mut self) {
        let Some(d) = self.ui.demo.as_mut() else {
            return;
        };
        d.free = true;
        let table = d.demo.table_through(Some(d.step));
        let origin = d.demo.origin.clone();
        let step = d.step;
        self.ui.original = table.clone();
        let edit: Edit = Box::new(move |_, _| {
            let sc = crate::scenario::dorsal_horn::from_table(&origin, table.clone())
                .map_err(|e| e.to_string())?;
            Ok((table, sc))
        });
        let _ = self.to_sim.send(ToSim::Edit(edit));
        self.ui.playing = false;
        let _ = self.to_sim.send(ToSim::Pause);
        self.ui.status = format!(
            "free play from step {}: the later steps are gone; change what happens next with the controls",
            step + 1
        );
    }

    /// Back to the guided timeline at the step that was left.
    fn back_to_demo(&mut self) {
        let Some(d) = self.ui.demo.as_mut() else {
            return;
        };
        d.free = false;
        let k = d.step;
        self.ui.original = d.demo.table_through(None);
        // From t = 0 again: the free play changed the scenario.
        self.goto_step(k, true);
    }

    /// Scripted mode: blocks until a jump to a step (`--step`) has arrived.
    pub(super) fn wait_for_jump(&mut self) {
        while self.ui.demo.as_ref().is_some_and(|d| d.jump.is_some()) && self.ui.sim_error.is_none()
        {
            self.demo_tick();
            if self.ui.demo.as_ref().is_some_and(|d| d.jump.is_none()) {
                break;
            }
            match self.from_sim.recv() {
                Ok(m) => self.on_sim(m),
                Err(_) => return,
            }
        }
    }

    /// Keys of a guided demo: Right arrow / Page Down next step, Left arrow / Page Up previous
    /// (presentation clickers send Page Down and Page Up).
    pub(super) fn demo_keys(&mut self, ctx: &egui::Context) {
        if !self.guided() || ctx.egui_wants_keyboard_input() {
            return;
        }
        use egui::Key;
        let pressed = |k: Key| ctx.input(|i| i.key_pressed(k));
        let step = self.ui.demo.as_ref().map_or(0, |d| d.step);
        if pressed(Key::ArrowRight) || pressed(Key::PageDown) {
            self.goto_step(step + 1, false);
        }
        if (pressed(Key::ArrowLeft) || pressed(Key::PageUp)) && step > 0 {
            self.goto_step(step - 1, false);
        }
    }

    /// The caption panel.
    pub(super) fn demo_panel(&mut self, ui: &mut egui::Ui) {
        let Some(d) = self.ui.demo.as_ref() else {
            return;
        };
        let (k, n) = (d.step, d.demo.steps.len());
        let step = d.demo.steps[k].clone();
        let (title, summary, limits) = (
            d.demo.title.clone(),
            d.demo.summary.clone(),
            d.demo.limits.clone(),
        );
        let (free, show_source, jumping) = (d.free, d.show_source, d.jump.is_some());
        let source = evidence_line(&d.demo, k);
        ui.add_space(4.0);
        ui.label(egui::RichText::new(title).heading().strong());
        ui.label(egui::RichText::new(summary).small());
        ui.separator();
        ui.horizontal(|ui| {
            ui.label(
                egui::RichText::new(format!("Step {} of {n}", k + 1))
                    .strong()
                    .size(15.0),
            );
            ui.label(
                egui::RichText::new(format_time(step.at_h * 3600.0))
                    .monospace()
                    .weak(),
            );
        });
        ui.label(egui::RichText::new(&step.title).size(20.0).strong());
        ui.add_space(4.0);
        egui::ScrollArea::vertical()
            .max_height(ui.available_height() - 170.0)
            .show(ui, |ui| {
                ui.label(egui::RichText::new(&step.caption).size(16.0));
                if let Some(q) = &step.question {
                    ui.add_space(6.0);
                    egui::Frame::group(ui.style()).show(ui, |ui| {
                        ui.label(
                            egui::RichText::new(format!("Question: {q}"))
                                .size(16.0)
                                .strong()
                                .color(ui.visuals().warn_fg_color),
                        );
                    });
                }
                if show_source {
                    ui.add_space(6.0);
                    ui.label(egui::RichText::new(&source).small());
                }
                if !limits.is_empty() {
                    ui.add_space(6.0);
                    egui::CollapsingHeader::new("What the model does not capture here")
                        .default_open(false)
                        .show(ui, |ui| {
                            for l in &limits {
                                ui.label(format!("• {l}"));
                            }
                        });
                }
            });
        ui.separator();
        if free {
            ui.label(format!(
                "Free play from step {}: the later steps were removed; use the controls on the left.",
                k + 1
            ));
            if ui
                .button("Back to the demo at this step")
                .on_hover_text("restart the guided timeline and go to this step")
                .clicked()
            {
                self.back_to_demo();
            }
            return;
        }
        self.demo_buttons(ui, k, n, jumping, show_source);
    }

    /// Previous, Play/Pause, Next, the source and "What if…?".
    fn demo_buttons(
        &mut self,
        ui: &mut egui::Ui,
        k: usize,
        n: usize,
        jumping: bool,
        show_source: bool,
    ) {
        ui.horizontal(|ui| {
            if ui
                .add_enabled(k > 0 && !jumping, egui::Button::new("< Previous"))
                .on_hover_text("Left arrow or Page Up")
                .clicked()
            {
                self.goto_step(k - 1, false);
            }
            let play = if self.ui.playing { "Pause" } else { "Play" };
            if ui.button(play).on_hover_text("Space").clicked() {
                self.toggle_play();
            }
            if ui
                .add_enabled(k + 1 < n && !jumping, egui::Button::new("Next >"))
                .on_hover_text("Right arrow or Page Down")
                .clicked()
            {
                self.goto_step(k + 1, false);
            }
        });
        ui.horizontal(|ui| {
            let label = if show_source {
                "Hide the source"
            } else {
                "Evidence and source"
            };
            if ui.button(label).clicked()
                && let Some(d) = self.ui.demo.as_mut()
            {
                d.show_source = !d.show_source;
            }
            if ui
                .button("What if…?")
                .on_hover_text(
                    "leave the guided demo here: the steps after this one are removed and the \
                     controls open, so you decide what happens next",
                )
                .clicked()
            {
                self.what_if();
            }
        });
    }
}
