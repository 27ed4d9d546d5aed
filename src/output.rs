//! Output writers: NPY arrays, PNG frames, the CSV time series, JSON, all written atomically.
//!
//! Every file is written to a temporary name in its final folder, flushed to disk and renamed
//! into place, so an interrupted run never leaves a file that looks complete but is not.

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

/// The time series: a header and one row per output, rewritten atomically as it grows.
pub struct TimeSeries {
    path: PathBuf,
    text: String,
}

impl TimeSeries {
    pub fn new(path: PathBuf, species: &[String]) -> TimeSeries {
        let mut text = String::from("time_s,step");
        for s in species {
            text.push_str(&format!(",{s}_mean,{s}_min,{s}_max"));
        }
        text.push('\n');
        TimeSeries { path, text }
    }

    pub fn push(&mut self, time_s: f64, step: u64, stats: &[Stats]) -> Result<(), Error> {
        self.text.push_str(&format!("{time_s},{step}"));
        for s in stats {
            self.text
                .push_str(&format!(",{:e},{:e},{:e}", s.mean, s.min, s.max));
        }
        self.text.push('\n');
        write_atomic(&self.path, self.text.as_bytes())
    }
}

/// Names of the entries a run writes into its output folder.
pub const RUN_ENTRIES: &[&str] = &["fields", "frames", "timeseries.csv", "summary.json"];

/// Prepares an output folder: creates it, refuses one holding an earlier run unless
/// `overwrite` (then removes that run's entries), and proves it is writable.
pub fn prepare_dir(dir: &Path, overwrite: bool) -> Result<(), Error> {
    create_dir(dir)?;
    let existing: Vec<&str> = RUN_ENTRIES
        .iter()
        .copied()
        .filter(|e| dir.join(e).exists())
        .collect();
    if !existing.is_empty() {
        if !overwrite {
            return Err(Error::Output(format!(
                "output folder {} already holds a run ({}). Pass --overwrite to replace it, or \
                 choose another folder with --out.",
                dir.display(),
                existing.join(", ")
            )));
        }
        for e in existing {
            let p = dir.join(e);
            let r = if p.is_dir() {
                std::fs::remove_dir_all(&p)
            } else {
                std::fs::remove_file(&p)
            };
            r.map_err(|err| Error::io("cannot remove the earlier run's output", &p, err))?;
        }
    }
    prove_writable(dir)
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

fn prove_writable(dir: &Path) -> Result<(), Error> {
    write_atomic(&dir.join(".write-test"), b"ok").map_err(|_| {
        Error::Output(format!(
            "output folder {} is not writable: check its permissions or choose another with --out",
            dir.display()
        ))
    })?;
    let _ = std::fs::remove_file(dir.join(".write-test"));
    Ok(())
}

/// A progress bar on stderr (hidden when `show` is false): spinner, elapsed time, bar,
/// `pos/len` followed by `what` (e.g. "h model time (eta {eta})"), then the message.
pub fn progress_bar(show: bool, len: u64, what: &str) -> indicatif::ProgressBar {
    if !show {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(len);
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

    #[test]
    fn stats() {
        let s = Stats::of(&[1.0, 2.0, 6.0]);
        assert_eq!((s.mean, s.min, s.max), (3.0, 1.0, 6.0));
    }
}
