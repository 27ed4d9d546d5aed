//! Runs that step together as one GPU ensemble (layer 4): sweep members that share a grid, a
//! parameter table and a step schedule advance side by side in the same dispatches
//! ([`TissueSim::into_ensemble`]), each with its own inputs, drugs and lesions, while every
//! member keeps its own run loop, read-outs, figures, checkpoints and folder.
//!
//! Each member's run ([`crate::run::dorsal_horn::run`]) goes on in a thread of its own with a
//! one-member [`TissueSim`] of its own for everything but stepping: its [`Stepper`](crate::run::stepper::Stepper) hands
//! each step to its [`Seat`], which waits until every member has asked for the same step; the
//! last to arrive advances the ensemble once for all. At a read-out or a checkpoint the member's
//! cells and transport history are copied into its own tissue on the device, so a member's
//! outputs are bit for bit those of the same run alone (tests/it/batch.rs).
//!
//! A member that stops (an error, Ctrl-C) stops the others at their next step: after Ctrl-C
//! each writes its checkpoint; after an error [`Ensemble::first_to_stop`] names the member that
//! failed, so that the sweep can run the others again on their own.

use crate::error::Error;
use crate::gpu::Gpu;
use crate::model::network::Model;
use crate::model::network::state::Input;
use crate::tissue::TissueSim;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

/// Why the ensemble cannot take another step.
#[derive(Debug, Clone)]
enum Stop {
    /// Ctrl-C or SIGTERM: every member checkpoints where it is.
    Interrupted,
    /// A member left early (it failed) or the ensemble's step failed.
    Failed(String),
}

/// One member's request for the next step: its start, length and broadcast inputs
/// ([`TissueSim::substep_inputs`]) and its model's drugs and descending switches.
pub struct Plan {
    pub t0: f64,
    pub dt: f64,
    pub inputs: Vec<Input>,
    pub model: Model,
}

struct Shared {
    sim: TissueSim,
    plans: Vec<Option<Plan>>,
    /// Steps taken (a waiting member is released when it changes).
    generation: u64,
    stopped: Option<Stop>,
    /// The first member to leave before the end, if any.
    first_to_stop: Option<usize>,
    /// Members past their last step.
    done: Vec<bool>,
    /// Model time of the last step's end, for the progress line.
    bar: indicatif::ProgressBar,
}

/// The shared tissue of an ensemble and the rendezvous of its members' steps.
pub struct Ensemble {
    shared: Mutex<Shared>,
    turn: Condvar,
    members: usize,
}

impl std::fmt::Debug for Ensemble {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Ensemble of {}", self.members)
    }
}

impl Ensemble {
    /// An ensemble of `sim.members()` members starting from `sim`'s states (each member's run
    /// must start from the same baseline); `bar` shows the model time of the ensemble's steps.
    pub fn new(mut sim: TissueSim, bar: indicatif::ProgressBar) -> Arc<Ensemble> {
        sim.reset_clock();
        sim.forget_history();
        let members = sim.members();
        Arc::new(Ensemble {
            shared: Mutex::new(Shared {
                sim,
                plans: (0..members).map(|_| None).collect(),
                generation: 0,
                stopped: None,
                first_to_stop: None,
                done: vec![false; members],
                bar,
            }),
            turn: Condvar::new(),
            members,
        })
    }

    pub fn members(&self) -> usize {
        self.members
    }

    /// The member that left first before the end (it failed or was interrupted): the others
    /// stopped because of it.
    pub fn first_to_stop(&self) -> Option<usize> {
        self.lock().first_to_stop
    }

    /// The ensemble's transport steps so far and the dispatches they took (all members).
    pub fn steps_and_dispatches(&self) -> (u64, u64) {
        let s = self.lock();
        (s.sim.transport_steps(), s.sim.dispatches)
    }

    /// Member `member`'s run has returned (`failed`: with an error). A member that fails before
    /// it took its seat, or leaves it before its last step, stops the others (Ctrl-C: they
    /// checkpoint; otherwise they fail with [`ENSEMBLE_STOPPED`]).
    pub fn leave(&self, member: usize, failed: bool) {
        let mut s = self.lock();
        if failed && !s.done[member] && s.stopped.is_none() {
            s.stopped = Some(if crate::interrupt::requested() {
                Stop::Interrupted
            } else {
                Stop::Failed(format!(
                    "member {} of the ensemble stopped with an error",
                    member + 1
                ))
            });
            s.first_to_stop = Some(member);
        }
        self.turn.notify_all();
    }

    /// Clears the progress line (the members have finished).
    pub fn finish_progress(&self) {
        self.lock().bar.finish_and_clear();
    }

    fn lock(&self) -> MutexGuard<'_, Shared> {
        self.shared.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// One member's place in an [`Ensemble`]; leaving it (dropping it) before the last step stops
/// the others.
pub struct Seat {
    ensemble: Arc<Ensemble>,
    member: usize,
    /// Past its last step ([`Seat::finish`]): leaving stops nobody.
    done: bool,
}

impl Seat {
    pub fn new(ensemble: Arc<Ensemble>, member: usize) -> Seat {
        assert!(member < ensemble.members, "a member of the ensemble");
        Seat {
            ensemble,
            member,
            done: false,
        }
    }

    /// (member, members).
    pub fn place(&self) -> (usize, usize) {
        (self.member, self.ensemble.members)
    }

    /// Takes the step of `plan` with the other members (waiting for them), then makes `own`
    /// (this member's one-member tissue) follow the ensemble's clock and counters.
    pub fn step(&self, gpu: &Gpu, plan: Plan, own: &mut TissueSim) -> Result<(), Error> {
        let ens = &self.ensemble;
        let mut s = ens.lock();
        if let Some(stop) = &s.stopped {
            return Err(stop_error(stop, own.time_s()));
        }
        if s.done.iter().any(|&d| d) {
            return Err(diverged(own.time_s()));
        }
        s.plans[self.member] = Some(plan);
        let generation = s.generation;
        if s.plans.iter().all(Option::is_some) {
            let plans: Vec<Plan> = s.plans.iter_mut().map(|p| p.take().expect("all")).collect();
            if let Err(e) = advance(gpu, &mut s.sim, plans) {
                // The ensemble's fault, not a member's: every member stops alike (and the
                // sweep runs each again alone).
                let stop = Stop::Failed(format!("the ensemble's step failed: {e}"));
                let err = stop_error(&stop, own.time_s());
                s.stopped = Some(stop);
                ens.turn.notify_all();
                return Err(err);
            }
            s.generation += 1;
            let t = s.sim.time_s();
            s.bar.set_position((t / 3600.0) as u64);
            ens.turn.notify_all();
        } else {
            while s.generation == generation && s.stopped.is_none() && !s.done.iter().any(|&d| d) {
                s = ens.turn.wait(s).unwrap_or_else(|e| e.into_inner());
            }
            if s.generation == generation {
                s.plans[self.member] = None;
                return Err(match &s.stopped {
                    Some(stop) => stop_error(stop, own.time_s()),
                    None => diverged(own.time_s()),
                });
            }
        }
        own.follow(&s.sim);
        Ok(())
    }

    /// Copies this member's cells and transport history into `own` (on the device), so that
    /// read-outs, probes and checkpoints of `own` see the member.
    pub fn sync(&self, gpu: &Gpu, own: &TissueSim) {
        self.ensemble
            .lock()
            .sim
            .copy_member_into(gpu, self.member, own);
    }

    /// Marks the member past its last step: leaving then stops nobody (and a member that asks
    /// for another step learns that the members' schedules differ).
    pub fn finish(&mut self) {
        self.done = true;
        let mut s = self.ensemble.lock();
        s.done[self.member] = true;
        self.ensemble.turn.notify_all();
    }
}

impl Drop for Seat {
    fn drop(&mut self) {
        if !self.done {
            self.ensemble.leave(self.member, true);
        }
    }
}

fn stop_error(stop: &Stop, time_s: f64) -> Error {
    match stop {
        Stop::Interrupted => Error::interrupted(time_s),
        Stop::Failed(why) => Error::Output(format!("{ENSEMBLE_STOPPED}: {why}")),
    }
}

fn diverged(time_s: f64) -> Error {
    Error::Output(format!(
        "{ENSEMBLE_STOPPED}: another member ended before this one at t = {time_s} s (the \
         members' step schedules differ): this is a bug, please report it"
    ))
}

/// How the error of a member stopped by another begins.
pub const ENSEMBLE_STOPPED: &str = "stopped with its ensemble";

/// One step of every member: the plans must agree on its start and length (the members share
/// the step schedule; [`crate::run::stepper::schedule_digest`]).
fn advance(gpu: &Gpu, sim: &mut TissueSim, plans: Vec<Plan>) -> Result<(), Error> {
    let first = &plans[0];
    if let Some(k) = plans.iter().position(|p| {
        p.t0.to_bits() != first.t0.to_bits()
            || p.dt.to_bits() != first.dt.to_bits()
            || p.inputs.len() != first.inputs.len()
    }) {
        return Err(Error::Output(format!(
            "the members of an ensemble asked for different steps (member 1: {} s from t = {} s; \
             member {}: {} s from t = {} s): this is a bug, please report it",
            first.dt,
            first.t0,
            k + 1,
            plans[k].dt,
            plans[k].t0
        )));
    }
    let (t0, dt) = (first.t0, first.dt);
    sim.rewind_clock(t0);
    for (k, p) in plans.iter().enumerate() {
        sim.set_member_model(gpu, k, &p.model);
    }
    let inputs: Vec<Vec<Input>> = plans.into_iter().map(|p| p.inputs).collect();
    sim.step_members(gpu, dt, &inputs)
}
