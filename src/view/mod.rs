//! `dorsalhorn view`: the live window on a dorsal-horn scenario.
//!
//! Two threads. The simulation thread opens its own GPU device, settles the baseline and owns a
//! [`Stepper`](crate::run::stepper::Stepper); it takes the scenario's transport steps when asked. The window thread draws with
//! egui at the display's rate and asks each frame for more model time (speed × frame time), so
//! the window never waits on the simulation and the steps never depend on the frame rate: they
//! are exactly those of `dorsalhorn run`. Interventions from the panel (EA, drugs, a pain model,
//! boluses) are written into the scenario's TOML at the next whole minute of model time, and
//! "Save scenario" writes that TOML, which replays the viewing in batch.
//!
//! Field images are coloured by [`crate::colormap`] on the CPU, the same code and the same
//! pixels as the PNG frames of `dorsalhorn run`.

mod demo;
mod gfx;
mod panels;
mod sim_thread;
mod ui;

use crate::colormap::Colormap;
use crate::error::Error;
use crate::figure::panel::Overlays;
use crate::model::network::state::field_name;
use crate::output;
use crate::scenario::dorsal_horn::TissueScenario;
use gfx::Gfx;
use panels::Panel;
use sim_thread::{FromSim, Geometry, Snapshot, ToSim, spawn_sim};
use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, Sender};
use std::time::{Duration, Instant};
use ui::Probe;
use winit::application::ApplicationHandler;
use winit::event::WindowEvent;
use winit::event_loop::{ActiveEventLoop, ControlFlow, EventLoop};
use winit::window::WindowId;

/// A scripted viewing for tests and benchmarks: `frames` frames of `steps_per_frame` steps
/// each (waiting for the steps, so the result is deterministic), then a screenshot and exit.
#[derive(Debug, Clone)]
pub struct Script {
    pub frames: u64,
    pub steps_per_frame: u64,
    pub screenshot: Option<PathBuf>,
}

/// Options of `dorsalhorn view`.
#[derive(Debug, Clone)]
pub struct ViewOptions {
    /// The scenario as the user named it (for messages).
    pub spec: String,
    pub scenario: TissueScenario,
    /// Fields of the panels (1, 2 or 4 of them).
    pub fields: Vec<usize>,
    pub colormap: Colormap,
    pub outlines: bool,
    /// Start paused.
    pub paused: bool,
    /// Where screenshots, probe CSVs and the saved scenario go.
    pub out_dir: PathBuf,
    /// Window size in physical pixels.
    pub size: [u32; 2],
    /// Model seconds per wall-clock second while playing.
    pub speed: f64,
    pub script: Option<Script>,
    /// A guided demonstration and the step to start at (`dorsalhorn demo NAME [--step K]`).
    pub demo: Option<(crate::scenario::demo::Demo, usize)>,
}

// ---------------------------------------------------------------------------------------------
// The simulation thread.

pub(crate) struct UiState {
    geometry: Option<Geometry>,
    progress: f64,
    snap: Option<Box<Snapshot>>,
    panels: Vec<Panel>,
    layout: usize,
    playing: bool,
    speed: f64,
    target_s: f64,
    outlines: bool,
    help: bool,
    probes: Vec<Probe>,
    plot_field: usize,
    pain: Vec<[f64; 3]>,
    ea_mode: usize,
    ea_freq: f64,
    ea_ma: f64,
    ea_minutes: f64,
    /// Index in the TOML `ea` array of the session started from the window.
    live_ea: Option<usize>,
    drug: usize,
    route: usize,
    u_max: f64,
    infusion_h: f64,
    pain_model: usize,
    toml: toml::Table,
    original: toml::Table,
    origin: String,
    status: String,
    sim_error: Option<String>,
    screenshot: Option<PathBuf>,
    frame_times: VecDeque<Instant>,
    gradients: Vec<(Colormap, egui::TextureHandle)>,
    overlays: Overlays,
    watch_dirty: bool,
    demo: Option<demo::DemoState>,
}

pub(crate) struct App {
    opts: ViewOptions,
    to_sim: Sender<ToSim>,
    from_sim: Receiver<FromSim>,
    gfx: Option<Gfx>,
    ctx: egui::Context,
    ui: UiState,
    start: Instant,
    first_frame_s: Option<f64>,
    frames: u64,
    /// Scripted mode: frames drawn after the baseline was ready, and when they started.
    script_frames: u64,
    script_started: Option<Instant>,
    /// Scripted mode: the script has written its report and asked the event loop to exit; a
    /// redraw the loop still delivers after that must not count a frame or rewrite the report.
    script_finished: bool,
    /// Seconds from start to the first frame showing fields (the baseline is ready).
    first_field_frame_s: Option<f64>,
    /// When egui wants the next frame (animations, tooltips), if it does.
    next_repaint: Option<Instant>,
    /// Scripted mode: seconds spent building the UI (CPU: layout, colouring, tessellation) and
    /// drawing it (GPU submit, present and wait), over `timed_frames` frames.
    cpu_s: f64,
    draw_s: f64,
    timed_frames: u64,
    fatal: Option<Error>,
}

/// Opens the window and runs until it is closed (or the script ends).
pub fn view(opts: ViewOptions) -> Result<(), Error> {
    output::prepare_dir_keep(&opts.out_dir)?;
    let event_loop = EventLoop::new().map_err(|e| no_display(&opts, &e.to_string()))?;
    event_loop.set_control_flow(ControlFlow::Wait);
    let (to_sim, from_sim, sim_done) = spawn_sim(opts.scenario.clone(), event_loop.create_proxy());
    let n = opts.fields.len();
    // Four panels always exist; those beyond --fields start on IL1b, M, ENK and r_P.
    let panels = (0..4)
        .map(|k| Panel {
            field: opts.fields.get(k).copied().unwrap_or([12, 22, 4, 35][k]),
            colormap: opts.colormap,
            auto: true,
            range: (0.0, 1.0),
            texture: None,
            values: Vec::new(),
            rect_px: [0.0; 4],
        })
        .collect();
    let toml = opts.scenario.resolved_toml.clone();
    let mut app = App {
        ui: UiState {
            geometry: None,
            progress: 0.0,
            snap: None,
            panels,
            layout: n.clamp(1, 4).next_power_of_two().min(4),
            playing: !opts.paused && opts.script.as_ref().is_none_or(|s| s.steps_per_frame == 0),
            speed: opts.speed,
            target_s: 0.0,
            outlines: opts.outlines,
            help: false,
            probes: Vec::new(),
            plot_field: opts.fields[0],
            pain: Vec::new(),
            ea_mode: 0,
            ea_freq: 2.0,
            ea_ma: 1.0,
            ea_minutes: 30.0,
            live_ea: None,
            drug: 0,
            route: 0,
            u_max: 0.8,
            infusion_h: 24.0,
            pain_model: 0,
            original: toml.clone(),
            toml,
            origin: opts.scenario.origin.clone(),
            status: "settling the baseline…".into(),
            sim_error: None,
            screenshot: None,
            frame_times: VecDeque::new(),
            gradients: Vec::new(),
            overlays: Overlays::default(),
            watch_dirty: true,
            demo: opts.demo.clone().map(|(d, k)| demo::DemoState::new(d, k)),
        },
        opts,
        to_sim,
        from_sim,
        gfx: None,
        ctx: egui::Context::default(),
        start: Instant::now(),
        first_frame_s: None,
        frames: 0,
        script_frames: 0,
        script_started: None,
        script_finished: false,
        first_field_frame_s: None,
        next_repaint: None,
        cpu_s: 0.0,
        draw_s: 0.0,
        timed_frames: 0,
        fatal: None,
    };
    let result = event_loop.run_app(&mut app);
    // Close the window's device, then let the simulation thread end (its channel closes) and
    // release its device before the process exits; a baseline still settling is not waited for.
    let fatal = app.fatal.take();
    drop(app);
    let _ = sim_done.recv_timeout(Duration::from_secs(5));
    result.map_err(|e| Error::Output(format!("the window's event loop failed: {e}")))?;
    match fatal {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

impl App {
    fn drain_sim(&mut self) {
        while let Ok(m) = self.from_sim.try_recv() {
            self.on_sim(m);
        }
    }

    fn on_sim(&mut self, m: FromSim) {
        let ui = &mut self.ui;
        match m {
            FromSim::Progress(f) => {
                ui.progress = f;
                ui.status = format!("settling the baseline: {:.0} %", 100.0 * f);
            }
            FromSim::Ready(g) => {
                ui.status = format!("ready on {}", g.adapter);
                ui.overlays = Overlays::of(g.nx, g.ny, &g.region);
                ui.geometry = Some(g);
                ui.watch_dirty = true;
            }
            FromSim::Snapshot(s) => {
                // The first snapshot after a reset (step 0) carries the new model time.
                if s.steps == 0
                    && let Some(d) = ui.demo.as_mut()
                {
                    d.reset_pending = false;
                }
                let t_h = s.time_s / 3600.0;
                if ui.pain.last().is_none_or(|p| t_h > p[0]) {
                    ui.pain.push([t_h, s.p_mech, s.p_heat]);
                } else if ui.pain.last().is_some_and(|p| t_h < p[0]) {
                    ui.pain.clear();
                    ui.pain.push([t_h, s.p_mech, s.p_heat]);
                }
                for (cell, values) in &s.probes {
                    if let Some(p) = ui.probes.iter_mut().find(|p| p.cell == *cell)
                        && p.history.last().is_none_or(|h| t_h > h.0)
                    {
                        p.history.push((t_h, values.clone()));
                    }
                }
                for panel in ui.panels.iter_mut() {
                    if let Some((_, v)) = s.fields.iter().find(|(f, _)| *f == panel.field) {
                        panel.values = v.clone();
                        panel.texture = None;
                    }
                }
                if s.finished && ui.playing {
                    ui.playing = false;
                    ui.status = "end of the scenario (extend it with --set time.days=…)".into();
                }
                ui.snap = Some(s);
            }
            FromSim::Edited(Ok(table)) => {
                ui.toml = table;
            }
            FromSim::Edited(Err(msg)) => {
                ui.status = msg;
                // A session that could not be added cannot be stopped either.
                let n = ui
                    .toml
                    .get("ea")
                    .and_then(|v| v.as_array())
                    .map_or(0, |a| a.len());
                if ui.live_ea.is_some_and(|i| i >= n) {
                    ui.live_ea = None;
                }
            }
            FromSim::Failed(msg) => {
                ui.playing = false;
                ui.sim_error = Some(msg);
            }
        }
    }

    /// Tells the simulation what to send and how far to go this frame.
    fn drive(&mut self, frame_dt: f64) {
        // A guided demo follows its timeline: it stops at each step's moment and jumps between
        // steps.
        let stop_at = self.demo_tick();
        let jumping = self.ui.demo.as_ref().is_some_and(|d| d.jump.is_some());
        let ui = &mut self.ui;
        if ui.watch_dirty && ui.geometry.is_some() {
            let mut fields: Vec<usize> = ui.panels[..ui.layout].iter().map(|p| p.field).collect();
            fields.sort_unstable();
            fields.dedup();
            let probes = ui.probes.iter().map(|p| p.cell).collect();
            let _ = self.to_sim.send(ToSim::Watch { fields, probes });
            ui.watch_dirty = false;
        }
        let Some(snap) = &ui.snap else {
            return;
        };
        if self
            .opts
            .script
            .as_ref()
            .is_some_and(|s| s.steps_per_frame > 0)
        {
            return;
        }
        if jumping {
            return;
        }
        if ui.playing && ui.sim_error.is_none() {
            // Model time asked for runs at most half a second of wall time ahead of the
            // simulation, so pausing stops promptly on a slow device.
            let ahead = snap.time_s + 0.5 * ui.speed;
            ui.target_s = (ui.target_s.max(snap.time_s) + ui.speed * frame_dt)
                .min(ahead)
                .min(stop_at.unwrap_or(f64::INFINITY));
            let _ = self.to_sim.send(ToSim::Until(ui.target_s));
        }
    }

    /// Scripted mode: blocks until the simulation has taken `steps` steps in all (or the
    /// scenario ended) and is idle.
    fn wait_steps(&mut self, steps: u64) {
        loop {
            match self.from_sim.recv() {
                Ok(FromSim::Snapshot(s)) => {
                    let done = s.idle && (s.steps >= steps || s.finished);
                    self.on_sim(FromSim::Snapshot(s));
                    if done {
                        return;
                    }
                }
                Ok(m @ FromSim::Failed(_)) => {
                    self.on_sim(m);
                    return;
                }
                Ok(m) => self.on_sim(m),
                Err(_) => return,
            }
        }
    }

    fn finish_script(&mut self, shot: Option<&Path>) {
        let elapsed = self
            .script_started
            .map_or(0.0, |t| t.elapsed().as_secs_f64());
        let fps = self.script_frames as f64 / elapsed.max(1e-9);
        let ppp = self.ctx.pixels_per_point();
        let panels: Vec<serde_json::Value> = self.ui.panels[..self.ui.layout]
            .iter()
            .map(|p| {
                serde_json::json!({
                    "field": field_name(p.field),
                    "rect_px": p.rect_px.map(|v| v * ppp),
                    "range": [p.range.0, p.range.1],
                    "colormap": p.colormap,
                })
            })
            .collect();
        let (time_s, steps) = self
            .ui
            .snap
            .as_ref()
            .map_or((0.0, 0), |s| (s.time_s, s.steps));
        let report = serde_json::json!({
            "frames": self.script_frames,
            "steps": steps,
            "time_s": time_s,
            "first_frame_s": self.first_frame_s,
            "first_field_frame_s": self.first_field_frame_s,
            "frames_per_s": fps,
            "ui_cpu_ms_per_frame": 1e3 * self.cpu_s / self.timed_frames.max(1) as f64,
            "draw_ms_per_frame": 1e3 * self.draw_s / self.timed_frames.max(1) as f64,
            "grid": self.ui.geometry.as_ref().map(|g| [g.nx, g.ny]),
            "spacing_um": self.ui.geometry.as_ref().map(|g| g.h_um),
            "window_px": self.gfx.as_ref().map(|g| [g.config.width, g.config.height]),
            "panels": panels,
        });
        eprintln!(
            "dorsalhorn view: {} frames in {elapsed:.2} s ({fps:.1} frames/s), model time {:.2} h, {steps} steps",
            self.script_frames,
            time_s / 3600.0
        );
        if let Some(p) = shot {
            let json = p.with_extension("json");
            if let Err(e) = output::write_atomic(
                &json,
                serde_json::to_string_pretty(&report)
                    .unwrap_or_default()
                    .as_bytes(),
            ) {
                self.fatal = Some(e);
            }
        }
    }
}

pub(crate) const MIN_SPEED: f64 = 60.0;
pub(crate) const MAX_SPEED: f64 = 4.0 * 86400.0;

pub(crate) const HELP: &[(&str, &str)] = &[
    ("Space", "play / pause"),
    ("N, →", "one transport step"),
    ("+, −, ↑, ↓", "speed ×2 / ÷2"),
    ("1, 2, 4", "number of panels"),
    ("O", "lamina outlines on/off"),
    ("E", "start / stop an EA session"),
    ("R", "reset to t = 0"),
    ("S, F12", "screenshot (PNG)"),
    ("C", "export probes and pain index (CSV)"),
    ("click", "place or remove a probe"),
    (
        "PgDn, PgUp",
        "demo: next / previous step (also the arrow keys)",
    ),
    ("H, F1", "this help; Esc closes it"),
];

/// The error of a window that cannot open, with the headless command that does the same work.
pub(crate) fn no_display(opts: &ViewOptions, msg: &str) -> Error {
    let (window, headless) = match &opts.demo {
        Some((d, _)) => (
            format!("demo {}", opts.spec),
            format!("demo {} --record out/{}", opts.spec, d.name),
        ),
        None => (format!("view {}", opts.spec), format!("run {}", opts.spec)),
    };
    Error::NoDisplay {
        detail: no_display_detail(msg),
        window,
        headless,
    }
}

/// winit's message without its source location ("os error at FILE:LINE: …").
pub(crate) fn no_display_detail(msg: &str) -> String {
    let msg = match msg.split_once(": ") {
        Some((head, rest)) if head.contains(".rs:") => rest,
        _ => msg,
    };
    msg.trim_end_matches('.').to_string()
}

impl ApplicationHandler<()> for App {
    fn resumed(&mut self, el: &ActiveEventLoop) {
        if self.gfx.is_some() {
            return;
        }
        match self.create_gfx(el) {
            Ok(g) => {
                g.window.request_redraw();
                self.gfx = Some(g);
            }
            Err(e) => {
                self.fatal = Some(e);
                el.exit();
            }
        }
    }

    fn user_event(&mut self, _el: &ActiveEventLoop, _event: ()) {
        if let Some(g) = &self.gfx {
            g.window.request_redraw();
        }
    }

    fn window_event(&mut self, el: &ActiveEventLoop, _id: WindowId, event: WindowEvent) {
        if let Some(g) = self.gfx.as_mut() {
            let resp = g.egui_state.on_window_event(&g.window, &event);
            if resp.repaint {
                g.window.request_redraw();
            }
        }
        match event {
            WindowEvent::CloseRequested => el.exit(),
            WindowEvent::RedrawRequested => self.redraw(el),
            WindowEvent::Resized(_) => {
                if let Some(g) = &self.gfx {
                    g.window.request_redraw();
                }
            }
            _ => {}
        }
    }

    /// Frames are drawn when something changed: a message of the simulation (which wakes the
    /// loop), input, or egui's own repaint request; a scripted run draws continuously.
    fn about_to_wait(&mut self, el: &ActiveEventLoop) {
        let Some(g) = &self.gfx else {
            return;
        };
        if self.opts.script.is_some() {
            g.window.request_redraw();
            return;
        }
        match self.next_repaint {
            Some(t) if t <= Instant::now() => {
                self.next_repaint = None;
                g.window.request_redraw();
            }
            Some(t) => el.set_control_flow(ControlFlow::WaitUntil(t)),
            None => el.set_control_flow(ControlFlow::Wait),
        }
    }
}
