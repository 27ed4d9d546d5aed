//! Output writers: NPY arrays, PNG frames, the CSV time series, JSON, all written atomically.
//!
//! Every file is written to a temporary name in its final folder, flushed to disk and renamed
//! into place, so an interrupted run never leaves a file that looks complete but is not.
//!
//! Longer than 600 lines: every writer shares the atomic-write and run-folder rules (claim, status,
//! lock); keeping them together keeps those rules in one place.

pub mod canvas;
pub mod netcdf;
pub mod plot;

use crate::colormap::Colormap;
use crate::error::Error;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Writes `bytes` to `path` atomically (temporary file in the same folder, fsync, rename).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("out");
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    result.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::io("cannot write output file", path, e)
    })
}

/// NPY (format 1.0) bytes of a float32 array of shape (ny, nx), C order.
pub fn npy_bytes(data: &[f32], ny: usize, nx: usize) -> Vec<u8> {
    assert_eq!(data.len(), nx * ny);
    let mut header = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': ({ny}, {nx}), }}");
    // magic (6) + version (2) + header length (2) + header + '\n' padded to a multiple of 64.
    let unpadded = 10 + header.len() + 1;
    header.push_str(&" ".repeat(unpadded.next_multiple_of(64) - unpadded));
    header.push('\n');
    let mut out = Vec::with_capacity(10 + header.len() + data.len() * 4);
    out.extend_from_slice(b"\x93NUMPY\x01\x00");
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    for v in data {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out
}

/// Reads back an NPY file written by [`npy_bytes`]: (shape (ny, nx), data).
pub fn read_npy(bytes: &[u8]) -> Option<((usize, usize), Vec<f32>)> {
    if bytes.len() < 10 || &bytes[..8] != b"\x93NUMPY\x01\x00" {
        return None;
    }
    let hlen = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
    let header = std::str::from_utf8(bytes.get(10..10 + hlen)?).ok()?;
    if !header.contains("'descr': '<f4'") || !header.contains("'fortran_order': False") {
        return None;
    }
    let shape = header.split("'shape': (").nth(1)?.split(')').next()?;
    let dims: Vec<usize> = shape
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    if dims.len() != 2 {
        return None;
    }
    let data: Vec<f32> = bytes[10 + hlen..]
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    (data.len() == dims[0] * dims[1]).then_some(((dims[0], dims[1]), data))
}

/// Reads an NPY file written by [`npy_bytes`]: (shape (ny, nx), data), or an error naming it.
pub fn read_npy_file(path: &Path) -> Result<((usize, usize), Vec<f32>), Error> {
    let bytes = std::fs::read(path).map_err(|e| Error::io("cannot read", path, e))?;
    read_npy(&bytes).ok_or_else(|| {
        Error::Output(format!(
            "{}: not a float32 (ny, nx) NPY file of this tool",
            path.display()
        ))
    })
}

/// Whether two paths name the same folder (after resolving links, when both exist).
pub fn same_folder(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}

/// PNG bytes of RGB pixels.
pub fn png_bytes(rgb: &[u8], width: usize, height: usize) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, width as u32, height as u32);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut w = enc.write_header().expect("PNG header to memory");
        w.write_image_data(rgb).expect("PNG data to memory");
    }
    out
}

/// A field as a PNG in `colormap` over `range`, row 0 at the top.
pub fn field_png(
    field: &[f32],
    nx: usize,
    ny: usize,
    colormap: Colormap,
    range: (f32, f32),
) -> Vec<u8> {
    png_bytes(&colormap.colorize(field, range), nx, ny)
}

/// Per-species statistics of one snapshot.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct Stats {
    pub mean: f64,
    pub min: f32,
    pub max: f32,
}

impl Stats {
    pub fn of(field: &[f32]) -> Stats {
        let (mut sum, mut min, mut max) = (0.0f64, f32::INFINITY, f32::NEG_INFINITY);
        for &v in field {
            sum += v as f64;
            min = min.min(v);
            max = max.max(v);
        }
        Stats {
            mean: sum / field.len() as f64,
            min,
            max,
        }
    }
}

/// A CSV field, quoted when it holds a comma, quote or newline (RFC 4180).
pub fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// The time series: a header and one row per output, appended as it grows ([`GrowingFile`]).
pub struct TimeSeries {
    file: GrowingFile,
}

impl TimeSeries {
    pub fn new(path: PathBuf, species: &[String]) -> TimeSeries {
        let mut text = String::from("time_s,step");
        for s in species {
            text.push_str(&format!(",{s}_mean,{s}_min,{s}_max"));
        }
        text.push('\n');
        TimeSeries {
            file: GrowingFile::new(path, text),
        }
    }

    pub fn push(&mut self, time_s: f64, step: u64, stats: &[Stats]) -> Result<(), Error> {
        let mut row = format!("{time_s},{step}");
        for s in stats {
            row.push_str(&format!(",{:e},{:e},{:e}", s.mean, s.min, s.max));
        }
        row.push('\n');
        self.file.append(&row)
    }

    /// Writes the rows not yet on disk.
    pub fn flush(&mut self) -> Result<(), Error> {
        self.file.flush()
    }
}

/// A text file that grows by rows during a run (`timeseries.csv`): the header and each row are
/// appended and handed to the operating system as they come (one `write` per row, so a reader
/// such as `tail -f` or a plotting script sees every row at once), and the file is synced to disk
/// on [`GrowingFile::flush`] and when dropped (the end of a run, an error, an interruption). Each
/// byte is written once: a 1-day run sampled every 0.02 h writes its 5.7 MB file and no more (the
/// first version rewrote the whole file per row: 3.4 GB). On disk the file is always the header
/// and whole rows up to the last output; `status.json` says whether the run completed.
pub struct GrowingFile {
    path: PathBuf,
    head: Option<String>,
    file: Option<std::fs::File>,
}

impl GrowingFile {
    /// A file that starts with `head` (written on the first append or flush; an earlier file of
    /// that name is replaced then).
    pub fn new(path: PathBuf, head: String) -> GrowingFile {
        GrowingFile {
            path,
            head: Some(head),
            file: None,
        }
    }

    fn open(&mut self) -> Result<&mut std::fs::File, Error> {
        if self.file.is_none() {
            let mut f = std::fs::File::create(&self.path)
                .map_err(|e| Error::io("cannot write output file", &self.path, e))?;
            if let Some(h) = self.head.take() {
                f.write_all(h.as_bytes())
                    .map_err(|e| Error::io("cannot write output file", &self.path, e))?;
            }
            self.file = Some(f);
        }
        Ok(self.file.as_mut().expect("just opened"))
    }

    /// Appends `row` (with its newline) in one write.
    pub fn append(&mut self, row: &str) -> Result<(), Error> {
        let path = self.path.clone();
        self.open()?
            .write_all(row.as_bytes())
            .map_err(|e| Error::io("cannot write output file", &path, e))
    }

    /// Syncs what was written to disk (writing the header first if no row came yet).
    pub fn flush(&mut self) -> Result<(), Error> {
        let path = self.path.clone();
        self.open()?
            .sync_data()
            .map_err(|e| Error::io("cannot write output file", &path, e))
    }
}

impl Drop for GrowingFile {
    /// The rows reach the disk on every way out (an error, an interruption).
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

/// The status file of an output folder: what wrote it, and whether that finished.
pub const STATUS_FILE: &str = "status.json";
/// The lock file held for the life of a run or validation (`File::try_lock`).
pub const LOCK_FILE: &str = ".dorsalhorn.lock";

/// Files a run or a validation writes at the top of its folder.
const OWN_FILES: &[&str] = &[
    "timeseries.csv",
    "timeseries_units.csv",
    "summary.json",
    "scenario.toml",
    "provenance.json",
    "fields.nc",
    "regions.npy",
    "movie.gif",
    "movie.mp4",
    "movie.webm",
    "validation.md",
    "validation.json",
    "claims.json",
    "checkpoint.bin",
    STATUS_FILE,
];
/// Sub-folders a run or a validation writes, with the extensions of the files it puts there
/// (`figures/`: the validation's SVGs, a run's composed PNGs).
const OWN_FOLDERS: &[(&str, &[&str])] = &[
    ("fields", &["npy"]),
    ("frames", &["png"]),
    ("figures", &["svg", "png"]),
    ("steps", &["png"]),
    ("arms", &["csv"]),
];

/// Where the run that wrote a folder stands (`state` in `status.json`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunState {
    /// Started, not (yet) ended; with the lock free, the run was killed or crashed.
    Running,
    Completed,
    Interrupted,
    Failed,
}

/// What an output folder's `status.json` says.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct FolderStatus {
    /// `run` or `validate`: what wrote the folder (also the marker that it is ours).
    pub dorsalhorn: String,
    pub dorsalhorn_version: String,
    pub state: RunState,
    /// Why it failed or where it was interrupted; empty otherwise.
    #[serde(default)]
    pub reason: String,
    pub command: String,
    pub pid: u32,
    /// Seconds since 1970 (UTC) at the start and at the last change of state.
    pub started_unix_s: u64,
    pub updated_unix_s: u64,
}

/// Seconds since 1970 (UTC) now (0 if the clock is before 1970).
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// An output folder held by this process for the length of a run or a validation: an exclusive
/// lock (so that a second run into the same folder is refused, not mixed in), the marker and
/// state in `status.json` (`running`, then `completed`, `interrupted` or `failed`), and the rule
/// that `--overwrite` removes only what a dorsalhorn run wrote there.
pub struct RunFolder {
    dir: PathBuf,
    status: FolderStatus,
    /// Held open (and locked) until the folder is finished or dropped.
    _lock: std::fs::File,
    finished: bool,
}

impl RunFolder {
    /// Creates `dir` if needed, takes its lock, refuses a folder that holds an earlier run
    /// unless `overwrite` (saying what that run was), removes that run's own files when
    /// overwriting, proves the folder writable and marks it `running`. `kind` is `run` or
    /// `validate`.
    pub fn claim(dir: &Path, overwrite: bool, kind: &str) -> Result<RunFolder, Error> {
        create_dir(dir)?;
        let lock = take_lock(dir)?;
        let existing = own_entries(dir);
        if !existing.is_empty() {
            let status = read_status(dir);
            let earlier = match &status {
                Some(s) => describe(s),
                None if is_legacy_run(dir) => "a run of an earlier dorsalhorn version".into(),
                None => {
                    return Err(Error::Output(format!(
                        "output folder {} holds {} but no {STATUS_FILE} of a dorsalhorn run, so \
                         they may not be ours and --overwrite will not delete them. Move them \
                         away, or choose another folder with --out.",
                        dir.display(),
                        existing.join(", ")
                    )));
                }
            };
            if !overwrite {
                return Err(Error::Output(format!(
                    "output folder {} already holds {earlier} ({}). Pass --overwrite to replace \
                     it, or choose another folder with --out.",
                    dir.display(),
                    existing.join(", ")
                )));
            }
            remove_own(dir)?;
        }
        prove_writable(dir)?;
        RunFolder::mark_running(dir, kind, lock)
    }

    /// Takes `dir` back to continue the run of `kind` it holds (`dorsalhorn resume`): its lock,
    /// and a status that says the run did not complete (interrupted, failed, or killed while
    /// running); nothing in it is removed. A completed run, a folder of another kind or without
    /// a status is refused with the reason.
    pub fn reopen(dir: &Path, kind: &str) -> Result<RunFolder, Error> {
        if !dir.is_dir() {
            return Err(Error::Output(format!(
                "{} is not a folder: give the output folder of the run to resume",
                dir.display()
            )));
        }
        let lock = take_lock(dir)?;
        let Some(status) = read_status(dir) else {
            return Err(Error::Output(format!(
                "{} holds no {STATUS_FILE} of a dorsalhorn run: give the output folder of the \
                 run to resume",
                dir.display()
            )));
        };
        if status.dorsalhorn != kind {
            return Err(Error::Output(format!(
                "{} holds a {} folder, not a {kind}: only runs can be resumed",
                dir.display(),
                status.dorsalhorn
            )));
        }
        if status.state == RunState::Completed {
            return Err(Error::Output(format!(
                "{} holds a completed run (`{}`): there is nothing to resume",
                dir.display(),
                status.command
            )));
        }
        prove_writable(dir)?;
        RunFolder::mark_running(dir, kind, lock)
    }

    fn mark_running(dir: &Path, kind: &str, lock: std::fs::File) -> Result<RunFolder, Error> {
        let now = unix_now();
        let mut folder = RunFolder {
            dir: dir.to_path_buf(),
            status: FolderStatus {
                dorsalhorn: kind.to_string(),
                dorsalhorn_version: env!("CARGO_PKG_VERSION").to_string(),
                state: RunState::Running,
                reason: String::new(),
                command: command_line(),
                pid: std::process::id(),
                started_unix_s: now,
                updated_unix_s: now,
            },
            _lock: lock,
            finished: false,
        };
        folder.write_status()?;
        Ok(folder)
    }

    /// Runs `body` holding `dir` (claimed as [`RunFolder::claim`], then marked by the outcome),
    /// or simply runs it when there is no folder.
    pub fn hold<T>(
        dir: Option<&Path>,
        overwrite: bool,
        kind: &str,
        body: impl FnOnce() -> Result<T, Error>,
    ) -> Result<T, Error> {
        match dir {
            Some(d) => {
                let folder = RunFolder::claim(d, overwrite, kind)?;
                folder.finish(body())
            }
            None => body(),
        }
    }

    /// Runs `body` in `dir` taken back with [`RunFolder::reopen`], then marks it by the outcome.
    pub fn hold_reopened<T>(
        dir: &Path,
        kind: &str,
        body: impl FnOnce() -> Result<T, Error>,
    ) -> Result<T, Error> {
        let folder = RunFolder::reopen(dir, kind)?;
        folder.finish(body())
    }

    fn write_status(&mut self) -> Result<(), Error> {
        self.status.updated_unix_s = unix_now();
        let json = serde_json::to_string_pretty(&self.status).expect("status serialises");
        write_atomic(&self.dir.join(STATUS_FILE), json.as_bytes())
    }

    /// Marks the folder by the outcome of the work done in it: `completed`, `interrupted`
    /// (with the model time) or `failed` (with the error), and hands the outcome back. A failure
    /// to write the status is reported only when the work itself succeeded.
    pub fn finish<T>(mut self, outcome: Result<T, Error>) -> Result<T, Error> {
        self.finished = true;
        match &outcome {
            Ok(_) => self.status.state = RunState::Completed,
            Err(Error::Interrupted { time_s, resume }) => {
                self.status.state = RunState::Interrupted;
                self.status.reason = crate::error::interrupted_at(*time_s);
                if let Some(cmd) = resume {
                    self.status.reason += &format!("; checkpoint written: `{cmd}` continues it");
                }
            }
            Err(e) => {
                self.status.state = RunState::Failed;
                self.status.reason = e.to_string();
            }
        }
        let written = self.write_status();
        match outcome {
            Ok(v) => written.map(|()| v),
            Err(e) => Err(e),
        }
    }
}

impl Drop for RunFolder {
    /// A folder dropped without [`RunFolder::finish`] (a panic) is marked `failed`.
    fn drop(&mut self) {
        if !self.finished {
            self.status.state = RunState::Failed;
            self.status.reason = "the program stopped unexpectedly (an internal error)".into();
            let _ = self.write_status();
        }
    }
}

/// FNV-1a (64 bit) of `bytes`, continuing from `h` (start with [`FNV_START`]): stable across
/// runs and builds (unlike std's RandomState); the checksum of the baseline cache and of run
/// checkpoints.
pub fn fnv1a(mut h: u64, bytes: &[u8]) -> u64 {
    for b in bytes {
        h = (h ^ *b as u64).wrapping_mul(0x100000001b3);
    }
    h
}
/// The FNV-1a offset basis.
pub const FNV_START: u64 = 0xcbf29ce484222325;

/// Takes the exclusive lock of `dir` (held while the returned file is open), or says which run
/// holds it.
fn take_lock(dir: &Path) -> Result<std::fs::File, Error> {
    let lock_path = dir.join(LOCK_FILE);
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|_| not_writable(dir))?;
    match lock.try_lock() {
        Ok(()) => Ok(lock),
        Err(std::fs::TryLockError::WouldBlock) => {
            let who = read_status(dir)
                .map(|s| format!(" (`{}`, process {})", s.command, s.pid))
                .unwrap_or_default();
            Err(Error::Output(format!(
                "output folder {} is in use by another dorsalhorn run{who}. Wait for it to \
                 finish, or choose another folder with --out.",
                dir.display()
            )))
        }
        Err(std::fs::TryLockError::Error(e)) => {
            Err(Error::io("cannot lock the output folder", &lock_path, e))
        }
    }
}

/// Where a run's numbers come from, beyond its scenario: the command line, the source revision
/// of the binary and every parameter edited through `DORSALHORN_PARAM_SET` (with its shipped
/// value), so that two runs with different parameters never look alike.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Provenance {
    pub command: String,
    /// The commit the binary was built from (`-modified` when its sources differed from it;
    /// `unknown` outside a git checkout).
    pub source_revision: &'static str,
    /// `$DORSALHORN_PARAM_SET` as given, if set.
    pub param_set: Option<String>,
    pub edited_parameters: Vec<crate::params::EditedParam>,
}

impl Provenance {
    /// The provenance of this process.
    pub fn of_this_run() -> Provenance {
        let table = crate::params::ParamTable::builtin();
        Provenance {
            command: command_line(),
            source_revision: env!("DORSALHORN_GIT_REV"),
            param_set: std::env::var(crate::params::PARAM_SET_VAR)
                .ok()
                .filter(|s| !s.trim().is_empty()),
            edited_parameters: table.differences(&crate::params::ParamTable::shipped()),
        }
    }
}

/// The command line of this process, for the status file.
fn command_line() -> String {
    let mut args = std::env::args();
    let program = args
        .next()
        .map(|a| {
            Path::new(&a)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or(a)
        })
        .unwrap_or_else(|| "dorsalhorn".into());
    std::iter::once(program)
        .chain(args)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The status file of `dir`, if it holds a readable one.
pub fn read_status(dir: &Path) -> Option<FolderStatus> {
    let text = std::fs::read_to_string(dir.join(STATUS_FILE)).ok()?;
    serde_json::from_str(&text).ok()
}

/// "a completed run (…)" and the like, for the refusal message.
fn describe(s: &FolderStatus) -> String {
    let what = if s.dorsalhorn == "validate" {
        "validation"
    } else {
        "run"
    };
    match s.state {
        RunState::Completed => format!("a completed {what} (`{}`)", s.command),
        RunState::Interrupted => format!("an interrupted {what} (`{}`, {})", s.command, s.reason),
        RunState::Failed => format!("a failed {what} (`{}`: {})", s.command, s.reason),
        RunState::Running => format!(
            "a {what} that stopped without finishing (`{}`, process {}; killed or crashed)",
            s.command, s.pid
        ),
    }
}

/// Whether `dir` holds the summary of a run written before status files existed.
fn is_legacy_run(dir: &Path) -> bool {
    ["summary.json", "validation.json"].iter().any(|f| {
        std::fs::read_to_string(dir.join(f)).is_ok_and(|t| t.contains("\"dorsalhorn_version\""))
    })
}

/// The entries of `dir` a run or a validation would write (present ones only).
fn own_entries(dir: &Path) -> Vec<String> {
    OWN_FILES
        .iter()
        .copied()
        .chain(OWN_FOLDERS.iter().map(|(d, _)| *d))
        .filter(|e| dir.join(e).exists())
        .map(str::to_string)
        .collect()
}

/// Removes what a dorsalhorn run wrote in `dir`: its top-level files, the files of its kind in
/// its sub-folders (and their temporaries), and those sub-folders if nothing else is left in
/// them. Anything else (a `fields/notes.txt`) stays.
fn remove_own(dir: &Path) -> Result<(), Error> {
    let remove = |p: &Path| {
        std::fs::remove_file(p)
            .map_err(|e| Error::io("cannot remove the earlier run's output", p, e))
    };
    for f in OWN_FILES {
        let p = dir.join(f);
        if p.is_file() {
            remove(&p)?;
        }
    }
    remove_temporaries(dir)?;
    // Other hidden temporaries at the top (the figures' spill, `.figure-fields.tmp-run`).
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') && name.contains(".tmp-") && entry.path().is_file() {
            remove(&entry.path())?;
        }
    }
    for (sub, exts) in OWN_FOLDERS {
        let d = dir.join(sub);
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let p = entry.path();
            let ours = p.extension().is_some_and(|e| exts.iter().any(|x| e == *x));
            if ours && p.is_file() {
                remove(&p)?;
            }
        }
        // Removed only when empty: a folder holding someone else's files stays.
        let _ = std::fs::remove_dir(&d);
    }
    Ok(())
}

/// Whether a file name is a writer's temporary named after its process (`.NAME.tmp-PID` of
/// [`write_atomic`], the movie's `.movie.tmp-PID.EXT`). The figures' spill
/// (`.figure-fields.tmp-run`) is not one: a resumed run reads it.
fn is_process_temporary(name: &str) -> bool {
    name.starts_with('.')
        && name
            .split_once(".tmp-")
            .is_some_and(|(_, pid)| pid.starts_with(|c: char| c.is_ascii_digit()))
}

/// Removes the temporaries a killed or crashed writer left in `dir` and in the sub-folders a
/// run writes (`.summary.json.tmp-PID`, `fields/.M_t60min.npy.tmp-PID`, `.checkpoint.bin.tmp-PID`):
/// a run that takes the folder over (`--overwrite`, `resume`) holds its lock, so no live
/// process owns them.
pub fn remove_temporaries(dir: &Path) -> Result<(), Error> {
    let folders =
        std::iter::once(dir.to_path_buf()).chain(OWN_FOLDERS.iter().map(|(d, _)| dir.join(d)));
    for d in folders {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let p = entry.path();
            if is_process_temporary(&entry.file_name().to_string_lossy()) && p.is_file() {
                std::fs::remove_file(&p)
                    .map_err(|e| Error::io("cannot remove a killed run's temporary file", &p, e))?;
            }
        }
    }
    Ok(())
}

/// Prepares a folder that collects files over time (screenshots, CSV exports of the viewer):
/// creates it and proves it is writable; nothing in it is removed.
pub fn prepare_dir_keep(dir: &Path) -> Result<(), Error> {
    create_dir(dir)?;
    prove_writable(dir)
}

fn create_dir(dir: &Path) -> Result<(), Error> {
    std::fs::create_dir_all(dir).map_err(|e| {
        Error::io(
            "cannot create the output folder (choose another with --out)",
            dir,
            e,
        )
    })
}

fn not_writable(dir: &Path) -> Error {
    Error::Output(format!(
        "output folder {} is not writable: check its permissions or choose another with --out",
        dir.display()
    ))
}

fn prove_writable(dir: &Path) -> Result<(), Error> {
    write_atomic(&dir.join(".write-test"), b"ok").map_err(|_| not_writable(dir))?;
    let _ = std::fs::remove_file(dir.join(".write-test"));
    Ok(())
}

/// Seconds between progress lines when stderr is not a terminal ([`progress_bar`]).
pub const LOG_PROGRESS_EVERY_S: u64 = 30;

/// Progress as whole lines for a log (stderr not a terminal: a cluster job, `2>&1 | tee log`),
/// where a redrawn bar would print nothing (indicatif hides it) or fill the log: the bar's text
/// at once, then at most every [`LOG_PROGRESS_EVERY_S`] seconds.
#[derive(Debug)]
struct LogLines {
    last: std::sync::Mutex<Option<std::time::Instant>>,
}

impl LogLines {
    fn emit(&self, s: &str) -> std::io::Result<()> {
        if s.trim().is_empty() {
            return Ok(());
        }
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        let due = last.is_none_or(|t| t.elapsed().as_secs() >= LOG_PROGRESS_EVERY_S);
        if due {
            *last = Some(std::time::Instant::now());
            let mut err = std::io::stderr().lock();
            writeln!(err, "{}", s.trim_end())?;
        }
        Ok(())
    }
}

impl indicatif::TermLike for LogLines {
    fn width(&self) -> u16 {
        120
    }
    fn move_cursor_up(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }
    fn move_cursor_down(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }
    fn move_cursor_right(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }
    fn move_cursor_left(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }
    fn write_line(&self, s: &str) -> std::io::Result<()> {
        self.emit(s)
    }
    fn write_str(&self, s: &str) -> std::io::Result<()> {
        self.emit(s)
    }
    fn clear_line(&self) -> std::io::Result<()> {
        Ok(())
    }
    fn flush(&self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

/// A progress bar on stderr (hidden when `show` is false): spinner, elapsed time, bar,
/// `pos/len` followed by `what` (e.g. "h model time (eta {eta})"), then the message. When
/// stderr is not a terminal the same text comes as plain lines, the first at once and then one
/// every [`LOG_PROGRESS_EVERY_S`] seconds.
pub fn progress_bar(show: bool, len: u64, what: &str) -> indicatif::ProgressBar {
    if !show {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(len);
    if !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        bar.set_draw_target(indicatif::ProgressDrawTarget::term_like_with_hz(
            Box::new(LogLines {
                last: std::sync::Mutex::new(None),
            }),
            1,
        ));
    }
    bar.set_style(
        indicatif::ProgressStyle::with_template(&format!(
            "{{spinner}} [{{elapsed_precise}}] {{bar:40}} {{pos}}/{{len}} {what} {{msg}}"
        ))
        .expect("valid progress template"),
    );
    bar
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn npy_round_trip_and_alignment() {
        let data: Vec<f32> = (0..15).map(|i| i as f32 * 0.5).collect();
        let b = npy_bytes(&data, 3, 5);
        let hlen = u16::from_le_bytes([b[8], b[9]]) as usize;
        assert_eq!((10 + hlen) % 64, 0, "data must start on a 64-byte boundary");
        assert_eq!(b[10 + hlen - 1], b'\n');
        let ((ny, nx), back) = read_npy(&b).unwrap();
        assert_eq!((ny, nx), (3, 5));
        assert_eq!(back, data);
    }

    #[test]
    fn atomic_write_leaves_no_temporary() {
        let dir = std::env::temp_dir().join(format!("dh-atomic-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("a.txt");
        write_atomic(&p, b"hello").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"hello");
        let names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A resumed or overwritten run removes what a killed writer left half-written, and only
    /// that: the figures' spill, which a resumed run reads, and files that are not a writer's
    /// temporaries stay.
    #[test]
    fn killed_writers_temporaries_are_removed_and_nothing_else() {
        let dir = std::env::temp_dir().join(format!("dh-tmps-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("fields")).unwrap();
        let stale = [
            ".checkpoint.bin.tmp-4242",
            ".movie.tmp-4242.gif",
            "fields/.M_t60min.npy.tmp-17",
        ];
        let kept = [
            ".figure-fields.tmp-run",
            "notes.txt",
            "fields/M_t60min.npy",
            "fields/.tmp-notes",
        ];
        for f in stale.iter().chain(&kept) {
            std::fs::write(dir.join(f), b"x").unwrap();
        }
        remove_temporaries(&dir).unwrap();
        for f in stale {
            assert!(!dir.join(f).exists(), "{f} should be removed");
        }
        for f in kept {
            assert!(dir.join(f).exists(), "{f} should stay");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn stats() {
        let s = Stats::of(&[1.0, 2.0, 6.0]);
        assert_eq!((s.mean, s.min, s.max), (3.0, 1.0, 6.0));
    }
}
