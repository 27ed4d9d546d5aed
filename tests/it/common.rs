//! Shared helpers for the integration tests: one GPU per test binary, problem builders.
#![allow(
    dead_code,
    reason = "each test binary uses a different subset of these helpers"
)]

use dorsalhorn::gpu::Gpu;
use dorsalhorn::grid::Grid;
use dorsalhorn::model::{Model, Problem, Species};
use std::sync::OnceLock;

/// The device shared by the tests of one binary (lavapipe in CI).
pub fn gpu() -> &'static Gpu {
    static GPU: OnceLock<Gpu> = OnceLock::new();
    GPU.get_or_init(|| Gpu::new().expect("tests need a GPU adapter (install mesa-vulkan-drivers)"))
}

/// Gray–Scott with the reference parameters on an nx × ny grid, dx = 1, dt = 1.
pub fn gray_scott(nx: usize, ny: usize) -> Problem {
    Problem {
        grid: Grid::new(nx, ny, 1.0),
        species: vec![Species::new("u", 0.16), Species::new("v", 0.08)],
        model: Model::GrayScott {
            feed: 0.035,
            kill: 0.065,
        },
        dt_s: 1.0,
    }
}

/// u = 1, v = 0 except a centred square of `side` cells (u = 0.5, v = 0.25).
pub fn gray_scott_seed(nx: usize, ny: usize, side: usize) -> Vec<Vec<f32>> {
    let mut u = vec![1.0f32; nx * ny];
    let mut v = vec![0.0f32; nx * ny];
    let (x0, y0) = (nx / 2 - side / 2, ny / 2 - side / 2);
    for y in y0..y0 + side {
        for x in x0..x0 + side {
            u[y * nx + x] = 0.5;
            v[y * nx + x] = 0.25;
        }
    }
    vec![u, v]
}

pub fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// Σ c·capacity in f64.
pub fn mass(field: &[f32], capacity: Option<&[f32]>) -> f64 {
    match capacity {
        None => field.iter().map(|&c| c as f64).sum(),
        Some(cap) => field
            .iter()
            .zip(cap)
            .map(|(&c, &k)| c as f64 * k as f64)
            .sum(),
    }
}
