//! Composed figures without a display (layer 3): the window's field panels
//! ([`panel`], the same drawing code as `dorsalhorn view`), a header with the scenario, the model
//! time and what the protocol is doing, and the pain-index course with the protocol marked, drawn
//! by egui into a texture on the run's own device ([`offscreen`]) and written as PNG; the movie
//! strings the figures together ([`movie`]).
//!
//! A run records each figure's field values as it goes (spilled to a hidden file in the run
//! folder, so memory does not grow with the run) and draws every figure at the end, when the
//! colour range over the whole run is known: a movie's colours then mean the same value in every
//! frame.

mod compose;
pub mod lineplot;
pub mod movie;
pub mod offscreen;
pub mod panel;
pub mod render;
pub mod timeseries;

use crate::colormap::Colormap;
use crate::error::Error;
use crate::gpu::Gpu;
use crate::model::network::protocol::{Dose, Protocol};
use crate::output;
use crate::scenario::figures::{FigureOptions, RangeMode, Theme};
pub use compose::best_layout;
use compose::compose;
use offscreen::Offscreen;
use panel::{Overlays, gradient_texture};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// What every figure of a run shows that does not change from one figure to the next.
#[derive(Debug, Clone)]
pub struct Scene {
    pub name: String,
    pub description: String,
    pub nx: usize,
    pub ny: usize,
    pub h_um: f64,
    /// Dominant region of each cell (`Region as u8`, 0 outside).
    pub region: Vec<u8>,
    pub duration_s: f64,
    pub protocol: Protocol,
    /// The scenario's `pain.model` as written (`sham` names the absence of a generator).
    pub pain_name: Option<String>,
    pub doses: Vec<Dose>,
    pub colormap: Colormap,
    /// The small print at the bottom (version, revision, grid, adapter).
    pub footer: String,
    /// A demo's story (`None` for a run's figures): each figure then shows the step it
    /// belongs to, with that step's panels, each step gets its own figure, and the control
    /// run's pain course is drawn dashed.
    pub story: Option<Story>,
}

impl Scene {
    /// The demo's captioned steps (none for a run's figures).
    pub fn steps(&self) -> &[StoryStep] {
        self.story.as_ref().map_or(&[], |s| &s.steps)
    }

    /// The demo's control run: label and (t in s, P_mech, P_heat).
    pub fn control(&self) -> Option<&(String, Vec<[f64; 3]>)> {
        self.story.as_ref().and_then(|s| s.control.as_ref())
    }
}

/// A demo as its figures tell it: the title and summary in the header, the captioned steps.
#[derive(Debug, Clone)]
pub struct Story {
    pub title: String,
    pub summary: String,
    pub steps: Vec<StoryStep>,
    /// The demo's control run for the pain plot: its label and (t in s, P_mech, P_heat).
    pub control: Option<(String, Vec<[f64; 3]>)>,
}

/// A demo step as the figures show it (src/scenario/demo.rs).
#[derive(Debug, Clone)]
pub struct StoryStep {
    pub at_s: f64,
    pub title: String,
    pub caption: String,
    pub question: Option<String>,
    /// The evidence line: tag, its meaning, source and the validation finding.
    pub source: String,
    /// Indices into the figure fields ([`FigureOptions::fields`]), one panel each.
    pub panels: Vec<usize>,
    pub layout: Option<(usize, usize)>,
    /// One per panel.
    pub ranges: Vec<RangeMode>,
}

/// What the figures of a run produced.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct FigureReport {
    /// Figure files, relative to the run folder.
    pub figures: Vec<String>,
    pub size: [u32; 2],
    /// Each panel of the last figure: its field, where its image is (pixels: left, top, right,
    /// bottom) and its colour range (the same in every figure unless the range is `frame`).
    pub panels: Vec<PanelPlace>,
    /// A demo's step figures (`steps/step_NN.png`), relative to the run folder.
    pub steps: Vec<String>,
    /// The movie, relative to the run folder.
    pub movie: Option<String>,
    /// Why there is no movie although one was asked for.
    pub movie_note: Option<String>,
    /// Seconds spent drawing and writing the figures, and encoding the movie.
    pub render_s: f64,
    pub encode_s: f64,
}

/// One panel of a figure.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PanelPlace {
    pub field: String,
    pub rect_px: [f32; 4],
    pub range: [f32; 2],
}

/// Records the figure fields at the figure times of a run and draws the figures at the end.
pub struct FigureWriter {
    dir: PathBuf,
    opts: FigureOptions,
    scene: Scene,
    spill_path: PathBuf,
    spill: std::fs::File,
    times: Vec<f64>,
    /// Union of each field's finite (min, max) over the recorded figures.
    run_ranges: Vec<(f32, f32)>,
    /// (t in s, P_mech, P_heat) at every read-out.
    pain: Vec<[f64; 3]>,
    next_s: f64,
    /// The next story step without a figure yet.
    next_step: usize,
    /// (story step, index of its figure).
    step_figures: Vec<(usize, usize)>,
    finished: bool,
    /// Keep the spill when dropped unfinished (a run that writes checkpoints: `dorsalhorn
    /// resume` continues from it).
    keep_spill: bool,
}

impl Drop for FigureWriter {
    fn drop(&mut self) {
        if !self.finished && !self.keep_spill {
            let _ = std::fs::remove_file(&self.spill_path);
        }
    }
}

/// The spilled figure fields in a run folder: hidden, and a temporary that `--overwrite`
/// removes; one name per folder (the folder's lock keeps a second run out), so that `dorsalhorn
/// resume` finds it.
pub const SPILL_FILE: &str = ".figure-fields.tmp-run";

/// Where a [`FigureWriter`] stands, for a checkpoint: the figures recorded so far (their times;
/// the fields are in the spill), the colour ranges, the pain course and the next figure's time.
#[derive(Debug, Clone, PartialEq)]
pub struct FigureState {
    pub times: Vec<f64>,
    pub run_ranges: Vec<(f32, f32)>,
    pub pain: Vec<[f64; 3]>,
    pub next_s: f64,
    pub next_step: usize,
    pub step_figures: Vec<(usize, usize)>,
}

impl FigureWriter {
    /// A writer for the run folder `dir` (figures go to `dir/figures/`).
    pub fn new(dir: &Path, scene: Scene, opts: FigureOptions) -> Result<FigureWriter, Error> {
        let n = opts.fields.len();
        let state = FigureState {
            times: Vec::new(),
            run_ranges: vec![(f32::INFINITY, f32::NEG_INFINITY); n],
            pain: Vec::new(),
            next_s: 0.0,
            next_step: 0,
            step_figures: Vec::new(),
        };
        FigureWriter::open(dir, scene, opts, state, true)
    }

    /// A writer that continues from `state` (a checkpoint's), with the figures it recorded
    /// read from the folder's spill; figures recorded after the checkpoint are dropped.
    pub fn resume(
        dir: &Path,
        scene: Scene,
        opts: FigureOptions,
        state: FigureState,
    ) -> Result<FigureWriter, Error> {
        if state.run_ranges.len() != opts.fields.len() {
            return Err(Error::Output(format!(
                "the checkpoint's figures show {} fields, the scenario's {}: the run folder's \
                 scenario.toml was changed after the run started",
                state.run_ranges.len(),
                opts.fields.len()
            )));
        }
        FigureWriter::open(dir, scene, opts, state, false)
    }

    fn open(
        dir: &Path,
        scene: Scene,
        opts: FigureOptions,
        state: FigureState,
        fresh: bool,
    ) -> Result<FigureWriter, Error> {
        let figures = dir.join("figures");
        std::fs::create_dir_all(&figures)
            .map_err(|e| Error::io("cannot create folder", &figures, e))?;
        let spill_path = dir.join(SPILL_FILE);
        let mut spill = std::fs::OpenOptions::new()
            .create(fresh)
            .truncate(fresh)
            .read(true)
            .write(true)
            .open(&spill_path)
            .map_err(|e| Error::io("cannot open the spilled figure fields", &spill_path, e))?;
        let frame = (opts.fields.len() * scene.nx * scene.ny * 4) as u64;
        let recorded = frame * state.times.len() as u64;
        let on_disk = spill
            .metadata()
            .map_err(|e| Error::io("cannot read", &spill_path, e))?
            .len();
        if on_disk < recorded {
            return Err(Error::Output(format!(
                "{} holds {on_disk} bytes, less than the {recorded} of the {} figures the \
                 checkpoint recorded: the folder was changed after the run stopped",
                spill_path.display(),
                state.times.len()
            )));
        }
        spill
            .set_len(recorded)
            .and_then(|()| spill.seek(std::io::SeekFrom::Start(recorded)).map(|_| ()))
            .map_err(|e| Error::io("cannot write output file", &spill_path, e))?;
        Ok(FigureWriter {
            dir: dir.to_path_buf(),
            opts,
            scene,
            spill_path,
            spill,
            times: state.times,
            run_ranges: state.run_ranges,
            pain: state.pain,
            next_s: state.next_s,
            next_step: state.next_step,
            step_figures: state.step_figures,
            finished: false,
            keep_spill: false,
        })
    }

    /// Keeps the spill if the run stops unfinished, for `dorsalhorn resume`.
    pub fn keep_spill_on_stop(&mut self) {
        self.keep_spill = true;
    }

    /// Where the writer stands, with the spilled fields synced to disk (for a checkpoint).
    pub fn state(&self) -> Result<FigureState, Error> {
        self.spill
            .sync_data()
            .map_err(|e| Error::io("cannot write output file", &self.spill_path, e))?;
        Ok(FigureState {
            times: self.times.clone(),
            run_ranges: self.run_ranges.clone(),
            pain: self.pain.clone(),
            next_s: self.next_s,
            next_step: self.next_step,
            step_figures: self.step_figures.clone(),
        })
    }

    /// The field indices each figure shows.
    pub fn fields(&self) -> &[usize] {
        &self.opts.fields
    }

    /// Whether the read-out at `t_s` gets a figure (the first at or after each multiple of the
    /// figure interval, and the last).
    pub fn due(&self, t_s: f64) -> bool {
        t_s >= self.next_s - 1e-6
            || t_s >= self.scene.duration_s - 1e-6
            || self
                .scene
                .steps()
                .get(self.next_step)
                .is_some_and(|s| t_s >= s.at_s - 1e-6)
    }

    /// Notes the pain indices of a read-out (every read-out, for the course under the panels).
    pub fn pain(&mut self, t_s: f64, p_mech: f64, p_heat: f64) {
        if self.pain.last().is_none_or(|p| t_s > p[0]) {
            self.pain.push([t_s, p_mech, p_heat]);
        }
    }

    /// Records the values of the figure fields (in [`Self::fields`] order) at `t_s`.
    pub fn record(&mut self, t_s: f64, values: &[Vec<f32>]) -> Result<(), Error> {
        let cells = self.scene.nx * self.scene.ny;
        let mut bytes = Vec::with_capacity(values.len() * cells * 4);
        for (k, v) in values.iter().enumerate() {
            assert_eq!(v.len(), cells, "figure field {k} has the grid's cells");
            let (lo, hi) = self.run_ranges[k];
            let (flo, fhi) = finite_min_max(v);
            self.run_ranges[k] = (lo.min(flo), hi.max(fhi));
            for x in v {
                bytes.extend_from_slice(&x.to_le_bytes());
            }
        }
        self.spill
            .write_all(&bytes)
            .map_err(|e| Error::io("cannot write output file", &self.spill_path, e))?;
        self.times.push(t_s);
        while self
            .scene
            .steps()
            .get(self.next_step)
            .is_some_and(|s| s.at_s <= t_s + 1e-6)
        {
            self.step_figures
                .push((self.next_step, self.times.len() - 1));
            self.next_step += 1;
        }
        while self.next_s <= t_s + 1e-6 {
            self.next_s += self.opts.every_s;
        }
        Ok(())
    }

    /// Figures recorded so far.
    pub fn count(&self) -> usize {
        self.times.len()
    }

    fn read_frame(&mut self, k: usize) -> Result<Vec<Vec<f32>>, Error> {
        let cells = self.scene.nx * self.scene.ny;
        let n = self.opts.fields.len();
        let mut bytes = vec![0u8; n * cells * 4];
        let at = (k * n * cells * 4) as u64;
        self.spill
            .seek(std::io::SeekFrom::Start(at))
            .and_then(|_| self.spill.read_exact(&mut bytes))
            .map_err(|e| Error::io("cannot read back", &self.spill_path, e))?;
        Ok(bytes
            .chunks_exact(cells * 4)
            .map(|c| {
                c.chunks_exact(4)
                    .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                    .collect()
            })
            .collect())
    }

    /// The colour range of field `k` in a figure with values `v` (`mode`: the field's own, or a
    /// story step's for it).
    fn range_of(&self, k: usize, v: &[f32], mode: RangeMode) -> (f32, f32) {
        let widen = |(lo, hi): (f32, f32)| {
            if !lo.is_finite() || !hi.is_finite() {
                (0.0, 1.0)
            } else if hi > lo {
                (lo, hi)
            } else {
                (lo - 0.5, lo + 0.5)
            }
        };
        let r = match mode {
            RangeMode::Fixed(lo, hi) => return (lo, hi),
            RangeMode::Run => widen(self.run_ranges[k]),
            RangeMode::Frame => widen(finite_min_max(v)),
        };
        if self.scene.colormap == Colormap::Diverging {
            let m = r.0.abs().max(r.1.abs());
            (-m, m)
        } else {
            r
        }
    }

    /// The colour texture and range of each panel of a figure: every field, or the fields of
    /// the story step `step`.
    fn panel_textures(
        &self,
        ctx: &egui::Context,
        values: &[Vec<f32>],
        step: Option<&StoryStep>,
    ) -> Vec<Panel> {
        let (nx, ny) = (self.scene.nx, self.scene.ny);
        let shown: Vec<(usize, RangeMode)> = match step {
            Some(s) => s.panels.iter().copied().zip(s.ranges.clone()).collect(),
            None => (0..values.len()).zip(self.opts.ranges.clone()).collect(),
        };
        shown
            .into_iter()
            .map(|(j, mode)| {
                let v = &values[j];
                let range = self.range_of(j, v, mode);
                let rgb = self.scene.colormap.colorize(v, range);
                let tex = ctx.load_texture(
                    format!("figure field {j}"),
                    egui::ColorImage::from_rgb([nx, ny], &rgb),
                    egui::TextureOptions::NEAREST,
                );
                (self.opts.fields[j], tex, range)
            })
            .collect()
    }

    /// Copies figure `k` (at `png`) to `steps/step_NN.png` for each story step it shows;
    /// returns whether it showed one.
    fn copy_step_figures(
        &self,
        k: usize,
        png: &Path,
        report: &mut FigureReport,
    ) -> Result<bool, Error> {
        let mut any = false;
        for &(i, _) in self.step_figures.iter().filter(|(_, f)| *f == k) {
            let name = format!("step_{:02}.png", i + 1);
            let dest = self.dir.join("steps").join(&name);
            let bytes = std::fs::read(png).map_err(|e| Error::io("cannot read", png, e))?;
            output::write_atomic(&dest, &bytes)?;
            report.steps.push(format!("steps/{name}"));
            any = true;
        }
        Ok(any)
    }

    /// Draws every recorded figure into `figures/` and encodes the movie; `progress` is told
    /// (done, total) after each figure.
    pub fn finish(
        mut self,
        gpu: &Gpu,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<FigureReport, Error> {
        let started = Instant::now();
        let ctx = egui::Context::default();
        ctx.set_visuals(match self.opts.theme {
            Theme::Dark => egui::Visuals::dark(),
            Theme::Light => egui::Visuals::light(),
        });
        let background = ctx.global_style().visuals.panel_fill;
        let background = [background.r(), background.g(), background.b()];
        let mut off = Offscreen::new(gpu);
        let overlays = self
            .opts
            .outlines
            .then(|| Overlays::of(self.scene.nx, self.scene.ny, &self.scene.region));
        let gradient = gradient_texture(&ctx, self.scene.colormap);
        let size = self.opts.size;
        let ppp = (size[0] as f32 / 1280.0)
            .min(size[1] as f32 / 720.0)
            .max(0.5);
        let total = self.times.len();
        let mut report = FigureReport {
            size,
            ..FigureReport::default()
        };
        let mut paths = Vec::new();
        let y_max = self
            .pain
            .iter()
            .chain(self.scene.control().into_iter().flat_map(|(_, c)| c.iter()))
            .map(|p| p[1].max(p[2]))
            .fold(1.0f64, f64::max);
        if !self.scene.steps().is_empty() {
            let steps = self.dir.join("steps");
            std::fs::create_dir_all(&steps)
                .map_err(|e| Error::io("cannot create folder", &steps, e))?;
        }
        for k in 0..total {
            let t_s = self.times[k];
            let values = self.read_frame(k)?;
            let steps = self.scene.steps();
            let story_at = steps
                .iter()
                .rposition(|s| s.at_s <= t_s + 1e-6)
                .map(|i| (i, &steps[i]))
                .or_else(|| steps.first().map(|s| (0, s)));
            let panels = self.panel_textures(&ctx, &values, story_at.map(|(_, s)| s));
            let scene = &self.scene;
            let opts = &self.opts;
            let pain = &self.pain;
            let mut placed = Vec::new();
            let rgb = off.draw(gpu, &ctx, size, ppp, background, |ui| {
                placed = compose(
                    ui,
                    scene,
                    opts,
                    story_at,
                    t_s,
                    &panels,
                    gradient.id(),
                    overlays.as_ref(),
                    pain,
                    y_max,
                );
            })?;
            let name = format!("fig_t{:06}min.png", (t_s / 60.0).round() as u64);
            let path = self.dir.join("figures").join(&name);
            output::write_atomic(
                &path,
                &output::png_bytes(&rgb, size[0] as usize, size[1] as usize),
            )?;
            report.figures.push(format!("figures/{name}"));
            let png = path.clone();
            paths.push(path);
            // A demo step's own figure, and the movie holds it for 3 seconds.
            if self.copy_step_figures(k, &png, &mut report)? {
                for _ in 1..(3 * self.opts.fps) {
                    paths.push(png.clone());
                }
            }
            if k + 1 == total {
                report.panels = places(&panels, &placed, ctx.pixels_per_point());
            }
            progress(k + 1, total);
        }
        report.render_s = started.elapsed().as_secs_f64();
        let _ = std::fs::remove_file(&self.spill_path);
        self.finished = true;
        if let Some(format) = self.opts.movie
            && !paths.is_empty()
        {
            let started = Instant::now();
            let out = self.dir.join(format!("movie.{}", format.extension()));
            match movie::encode(format, &paths, self.opts.fps, &out)? {
                movie::Outcome::Written => {
                    report.movie = Some(format!("movie.{}", format.extension()))
                }
                movie::Outcome::Skipped(why) => report.movie_note = Some(why),
            }
            report.encode_s = started.elapsed().as_secs_f64();
        }
        Ok(report)
    }
}

/// A panel to draw: field, colour texture, range.
type Panel = (usize, egui::TextureHandle, (f32, f32));

/// Where the panels went, in pixels.
fn places(panels: &[Panel], placed: &[panel::Placed], px: f32) -> Vec<PanelPlace> {
    panels
        .iter()
        .zip(placed)
        .map(|((f, _, r), p)| PanelPlace {
            field: crate::model::network::state::field_name(*f).to_string(),
            rect_px: [
                p.img.min.x * px,
                p.img.min.y * px,
                p.img.max.x * px,
                p.img.max.y * px,
            ],
            range: [r.0, r.1],
        })
        .collect()
}

/// The finite (min, max) of `v` ((+∞, −∞) when none is finite).
fn finite_min_max(v: &[f32]) -> (f32, f32) {
    v.iter()
        .filter(|x| x.is_finite())
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &x| {
            (lo.min(x), hi.max(x))
        })
}
