//! Running the suite: selecting findings and groups, running each distinct arm once (a pool of
//! `--jobs` arms sharing the device and the settled baselines), writing the report files.

use crate::error::{Error, ScenarioError};
use crate::gpu::Gpu;
use crate::model::network::state::{RATE_NAMES, STATE_NAMES};
use crate::run::stepper::Stepper;
use crate::scenario::dorsal_horn::TissueScenario;
use crate::tissue::baseline::BaselineCache;
use crate::tissue::observe::Readout;
use crate::tissue::spatial::{SpatialQuantity, profile_quantities};
use crate::validate::eval::{CheckResult, Runs, evaluate};
use crate::validate::finding::Finding;
use crate::validate::quantity::{PAIN_COLUMNS, PhiCl, Quantity};
use crate::validate::report::{ArmInfo, FindingResult, Report, markdown};
use crate::validate::split::{HistoryEntry, Split};
use crate::validate::{groups, svg};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

/// How `dorsalhorn validate` runs what [`select`] chose.
#[derive(Debug, Clone)]
pub struct Options {
    /// `classroom`, `default` or the spacing, for the report.
    pub grid_name: String,
    pub spacing_um: f64,
    pub out: Option<PathBuf>,
    pub overwrite: bool,
    pub progress: bool,
    /// Arms run at once, each on its own GPU buffers (≥ 1); results do not depend on it.
    pub jobs: usize,
    /// The scores of earlier calibrations (`history.toml` beside the finding files), repeated
    /// in the report.
    pub history: Vec<HistoryEntry>,
}

/// Which findings and groups `only` selects (all when empty). Unknown names are errors.
pub fn select(
    findings: Vec<Finding>,
    only: &[String],
) -> Result<(Vec<Finding>, bool, bool), Error> {
    if only.is_empty() {
        return Ok((findings, true, true));
    }
    let mut keep = vec![false; findings.len()];
    let (mut analytic, mut baseline) = (false, false);
    for o in only {
        match o.as_str() {
            "analytic" => analytic = true,
            "baseline" => baseline = true,
            "findings" => keep.iter_mut().for_each(|k| *k = true),
            "quick" => {
                for (k, f) in keep.iter_mut().zip(&findings) {
                    *k |= f.quick;
                }
            }
            split if Split::ALL.iter().any(|s| s.name() == split) => {
                for (k, f) in keep.iter_mut().zip(&findings) {
                    *k |= f.about.split.name() == split;
                }
            }
            group if findings.iter().any(|f| f.group.as_deref() == Some(group)) => {
                for (k, f) in keep.iter_mut().zip(&findings) {
                    *k |= f.group.as_deref() == Some(group);
                }
            }
            id => match findings
                .iter()
                .position(|f| f.about.id.eq_ignore_ascii_case(id))
            {
                Some(i) => keep[i] = true,
                None => {
                    let ids: Vec<&str> = findings.iter().map(|f| f.about.id.as_str()).collect();
                    let mut groups: Vec<&str> =
                        findings.iter().filter_map(|f| f.group.as_deref()).collect();
                    groups.sort_unstable();
                    groups.dedup();
                    let groups: String = groups.iter().map(|g| format!("{g}, ")).collect();
                    return Err(Error::Scenario(ScenarioError::new(
                        "--only",
                        format!(
                            "`{id}` is neither a finding nor a group: use analytic, baseline, \
                             findings, quick, calibration, held-out, {groups}or one of {}",
                            ids.join(", ")
                        ),
                    )));
                }
            },
        }
    }
    let kept = findings
        .into_iter()
        .zip(keep)
        .filter_map(|(f, k)| k.then_some(f))
        .collect();
    Ok((kept, analytic, baseline))
}

/// Baselines settled once per tissue (animal, grid, sex, boundaries, settling) and reused.
struct Baselines {
    cache: Option<BaselineCache>,
    memory: Vec<(String, Vec<f32>, Vec<[f32; 4]>)>,
}

impl Baselines {
    fn tissue(
        &mut self,
        gpu: &Gpu,
        sc: &TissueScenario,
    ) -> Result<crate::tissue::TissueSim, Error> {
        let key = crate::tissue::baseline::baseline_key(gpu, sc);
        if let Some((_, s, th)) = self.memory.iter().find(|m| m.0 == key)
            && let Some(sim) = crate::tissue::baseline::tissue_from_states(gpu, sc, s, th)?
        {
            return Ok(sim);
        }
        let (sim, _) =
            crate::tissue::baseline::cached_baseline(gpu, sc, self.cache.as_ref(), &mut |_| true)?;
        self.memory.push((key, sim.read_states(gpu)?, sim.thetas()));
        Ok(sim)
    }
}

/// Runs one arm to its end; returns its read-outs. The baselines are shared between the
/// workers of `--jobs`; the progress bar counts whole model hours across them.
fn run_arm(
    gpu: &Gpu,
    baselines: &std::sync::Mutex<Baselines>,
    sc: &TissueScenario,
    spatial: &[SpatialQuantity],
    bar: &indicatif::ProgressBar,
) -> Result<Vec<Readout>, Error> {
    let sim = baselines
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .tissue(gpu, sc)?;
    let mut st = Stepper::from_baseline(gpu, sc.clone(), sim)?;
    st.read_spatial(spatial.to_vec());
    let mut shown_h = 0u64;
    while !st.finished() {
        st.step(gpu)?;
        let h = (st.time_s() / 3600.0) as u64;
        if h > shown_h {
            bar.inc(h - shown_h);
            shown_h = h;
        }
    }
    Ok(st.readouts)
}

/// An arm's time series: the pain and behaviour columns, every state, rate and occupancy in
/// laminae I–II, and the finding's own quantities.
fn csv_of(readouts: &[Readout], phi: &PhiCl, extra: &[String]) -> String {
    let mut names: Vec<String> = PAIN_COLUMNS.iter().map(|s| s.to_string()).collect();
    for f in STATE_NAMES.iter().chain(RATE_NAMES.iter()) {
        names.push(format!("{f}@I-II"));
    }
    names.push("phi_Cl@I-II".into());
    for q in extra {
        if !names.contains(q) {
            names.push(q.clone());
        }
    }
    let mut out = format!("time_h,{}\n", names.join(","));
    for rd in readouts {
        let mut row = vec![format!("{}", rd.time_s / 3600.0)];
        for q in &names {
            let v = Quantity::parse(q)
                .map(|q| q.of(rd, phi))
                .unwrap_or(f64::NAN);
            row.push(format!("{v:.6e}"));
        }
        out.push_str(&row.join(","));
        out.push('\n');
    }
    out
}

/// An arm to run once however many findings use it: its resolved-scenario key, the scenario,
/// a label for progress lines and the spatial read-outs its findings need.
struct UniqueArm {
    key: String,
    scenario: TissueScenario,
    label: String,
    spatial: Vec<SpatialQuantity>,
}

/// Runs the selected findings and groups.
pub fn run(
    gpu: &Gpu,
    findings: &[Finding],
    analytic: bool,
    baseline: bool,
    opts: &Options,
    command: &str,
) -> Result<Report, Error> {
    crate::output::RunFolder::hold(opts.out.as_deref(), opts.overwrite, "validate", || {
        run_in_claimed(gpu, findings, analytic, baseline, opts, command)
    })
}

#[expect(
    clippy::too_many_lines,
    reason = "the suite's run: the arm pool, progress, evaluation and the report files, in order"
)]
fn run_in_claimed(
    gpu: &Gpu,
    findings: &[Finding],
    analytic: bool,
    baseline: bool,
    opts: &Options,
    command: &str,
) -> Result<Report, Error> {
    let start = Instant::now();
    if let Some(out) = &opts.out {
        for sub in ["figures", "arms"] {
            let d = out.join(sub);
            std::fs::create_dir_all(&d).map_err(|e| Error::io("cannot create folder", &d, e))?;
        }
    }
    let table = crate::params::ParamTable::builtin();
    let phi = PhiCl::new(&crate::model::network::coefficients::Params::from_table(
        &table,
    ));
    let mut groups_out = Vec::new();
    if analytic {
        if opts.progress {
            eprintln!("  group analytic: heat kernel, K0 profile, conservation ...");
        }
        groups_out.extend(groups::analytic(gpu)?);
    }
    let mut baselines = Baselines {
        cache: BaselineCache::from_env(),
        memory: Vec::new(),
    };
    if baseline {
        if opts.progress {
            eprintln!(
                "  group baseline: MODEL.md §8.1 on the {} µm tissue and the well-mixed model ...",
                opts.spacing_um
            );
        }
        let sc = groups::baseline_scenario(opts.spacing_um)?;
        let sim = baselines.tissue(gpu, &sc)?;
        groups_out.extend(groups::baseline(gpu, sim)?);
    }
    // Distinct arms, in order of first use, each with the spatial read-outs of every finding
    // that uses it.
    let mut unique: Vec<UniqueArm> = Vec::new();
    for f in findings {
        // The finding's spatial quantities, and the lamina profile of each field they read
        // (drawn in its figure).
        let mut spatial: Vec<SpatialQuantity> = f
            .quantity_names()
            .iter()
            .filter_map(|q| match Quantity::parse(q) {
                Ok(Quantity::Spatial(s)) => Some(s),
                _ => None,
            })
            .collect();
        let mut fields: Vec<usize> = spatial.iter().map(|s| s.field).collect();
        fields.sort_unstable();
        fields.dedup();
        for field in fields {
            spatial.extend(profile_quantities(field));
        }
        for a in &f.arms {
            let i = match unique.iter().position(|u| u.key == a.key) {
                Some(i) => i,
                None => {
                    unique.push(UniqueArm {
                        key: a.key.clone(),
                        scenario: a.scenario.clone(),
                        label: format!("{}:{}", f.about.id, a.name),
                        spatial: Vec::new(),
                    });
                    unique.len() - 1
                }
            };
            for s in &spatial {
                if !unique[i].spatial.contains(s) {
                    unique[i].spatial.push(*s);
                }
            }
        }
    }
    let total_s: f64 = unique.iter().map(|u| u.scenario.duration_s).sum();
    let bar = crate::output::progress_bar(
        opts.progress && !unique.is_empty(),
        (total_s / 3600.0).ceil() as u64,
        "h model time (eta {eta})",
    );
    // Baselines first, one at a time (each settles once and is then shared); then the arms,
    // `opts.jobs` at a time. Each arm has its own GPU buffers, so the read-outs are the same
    // whatever the number of jobs.
    for u in &unique {
        baselines.tissue(gpu, &u.scenario)?;
    }
    let baselines = std::sync::Mutex::new(baselines);
    type ArmResult = (Result<Vec<Readout>, crate::error::BlowUp>, f64);
    let slots: Vec<std::sync::Mutex<Option<ArmResult>>> =
        unique.iter().map(|_| std::sync::Mutex::new(None)).collect();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let fatal: std::sync::Mutex<Option<Error>> = std::sync::Mutex::new(None);
    let worker = || {
        loop {
            let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            if i >= unique.len() || fatal.lock().unwrap_or_else(|e| e.into_inner()).is_some() {
                return;
            }
            let UniqueArm {
                scenario: sc,
                label,
                spatial,
                ..
            } = &unique[i];
            if opts.jobs == 1 {
                bar.set_message(format!("arm {}/{}: {label}", i + 1, unique.len()));
            } else {
                bar.set_message(format!("{} of {} arms started", i + 1, unique.len()));
            }
            let t0 = Instant::now();
            let r = match run_arm(gpu, &baselines, sc, spatial, &bar) {
                Ok(r) => Ok(r),
                // A blow-up is reported against the finding; anything else (GPU, I/O) stops
                // the run.
                Err(Error::BlowUp(b)) => Err(b),
                Err(e) => {
                    fatal
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .get_or_insert(e);
                    return;
                }
            };
            let wall = t0.elapsed().as_secs_f64();
            if opts.progress {
                let line = format!(
                    "  arm {}/{} {label}: {:.2} d in {wall:.0} s",
                    i + 1,
                    unique.len(),
                    sc.duration_s / 86400.0
                );
                if bar.is_hidden() {
                    eprintln!("{line}");
                } else {
                    bar.println(line);
                }
            }
            *slots[i].lock().unwrap_or_else(|e| e.into_inner()) = Some((r, wall));
        }
    };
    std::thread::scope(|scope| {
        for _ in 0..opts.jobs.clamp(1, unique.len().max(1)) {
            scope.spawn(worker);
        }
    });
    if let Some(e) = fatal.into_inner().unwrap_or_else(|e| e.into_inner()) {
        bar.finish_and_clear();
        return Err(e);
    }
    // The first blow-up in arm order, whatever order the jobs finished in.
    let mut first_blowup: Option<crate::error::BlowUp> = None;
    let results: Vec<(String, Result<Vec<Readout>, String>, f64)> = unique
        .iter()
        .zip(slots)
        .map(|(UniqueArm { key, .. }, slot)| {
            let (r, wall) = slot
                .into_inner()
                .unwrap_or_else(|e| e.into_inner())
                .expect("every arm ran (no fatal error)");
            let r = r.map_err(|b| {
                let text = b.to_string();
                first_blowup.get_or_insert(b);
                text
            });
            (key.clone(), r, wall)
        })
        .collect();
    bar.finish_and_clear();
    let mut out_findings = Vec::new();
    let mut errors = Vec::new();
    for f in findings {
        let mut arms = BTreeMap::new();
        let mut failed = None;
        let mut wall = 0.0;
        let mut infos = Vec::new();
        for a in &f.arms {
            let (_, r, w) = results
                .iter()
                .find(|r| r.0 == a.key)
                .expect("every arm was run");
            wall += w;
            match r {
                Ok(rd) => {
                    arms.insert(a.name.clone(), rd.as_slice());
                }
                Err(e) => failed = Some(format!("arm `{}`: {e}", a.name)),
            }
            infos.push(ArmInfo {
                name: a.name.clone(),
                label: a.label.clone(),
                base: a.base.clone(),
                changes: a.changes.clone(),
                days: a.scenario.duration_s / 86400.0,
                csv: format!("arms/{}_{}.csv", f.about.id, a.name),
            });
        }
        let runs = Runs { arms, phi };
        let checks = match &failed {
            Some(e) => {
                errors.push(format!("{}: {e}", f.about.id));
                vec![CheckResult {
                    what: "the arms run to their end".into(),
                    criterion: "no numerical blow-up".into(),
                    measured: vec![e.clone()],
                    pass: false,
                }]
            }
            None => f.checks.iter().map(|c| evaluate(&runs, c)).collect(),
        };
        if let (Some(out), None) = (&opts.out, &failed) {
            for a in &f.arms {
                let path = out.join(format!("arms/{}_{}.csv", f.about.id, a.name));
                crate::output::write_atomic(
                    &path,
                    csv_of(runs.arms[&a.name], &phi, &f.quantity_names()).as_bytes(),
                )?;
            }
            crate::output::write_atomic(
                &out.join(format!("figures/{}.svg", f.about.id)),
                svg::figure(f, &runs).as_bytes(),
            )?;
        }
        out_findings.push(FindingResult {
            about: f.about.clone(),
            reproduced: failed.is_none() && checks.iter().all(|c| c.pass),
            checks,
            arms: infos,
            wall_s: wall,
        });
    }
    let report = Report {
        dorsalhorn_version: env!("CARGO_PKG_VERSION"),
        command: command.to_string(),
        provenance: crate::output::Provenance::of_this_run(),
        adapter: gpu.summary(),
        grid: opts.grid_name.clone(),
        spacing_um: opts.spacing_um,
        wall_time_s: start.elapsed().as_secs_f64(),
        groups: groups_out,
        findings: out_findings,
        arms_run: unique.len(),
        model_days_run: total_s / 86400.0,
        history: opts.history.clone(),
    };
    if let Some(out) = &opts.out {
        let json = serde_json::to_string_pretty(&report).expect("report serialises");
        crate::output::write_atomic(&out.join("validation.json"), json.as_bytes())?;
        crate::output::write_atomic(&out.join("validation.md"), markdown(&report).as_bytes())?;
    }
    if !errors.is_empty() {
        eprintln!(
            "error: {} finding(s) could not be evaluated (the report was written): {}",
            errors.len(),
            errors.join("; ")
        );
        if let Some(b) = first_blowup {
            return Err(Error::BlowUp(b));
        }
        return Err(Error::Output(errors.join("; ")));
    }
    Ok(report)
}

// ------------------------------------------------------------------------------------------
// Reports
// ------------------------------------------------------------------------------------------
