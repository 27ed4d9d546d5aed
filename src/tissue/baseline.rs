//! The baseline before t = 0 (layer 3): settling (steady or integrated), the one baseline key,
//! and the disk cache shared by `run`, `view` and `validate`.

use crate::error::Error;
use crate::gpu::Gpu;
use crate::gpu::reaction::STATE_STRIDE;
use crate::model::anatomy::Territory;
use crate::model::network::Model;
use crate::model::network::protocol::PainModel;
use crate::model::network::state::STATE_NAMES;
use crate::output;
use crate::output::{FNV_START, fnv1a};
use crate::params::ParamTable;
use crate::scenario::dorsal_horn::{SettleMode, TissueScenario};
use crate::tissue::TissueSim;
use crate::tissue::section::Layout;
use std::path::PathBuf;
use std::time::Instant;

/// Prepares the calibrated, settled baseline tissue for a scenario (§8.1): the well-mixed
/// calibrated baseline in every active cell, θ calibrated per cell, `settle_s` of baseline
/// input with transport (large steps: the baseline is near its fixed point, which both step
/// schemes keep exactly), θ calibrated again.
pub fn baseline(gpu: &Gpu, sc: &TissueScenario) -> Result<TissueSim, Error> {
    baseline_with_progress(gpu, sc, &mut |_| true)
}

/// The tissue of `sc` with the model of its sex, every cell at the well-mixed calibrated
/// baseline and θ not yet calibrated.
fn uncalibrated_tissue(gpu: &Gpu, sc: &TissueScenario) -> Result<TissueSim, Error> {
    let table = ParamTable::builtin();
    let mut model = Model::new(&table);
    model.set_sex(&table, sc.female, sc.t_cells);
    let naive = model.calibrated_baseline();
    let mut layout = Layout::for_territory(
        &table,
        sc.animal,
        sc.spacing_um,
        sc.ventral_absorbing,
        territory(sc),
    );
    layout.set_pial_permeability(sc.p_pia as f32);
    TissueSim::with_scheme(gpu, layout, model, &naive, sc.transport)
}

/// The territories of the scenario's pain model (MODEL.md §11.4): SNI separates the injured
/// from the tested part of the paw band, CFA's injury footprint is the sensitised nociceptors'
/// terminal fields (§11.1 decision). The territory changes only the injury footprint and the
/// probed cells, neither of which acts before the injury, so the settled states do not depend on
/// it; it is part of the baseline key all the same, because the key also decides which runs
/// share one tissue (a sweep's batch, the validation's baselines).
pub fn territory(sc: &TissueScenario) -> Territory {
    match sc.protocol.pain {
        Some(PainModel::Sni) => Territory::Sni,
        Some(PainModel::Cfa) => Territory::Inflamed,
        _ => Territory::Sciatic,
    }
}

/// [`baseline`], calling `progress` with the settled fraction (0 … 1) after each settling step;
/// when it returns false the settling stops with an error (the window was closed).
pub fn baseline_with_progress(
    gpu: &Gpu,
    sc: &TissueScenario,
    progress: &mut dyn FnMut(f64) -> bool,
) -> Result<TissueSim, Error> {
    let mut sim = uncalibrated_tissue(gpu, sc)?;
    settle(gpu, sc, &mut sim, progress)?;
    Ok(sim)
}

/// The error of a settling its progress callback stopped: an interruption (Ctrl-C) when one was
/// asked for, else a cancellation (the window closed).
fn settling_cancelled() -> Error {
    if crate::interrupt::requested() {
        Error::interrupted(0.0)
    } else {
        Error::Output("the baseline settling was cancelled".into())
    }
}

/// Calibrates θ, settles the baseline of `sc` (`time.settle`) and calibrates θ again.
pub(crate) fn settle(
    gpu: &Gpu,
    sc: &TissueScenario,
    sim: &mut TissueSim,
    progress: &mut dyn FnMut(f64) -> bool,
) -> Result<(), Error> {
    let base = sim.model.baseline_input();
    sim.calibrate(gpu, &base)?;
    if !progress(0.0) {
        return Err(settling_cancelled());
    }
    match sc.settle {
        SettleMode::Integrate => {
            let mut t = 0.0;
            while t < sc.settle_s - 1e-6 {
                let dt = sc.settle_step_s.min(sc.settle_s - t);
                sim.step(gpu, dt, dt / 2.0, &|_| base)?;
                t += dt;
                if !progress(t / sc.settle_s) {
                    return Err(settling_cancelled());
                }
            }
            if sc.settle_s > 0.0 {
                sim.calibrate(gpu, &base)?;
            }
        }
        SettleMode::Steady => {
            let report = steady_state(gpu, sim, &base, progress)?;
            if !report.converged {
                return Err(Error::Output(format!(
                    "the baseline did not reach a steady state: after {} steps of up to {:.0} d \
                     a state still changed by {:.1e} of its scale per step ({} at cell {}); \
                     set time.settle = \"integrate\" to settle for time.settle_days instead",
                    report.steps,
                    report.last_dt_s / 86400.0,
                    report.change,
                    STATE_NAMES[report.worst_state],
                    report.worst_cell
                )));
            }
            sim.calibrate(gpu, &base)?;
        }
    }
    sim.rewind_clock(0.0);
    Ok(())
}

/// How [`steady_state`] went.
#[derive(Debug, Clone, Copy)]
pub struct SteadyReport {
    pub converged: bool,
    /// Strang steps taken and the last one's length.
    pub steps: u32,
    pub last_dt_s: f64,
    /// The last step's largest change of a state in a cell, relative to that state's largest
    /// magnitude over the cells (at least [`STEADY_FLOOR`]), and where it was.
    pub change: f64,
    pub worst_state: usize,
    pub worst_cell: usize,
}

/// Steady-state tolerance: a step that changes no state of any cell by more than this fraction
/// of the state's scale ends the search.
pub const STEADY_TOLERANCE: f64 = 2e-5;
/// Smallest scale of a state in the steady-state test (states are in EC50 or fraction units).
pub const STEADY_FLOOR: f64 = 1e-2;
/// First and largest step of the steady-state search, and the most steps it takes.
const STEADY_FIRST_S: f64 = 3600.0;
const STEADY_MAX_S: f64 = 64.0 * 86400.0;
const STEADY_MAX_STEPS: u32 = 80;

/// Drives `sim` to the steady state of constant input `input` by pseudo-transient continuation:
/// Strang steps (one reaction sub-step per half) whose length doubles from 1 h to 64 d, until a
/// step changes no state of any cell by more than [`STEADY_TOLERANCE`] of its scale. Both
/// split steps keep a steady state exactly (the exponential midpoint and TR-BDF2 have it as a
/// fixed point), so the long steps only decide how fast the transients die out.
pub fn steady_state(
    gpu: &Gpu,
    sim: &mut TissueSim,
    input: &crate::model::network::state::Input,
    progress: &mut dyn FnMut(f64) -> bool,
) -> Result<SteadyReport, Error> {
    let n_states = STATE_NAMES.len();
    let active = sim.layout.active.clone();
    let mut before = sim.read_states(gpu)?;
    let mut dt = STEADY_FIRST_S;
    let mut report = SteadyReport {
        converged: false,
        steps: 0,
        last_dt_s: 0.0,
        change: f64::INFINITY,
        worst_state: 0,
        worst_cell: 0,
    };
    let start = sim.time_s();
    while report.steps < STEADY_MAX_STEPS {
        sim.step(gpu, dt, dt / 2.0, &|_| *input)?;
        let after = sim.read_states(gpu)?;
        let mut scale = vec![STEADY_FLOOR; n_states];
        for (i, c) in after.chunks_exact(STATE_STRIDE).enumerate() {
            if active[i] {
                for k in 0..n_states {
                    scale[k] = scale[k].max(c[k].abs() as f64);
                }
            }
        }
        let (mut change, mut worst) = (0.0f64, (0, 0));
        for (i, (a, b)) in after
            .chunks_exact(STATE_STRIDE)
            .zip(before.chunks_exact(STATE_STRIDE))
            .enumerate()
        {
            if !active[i] {
                continue;
            }
            for k in 0..n_states {
                let d = (a[k] - b[k]).abs() as f64 / scale[k];
                // NaN counts as the largest change.
                if d > change || d.is_nan() {
                    change = d;
                    worst = (k, i);
                }
            }
        }
        report.steps += 1;
        report.last_dt_s = dt;
        report.change = change;
        report.worst_state = worst.0;
        report.worst_cell = worst.1;
        before = after;
        // Progress: how many of the ~8 decades from a first change of ~1 to the tolerance.
        let done = (change.max(STEADY_TOLERANCE).ln() / STEADY_TOLERANCE.ln()).clamp(0.0, 1.0);
        if !progress(done) {
            return Err(settling_cancelled());
        }
        if change <= STEADY_TOLERANCE {
            report.converged = true;
            break;
        }
        dt = (2.0 * dt).min(STEADY_MAX_S);
    }
    sim.rewind_clock(start);
    Ok(report)
}

/// The tissue of `sc` with the given states and θ (a settled baseline kept in memory or on
/// disk), or `None` when their sizes do not fit the layout.
pub fn tissue_from_states(
    gpu: &Gpu,
    sc: &TissueScenario,
    states: &[f32],
    thetas: &[[f32; 4]],
) -> Result<Option<TissueSim>, Error> {
    let mut sim = uncalibrated_tissue(gpu, sc)?;
    Ok(restore_states(gpu, &mut sim, states, thetas).then_some(sim))
}

/// Writes a settled baseline's states and θ into `sim`; false (and `sim` untouched) when
/// their sizes do not fit its layout.
fn restore_states(gpu: &Gpu, sim: &mut TissueSim, states: &[f32], thetas: &[[f32; 4]]) -> bool {
    let cells = sim.layout.cells();
    if states.len() != cells * STATE_STRIDE || thetas.len() != cells {
        return false;
    }
    sim.set_thetas(gpu, thetas);
    let rows: &[[f32; STATE_STRIDE]] = bytemuck::cast_slice(states);
    sim.write_states(gpu, rows);
    true
}

/// A settled baseline kept on disk, so that a second `dorsalhorn view` of the same tissue shows
/// its fields at once instead of settling again (minutes on the software driver). The file holds
/// the exact bits of the states and θ, so a cached baseline is bit-identical to a fresh one; its
/// name is a hash of everything the baseline depends on ([`baseline_key`]).
#[derive(Debug, Clone)]
pub struct BaselineCache {
    dir: PathBuf,
}

/// The cache file's format and version: this magic, the FNV-1a hash of the full
/// [`baseline_key`], the state count, the states, the thetas, and the FNV-1a checksum of
/// everything before it.
const CACHE_MAGIC: &[u8; 8] = b"DHBASE03";

/// Everything a settled baseline depends on, as text: the one key of the disk cache
/// ([`BaselineCache`]) and of `validate`'s in-memory set. It holds the program version and the
/// text of every kernel the settling runs (so that a changed kernel never reuses an old
/// baseline), the parameter table, the tissue keys, the settling and transport keys and the
/// adapter.
pub fn baseline_key(gpu: &Gpu, sc: &TissueScenario) -> String {
    // The integration's length and step only matter when the baseline is integrated.
    let (settle_s, settle_step_s) = match sc.settle {
        SettleMode::Integrate => (sc.settle_s, sc.settle_step_s),
        SettleMode::Steady => (0.0, 0.0),
    };
    let kernels = [
        include_str!("../../shaders/reaction.wgsl"),
        include_str!("../../shaders/multigrid.wgsl"),
        include_str!("../../shaders/rkl2.wgsl"),
        include_str!("../../shaders/stencil.wgsl"),
        include_str!("../../shaders/transfer.wgsl"),
    ]
    .concat();
    format!(
        "{}|{}|{}|{}|{:?}|{:?}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}",
        String::from_utf8_lossy(CACHE_MAGIC),
        env!("CARGO_PKG_VERSION"),
        kernels,
        ParamTable::builtin().markdown(),
        sc.animal,
        territory(sc),
        sc.spacing_um,
        sc.ventral_absorbing,
        sc.p_pia,
        sc.sex_route(),
        sc.settle.name(),
        settle_s,
        settle_step_s,
        sc.transport.name(),
        gpu.info.name,
        gpu.info.driver,
        gpu.info.driver_info,
    )
}

/// The states and thetas of a cache file written by [`BaselineCache::store`] for `key_hash`;
/// `None` if anything does not check out.
fn parse_cache(bytes: &[u8], key_hash: u64) -> Option<(Vec<f32>, Vec<[f32; 4]>)> {
    let (body, sum) = bytes.split_at_checked(bytes.len().checked_sub(8)?)?;
    if fnv1a(FNV_START, body) != u64::from_le_bytes(sum.try_into().ok()?) {
        return None;
    }
    let rest = body.strip_prefix(CACHE_MAGIC)?;
    let (key, rest) = rest.split_at_checked(8)?;
    if u64::from_le_bytes(key.try_into().ok()?) != key_hash {
        return None;
    }
    let (n_states, rest) = rest.split_at_checked(8)?;
    let n_states = usize::try_from(u64::from_le_bytes(n_states.try_into().ok()?)).ok()?;
    let (states, thetas) = rest.split_at_checked(n_states.checked_mul(4)?)?;
    if thetas.len() % 16 != 0 {
        return None;
    }
    let f = |b: &[u8]| -> Vec<f32> {
        b.chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect()
    };
    let (states, thetas) = (f(states), f(thetas));
    if !states.iter().chain(&thetas).all(|v| v.is_finite()) {
        return None;
    }
    let thetas = thetas
        .chunks_exact(4)
        .map(|c| [c[0], c[1], c[2], c[3]])
        .collect();
    Some((states, thetas))
}

impl BaselineCache {
    /// `$DORSALHORN_CACHE_DIR`, else `$XDG_CACHE_HOME/dorsalhorn`, else `~/.cache/dorsalhorn`;
    /// `None` if none is known or `DORSALHORN_CACHE_DIR` is `off`.
    pub fn from_env() -> Option<BaselineCache> {
        let dir = match std::env::var_os("DORSALHORN_CACHE_DIR") {
            Some(d) if d == "off" => return None,
            Some(d) => PathBuf::from(d),
            None => match std::env::var_os("XDG_CACHE_HOME") {
                Some(d) if !d.is_empty() => PathBuf::from(d).join("dorsalhorn"),
                _ => PathBuf::from(std::env::var_os("HOME")?)
                    .join(".cache")
                    .join("dorsalhorn"),
            },
        };
        Some(BaselineCache { dir })
    }

    /// A cache in `dir`.
    pub fn at(dir: &std::path::Path) -> BaselineCache {
        BaselineCache {
            dir: dir.to_path_buf(),
        }
    }

    /// The hash of [`baseline_key`] that names the file and is stored in it.
    fn key_hash(gpu: &Gpu, sc: &TissueScenario) -> u64 {
        fnv1a(FNV_START, baseline_key(gpu, sc).as_bytes())
    }

    fn path(&self, key_hash: u64) -> PathBuf {
        self.dir.join(format!("baseline-{key_hash:016x}.bin"))
    }

    /// The cached baseline of `sc`, if there is one that fits this layout. A file that is
    /// damaged (wrong checksum, length or key, or a non-finite value) is removed with a note on
    /// stderr, and the baseline is settled anew.
    pub fn load(&self, gpu: &Gpu, sc: &TissueScenario) -> Option<(Vec<f32>, Vec<[f32; 4]>)> {
        let key_hash = Self::key_hash(gpu, sc);
        let path = self.path(key_hash);
        let bytes = std::fs::read(&path).ok()?;
        let parsed = parse_cache(&bytes, key_hash);
        if parsed.is_none() {
            eprintln!(
                "note: the cached baseline {} is damaged or from another version; it is removed \
                 and the baseline is settled anew",
                path.display()
            );
            let _ = std::fs::remove_file(&path);
        }
        parsed
    }

    /// Stores a settled baseline (atomically; a failure only costs the next start its speed).
    pub fn store(&self, gpu: &Gpu, sc: &TissueScenario, sim: &TissueSim) -> Result<(), Error> {
        let states = sim.read_states(gpu)?;
        let key_hash = Self::key_hash(gpu, sc);
        let mut bytes = CACHE_MAGIC.to_vec();
        bytes.extend(key_hash.to_le_bytes());
        bytes.extend((states.len() as u64).to_le_bytes());
        bytes.extend(states.iter().flat_map(|v| v.to_le_bytes()));
        bytes.extend(sim.thetas().iter().flatten().flat_map(|v| v.to_le_bytes()));
        bytes.extend(fnv1a(FNV_START, &bytes).to_le_bytes());
        std::fs::create_dir_all(&self.dir)
            .map_err(|e| Error::io("cannot create the cache folder", &self.dir, e))?;
        output::write_atomic(&self.path(key_hash), &bytes)
    }
}

/// The settled baseline of `sc`, from `cache` when it holds it (bit-identical to settling
/// again), else settled now (reporting progress) and stored there. Returns whether it came
/// from the cache.
pub fn cached_baseline(
    gpu: &Gpu,
    sc: &TissueScenario,
    cache: Option<&BaselineCache>,
    progress: &mut dyn FnMut(f64) -> bool,
) -> Result<(TissueSim, bool), Error> {
    let b = prepare_baseline(gpu, sc, cache, progress)?;
    Ok((b.sim, b.from_cache))
}

/// A baseline tissue ready to run, where it came from and what it cost.
pub struct Baseline {
    pub sim: TissueSim,
    pub from_cache: bool,
    /// Building the tissue and its kernels, and settling (or restoring) the baseline (s).
    pub setup_s: f64,
    pub settle_s: f64,
}

/// [`cached_baseline`] with the time of its parts.
pub fn prepare_baseline(
    gpu: &Gpu,
    sc: &TissueScenario,
    cache: Option<&BaselineCache>,
    progress: &mut dyn FnMut(f64) -> bool,
) -> Result<Baseline, Error> {
    let started = Instant::now();
    let mut sim = uncalibrated_tissue(gpu, sc)?;
    gpu.wait()?;
    let setup_s = started.elapsed().as_secs_f64();
    let started = Instant::now();
    if let Some(c) = cache
        && let Some((states, thetas)) = c.load(gpu, sc)
        && restore_states(gpu, &mut sim, &states, &thetas)
    {
        gpu.wait()?;
        return Ok(Baseline {
            sim,
            from_cache: true,
            setup_s,
            settle_s: started.elapsed().as_secs_f64(),
        });
    }
    settle(gpu, sc, &mut sim, progress)?;
    if let Some(c) = cache {
        // A failure to store only costs the next start its speed.
        let _ = c.store(gpu, sc, &sim);
    }
    Ok(Baseline {
        sim,
        from_cache: false,
        setup_s,
        settle_s: started.elapsed().as_secs_f64(),
    })
}
