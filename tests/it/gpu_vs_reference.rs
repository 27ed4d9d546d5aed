//! The GPU step kernel against its plain-Rust twin (src/cpu/rd_step.rs).

use crate::common::*;
use dorsalhorn::cpu::rd_step::Reference;
use dorsalhorn::gpu::rd_step::{KernelLayout, Simulation};
use dorsalhorn::grid::{Boundary, Side};
use dorsalhorn::model::{Diffusivity, Model, Problem, Species};

/// Gray–Scott after 1000 steps on a 150 × 100 grid: 150 is neither a multiple of 64 (workgroup)
/// nor of 4 (cells per texel), so partial workgroups and pad lanes are exercised.
#[test]
fn gray_scott_matches_reference_after_1000_steps() {
    let (nx, ny) = (150, 100);
    let problem = gray_scott(nx, ny);
    let init = gray_scott_seed(nx, ny, 24);
    let mut sim = Simulation::new(gpu(), &problem, &init).unwrap();
    let mut reference = Reference::new(problem.clone(), init);
    sim.advance(gpu(), 1000);
    reference.advance(1000);
    let got = sim.read_all(gpu()).unwrap();
    for s in 0..2 {
        let d = max_abs_diff(&got[s], &reference.fields[s]);
        assert!(
            d <= 1e-5,
            "species {s}: max |GPU - reference| = {d:e} > 1e-5"
        );
    }
    // The pattern must still be alive, or the comparison is trivial.
    let vmax = got[1].iter().copied().fold(0.0, f32::max);
    assert!(
        vmax > 0.1,
        "v died out (max {vmax}); the comparison would be trivial"
    );
}

/// Every boundary kind and the variable-diffusivity path, against the reference.
#[test]
fn boundaries_and_variable_diffusivity_match_reference() {
    let (nx, ny) = (37, 29);
    let n = nx * ny;
    let d_field: Vec<f32> = (0..n)
        .map(|i| {
            if (i % nx) < nx / 2 {
                0.2
            } else {
                0.05 + 0.001 * (i / nx) as f32
            }
        })
        .collect();
    let cap: Vec<f32> = (0..n)
        .map(|i| 0.5 + 0.5 * ((i * 7) % 5) as f32 / 4.0)
        .collect();
    let mut a = Species::new("a", 0.1);
    a.diffusivity = Diffusivity::Field(d_field);
    a.capacity = Some(cap);
    a.decay_per_s = 0.01;
    let b = Species::new("b", 0.15);
    for (bx, by) in [
        (
            Boundary::Periodic,
            Boundary::Fixed {
                values: vec![0.3, 1.0],
            },
        ),
        (
            Boundary::Fixed {
                values: vec![2.0, 0.0],
            },
            Boundary::Periodic,
        ),
        (Boundary::NoFlux, Boundary::NoFlux),
    ] {
        let grid = dorsalhorn::grid::Grid::new(nx, ny, 1.0)
            .with_boundary(Side::XMin, bx.clone())
            .with_boundary(Side::XMax, bx.clone())
            .with_boundary(Side::YMin, by.clone())
            .with_boundary(Side::YMax, by.clone());
        let problem = Problem {
            grid,
            species: vec![a.clone(), b.clone()],
            model: Model::Diffusion,
            dt_s: 1.0,
        };
        let init: Vec<Vec<f32>> = (0..2)
            .map(|s| {
                (0..n)
                    .map(|i| (((i * 31 + s * 17) % 97) as f32) / 97.0)
                    .collect()
            })
            .collect();
        let mut sim = Simulation::new(gpu(), &problem, &init).unwrap();
        let mut reference = Reference::new(problem.clone(), init);
        sim.advance(gpu(), 300);
        reference.advance(300);
        let got = sim.read_all(gpu()).unwrap();
        for (s, (g, r)) in got.iter().zip(&reference.fields).enumerate() {
            let d = max_abs_diff(g, r);
            assert!(
                d <= 1e-5,
                "{bx:?}/{by:?} species {s}: max |GPU - reference| = {d:e}"
            );
        }
    }
}

/// The kernel layout is a performance choice only: every layout gives the same numbers.
#[test]
fn layouts_agree() {
    let (nx, ny) = (70, 45);
    let problem = gray_scott(nx, ny);
    let init = gray_scott_seed(nx, ny, 16);
    let mut results = Vec::new();
    for layout in [
        KernelLayout {
            rows: 1,
            workgroup_x: 64,
        },
        KernelLayout {
            rows: 4,
            workgroup_x: 64,
        },
        KernelLayout {
            rows: 7,
            workgroup_x: 32,
        },
    ] {
        let mut sim = Simulation::with_layout(gpu(), &problem, &init, layout).unwrap();
        sim.advance(gpu(), 250);
        results.push((layout, sim.read_all(gpu()).unwrap()));
    }
    for (layout, r) in &results[1..] {
        for (a, b) in r.iter().zip(&results[0].1) {
            let d = max_abs_diff(a, b);
            assert!(
                d <= 1e-6,
                "layout {layout:?} differs from rows = 1 by {d:e}"
            );
        }
    }
}
