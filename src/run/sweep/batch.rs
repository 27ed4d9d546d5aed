//! Sweep members that run side by side as one GPU ensemble ([`crate::run::ensemble`]): which
//! members can (the same grid, parameters and baseline, the same step schedule, the implicit
//! transport), how many fit the device at once, and the run of a batch: one thread per member,
//! each with its ordinary run folder, stepping together.

use crate::error::Error;
use crate::gpu::Gpu;
use crate::gpu::reaction::STATE_STRIDE;
use crate::model::network::state::MEDIATORS;
use crate::output;
use crate::run::dorsal_horn::{TissueRun, TissueRunOptions, run};
use crate::run::ensemble::{ENSEMBLE_STOPPED, Ensemble};
use crate::run::stepper::schedule_digest;
use crate::scenario::dorsal_horn::{TissueScenario, TransportScheme};
use crate::tissue::baseline::{baseline_key, prepare_baseline};

/// Members side by side when `--batch auto`: more gain little on a GPU at the usual grids and
/// multiply the memory.
pub const AUTO_BATCH: usize = 32;

/// The members `fresh` (indices into `scenarios`, in order) gathered into batches that can step
/// together: members with equal keys, in order of their first member; a member that cannot
/// (RKL2 transport) or that has no partner is a batch of one. `cap` bounds a batch.
pub fn batches(
    gpu: &Gpu,
    scenarios: &[TissueScenario],
    fresh: &[usize],
    cap: usize,
) -> Vec<Vec<usize>> {
    let mut keyed: Vec<(Option<String>, Vec<usize>)> = Vec::new();
    for &i in fresh {
        let sc = &scenarios[i];
        let key = (cap > 1 && sc.transport == TransportScheme::Implicit)
            .then(|| format!("{}\n{:x}", baseline_key(gpu, sc), schedule_digest(sc)));
        match keyed
            .iter_mut()
            .find(|(k, members)| k.is_some() && *k == key && members.len() < cap)
        {
            Some((_, members)) => members.push(i),
            None => keyed.push((key, vec![i])),
        }
    }
    keyed.into_iter().map(|(_, members)| members).collect()
}

/// Cells of all members together on a software driver (lavapipe): beyond this an ensemble
/// gains nothing over members one after another (BENCHMARKS.md, "Sweeps side by side": 1.25×
/// at 16 × 4 550 cells, 1.00× at 4 × 22 750, slower at 9 × 22 750).
pub const SOFTWARE_CELLS: usize = 100_000;

/// How many members of a grid of `cells` cells fit side by side on this device: the
/// transport's texture layers (3 × 14 per member), the per-cell state buffer, the cells one
/// dispatch can cover, and on a software driver [`SOFTWARE_CELLS`].
pub fn fit(gpu: &Gpu, cells: usize) -> usize {
    let software = if gpu.is_software() {
        SOFTWARE_CELLS / cells.max(1)
    } else {
        usize::MAX
    };
    let l = &gpu.limits;
    let layers = l.max_texture_array_layers as usize / (3 * MEDIATORS.len());
    let bytes = l.max_storage_buffer_binding_size.min(l.max_buffer_size) as usize
        / (cells * STATE_STRIDE * 4).max(1);
    let dispatch = l.max_compute_workgroups_per_dimension as usize * crate::gpu::WORKGROUP as usize
        / cells.max(1);
    layers.min(bytes).min(dispatch).min(software).max(1)
}

/// Runs member i on its own; `why` says why it is not in an ensemble (`None`: only one fits).
pub type RunAlone<'a> = dyn Fn(usize, Option<&Error>) -> Result<TissueRun, Error> + 'a;

/// Runs the members `batch` (indices into `scenarios`, all with one key of [`batches`]) side
/// by side, each into the folder and with the options `opts_of(i)` gives; returns each
/// member's outcome in order; `tell(i, what)` reports on member i. The members run in
/// ensembles of as many as [`fit`] the device; where only one fits, or the ensemble cannot be
/// built, they run alone (`alone(i, why)`). A member that fails stops the others of its
/// ensemble, which then run again alone.
pub fn run_batch(
    gpu: &Gpu,
    scenarios: &[TissueScenario],
    batch: &[usize],
    opts_of: &dyn Fn(usize) -> TissueRunOptions,
    progress: bool,
    tell: &dyn Fn(usize, &str),
    alone: &RunAlone,
) -> Vec<(usize, Result<TissueRun, Error>)> {
    let first = &scenarios[batch[0]];
    let cache = opts_of(batch[0]).cache;
    let mut outcomes = Vec::new();
    let mut left: &[usize] = batch;
    while !left.is_empty() {
        if crate::interrupt::requested() {
            outcomes.extend(left.iter().map(|&i| (i, Err(Error::interrupted(0.0)))));
            return outcomes;
        }
        // Out of device memory panics in wgpu's default handler: the members then run alone.
        let built = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let bar = output::progress_bar(progress, 100, "% of the baseline settled");
            let base = prepare_baseline(gpu, first, cache.as_ref(), &mut |f| {
                bar.set_position((100.0 * f) as u64);
                !crate::interrupt::requested()
            })?;
            bar.finish_and_clear();
            let n = fit(gpu, base.sim.layout.cells()).min(left.len());
            if n < 2 {
                return Ok(None);
            }
            Ok(Some((n, base.sim.into_ensemble(gpu, n)?)))
        }))
        .unwrap_or_else(|_| {
            Err(Error::Output(
                "building it failed (out of device memory?)".into(),
            ))
        });
        let (n, sim) = match built {
            Ok(Some(e)) => e,
            Ok(None) => {
                outcomes.extend(left.iter().map(|&i| (i, alone(i, None))));
                return outcomes;
            }
            Err(Error::Interrupted { time_s, .. }) => {
                outcomes.extend(left.iter().map(|&i| (i, Err(Error::interrupted(time_s)))));
                return outcomes;
            }
            Err(e) => {
                let why = Error::Output(format!("the ensemble could not be built: {e}"));
                outcomes.extend(left.iter().map(|&i| (i, alone(i, Some(&why)))));
                return outcomes;
            }
        };
        let (now, rest) = left.split_at(n);
        left = rest;
        for &i in now {
            tell(i, &format!("running side by side with {} others", n - 1));
        }
        let bar = output::progress_bar(
            progress,
            (first.duration_s / 3600.0).ceil() as u64,
            &format!("h model time (eta {{eta}}), {n} members side by side"),
        );
        let ensemble = Ensemble::new(sim, bar);
        let results = run_members(gpu, scenarios, now, &ensemble, opts_of);
        ensemble.finish_progress();
        let culprit = ensemble.first_to_stop();
        // The ensemble's device memory goes before any member runs again alone.
        drop(ensemble);
        for ((k, &i), r) in now.iter().enumerate().zip(results) {
            let r = match r {
                Err(Error::Output(msg))
                    if msg.starts_with(ENSEMBLE_STOPPED) && culprit != Some(k) =>
                {
                    if crate::interrupt::requested() {
                        Err(Error::interrupted(0.0))
                    } else {
                        alone(i, Some(&Error::Output(msg)))
                    }
                }
                other => other,
            };
            outcomes.push((i, r));
        }
    }
    outcomes
}

/// Runs the members `now` (indices into `scenarios`) as `ensemble`, member k in a thread of its
/// own; returns their outcomes in order. Whatever a thread's end (an error, a panic, a thread
/// that cannot start), the member leaves the ensemble, so that no other waits for it.
fn run_members(
    gpu: &Gpu,
    scenarios: &[TissueScenario],
    now: &[usize],
    ensemble: &std::sync::Arc<Ensemble>,
    opts_of: &dyn Fn(usize) -> TissueRunOptions,
) -> Vec<Result<TissueRun, Error>> {
    std::thread::scope(|s| {
        let handles: Vec<_> = now
            .iter()
            .enumerate()
            .map(|(k, &i)| {
                let mut opts = opts_of(i);
                opts.progress = false;
                opts.ensemble = Some((ensemble.clone(), k));
                let sc = &scenarios[i];
                let ensemble = &ensemble;
                std::thread::Builder::new()
                    .name(format!("member {}", i + 1))
                    // As much stack as the main thread: a member draws its figures too.
                    .stack_size(8 << 20)
                    .spawn_scoped(s, move || {
                        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                            run(gpu, sc, &opts)
                        }))
                        .unwrap_or_else(|_| {
                            Err(Error::Output(
                                "the member's run panicked: this is a bug, please report it".into(),
                            ))
                        });
                        // A member that failed before its first step must not leave the
                        // others waiting for it.
                        ensemble.leave(k, r.is_err());
                        r
                    })
                    .inspect_err(|_| ensemble.leave(k, true))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| match h {
                Ok(h) => h
                    .join()
                    .unwrap_or_else(|_| Err(Error::Output("a member's thread panicked".into()))),
                Err(e) => Err(Error::Output(format!(
                    "cannot start a member's thread: {e}"
                ))),
            })
            .collect()
    })
}
