//! `dorsalhorn bench`.

use dorsalhorn::error::Error;
use dorsalhorn::gpu;
use dorsalhorn::gpu::rd_step;
use dorsalhorn::run::bench;
use std::path::PathBuf;

/// The options of `dorsalhorn bench`.
#[derive(clap::Args)]
pub struct BenchArgs {
    /// Grid sides to measure.
    #[arg(long, value_delimiter = ',', default_values_t = [256usize, 512, 1024])]
    pub sizes: Vec<usize>,
    /// Steps per timed repeat.
    #[arg(long, default_value_t = 500)]
    pub steps: u64,
    /// Timed repeats (best is reported).
    #[arg(long, default_value_t = 3)]
    pub repeats: usize,
    /// Rows walked per invocation (default: chosen for the adapter).
    #[arg(long)]
    pub rows: Option<u32>,
    /// Workgroup width (default: chosen for the adapter).
    #[arg(long)]
    pub workgroup: Option<u32>,
    /// Also run the peers with this Python (needs numpy and py-pde installed).
    #[arg(long, value_name = "PYTHON")]
    pub peers: Option<String>,
    /// Folder holding gray_scott_numpy.py and gray_scott_pypde.py.
    #[arg(long, default_value = "bench/peers")]
    pub peers_dir: PathBuf,
    /// Steps for the peers (they are slower; fewer steps keep the run short).
    #[arg(long, default_value_t = 200)]
    pub peer_steps: u64,
    /// Peer scripts to run (in --peers-dir).
    #[arg(long, value_delimiter = ',', default_values_t = ["gray_scott_numpy.py".to_string(), "gray_scott_pypde.py".to_string()])]
    pub peer_scripts: Vec<String>,
    /// Alternating rounds of (dorsalhorn, peers); medians are reported, since shared
    /// machines drift between and during runs.
    #[arg(long, default_value_t = 3)]
    pub rounds: usize,
}

pub fn run(args: BenchArgs) -> Result<(), Error> {
    let BenchArgs {
        sizes,
        steps,
        repeats,
        rows,
        workgroup,
        peers,
        peers_dir,
        peer_steps,
        peer_scripts,
        rounds,
    } = args;
    let bad = |key: &str, msg: String| -> Error {
        dorsalhorn::error::ScenarioError::new(key, msg).into()
    };
    if let Some(n) = sizes.iter().find(|&&n| !(8..=16384).contains(&n)) {
        return Err(bad(
            "--sizes",
            format!("{n} is out of range: allowed 8 ≤ N ≤ 16384 cells"),
        ));
    }
    if steps == 0 || peer_steps == 0 {
        return Err(bad("--steps", "step counts must be ≥ 1".into()));
    }
    if rows == Some(0) || workgroup.is_some_and(|w| !(1..=256).contains(&w)) {
        return Err(bad(
            "--rows/--workgroup",
            "allowed: rows ≥ 1, 1 ≤ workgroup ≤ 256 (the WebGPU per-workgroup limit)".into(),
        ));
    }
    let gpu = gpu::Gpu::new()?;
    let mut layout = rd_step::KernelLayout::for_adapter(&gpu.info);
    if let Some(r) = rows {
        layout.rows = r.max(1);
    }
    if let Some(w) = workgroup {
        layout.workgroup_x = w.max(1);
    }
    println!(
        "adapter: {} ({:?}, {:?}); layout: {} rows/invocation, workgroup {}x1",
        gpu.info.name, gpu.info.backend, gpu.info.device_type, layout.rows, layout.workgroup_x
    );
    let peer_setup = peers.as_deref().map(|py| bench::PeerSetup {
        python: py,
        dir: &peers_dir,
        steps: peer_steps,
        scripts: &peer_scripts,
    });
    println!(
        "| N | dorsalhorn species-cell-updates/s (median of {rounds}) | peer | peer species-cell-updates/s (median) | ratio |"
    );
    println!("|---|---|---|---|---|");
    for n in sizes {
        let row = bench::compare(&gpu, n, steps, repeats, layout, rounds, peer_setup.as_ref())?;
        if row.peers.is_empty() {
            println!("| {n} | {:.3e} | - | - | - |", row.ours);
        }
        for (name, rate) in &row.peers {
            println!(
                "| {n} | {:.3e} | {name} | {rate:.3e} | {:.2}x |",
                row.ours,
                row.ours / rate
            );
        }
    }
    Ok(())
}
