//! Movies from the figures of a run: animated GIF encoded in-process (one palette for the whole
//! movie, so colours do not flicker between frames), MP4 and WebM through `ffmpeg` when it is
//! installed. Without ffmpeg the run says so, names the PNG sequence and the command that makes
//! the movie from it; the run itself does not fail.

use crate::error::Error;
use crate::output;
use crate::scenario::figures::MovieFormat;
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// What became of a requested movie.
#[derive(Debug)]
pub enum Outcome {
    Written,
    /// No movie, and why (with what to do).
    Skipped(String),
}

/// Encodes the PNG figures `frames` (all of one size) into `out` at `fps` frames per second,
/// atomically (a temporary file renamed into place).
pub fn encode(
    format: MovieFormat,
    frames: &[PathBuf],
    fps: u32,
    out: &Path,
) -> Result<Outcome, Error> {
    match format {
        MovieFormat::Gif => {
            let bytes = gif_bytes(frames, fps)?;
            output::write_atomic(out, &bytes)?;
            Ok(Outcome::Written)
        }
        MovieFormat::Mp4 | MovieFormat::Webm => ffmpeg(format, frames, fps, out),
    }
}

/// (width, height, RGB) of a PNG written by [`output::png_bytes`].
pub fn read_png(path: &Path) -> Result<(u32, u32, Vec<u8>), Error> {
    let file = std::fs::File::open(path).map_err(|e| Error::io("cannot read", path, e))?;
    let bad = |e: &dyn std::fmt::Display| Error::Output(format!("{}: {e}", path.display()));
    let mut reader = png::Decoder::new(std::io::BufReader::new(file))
        .read_info()
        .map_err(|e| bad(&e))?;
    let mut buf = vec![0; reader.output_buffer_size().unwrap_or(0)];
    let info = reader.next_frame(&mut buf).map_err(|e| bad(&e))?;
    if info.color_type != png::ColorType::Rgb || info.bit_depth != png::BitDepth::Eight {
        return Err(bad(&"not an 8-bit RGB PNG"));
    }
    buf.truncate(info.buffer_size());
    Ok((info.width, info.height, buf))
}

/// An animated GIF of the frames, looping, with one palette learnt from up to eight frames
/// spread over the movie; a frame repeated in a row is shown for as long as its repeats.
pub fn gif_bytes(frames: &[PathBuf], fps: u32) -> Result<Vec<u8>, Error> {
    let Some(first) = frames.first() else {
        return Err(Error::Output("a movie needs at least one figure".into()));
    };
    let (w, h, _) = read_png(first)?;
    let too_big = |d: u32| u16::try_from(d).is_err();
    if too_big(w) || too_big(h) {
        return Err(Error::Output(format!(
            "a GIF is at most 65535 pixels a side; the figures are {w} × {h}"
        )));
    }
    // Palette: NeuQuant over every 7th pixel of up to 8 frames spread over the movie.
    let picks: Vec<usize> = (0..frames.len().min(8))
        .map(|k| k * (frames.len() - 1) / (frames.len().min(8) - 1).max(1))
        .collect();
    let mut sample = Vec::new();
    for &k in &picks {
        let (_, _, rgb) = read_png(&frames[k])?;
        for px in rgb.chunks_exact(3).step_by(7) {
            sample.extend_from_slice(&[px[0], px[1], px[2], 255]);
        }
    }
    let nq = color_quant::NeuQuant::new(10, 256, &sample);
    let palette = nq.color_map_rgb();
    let mut out = Vec::new();
    {
        let mut enc = gif::Encoder::new(&mut out, w as u16, h as u16, &palette)
            .map_err(|e| Error::Output(format!("GIF encoder: {e}")))?;
        enc.set_repeat(gif::Repeat::Infinite)
            .map_err(|e| Error::Output(format!("GIF encoder: {e}")))?;
        let mut cache: HashMap<[u8; 3], u8> = HashMap::new();
        let delay = (100.0 / fps as f64).round().max(2.0) as u16;
        // A figure repeated in a row (a demo's step held on screen) is one GIF frame shown
        // that many times longer.
        let mut k = 0;
        while k < frames.len() {
            let path = &frames[k];
            let mut run = 1;
            while k + run < frames.len() && frames[k + run] == *path {
                run += 1;
            }
            k += run;
            let (fw, fh, rgb) = read_png(path)?;
            if (fw, fh) != (w, h) {
                return Err(Error::Output(format!(
                    "{}: {fw} × {fh} pixels, the first figure is {w} × {h}",
                    path.display()
                )));
            }
            let indices: Vec<u8> = rgb
                .chunks_exact(3)
                .map(|px| {
                    let key = [px[0], px[1], px[2]];
                    *cache
                        .entry(key)
                        .or_insert_with(|| nq.index_of(&[px[0], px[1], px[2], 255]) as u8)
                })
                .collect();
            let frame = gif::Frame {
                width: w as u16,
                height: h as u16,
                buffer: std::borrow::Cow::Owned(indices),
                delay: (u32::from(delay) * run as u32).min(u32::from(u16::MAX)) as u16,
                ..gif::Frame::default()
            };
            enc.write_frame(&frame)
                .map_err(|e| Error::Output(format!("GIF encoder: {e}")))?;
        }
    }
    Ok(out)
}

/// The ffmpeg arguments for `format` after the input.
fn codec_args(format: MovieFormat) -> &'static [&'static str] {
    match format {
        MovieFormat::Webm => &["-c:v", "libvpx-vp9", "-b:v", "0", "-crf", "32"],
        _ => &[
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
            "-movflags",
            "+faststart",
        ],
    }
}

fn ffmpeg(format: MovieFormat, frames: &[PathBuf], fps: u32, out: &Path) -> Result<Outcome, Error> {
    let ext = format.extension();
    let folder = frames
        .first()
        .and_then(|p| p.parent())
        .map_or_else(|| PathBuf::from("figures"), Path::to_path_buf);
    let by_hand = format!(
        "ffmpeg -framerate {fps} -pattern_type glob -i '{}/fig_t*.png' -vf 'pad=ceil(iw/2)*2:ceil(ih/2)*2' {} {}",
        folder.display(),
        codec_args(format).join(" "),
        out.display()
    );
    let (w, h, _) = read_png(&frames[0])?;
    let tmp = out.with_file_name(format!(".movie.tmp-{}.{ext}", std::process::id()));
    let child = Command::new("ffmpeg")
        .args([
            "-y",
            "-loglevel",
            "error",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "rgb24",
        ])
        .args(["-s", &format!("{w}x{h}"), "-r", &fps.to_string(), "-i", "-"])
        .args(["-vf", "pad=ceil(iw/2)*2:ceil(ih/2)*2"])
        .args(codec_args(format))
        .arg(&tmp)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(Outcome::Skipped(format!(
                "output.movie = \"{ext}\" needs ffmpeg, which is not installed (Debian/Ubuntu: \
                 apt-get install ffmpeg); the figures are in {} as a PNG sequence, and \
                 `{by_hand}` makes the movie from them; output.movie = \"gif\" needs no tool",
                folder.display()
            )));
        }
        Err(e) => return Err(Error::io("cannot start ffmpeg for", out, e)),
    };
    let mut stdin = child.stdin.take().expect("piped");
    let mut feed = || -> Result<(), Error> {
        for p in frames {
            let (_, _, rgb) = read_png(p)?;
            stdin
                .write_all(&rgb)
                .map_err(|e| Error::io("cannot feed ffmpeg for", out, e))?;
        }
        Ok(())
    };
    let fed = feed();
    drop(stdin);
    let result = child
        .wait_with_output()
        .map_err(|e| Error::io("ffmpeg failed on", out, e))?;
    if fed.is_err() || !result.status.success() {
        let _ = std::fs::remove_file(&tmp);
        return Ok(Outcome::Skipped(format!(
            "ffmpeg could not encode {}: {}; the figures are in {} as a PNG sequence; try `{by_hand}`",
            out.display(),
            String::from_utf8_lossy(&result.stderr).trim(),
            folder.display()
        )));
    }
    std::fs::rename(&tmp, out).map_err(|e| Error::io("cannot write output file", out, e))?;
    Ok(Outcome::Written)
}
