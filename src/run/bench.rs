//! The Gray–Scott benchmark (`dorsalhorn bench`) and its peer comparison.
//!
//! Reports species-cell-updates per second (cells × species × steps / wall time) of the GPU
//! step, timed after a warm-up with no readback inside the timed region. Optionally runs the
//! NumPy and py-pde peers of bench/peers/ in the same invocation, so ratios come from one
//! sitting on one machine (absolute times on shared machines drift).

use crate::error::Error;
use crate::gpu::Gpu;
use crate::gpu::rd_step::{KernelLayout, Simulation};
use crate::grid::Grid;
use crate::model::{Model, Problem, Species};
use crate::scenario::generic::centered_span;
use std::path::Path;
use std::time::Instant;

/// The reference Gray–Scott problem on an n × n grid, with the peers' seed.
pub fn gray_scott_problem(n: usize) -> (Problem, Vec<Vec<f32>>) {
    let problem = Problem {
        grid: Grid::new(n, n, 1.0),
        species: vec![Species::new("u", 0.16), Species::new("v", 0.08)],
        model: Model::GrayScott {
            feed: 0.035,
            kill: 0.065,
        },
        dt_s: 1.0,
    };
    let mut u = vec![1.0f32; n * n];
    let mut v = vec![0.0f32; n * n];
    let (a, b) = centered_span(n, 0.125);
    for y in a..b {
        for x in a..b {
            u[y * n + x] = 0.5;
            v[y * n + x] = 0.25;
        }
    }
    (problem, vec![u, v])
}

/// One benchmark measurement.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BenchResult {
    pub n: usize,
    pub steps: u64,
    pub wall_s: f64,
    pub species_cell_updates_per_s: f64,
    pub layout: KernelLayout,
}

/// Times `steps` Gray–Scott steps on n × n, best of `repeats` (after a warm-up).
pub fn gray_scott(
    gpu: &Gpu,
    n: usize,
    steps: u64,
    repeats: usize,
    layout: Option<KernelLayout>,
) -> Result<BenchResult, Error> {
    let (problem, init) = gray_scott_problem(n);
    let layout = layout.unwrap_or_else(|| KernelLayout::for_adapter(&gpu.info));
    let mut sim = Simulation::with_layout(gpu, &problem, &init, layout)?;
    sim.advance(gpu, 20.min(steps));
    gpu.wait()?;
    let mut best = f64::INFINITY;
    for _ in 0..repeats.max(1) {
        let t = Instant::now();
        sim.advance(gpu, steps);
        gpu.wait()?;
        best = best.min(t.elapsed().as_secs_f64());
    }
    // Guard against a silently broken kernel: the state must still be finite.
    let v = sim.read_species(gpu, 1)?;
    if v.iter().any(|x| !x.is_finite()) {
        return Err(Error::Output("benchmark state became non-finite".into()));
    }
    Ok(BenchResult {
        n,
        steps,
        wall_s: best,
        species_cell_updates_per_s: (2 * n * n) as f64 * steps as f64 / best,
        layout,
    })
}

/// A peer's measurement, parsed from its output line.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PeerResult {
    pub peer: String,
    pub n: usize,
    pub steps: u64,
    pub species_cell_updates_per_s: f64,
    pub line: String,
}

/// Runs `python script N STEPS` and parses `species_cell_updates_per_s=...` from its output.
pub fn run_peer(python: &str, script: &Path, n: usize, steps: u64) -> Result<PeerResult, Error> {
    let out = std::process::Command::new(python)
        .arg(script)
        .arg(n.to_string())
        .arg(steps.to_string())
        .output()
        .map_err(|e| Error::io(format!("cannot run peer with `{python}`"), script, e))?;
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let line = text.lines().find(|l| l.contains("species_cell_updates_per_s=")).ok_or_else(|| {
        Error::Output(format!(
            "peer {} failed (exit {:?}): {}{}\nInstall the peers with `pip install numpy py-pde`.",
            script.display(),
            out.status.code(),
            text,
            String::from_utf8_lossy(&out.stderr)
        ))
    })?;
    let rate = line
        .split_whitespace()
        .find_map(|w| w.strip_prefix("species_cell_updates_per_s="))
        .and_then(|v| v.parse::<f64>().ok())
        .ok_or_else(|| Error::Output(format!("cannot parse peer output: {line}")))?;
    Ok(PeerResult {
        peer: line.split_whitespace().next().unwrap_or("peer").to_string(),
        n,
        steps,
        species_cell_updates_per_s: rate,
        line: line.to_string(),
    })
}

/// Where the peer scripts are and how to run them.
pub struct PeerSetup<'a> {
    pub python: &'a str,
    pub dir: &'a Path,
    pub steps: u64,
    pub scripts: &'a [String],
}

/// One size of a comparison: our median rate and each peer's median rate.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CompareRow {
    pub n: usize,
    pub ours: f64,
    pub peers: Vec<(String, f64)>,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else {
        0.5 * (v[m - 1] + v[m])
    }
}

/// Alternates `rounds` measurements of the GPU step and of each peer at size n, and reports
/// medians, so that drift of a shared machine affects both sides alike.
pub fn compare(
    gpu: &Gpu,
    n: usize,
    steps: u64,
    repeats: usize,
    layout: KernelLayout,
    rounds: usize,
    peers: Option<&PeerSetup>,
) -> Result<CompareRow, Error> {
    let rounds = rounds.max(1);
    let mut ours = Vec::new();
    let scripts: &[String] = peers.map_or(&[], |p| p.scripts);
    let mut theirs: Vec<(String, Vec<f64>)> = Vec::new();
    for _ in 0..rounds {
        ours.push(gray_scott(gpu, n, steps, repeats, Some(layout))?.species_cell_updates_per_s);
        if let Some(p) = peers {
            for (i, script) in scripts.iter().enumerate() {
                let r = run_peer(p.python, &p.dir.join(script), n, p.steps)?;
                if theirs.len() <= i {
                    theirs.push((r.peer.clone(), Vec::new()));
                }
                theirs[i].1.push(r.species_cell_updates_per_s);
            }
        }
    }
    Ok(CompareRow {
        n,
        ours: median(ours),
        peers: theirs
            .into_iter()
            .map(|(name, v)| (name, median(v)))
            .collect(),
    })
}
