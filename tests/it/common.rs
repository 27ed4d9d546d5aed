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

/// The pixel rectangle (left, top, right, bottom) of a panel in a screenshot or figure report.
pub fn rect_px(panel: &serde_json::Value) -> Vec<f64> {
    panel["rect_px"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect()
}

/// Samples an image (`rgb`, `w` pixels wide) at the centre of every cell of an `nx` × `ny`
/// panel drawn in `rect` and compares with the cells' colours `expect`: (the largest difference
/// in any channel, the number of cells that differ by more than `tol`).
pub fn cells_against_colours(
    rgb: &[u8],
    w: usize,
    rect: &[f64],
    expect: &[u8],
    (nx, ny): (usize, usize),
    tol: u8,
) -> (u8, usize) {
    let (sx, sy) = (
        (rect[2] - rect[0]) / nx as f64,
        (rect[3] - rect[1]) / ny as f64,
    );
    let (mut worst, mut bad) = (0u8, 0);
    for cy in 0..ny {
        for cx in 0..nx {
            let px = (rect[0] + (cx as f64 + 0.5) * sx) as usize;
            let py = (rect[1] + (cy as f64 + 0.5) * sy) as usize;
            let a = &rgb[3 * (py * w + px)..][..3];
            let b = &expect[3 * (cy * nx + cx)..][..3];
            let d = (0..3).map(|k| a[k].abs_diff(b[k])).max().unwrap();
            worst = worst.max(d);
            if d > tol {
                bad += 1;
            }
        }
    }
    (worst, bad)
}
