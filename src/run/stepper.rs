//! The dorsal-horn time loop shared by `run`, `view` and `validate` (layer 4): where it must stop
//! (outputs, sessions, doses), the step sizes between, the read-outs at output times.

use crate::error::Error;
use crate::gpu::Gpu;
use crate::model::network::Model;
use crate::model::network::pk::DoseSchedule;
use crate::model::network::protocol::{EaMode, PainModel};
use crate::run::ensemble::{Plan, Seat};
use crate::scenario::descending::drives_at;
use crate::scenario::dorsal_horn::TissueScenario;
use crate::tissue::baseline::baseline_with_progress;
use crate::tissue::observe::{Observation, Readout, check_states, observe};
use crate::tissue::spatial::{SpatialQuantity, measure};
use crate::tissue::{ProbeResponse, SimState, TissueSim};
use std::time::Instant;

/// The time loop of a dorsal-horn scenario, one transport step at a time. [`run`](crate::run::dorsal_horn::run) drives it to
/// the end; `dorsalhorn view` drives it a few steps per frame and may add events (EA sessions,
/// doses, a pain model) at a future time with [`Stepper::set_scenario`]. The steps depend only
/// on the scenario, never on how they are grouped, so a viewing replays exactly in batch from
/// the scenario the view exports.
pub struct Stepper {
    pub sc: TissueScenario,
    pub sim: TissueSim,
    /// The probe response of the naive baseline (the denominator of the pain indices).
    pub naive: ProbeResponse,
    /// The model with the scenario's constant drugs and lesions (doses are applied per step).
    model: Model,
    /// The scenario's doses with their kinetics (§11.3), effect compartments tabulated.
    doses: DoseSchedule,
    /// Times the loop stops at (outputs, protocol boundaries), ascending, all after `time_s`.
    cuts: Vec<f64>,
    /// Read-out times besides the output interval (session samples, demo steps).
    extra_readouts: Vec<f64>,
    next_output: f64,
    /// Read-outs at t = 0 and at every output time reached so far.
    pub readouts: Vec<Readout>,
    /// Wall time spent taking read-outs (s).
    pub readout_s: f64,
    /// The observation at t = 0, until [`Stepper::take_first`] takes it.
    first: Option<Observation>,
    /// Spatial read-outs added to every read-out ([`Stepper::read_spatial`]).
    spatial: Vec<SpatialQuantity>,
    /// The member's place when it steps in an ensemble ([`Stepper::sit`]): `sim` then only reads
    /// out, probes and checkpoints, with the member's cells copied into it.
    seat: Option<Seat>,
}

/// What [`Stepper::save`] keeps: the tissue ([`SimState`]), the next regular output time, the
/// read-outs so far and the wall time they took. The cuts are recomputed from the clock.
#[derive(Debug, Clone)]
pub struct StepperState {
    pub sim: SimState,
    pub next_output: f64,
    pub readouts: Vec<Readout>,
    pub readout_s: f64,
}

/// The times a run must stop at after `after`: outputs, EA session starts and ends, boluses,
/// doses, the pain onset and a demo's step times.
fn cuts_after(sc: &TissueScenario, after: f64) -> Vec<f64> {
    let mut cuts: Vec<f64> = Vec::new();
    let mut t = 0.0;
    while t < sc.duration_s - 1e-6 {
        t = (t + sc.output_every_s).min(sc.duration_s);
        cuts.push(t);
    }
    let p = &sc.protocol;
    cuts.extend(
        p.sessions
            .iter()
            .flat_map(|s| [s.start_s, s.start_s + s.duration_s]),
    );
    cuts.extend(p.naloxone_s.iter().chain(p.nmda_block_s.iter()).copied());
    cuts.extend(
        sc.doses
            .iter()
            .flat_map(|d| [d.start_s, d.start_s + d.duration_s]),
    );
    cuts.extend(
        sc.stimulations
            .iter()
            .flat_map(|s| [s.start_s, s.start_s + s.duration_s]),
    );
    if p.pain.is_some() {
        cuts.push(p.pain_onset_s);
    }
    cuts.extend(extra_readouts(sc));
    cuts.retain(|&c| c > after + 1e-6 && c <= sc.duration_s + 1e-6);
    cuts.sort_by(f64::total_cmp);
    cuts.dedup_by(|a, b| (*a - *b).abs() < 1e-6);
    cuts
}

/// The read-outs besides the output interval: inside EA sessions (`output.session_every_min`:
/// each session's start, every interval after it, and its end; with the default 5 min and 60-s
/// session steps they fall on step boundaries, so they add read-outs without changing the
/// steps) and at a demo's step times.
fn extra_readouts(sc: &TissueScenario) -> Vec<f64> {
    let mut out = sc.stops_s.clone();
    if sc.session_every_s <= 0.0 {
        return out;
    }
    for s in &sc.protocol.sessions {
        let end = s.start_s + s.duration_s;
        let mut t = s.start_s;
        while t < end - 1e-6 {
            out.push(t);
            t += sc.session_every_s;
        }
        out.push(end);
    }
    out
}

impl Stepper {
    /// Settles the baseline of `sc` (reporting the settled fraction) and takes the first
    /// read-out.
    pub fn new(
        gpu: &Gpu,
        sc: TissueScenario,
        progress: &mut dyn FnMut(f64) -> bool,
    ) -> Result<Stepper, Error> {
        let sim = baseline_with_progress(gpu, &sc, progress)?;
        Stepper::from_baseline(gpu, sc, sim)
    }

    /// Starts from a settled baseline (`sim` at t = 0, e.g. restored with
    /// [`TissueSim::write_states`] for a reset).
    pub fn from_baseline(
        gpu: &Gpu,
        sc: TissueScenario,
        mut sim: TissueSim,
    ) -> Result<Stepper, Error> {
        sim.forget_history();
        sim.reset_clock();
        let naive = sim.probe(gpu, &sim.model.baseline_input(), 1.0)?;
        let mut st = Stepper {
            model: sim.model.clone(),
            doses: DoseSchedule::new(&[], &sim.model.kin, 0.0),
            cuts: Vec::new(),
            extra_readouts: Vec::new(),
            next_output: sc.output_every_s,
            readouts: Vec::new(),
            readout_s: 0.0,
            first: None,
            spatial: Vec::new(),
            seat: None,
            sc,
            sim,
            naive,
        };
        st.apply_scenario(gpu);
        let states = st.sim.read_states(gpu)?;
        let first = observe(gpu, &st.sim, &st.sc, &st.naive, states)?;
        st.readouts.push(first.readout.clone());
        st.first = Some(first);
        Ok(st)
    }

    /// Adds these spatial read-outs to every read-out from now on, and to the one at t = 0 while
    /// [`Stepper::take_first`] has not taken it.
    pub fn read_spatial(&mut self, quantities: Vec<SpatialQuantity>) {
        self.spatial = quantities;
        if let Some(first) = &self.first {
            let values = self.spatial_of(first);
            if let Some(r) = self.readouts.first_mut() {
                r.spatial = values;
            }
        }
    }

    /// The spatial read-outs asked of the run, measured in `obs`.
    fn spatial_of(&self, obs: &Observation) -> Vec<(SpatialQuantity, f64)> {
        let values = measure(&self.sim, obs, &self.spatial);
        self.spatial.iter().copied().zip(values).collect()
    }

    fn apply_scenario(&mut self, gpu: &Gpu) {
        let mut m = self.sim.model.clone();
        m.drugs = self.sc.drugs;
        m.drugs_pia = None;
        m.rvm = if self.sc.rvm_lesion { 0.0 } else { 1.0 };
        m.a7 = if self.sc.a7_lesion { 0.0 } else { 1.0 };
        m.n_mode = if self.sc.facilitation { 1.0 } else { 0.0 };
        self.sim.set_model(gpu, &m);
        self.doses = DoseSchedule::new(&self.sc.doses, &m.kin, self.sc.duration_s);
        self.model = m;
        self.cuts = cuts_after(&self.sc, self.sim.time_s());
        self.extra_readouts = extra_readouts(&self.sc);
    }

    /// Replaces the scenario mid-run, e.g. with an event added by the viewer. The tissue and
    /// time keys must not change, nor the pain model's territory (SNI, MODEL.md §11.4), and
    /// added events must lie after the current time (the past is not re-run); the caller
    /// checks them.
    pub fn set_scenario(&mut self, gpu: &Gpu, sc: TissueScenario) {
        self.sc = sc;
        self.apply_scenario(gpu);
    }

    /// Steps from now on in an ensemble, at `seat` (a fresh stepper at t = 0 whose baseline is
    /// the ensemble's): the outputs stay bit for bit those of the run alone.
    pub fn sit(&mut self, seat: Seat) {
        assert!(self.sim.time_s() == 0.0 && self.sim.transport_steps() == 0);
        self.seat = Some(seat);
    }

    /// (member, members) when stepping in an ensemble.
    pub fn seat(&self) -> Option<(usize, usize)> {
        self.seat.as_ref().map(Seat::place)
    }

    /// Gives back the tissue (for a reset: write the baseline states, then
    /// [`Stepper::from_baseline`]).
    pub fn into_sim(self) -> TissueSim {
        self.sim
    }

    /// Everything of the loop that a continuation needs ([`StepperState`]): the tissue's
    /// state, the next output time and the read-outs so far.
    pub fn save(&self, gpu: &Gpu) -> Result<StepperState, Error> {
        if let Some(seat) = &self.seat {
            seat.sync(gpu, &self.sim);
        }
        Ok(StepperState {
            sim: self.sim.save(gpu)?,
            next_output: self.next_output,
            readouts: self.readouts.clone(),
            readout_s: self.readout_s,
        })
    }

    /// Continues from a [`Stepper::save`] of a stepper of the same scenario (this one fresh
    /// from [`Stepper::from_baseline`]): the steps after it are bit-identical to those the saved
    /// stepper would have taken.
    pub fn restore(&mut self, gpu: &Gpu, s: StepperState) -> Result<(), Error> {
        self.sim.restore(gpu, &s.sim)?;
        self.next_output = s.next_output;
        self.readouts = s.readouts;
        self.readout_s = s.readout_s;
        self.first = None;
        self.cuts = cuts_after(&self.sc, self.sim.time_s());
        Ok(())
    }

    /// The observation taken at the start (t = 0), once.
    pub fn take_first(&mut self) -> Option<Observation> {
        self.first.take()
    }

    /// The model time (s).
    pub fn time_s(&self) -> f64 {
        self.sim.time_s()
    }

    /// Whether the scenario's end has been reached.
    pub fn finished(&self) -> bool {
        self.cuts.is_empty()
    }

    /// The model with the scenario's constant drugs and lesions, as used for the input.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// Takes one transport step (shortened to end at the next cut). At an output time it reads
    /// the states, checks them for blow-up, takes a read-out and returns the states.
    /// Stops with [`Error::Interrupted`] before the step when Ctrl-C or SIGTERM asked for it
    /// (src/interrupt.rs; only `run` and `validate` install the handler).
    pub fn step(&mut self, gpu: &Gpu) -> Result<Option<Observation>, Error> {
        crate::interrupt::check(self.sim.time_s())?;
        let Some(&cut) = self.cuts.first() else {
            return Ok(None);
        };
        let sc = &self.sc;
        let t0 = self.sim.time_s();
        if t0 < cut - 1e-6 {
            let dt = step_at(sc, t0).min(cut - t0);
            let h = substep_at(sc, t0, t0 + dt).min(dt / 2.0);
            if !sc.doses.is_empty() || !sc.stimulations.is_empty() {
                // Occupancies of the doses and the brainstem drives at the step's midpoint,
                // constant over the step.
                let mid = t0 + 0.5 * dt;
                let mut m = self.sim.model.clone();
                let sets = self.doses.sets_at(&sc.drugs, mid);
                m.drugs = sets.blood;
                m.drugs_pia = self.doses.through_pia().then_some(sets.pia);
                (m.rvm, m.a7) = drives_at(sc.rvm_lesion, sc.a7_lesion, &sc.stimulations, mid);
                self.sim.set_model(gpu, &m);
            }
            let (model, p) = (&self.model, &sc.protocol);
            let input_at = |tt| model.protocol_input(p, tt).0;
            match &self.seat {
                None => self.sim.step(gpu, dt, h, &input_at)?,
                Some(seat) => {
                    let plan = Plan {
                        t0,
                        dt,
                        inputs: self.sim.substep_inputs(dt, h, &input_at)?,
                        model: self.sim.model.clone(),
                    };
                    seat.step(gpu, plan, &mut self.sim)?;
                }
            }
        }
        if self.sim.time_s() < cut - 1e-6 {
            return Ok(None);
        }
        self.sim.rewind_clock(cut);
        self.cuts.remove(0);
        if self.cuts.is_empty()
            && let Some(seat) = self.seat.as_mut()
        {
            seat.finish();
        }
        let extra_readout = self.extra_readouts.iter().any(|&t| (t - cut).abs() < 1e-6);
        if cut >= self.next_output - 1e-6 || cut >= self.sc.duration_s - 1e-6 || extra_readout {
            let started = Instant::now();
            if let Some(seat) = &self.seat {
                seat.sync(gpu, &self.sim);
            }
            let states = self.sim.read_states(gpu)?;
            check_states(&self.sim, &states)?;
            let mut obs = observe(gpu, &self.sim, &self.sc, &self.naive, states)?;
            if !self.spatial.is_empty() {
                obs.readout.spatial = self.spatial_of(&obs);
            }
            self.readouts.push(obs.readout.clone());
            self.readout_s += started.elapsed().as_secs_f64();
            while self.next_output <= cut + 1e-6 {
                self.next_output += self.sc.output_every_s;
            }
            return Ok(Some(obs));
        }
        Ok(None)
    }
}

/// A digest of the steps a run of `sc` takes (start, length and reaction sub-step of each, as
/// [`Stepper::step`] chooses them): runs with the same digest, grid and parameters can step
/// together as an ensemble ([`crate::run::ensemble`]).
pub fn schedule_digest(sc: &TissueScenario) -> u64 {
    let mut hash = crate::output::FNV_START;
    let mut t = 0.0;
    for cut in cuts_after(sc, 0.0) {
        while t < cut - 1e-6 {
            let dt = step_at(sc, t).min(cut - t);
            let h = substep_at(sc, t, t + dt).min(dt / 2.0);
            for v in [t, dt, h] {
                hash = crate::output::fnv1a(hash, &v.to_bits().to_le_bytes());
            }
            t += dt;
        }
        t = cut;
    }
    hash
}

/// The transport step to take from `t` (session and bolus windows use the short step).
fn step_at(sc: &TissueScenario, t: f64) -> f64 {
    let p = &sc.protocol;
    let near_session = p
        .sessions
        .iter()
        .any(|s| t >= s.start_s - 1e-6 && t < s.start_s + s.duration_s + 3600.0);
    let near_bolus = p
        .naloxone_s
        .iter()
        .chain(p.nmda_block_s.iter())
        .any(|&b| t >= b - 1e-6 && t < b + 3600.0);
    let acute = matches!(p.pain, Some(PainModel::Formalin))
        && t >= p.pain_onset_s - 1e-6
        && t < p.pain_onset_s + 5400.0;
    if near_session || near_bolus || acute {
        sc.session_step_s.min(sc.step_s)
    } else {
        sc.step_s
    }
}

/// The reaction sub-step at `t` (§3.2: 1 s while alternating 2/100 Hz switches every 3 s, 5 s
/// in other sessions).
fn substep_at(sc: &TissueScenario, t0: f64, t1: f64) -> f64 {
    let mut h = sc.reaction_substep_s;
    for s in &sc.protocol.sessions {
        if s.start_s < t1 && s.start_s + s.duration_s > t0 {
            h = h.min(if s.mode == EaMode::Alternating {
                1.0
            } else {
                5.0
            });
        }
    }
    if matches!(sc.protocol.pain, Some(PainModel::Formalin))
        && t1 > sc.protocol.pain_onset_s
        && t0 < sc.protocol.pain_onset_s + 5400.0
    {
        h = h.min(20.0);
    }
    h
}
