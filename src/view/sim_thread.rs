//! The window's simulation thread: it owns the [`Stepper`] and its own device, takes steps
//! when asked and sends snapshots (fields, probes, pain index) back.

use crate::error::Error;
use crate::gpu::Gpu;
use crate::run::stepper::Stepper;
use crate::scenario::dorsal_horn::TissueScenario;
use std::sync::mpsc::{Receiver, Sender, TryRecvError, channel};
use std::time::{Duration, Instant};
use winit::event_loop::EventLoopProxy;

/// An edit of the scenario, applied by the simulation thread to the scenario it is running (its
/// TOML) at its own current time (s): it returns the new TOML and the validated scenario, or a
/// message for the user.
pub(crate) type Edit =
    Box<dyn FnOnce(toml::Table, f64) -> Result<(toml::Table, TissueScenario), String> + Send>;

pub(crate) enum ToSim {
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
pub(crate) struct Geometry {
    pub(crate) nx: usize,
    pub(crate) ny: usize,
    pub(crate) h_um: f64,
    /// Dominant region of each cell (`Region as u8`, 0 outside).
    pub(crate) region: Vec<u8>,
    pub(crate) adapter: String,
}

pub(crate) struct Snapshot {
    pub(crate) time_s: f64,
    /// Steps since the start (or the last reset).
    pub(crate) steps: u64,
    /// Nothing left to do: the requested steps or time are reached (or the scenario ended).
    pub(crate) idle: bool,
    pub(crate) finished: bool,
    /// (field, values of every cell), for the watched fields.
    pub(crate) fields: Vec<(usize, Vec<f32>)>,
    /// (cell, every field there), for the watched probe cells.
    pub(crate) probes: Vec<(usize, Vec<f32>)>,
    pub(crate) p_mech: f64,
    pub(crate) p_heat: f64,
    /// Whether an EA session is running now.
    pub(crate) ea_on: bool,
}

pub(crate) enum FromSim {
    Progress(f64),
    Ready(Geometry),
    Snapshot(Box<Snapshot>),
    Edited(Result<toml::Table, String>),
    /// A fatal error of the simulation (it stops; Reset may recover).
    Failed(String),
}

struct SimThread {
    pub(crate) gpu: Gpu,
    pub(crate) stepper: Option<Stepper>,
    pub(crate) base_states: Vec<f32>,
    pub(crate) tx: Sender<FromSim>,
    pub(crate) wake: EventLoopProxy<()>,
    pub(crate) fields: Vec<usize>,
    pub(crate) probes: Vec<usize>,
    pub(crate) steps: u64,
    pub(crate) pending_steps: u64,
    pub(crate) until: Option<f64>,
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
        let input = st.model().protocol_input(&st.sc.protocol, sim.time_s()).0;
        let rates = sim.rates(gpu, &input)?;
        let (p_mech, p_heat, _) =
            crate::tissue::observe::pain_indices(gpu, sim, &st.sc, &st.naive)?;
        let fields = self
            .fields
            .iter()
            .map(|&f| {
                (
                    f,
                    crate::tissue::observe::field_values(sim, &states, Some(&rates), &input, f),
                )
            })
            .collect();
        let probes = self
            .probes
            .iter()
            .map(|&i| {
                (
                    i,
                    crate::tissue::observe::cell_values(sim, &states, &rates, &input, i),
                )
            })
            .collect();
        let t = sim.time_s();
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

    /// A request for model time that cannot be served (the scenario has ended) still gets an
    /// answer, an idle snapshot marked finished, so that a scripted window waiting for its
    /// steps (`--frames` × `--steps-per-frame` beyond the scenario's end) finishes instead of
    /// waiting forever.
    fn answer_if_nothing_to_do(&self) {
        if self.stepper.as_ref().is_some_and(|st| st.finished()) {
            self.send_snapshot();
        }
    }

    fn handle(&mut self, m: ToSim) {
        match m {
            ToSim::Steps(n) => {
                self.until = None;
                self.pending_steps += n;
                self.answer_if_nothing_to_do();
            }
            ToSim::Until(t) => {
                self.pending_steps = 0;
                self.until = Some(t);
                self.answer_if_nothing_to_do();
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
pub(crate) fn spawn_sim(
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
            let region = t.dominant_map();
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
