//! A run folder as the start of more work (layer 4): the replay files every run writes when it
//! starts (`scenario.toml`, `provenance.json`: `dorsalhorn run --from DIR` replays the run), and
//! continuing a stopped run (`dorsalhorn resume DIR`: the folder taken back, its checkpoint
//! checked against this build and the folder's scenario and parameters, and the rest of the
//! loop of [`run`](crate::run::dorsal_horn::run) run from it), with what the loop needs to write
//! checkpoints (`CheckpointMeta`) and to say that a stopped run can be resumed. The file
//! format is in [`checkpoint`].

use crate::error::Error;
use crate::figure::FigureWriter;
use crate::gpu::Gpu;
use crate::output;
use crate::run::checkpoint::{self, Resumed, RunCheckpoint};
use crate::run::dorsal_horn::{TissueRun, TissueRunOptions, run_in_claimed};
use crate::run::stepper::Stepper;
use crate::scenario::dorsal_horn::TissueScenario;
use std::path::PathBuf;
use std::time::Instant;

/// Continues the interrupted run in `opts.out_dir` from its `checkpoint.bin` (`dorsalhorn
/// resume`): `sc` is the folder's scenario.toml, read with the parameters of its
/// provenance.json. Refused when the folder holds a completed run or none, when the checkpoint
/// is missing or damaged, when it was written by another build, or when the scenario or the
/// parameters differ from the run's. The files the run writes are then byte for byte those of
/// the run had it never stopped (on the same adapter; another adapter is allowed, with a
/// warning, as its arithmetic may differ in the last bits).
pub fn resume(gpu: &Gpu, sc: &TissueScenario, opts: &TissueRunOptions) -> Result<TissueRun, Error> {
    let dir = opts
        .out_dir
        .as_deref()
        .expect("a resumed run has its folder");
    output::RunFolder::hold_reopened(dir, "run", || {
        let ck = checkpoint::read(dir)?;
        let this_revision = env!("DORSALHORN_GIT_REV");
        if ck.dorsalhorn_version != env!("CARGO_PKG_VERSION") || ck.source_revision != this_revision
        {
            return Err(Error::Output(format!(
                "{} was written by dorsalhorn {} ({}), this is dorsalhorn {} ({this_revision}): \
                 another build may step differently, so the continuation would not match the \
                 run's first part. Resume with the build of {}, or start again with \
                 `dorsalhorn run --from {} --out NEW_DIR`",
                dir.join(checkpoint::CHECKPOINT_FILE).display(),
                ck.dorsalhorn_version,
                ck.source_revision,
                env!("CARGO_PKG_VERSION"),
                ck.source_revision,
                dir.display()
            )));
        }
        if ck.scenario_digest != checkpoint::scenario_digest(sc) {
            return Err(Error::Output(format!(
                "the scenario ({}) or the model parameters differ from those the run in {} \
                 started with: scenario.toml was edited, or $DORSALHORN_PARAM_SET differs from \
                 the one in its provenance.json. Restore them, or start again with `dorsalhorn \
                 run --from {} --out NEW_DIR`",
                dir.join(REPLAY_SCENARIO).display(),
                dir.display(),
                dir.display()
            )));
        }
        if ck.adapter != gpu.info.name {
            eprintln!(
                "warning: the run started on {} and continues on {}: the continuation is \
                 correct, but may differ in the last bits from the run had it not stopped",
                ck.adapter, gpu.info.name
            );
        }
        with_resume_hint(opts, run_in_claimed(gpu, sc, opts, Some(ck)))
    })
}

/// Adds `dorsalhorn resume DIR` to an interruption when the folder holds a checkpoint.
pub(crate) fn with_resume_hint<T>(
    opts: &TissueRunOptions,
    outcome: Result<T, Error>,
) -> Result<T, Error> {
    match (outcome, &opts.out_dir) {
        (Err(Error::Interrupted { time_s, .. }), Some(dir))
            if opts.checkpoint_every_s.is_some()
                && dir.join(checkpoint::CHECKPOINT_FILE).exists() =>
        {
            Err(Error::Interrupted {
                time_s,
                resume: Some(format!("dorsalhorn resume {}", dir.display())),
            })
        }
        (outcome, _) => outcome,
    }
}

/// What a checkpoint records besides the loop's state: where the run came from.
pub(crate) struct CheckpointMeta {
    pub dir: PathBuf,
    pub every_s: Option<f64>,
    pub command: String,
    pub adapter: String,
    pub digest: u64,
    pub resumed: Vec<Resumed>,
    pub wall_before_s: f64,
}

impl CheckpointMeta {
    /// Writes the checkpoint of the run as it stands (after a whole step and its writes).
    pub fn save(
        &self,
        gpu: &Gpu,
        st: &Stepper,
        figures: Option<&FigureWriter>,
        snapshot_minutes: &[u64],
        next_snapshot_s: f64,
        started: Instant,
    ) -> Result<(), Error> {
        let ck = RunCheckpoint {
            dorsalhorn_version: env!("CARGO_PKG_VERSION").into(),
            source_revision: env!("DORSALHORN_GIT_REV").into(),
            scenario_digest: self.digest,
            adapter: self.adapter.clone(),
            command: self.command.clone(),
            saved_unix_s: output::unix_now(),
            wall_s: self.wall_before_s + started.elapsed().as_secs_f64(),
            every_s: self.every_s,
            resumed: self.resumed.clone(),
            stepper: st.save(gpu)?,
            snapshot_minutes: snapshot_minutes.to_vec(),
            next_snapshot_s,
            figures: figures.map(FigureWriter::state).transpose()?,
        };
        checkpoint::write(&self.dir, &ck)
    }
}

/// Removes the snapshots (NPY, PNG) after `last_minute` that a run wrote after its checkpoint
/// and before it stopped: the continuation writes them again.
pub(crate) fn prune_snapshots_after(dir: &std::path::Path, last_minute: u64) -> Result<(), Error> {
    for sub in ["fields", "frames"] {
        let Ok(entries) = std::fs::read_dir(dir.join(sub)) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let minute = name
                .rsplit_once("_t")
                .and_then(|(_, t)| t.split_once("min."))
                .and_then(|(m, _)| m.parse::<u64>().ok());
            if minute.is_some_and(|m| m > last_minute) {
                std::fs::remove_file(entry.path())
                    .map_err(|e| Error::io("cannot remove a stale snapshot", entry.path(), e))?;
            }
        }
    }
    Ok(())
}

/// The two files that let `dorsalhorn run --from DIR` replay a run, written when it starts (so an
/// interrupted run can be replayed too): `scenario.toml`, the resolved scenario (file plus `--set`
/// edits), and `provenance.json`: version, source revision, command line,
/// `$DORSALHORN_PARAM_SET` and the parameters it changed, adapter and driver.
pub(crate) fn write_replay_files(
    gpu: &Gpu,
    sc: &TissueScenario,
    dir: &std::path::Path,
) -> Result<(), Error> {
    let p = output::Provenance::of_this_run();
    let toml_text = format!(
        "# The resolved scenario of this run: {} with the command line's --set edits.\n\
         # `dorsalhorn run --from {}` replays the run (with the parameters in provenance.json).\n\n{}",
        sc.origin,
        dir.display(),
        toml::to_string(&sc.resolved_toml).expect("a TOML table serialises")
    );
    output::write_atomic(&dir.join(REPLAY_SCENARIO), toml_text.as_bytes())?;
    let json = serde_json::json!({
        "dorsalhorn_version": env!("CARGO_PKG_VERSION"),
        "provenance": p,
        "adapter": gpu.summary(),
        "scenario_origin": sc.origin,
    });
    output::write_atomic(
        &dir.join(REPLAY_PROVENANCE),
        serde_json::to_string_pretty(&json)
            .expect("provenance serialises")
            .as_bytes(),
    )
}

/// The resolved scenario in a run folder.
pub const REPLAY_SCENARIO: &str = "scenario.toml";
/// The provenance of a run, written when it starts.
pub const REPLAY_PROVENANCE: &str = "provenance.json";

/// The `$DORSALHORN_PARAM_SET` a run folder was made with (`None`: the shipped table), from its
/// provenance.json.
pub fn replay_param_set(dir: &std::path::Path) -> Result<Option<String>, Error> {
    let path = dir.join(REPLAY_PROVENANCE);
    let bytes = std::fs::read(&path).map_err(|e| {
        Error::io(
            "not a run folder of this version (no provenance.json; runs made before it cannot be replayed with --from or resumed)",
            &path,
            e,
        )
    })?;
    let v: serde_json::Value = serde_json::from_slice(&bytes)
        .map_err(|e| Error::Output(format!("{}: {e}", path.display())))?;
    Ok(v["provenance"]["param_set"].as_str().map(str::to_string))
}
