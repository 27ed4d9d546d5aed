//! `dorsalhorn view`: the live window on a dorsal-horn scenario.
//!
//! Two threads. The simulation thread opens its own GPU device, settles the baseline and owns a
//! [`Stepper`]; it takes the scenario's transport steps when asked. The window thread draws with
//! egui at the display's rate and asks each frame for more model time (speed × frame time), so
//! the window never waits on the simulation and the steps never depend on the frame rate: they
//! are exactly those of `dorsalhorn run`. Interventions from the panel (EA, drugs, a pain model,
//! boluses) are written into the scenario's TOML at the next whole minute of model time, and
//! "Save scenario" writes that TOML, which replays the viewing in batch.
//!
//! Field images are coloured by [`crate::colormap`] on the CPU, the same code and the same
//! pixels as the PNG frames of `dorsalhorn run`.

use crate::colormap::Colormap;
use crate::error::Error;
use crate::gpu::Gpu;
use crate::model::network::protocol::DRUG_CATALOGUE;
use crate::model::network::state::RATE_NAMES;
use crate::model::network::state::STATE_NAMES;
use crate::output;
use crate::run::stepper::Stepper;
use crate::scenario::dorsal_horn::TissueScenario;
use crate::tissue::observe::field_name;
use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender, TryRecvError, channel};
use std::time::{Duration, Instant};
use winit::application::ApplicationHandler;
use winit::event::WindowEvent;
use winit::event_loop::{ActiveEventLoop, ControlFlow, EventLoop, EventLoopProxy};
use winit::window::{Window, WindowId};

/// Number of fields (states then rates) a panel can show.
pub const FIELDS: usize = STATE_NAMES.len() + RATE_NAMES.len();

/// What a field means and its unit (MODEL.md §4.0), for panel titles and colorbars.
pub fn field_info(f: usize) -> (&'static str, &'static str) {
    match field_name(f) {
        "N" => ("NMDA / wind-up state", "fraction 0–1"),
        "pERK" => ("neuronal phospho-ERK", "fraction 0–1"),
        "S_C" => ("C-fibre synaptic weight (LTP/LTD)", "weight (naive 1)"),
        "SP" => ("substance P", "EC50 units"),
        "ENK" => ("enkephalin", "EC50 units"),
        "DYN" => ("dynorphin", "EC50 units"),
        "EM" => ("endomorphin", "EC50 units"),
        "E_seg" => ("slow EA gate, segmental", "fraction 0–1"),
        "E_sup" => ("slow EA gate, supraspinal", "fraction 0–1"),
        "C_csf_END" => ("β-endorphin in CSF", "EC50 units"),
        "Tol" => ("opioid tolerance", "fraction 0–1"),
        "TNF" => ("TNF-α", "EC50 units"),
        "IL1b" => ("IL-1β", "EC50 units"),
        "IL6" => ("IL-6", "EC50 units"),
        "IL10" => ("IL-10", "EC50 units"),
        "BDNF" => ("BDNF", "EC50 units"),
        "CatS" => ("cathepsin S", "EC50 units"),
        "sFKN" => ("soluble fractalkine", "EC50 units"),
        "CCL2" => ("CCL2", "EC50 units"),
        "CXCL1" => ("CXCL1", "EC50 units"),
        "CXCL12" => ("CXCL12", "EC50 units"),
        "mFKN" => ("membrane fractalkine pool", "sFKN-EC50 eq."),
        "M" => ("microglial activation", "fraction 0–1"),
        "rho_M" => ("microglial density", "relative (naive 1)"),
        "P_p38" => ("microglial p-p38", "fraction 0–1"),
        "X4" => ("microglial P2X4", "fraction 0–1"),
        "Y" => ("lagged microglial activation", "fraction 0–1"),
        "A" => ("astrocyte activation (GFAP)", "fraction 0–1"),
        "J" => ("astrocytic p-JNK", "fraction 0–1"),
        "Cx" => ("Cx43 hemichannel activity", "fraction 0–1"),
        "K" => ("KCC2 level", "fraction 0–1"),
        "COX" => ("COX-2 / PGE2 activity", "activity 0–2"),
        "G_EA" => ("EA glial memory", "memory ≥ 0"),
        "pERK_exc" => ("ERK-dependent excitability (pERK lagged)", "fraction 0–1"),
        "r_I" => ("inhibitory interneuron rate", "Hz"),
        "r_E" => ("excitatory interneuron rate", "Hz"),
        "r_P" => ("projection neuron rate (lamina I)", "Hz"),
        "r_W" => ("WDR neuron rate (lamina V)", "Hz"),
        "O_mudelta" => ("μ/δ opioid receptor occupancy", "occupancy 0–1"),
        "O_kappa" => ("κ opioid receptor occupancy", "occupancy 0–1"),
        _ => ("", ""),
    }
}

/// The index of a field by name (a state or a rate).
pub fn field_index(name: &str) -> Option<usize> {
    (0..FIELDS).find(|&f| field_name(f) == name)
}

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
}

// ---------------------------------------------------------------------------------------------
// The simulation thread.

/// An edit of the scenario, applied by the simulation thread to the scenario it is running (its
/// TOML) at its own current time (s): it returns the new TOML and the validated scenario, or a
/// message for the user.
type Edit =
    Box<dyn FnOnce(toml::Table, f64) -> Result<(toml::Table, TissueScenario), String> + Send>;

enum ToSim {
    /// Take this many more steps.
    Steps(u64),
    /// Step until the model time reaches this (s).
    Until(f64),
    /// Drop pending steps.
    Pause,
    /// Which fields to send and which cells to probe.
    Watch {
        fields: Vec<usize>,
        probes: Vec<usize>,
    },
    Edit(Edit),
    /// Back to t = 0 with this scenario (the baseline is kept).
    Reset(Box<TissueScenario>),
}

/// The grid facts the window needs, sent once.
struct Geometry {
    nx: usize,
    ny: usize,
    h_um: f64,
    /// Dominant region of each cell (`Region as u8`, 0 outside).
    region: Vec<u8>,
    adapter: String,
}

struct Snapshot {
    time_s: f64,
    /// Steps since the start (or the last reset).
    steps: u64,
    /// Nothing left to do: the requested steps or time are reached (or the scenario ended).
    idle: bool,
    finished: bool,
    /// (field, values of every cell), for the watched fields.
    fields: Vec<(usize, Vec<f32>)>,
    /// (cell, every field there), for the watched probe cells.
    probes: Vec<(usize, Vec<f32>)>,
    p_mech: f64,
    p_heat: f64,
    /// Whether an EA session is running now.
    ea_on: bool,
}

enum FromSim {
    Progress(f64),
    Ready(Geometry),
    Snapshot(Box<Snapshot>),
    Edited(Result<toml::Table, String>),
    /// A fatal error of the simulation (it stops; Reset may recover).
    Failed(String),
}

struct SimThread {
    gpu: Gpu,
    stepper: Option<Stepper>,
    base_states: Vec<f32>,
    tx: Sender<FromSim>,
    wake: EventLoopProxy<()>,
    fields: Vec<usize>,
    probes: Vec<usize>,
    steps: u64,
    pending_steps: u64,
    until: Option<f64>,
}

impl SimThread {
    fn send(&self, m: FromSim) {
        let _ = self.tx.send(m);
        let _ = self.wake.send_event(());
    }

    fn busy(&self) -> bool {
        let Some(st) = &self.stepper else {
            return false;
        };
        !st.finished()
            && (self.pending_steps > 0 || self.until.is_some_and(|u| st.time_s() < u - 1e-6))
    }

    fn snapshot(&self) -> Result<Snapshot, Error> {
        let st = self.stepper.as_ref().expect("snapshot of a live stepper");
        let gpu = &self.gpu;
        let sim = &st.sim;
        let states = sim.read_states(gpu)?;
        let input = st.model().protocol_input(&st.sc.protocol, sim.time_s).0;
        let rates = sim.rates(gpu, &input)?;
        let (p_mech, p_heat, _) =
            crate::tissue::observe::pain_indices(gpu, sim, &st.sc, &st.naive)?;
        let fields = self
            .fields
            .iter()
            .map(|&f| {
                (
                    f,
                    crate::tissue::observe::field_values(
                        sim,
                        &states,
                        Some(&rates),
                        input.naloxone_nm,
                        f,
                    ),
                )
            })
            .collect();
        let probes = self
            .probes
            .iter()
            .map(|&i| {
                (
                    i,
                    crate::tissue::observe::cell_values(sim, &states, &rates, input.naloxone_nm, i),
                )
            })
            .collect();
        let t = sim.time_s;
        Ok(Snapshot {
            time_s: t,
            steps: self.steps,
            idle: !self.busy(),
            finished: st.finished(),
            fields,
            probes,
            p_mech,
            p_heat,
            ea_on: st
                .sc
                .protocol
                .sessions
                .iter()
                .any(|s| t >= s.start_s - 1e-6 && t < s.start_s + s.duration_s - 1e-6),
        })
    }

    fn send_snapshot(&self) {
        match self.snapshot() {
            Ok(s) => self.send(FromSim::Snapshot(Box::new(s))),
            Err(e) => self.send(FromSim::Failed(error_chain(&e))),
        }
    }

    fn handle(&mut self, m: ToSim) {
        match m {
            ToSim::Steps(n) => {
                self.until = None;
                self.pending_steps += n;
            }
            ToSim::Until(t) => {
                self.pending_steps = 0;
                self.until = Some(t);
            }
            ToSim::Pause => {
                self.pending_steps = 0;
                self.until = None;
                self.send_snapshot();
            }
            ToSim::Watch { fields, probes } => {
                self.fields = fields;
                self.probes = probes;
                if !self.busy() && self.stepper.is_some() {
                    self.send_snapshot();
                }
            }
            ToSim::Edit(edit) => {
                let Some(st) = self.stepper.as_mut() else {
                    return;
                };
                match edit(st.sc.resolved_toml.clone(), st.time_s()) {
                    Ok((table, sc)) => {
                        st.set_scenario(&self.gpu, sc);
                        self.send(FromSim::Edited(Ok(table)));
                        if !self.busy() {
                            self.send_snapshot();
                        }
                    }
                    Err(msg) => self.send(FromSim::Edited(Err(msg))),
                }
            }
            ToSim::Reset(sc) => {
                self.pending_steps = 0;
                self.until = None;
                self.steps = 0;
                let Some(st) = self.stepper.take() else {
                    return;
                };
                let mut sim = st.into_sim();
                let rows: &[[f32; crate::gpu::reaction::STATE_STRIDE]] =
                    bytemuck::cast_slice(&self.base_states);
                sim.write_states(&self.gpu, rows);
                match Stepper::from_baseline(&self.gpu, *sc, sim) {
                    Ok(st) => {
                        self.stepper = Some(st);
                        self.send_snapshot();
                    }
                    Err(e) => self.send(FromSim::Failed(error_chain(&e))),
                }
            }
        }
    }

    fn run(mut self, rx: Receiver<ToSim>) {
        let mut last_sent = Instant::now();
        loop {
            let msg = if self.busy() {
                match rx.try_recv() {
                    Ok(m) => Some(m),
                    Err(TryRecvError::Empty) => None,
                    Err(TryRecvError::Disconnected) => return,
                }
            } else {
                match rx.recv() {
                    Ok(m) => Some(m),
                    Err(_) => return,
                }
            };
            if let Some(m) = msg {
                self.handle(m);
                continue;
            }
            let st = self.stepper.as_mut().expect("busy implies a stepper");
            if let Err(e) = st.step(&self.gpu) {
                self.pending_steps = 0;
                self.until = None;
                self.send(FromSim::Failed(error_chain(&e)));
                self.stepper = None;
                continue;
            }
            self.steps += 1;
            self.pending_steps = self.pending_steps.saturating_sub(1);
            if !self.busy() || last_sent.elapsed() > Duration::from_millis(50) {
                self.send_snapshot();
                last_sent = Instant::now();
            }
        }
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(c) = source {
        s.push_str(&format!("\n  caused by: {c}"));
        source = c.source();
    }
    s
}

/// Starts the simulation thread: its command channel, its message channel, and a channel that
/// closes when the thread has ended (its device released).
fn spawn_sim(
    sc: TissueScenario,
    wake: EventLoopProxy<()>,
) -> (Sender<ToSim>, Receiver<FromSim>, Receiver<()>) {
    let (to_tx, to_rx) = channel();
    let (from_tx, from_rx) = channel();
    let (done_tx, done_rx) = channel::<()>();
    std::thread::Builder::new()
        .name("simulation".into())
        .spawn(move || {
            let _done = done_tx;
            let send = |m: FromSim| {
                let _ = from_tx.send(m);
                let _ = wake.send_event(());
            };
            let gpu = match Gpu::new() {
                Ok(g) => g,
                Err(e) => return send(FromSim::Failed(error_chain(&e))),
            };
            let mut last = Instant::now();
            let cache = crate::tissue::baseline::BaselineCache::from_env();
            // Settling stops when the window has gone (the progress message cannot be sent).
            let baseline =
                crate::tissue::baseline::cached_baseline(&gpu, &sc, cache.as_ref(), &mut |f| {
                    if last.elapsed() > Duration::from_millis(100) || f >= 1.0 {
                        last = Instant::now();
                        let _ = wake.send_event(());
                        return from_tx.send(FromSim::Progress(f)).is_ok();
                    }
                    true
                });
            let stepper = baseline.and_then(|(sim, _)| Stepper::from_baseline(&gpu, sc, sim));
            let stepper = match stepper {
                Ok(s) => s,
                Err(e) => return send(FromSim::Failed(error_chain(&e))),
            };
            let base_states = match stepper.sim.read_states(&gpu) {
                Ok(s) => s,
                Err(e) => return send(FromSim::Failed(error_chain(&e))),
            };
            let t = &stepper.sim.layout.tissue;
            let region = t
                .weights
                .iter()
                .map(|w| {
                    (0..w.len())
                        .max_by(|&a, &b| w[a].total_cmp(&w[b]))
                        .unwrap_or(0) as u8
                })
                .collect();
            send(FromSim::Ready(Geometry {
                nx: t.nx,
                ny: t.ny,
                h_um: t.h,
                region,
                adapter: format!("{} ({:?})", gpu.info.name, gpu.info.backend),
            }));
            let sim = SimThread {
                gpu,
                stepper: Some(stepper),
                base_states,
                tx: from_tx.clone(),
                wake: wake.clone(),
                fields: Vec::new(),
                probes: Vec::new(),
                steps: 0,
                pending_steps: 0,
                until: None,
            };
            sim.send_snapshot();
            sim.run(to_rx);
        })
        .expect("spawn the simulation thread");
    (to_tx, from_rx, done_rx)
}

// ---------------------------------------------------------------------------------------------
// The window.

struct Gfx {
    window: Arc<Window>,
    surface: wgpu::Surface<'static>,
    device: wgpu::Device,
    queue: wgpu::Queue,
    config: wgpu::SurfaceConfiguration,
    egui_state: egui_winit::State,
    renderer: egui_wgpu::Renderer,
}

struct Panel {
    field: usize,
    colormap: Colormap,
    auto: bool,
    range: (f32, f32),
    texture: Option<egui::TextureHandle>,
    /// The values shown (for hover read-out and ranges).
    values: Vec<f32>,
    /// Pixel rectangle of the image in the last frame (physical pixels).
    rect_px: [f32; 4],
}

struct Probe {
    cell: usize,
    colour: egui::Color32,
    /// (time h, every field).
    history: Vec<(f64, Vec<f32>)>,
}

const PROBE_COLOURS: [egui::Color32; 6] = [
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

struct UiState {
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
    outline_segments: Vec<[egui::Pos2; 2]>,
    region_labels: Vec<(egui::Pos2, &'static str)>,
    watch_dirty: bool,
}

struct App {
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
    let event_loop = EventLoop::new().map_err(|e| Error::NoDisplay {
        detail: no_display_detail(&e.to_string()),
        scenario: opts.spec.clone(),
    })?;
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
            outline_segments: Vec::new(),
            region_labels: Vec::new(),
            watch_dirty: true,
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
    fn create_gfx(&mut self, el: &ActiveEventLoop) -> Result<Gfx, Error> {
        let title = format!("dorsalhorn view — {}", self.opts.scenario.name);
        let attrs = Window::default_attributes()
            .with_title(title)
            .with_inner_size(winit::dpi::PhysicalSize::new(
                self.opts.size[0],
                self.opts.size[1],
            ));
        let window = Arc::new(el.create_window(attrs).map_err(|e| Error::NoDisplay {
            detail: no_display_detail(&e.to_string()),
            scenario: self.opts.spec.clone(),
        })?);
        let instance =
            wgpu::Instance::new(wgpu::InstanceDescriptor::new_with_display_handle_from_env(
                Box::new(el.owned_display_handle()),
            ));
        let surface = instance
            .create_surface(window.clone())
            .map_err(|e| Error::Output(format!("cannot draw into the window: {e}")))?;
        let adapter =
            pollster::block_on(
                instance.request_adapter(&wgpu::RequestAdapterOptions {
                    power_preference: wgpu::PowerPreference::from_env()
                        .unwrap_or(wgpu::PowerPreference::HighPerformance),
                    force_fallback_adapter: false,
                    compatible_surface: Some(&surface),
                    apply_limit_buckets: false,
                }),
            )
            .map_err(|e| crate::error::GpuError::NoAdapter {
                detail: format!("no adapter can draw into the window: {e}"),
            })?;
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("dorsalhorn view"),
            required_features: wgpu::Features::empty(),
            required_limits: wgpu::Limits::downlevel_defaults().using_resolution(adapter.limits()),
            experimental_features: wgpu::ExperimentalFeatures::disabled(),
            memory_hints: wgpu::MemoryHints::Performance,
            trace: wgpu::Trace::Off,
        }))
        .map_err(|e| crate::error::GpuError::Device {
            adapter: adapter.get_info().name,
            detail: e.to_string(),
        })?;
        let size = window.inner_size();
        let mut config = surface
            .get_default_config(&adapter, size.width.max(1), size.height.max(1))
            .ok_or_else(|| Error::Output("the adapter cannot present to this window".into()))?;
        // egui blends in gamma space and wants a non-sRGB target; the field colours are sRGB
        // bytes, so they reach the screen unchanged, as in the PNG writer.
        let caps = surface.get_capabilities(&adapter);
        if let Some(f) = caps.formats.iter().find(|f| !f.is_srgb()) {
            config.format = *f;
        }
        config.usage = wgpu::TextureUsages::RENDER_ATTACHMENT;
        config.present_mode = wgpu::PresentMode::AutoVsync;
        surface.configure(&device, &config);
        let egui_state = egui_winit::State::new(
            self.ctx.clone(),
            egui::ViewportId::ROOT,
            &window,
            Some(window.scale_factor() as f32),
            None,
            Some(device.limits().max_texture_dimension_2d as usize),
        );
        let renderer = egui_wgpu::Renderer::new(
            &device,
            config.format,
            egui_wgpu::RendererOptions::PREDICTABLE,
        );
        Ok(Gfx {
            window,
            surface,
            device,
            queue,
            config,
            egui_state,
            renderer,
        })
    }

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
                prepare_overlays(ui, &g);
                ui.geometry = Some(g);
                ui.watch_dirty = true;
            }
            FromSim::Snapshot(s) => {
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
        if ui.playing && ui.sim_error.is_none() {
            // Model time asked for runs at most half a second of wall time ahead of the
            // simulation, so pausing stops promptly on a slow device.
            let ahead = snap.time_s + 0.5 * ui.speed;
            ui.target_s = (ui.target_s.max(snap.time_s) + ui.speed * frame_dt).min(ahead);
            let _ = self.to_sim.send(ToSim::Until(ui.target_s));
        }
    }

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

    fn redraw(&mut self, el: &ActiveEventLoop) {
        self.drain_sim();
        let now = Instant::now();
        let frame_dt = self
            .ui
            .frame_times
            .back()
            .map_or(0.0, |t| now.duration_since(*t).as_secs_f64())
            .min(0.25);
        self.ui.frame_times.push_back(now);
        while self.ui.frame_times.len() > 60 {
            self.ui.frame_times.pop_front();
        }
        // Scripted mode: each frame takes exactly `steps_per_frame` steps, waited for.
        if let Some(script) = self.opts.script.clone() {
            if self.ui.snap.is_some() && self.ui.geometry.is_some() {
                if self.script_started.is_none() {
                    self.script_started = Some(Instant::now());
                }
                if self.script_frames < script.frames && script.steps_per_frame > 0 {
                    let _ = self.to_sim.send(ToSim::Steps(script.steps_per_frame));
                    self.wait_steps((self.script_frames + 1) * script.steps_per_frame);
                }
                self.script_frames += 1;
            } else if self.ui.sim_error.is_none() {
                // Wait for the baseline without spinning.
                if let Ok(m) = self.from_sim.recv_timeout(Duration::from_millis(20)) {
                    self.on_sim(m);
                }
            }
        }
        self.drive(frame_dt);
        let Some(mut gfx) = self.gfx.take() else {
            return;
        };
        let t_ui = Instant::now();
        let raw = gfx.egui_state.take_egui_input(&gfx.window);
        let ctx = self.ctx.clone();
        let full = ctx.run_ui(raw, |ui| self.build_ui(ui));
        gfx.egui_state
            .handle_platform_output(&gfx.window, full.platform_output);
        let ppp = full.pixels_per_point;
        self.next_repaint = full
            .viewport_output
            .get(&egui::ViewportId::ROOT)
            .map(|v| v.repaint_delay)
            .filter(|d| *d < Duration::from_secs(3600))
            .map(|d| Instant::now() + d);
        let jobs = ctx.tessellate(full.shapes, ppp);
        let shot = self.ui.screenshot.take().or_else(|| {
            let s = self.opts.script.as_ref()?;
            (self.script_frames >= s.frames && self.ui.geometry.is_some())
                .then(|| s.screenshot.clone())
                .flatten()
        });
        let t_draw = Instant::now();
        let result = render(&mut gfx, &jobs, &full.textures_delta, ppp, shot.as_deref());
        if self.script_started.is_some() && shot.is_none() {
            self.cpu_s += (t_draw - t_ui).as_secs_f64();
            self.draw_s += t_draw.elapsed().as_secs_f64();
            self.timed_frames += 1;
        }
        if let Err(e) = result {
            self.ui.status = e.to_string();
            if self.opts.script.is_some() {
                self.fatal = Some(e);
                el.exit();
            }
        } else if let Some(p) = &shot {
            self.ui.status = format!("screenshot {}", p.display());
        }
        self.frames += 1;
        if self.first_frame_s.is_none() {
            let t = self.start.elapsed().as_secs_f64();
            self.first_frame_s = Some(t);
            eprintln!("dorsalhorn view: first frame after {t:.2} s");
        }
        if self.first_field_frame_s.is_none() && self.ui.panels[0].values.len() > 1 {
            let t = self.start.elapsed().as_secs_f64();
            self.first_field_frame_s = Some(t);
            eprintln!("dorsalhorn view: first frame with fields after {t:.2} s");
        }
        self.gfx = Some(gfx);
        if let Some(s) = &self.opts.script
            && self.ui.geometry.is_some()
            && self.script_frames >= s.frames
        {
            self.finish_script(shot.as_deref());
            el.exit();
        }
        if let Some(msg) = &self.ui.sim_error
            && self.opts.script.is_some()
        {
            self.fatal = Some(Error::Output(format!("the simulation failed: {msg}")));
            el.exit();
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

    fn shortcuts(&mut self, ctx: &egui::Context) {
        if ctx.egui_wants_keyboard_input() {
            return;
        }
        use egui::Key;
        let pressed = |k: Key| ctx.input(|i| i.key_pressed(k));
        if pressed(Key::Space) {
            self.toggle_play();
        }
        if pressed(Key::N) || pressed(Key::ArrowRight) {
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

    fn toggle_play(&mut self) {
        self.ui.playing = !self.ui.playing;
        if !self.ui.playing {
            let _ = self.to_sim.send(ToSim::Pause);
        } else if let Some(s) = &self.ui.snap {
            self.ui.target_s = s.time_s;
        }
    }

    fn single_step(&mut self) {
        if self.ui.playing {
            self.toggle_play();
        }
        let _ = self.to_sim.send(ToSim::Steps(1));
    }

    fn request_screenshot(&mut self) {
        let t = self.ui.snap.as_ref().map_or(0.0, |s| s.time_s);
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis());
        self.ui.screenshot = Some(self.opts.out_dir.join(format!(
            "screenshot_t{:06}min_{stamp}.png",
            (t / 60.0).round() as u64
        )));
    }

    fn build_ui(&mut self, root: &mut egui::Ui) {
        let ctx = root.ctx().clone();
        self.shortcuts(&ctx);
        ensure_gradients(&mut self.ui, &ctx);
        // Panels are not filled: the frame is cleared to the panel colour instead, which saves
        // a full-window blended layer (a third of the frame time on lavapipe).
        ctx.all_styles_mut(|s| s.visuals.panel_fill = egui::Color32::TRANSPARENT);
        egui::Panel::top("top").show(root, |ui| self.top_bar(ui));
        egui::Panel::left("controls")
            .resizable(true)
            .default_size(300.0)
            .show(root, |ui| {
                egui::ScrollArea::vertical().show(ui, |ui| self.controls(ui));
            });
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

    fn fields(&mut self, ui: &mut egui::Ui) {
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
    #[allow(clippy::too_many_arguments)]
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

/// The dark theme's panel colour (27, 27, 27 in sRGB; the target is not sRGB-encoded).
const CLEAR: wgpu::Color = wgpu::Color {
    r: 27.0 / 255.0,
    g: 27.0 / 255.0,
    b: 27.0 / 255.0,
    a: 1.0,
};

const MIN_SPEED: f64 = 60.0;
const MAX_SPEED: f64 = 4.0 * 86400.0;

const HELP: &[(&str, &str)] = &[
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
    ("H, F1", "this help; Esc closes it"),
];

/// winit's message without its source location ("os error at FILE:LINE: …").
fn no_display_detail(msg: &str) -> String {
    let msg = match msg.split_once(": ") {
        Some((head, rest)) if head.contains(".rs:") => rest,
        _ => msg,
    };
    msg.trim_end_matches('.').to_string()
}

/// Adds an EA session at ST36 + SP6 starting at the next whole minute after `now` (s).
fn add_ea(t: &mut toml::Table, now: f64, mode: &str, freq: f64, ma: f64, minutes: f64) {
    let at = next_minute(now);
    let day = (at / 86400.0).floor();
    let mut e = toml::Table::new();
    e.insert(
        "points".into(),
        toml::Value::Array(vec!["ST36".into(), "SP6".into()]),
    );
    e.insert("mode".into(), mode.into());
    if mode != "manual" {
        e.insert("frequency_hz".into(), freq.into());
    }
    e.insert("intensity_ma".into(), ma.into());
    e.insert("duration_min".into(), minutes.round().max(1.0).into());
    e.insert("days".into(), toml::Value::Array(vec![day.into()]));
    e.insert("start_h".into(), ((at - day * 86400.0) / 3600.0).into());
    push_array(t, "ea", e);
}

/// Ends session `index` of the `ea` array at its first whole minute after `now` (s), or
/// removes it if it has not begun.
fn stop_ea(t: &mut toml::Table, index: usize, now: f64) -> Result<(), String> {
    let sessions = t
        .get_mut("ea")
        .and_then(|v| v.as_array_mut())
        .ok_or("the session is no longer in the scenario")?;
    let e = sessions
        .get_mut(index)
        .and_then(|v| v.as_table_mut())
        .ok_or("the session is no longer in the scenario")?;
    // TOML numbers may be written as integers (days = [1]) or floats.
    let number = |v: &toml::Value| v.as_float().or_else(|| v.as_integer().map(|i| i as f64));
    let num = |k: &str| e.get(k).and_then(number);
    let day = e
        .get("days")
        .and_then(|d| d.as_array())
        .and_then(|d| d.first())
        .and_then(number)
        .unwrap_or(0.0);
    let start = day * 86400.0 + num("start_h").unwrap_or(0.0) * 3600.0;
    let planned = num("duration_min").unwrap_or(30.0);
    if now < start {
        // Not begun yet: cancel it.
        sessions.remove(index);
        return Ok(());
    }
    // End at the first whole minute of the session after now.
    let minutes = ((now - start) / 60.0).floor() + 1.0;
    if minutes < planned {
        e.insert("duration_min".into(), minutes.into());
    }
    Ok(())
}

fn push_array(t: &mut toml::Table, key: &str, item: toml::Table) {
    let entry = t
        .entry(key.to_string())
        .or_insert_with(|| toml::Value::Array(Vec::new()));
    if let Some(a) = entry.as_array_mut() {
        a.push(toml::Value::Table(item));
    }
}

/// The first whole minute of model time strictly after `now` (s): interventions start there,
/// so they lie ahead of the simulation and at a time a scenario file can state.
fn next_minute(now: f64) -> f64 {
    ((now + 1.0) / 60.0).floor() * 60.0 + 60.0
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

fn format_duration(s: f64) -> String {
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

fn ensure_gradients(ui: &mut UiState, ctx: &egui::Context) {
    if !ui.gradients.is_empty() {
        return;
    }
    for name in Colormap::NAMES {
        let c = Colormap::from_name(name).expect("listed name");
        let rgb: Vec<u8> = (0..256)
            .rev()
            .flat_map(|i| c.at(i as f32 / 255.0))
            .collect();
        let img = egui::ColorImage::from_rgb([1, 256], &rgb);
        ui.gradients.push((
            c,
            ctx.load_texture(
                format!("gradient_{name}"),
                img,
                egui::TextureOptions::LINEAR,
            ),
        ));
    }
}

/// Lamina outlines (edges between cells of different dominant regions, in cell units) and
/// label positions (the cell of each region nearest its centroid).
fn prepare_overlays(ui: &mut UiState, g: &Geometry) {
    let (nx, ny) = (g.nx, g.ny);
    let mut segs = Vec::new();
    for y in 0..ny {
        for x in 0..nx {
            let a = g.region[y * nx + x];
            if x + 1 < nx && g.region[y * nx + x + 1] != a {
                let xx = (x + 1) as f32;
                segs.push([egui::pos2(xx, y as f32), egui::pos2(xx, (y + 1) as f32)]);
            }
            if y + 1 < ny && g.region[(y + 1) * nx + x] != a {
                let yy = (y + 1) as f32;
                segs.push([egui::pos2(x as f32, yy), egui::pos2((x + 1) as f32, yy)]);
            }
        }
    }
    ui.outline_segments = segs;
    let mut labels = Vec::new();
    for r in crate::model::anatomy::Region::ALL.iter().skip(1) {
        let cells: Vec<usize> = (0..nx * ny).filter(|&i| g.region[i] == *r as u8).collect();
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
                let d = |i: usize| ((i % nx) as f64 - cx).powi(2) + ((i / nx) as f64 - cy).powi(2);
                d(a).total_cmp(&d(b))
            })
            .copied()
            .unwrap_or(0);
        labels.push((
            egui::pos2((best % nx) as f32 + 0.5, (best / nx) as f32 + 0.5),
            r.label(),
        ));
    }
    ui.region_labels = labels;
}

fn render(
    gfx: &mut Gfx,
    jobs: &[egui::ClippedPrimitive],
    delta: &egui::TexturesDelta,
    ppp: f32,
    screenshot: Option<&Path>,
) -> Result<(), Error> {
    let size = gfx.window.inner_size();
    if size.width == 0 || size.height == 0 {
        return Ok(());
    }
    if size.width != gfx.config.width || size.height != gfx.config.height {
        gfx.config.width = size.width;
        gfx.config.height = size.height;
        gfx.surface.configure(&gfx.device, &gfx.config);
    }
    let screen = egui_wgpu::ScreenDescriptor {
        size_in_pixels: [gfx.config.width, gfx.config.height],
        pixels_per_point: ppp,
    };
    for (id, deltas) in &delta.set {
        for d in deltas {
            gfx.renderer.update_texture(&gfx.device, &gfx.queue, *id, d);
        }
    }
    let mut enc = gfx
        .device
        .create_command_encoder(&wgpu::CommandEncoderDescriptor {
            label: Some("egui"),
        });
    let extra = gfx
        .renderer
        .update_buffers(&gfx.device, &gfx.queue, &mut enc, jobs, &screen);
    let frame = match gfx.surface.get_current_texture() {
        wgpu::CurrentSurfaceTexture::Success(f) | wgpu::CurrentSurfaceTexture::Suboptimal(f) => {
            Some(f)
        }
        wgpu::CurrentSurfaceTexture::Outdated | wgpu::CurrentSurfaceTexture::Lost => {
            gfx.surface.configure(&gfx.device, &gfx.config);
            None
        }
        _ => None,
    };
    let draw =
        |enc: &mut wgpu::CommandEncoder, view: &wgpu::TextureView, r: &egui_wgpu::Renderer| {
            let mut pass = enc
                .begin_render_pass(&wgpu::RenderPassDescriptor {
                    label: Some("egui"),
                    color_attachments: &[Some(wgpu::RenderPassColorAttachment {
                        view,
                        depth_slice: None,
                        resolve_target: None,
                        ops: wgpu::Operations {
                            load: wgpu::LoadOp::Clear(CLEAR),
                            store: wgpu::StoreOp::Store,
                        },
                    })],
                    depth_stencil_attachment: None,
                    timestamp_writes: None,
                    occlusion_query_set: None,
                    multiview_mask: None,
                })
                .forget_lifetime();
            r.render(&mut pass, jobs, &screen);
        };
    if let Some(f) = &frame {
        let view = f
            .texture
            .create_view(&wgpu::TextureViewDescriptor::default());
        draw(&mut enc, &view, &gfx.renderer);
    }
    // A screenshot draws the same paint jobs into an offscreen texture of the surface's format.
    let (w, h) = (gfx.config.width, gfx.config.height);
    let padded = (4 * w).div_ceil(256) * 256;
    let readback = screenshot.map(|_| {
        let tex = gfx.device.create_texture(&wgpu::TextureDescriptor {
            label: Some("screenshot"),
            size: wgpu::Extent3d {
                width: w,
                height: h,
                depth_or_array_layers: 1,
            },
            mip_level_count: 1,
            sample_count: 1,
            dimension: wgpu::TextureDimension::D2,
            format: gfx.config.format,
            usage: wgpu::TextureUsages::RENDER_ATTACHMENT | wgpu::TextureUsages::COPY_SRC,
            view_formats: &[],
        });
        let view = tex.create_view(&wgpu::TextureViewDescriptor::default());
        draw(&mut enc, &view, &gfx.renderer);
        let buf = gfx.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("screenshot"),
            size: padded as u64 * h as u64,
            usage: wgpu::BufferUsages::COPY_DST | wgpu::BufferUsages::MAP_READ,
            mapped_at_creation: false,
        });
        enc.copy_texture_to_buffer(
            tex.as_image_copy(),
            wgpu::TexelCopyBufferInfo {
                buffer: &buf,
                layout: wgpu::TexelCopyBufferLayout {
                    offset: 0,
                    bytes_per_row: Some(padded),
                    rows_per_image: Some(h),
                },
            },
            wgpu::Extent3d {
                width: w,
                height: h,
                depth_or_array_layers: 1,
            },
        );
        buf
    });
    gfx.queue
        .submit(extra.into_iter().chain(std::iter::once(enc.finish())));
    if let Some(f) = frame {
        gfx.window.pre_present_notify();
        gfx.queue.present(f);
    }
    for id in &delta.free {
        gfx.renderer.free_texture(id);
    }
    if let (Some(path), Some(buf)) = (screenshot, readback) {
        let slice = buf.slice(..);
        slice.map_async(wgpu::MapMode::Read, |_| {});
        gfx.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| Error::Output(format!("screenshot readback failed: {e}")))?;
        let data = slice
            .get_mapped_range()
            .map_err(|e| Error::Output(format!("screenshot readback failed: {e}")))?;
        let bgra = matches!(
            gfx.config.format,
            wgpu::TextureFormat::Bgra8Unorm | wgpu::TextureFormat::Bgra8UnormSrgb
        );
        let mut rgb = Vec::with_capacity((w * h * 3) as usize);
        for row in 0..h as usize {
            let line = &data[row * padded as usize..][..4 * w as usize];
            for px in line.chunks_exact(4) {
                if bgra {
                    rgb.extend([px[2], px[1], px[0]]);
                } else {
                    rgb.extend([px[0], px[1], px[2]]);
                }
            }
        }
        output::write_atomic(path, &output::png_bytes(&rgb, w as usize, h as usize))?;
    }
    Ok(())
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
    fn interventions_start_at_the_next_whole_minute() {
        assert_eq!(next_minute(0.0), 60.0);
        assert_eq!(next_minute(600.0), 660.0);
        assert_eq!(next_minute(659.5), 720.0);
        assert!(next_minute(12345.6) > 12345.6);
    }

    #[test]
    fn a_session_started_then_stopped_in_the_window_is_a_valid_scenario_entry() {
        let (origin, text) = crate::scenario::read_spec("cfa_sham").unwrap();
        let base: toml::Table = toml::from_str(&text).unwrap();
        let n0 = base
            .get("ea")
            .and_then(|v| v.as_array())
            .map_or(0, |a| a.len());
        let sessions =
            |t: &toml::Table| crate::scenario::dorsal_horn::from_table(&origin, t.clone()).unwrap();
        // Started at t = 50 min 30 s: it begins at 51 min; stopped at 58 min 20 s it ends at 59.
        let mut t = base.clone();
        add_ea(&mut t, 3030.0, "single", 2.0, 1.0, 30.0);
        let s = sessions(&t).protocol.sessions;
        let new = s
            .iter()
            .find(|s| (s.start_s - 3060.0).abs() < 1e-6)
            .unwrap();
        assert_eq!(new.duration_s, 1800.0);
        stop_ea(&mut t, n0, 3500.0).unwrap();
        let s = sessions(&t).protocol.sessions;
        let new = s
            .iter()
            .find(|s| (s.start_s - 3060.0).abs() < 1e-6)
            .unwrap();
        assert_eq!(new.duration_s, 480.0);
        assert!(new.start_s + new.duration_s > 3500.0, "it ends after now");
        // Stopped before it began: removed.
        let mut t = base.clone();
        add_ea(&mut t, 3030.0, "single", 2.0, 1.0, 30.0);
        stop_ea(&mut t, n0, 3040.0).unwrap();
        assert_eq!(
            sessions(&t).protocol.sessions.len(),
            sessions(&base).protocol.sessions.len()
        );
        // A session a day later is stated with its day.
        let mut t = base.clone();
        add_ea(&mut t, 86400.0 + 600.0, "alternating", 2.0, 1.0, 20.0);
        let s = sessions(&t).protocol.sessions;
        assert!(s.iter().any(|s| (s.start_s - 87060.0).abs() < 1e-6));
    }

    #[test]
    fn model_time_reads_as_day_and_clock() {
        assert_eq!(
            format_time(86400.0 + 10.5 * 3600.0),
            "day 1, 10:30  (t = 34.50 h)"
        );
    }

    #[test]
    fn every_field_has_a_meaning_and_a_unit() {
        for f in 0..FIELDS {
            let (m, u) = field_info(f);
            assert!(!m.is_empty() && !u.is_empty(), "{}", field_name(f));
            assert_eq!(field_index(field_name(f)), Some(f));
        }
    }
}
