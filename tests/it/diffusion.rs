//! Pure diffusion on the GPU against closed-form answers: the 2-D heat kernel, second-order
//! convergence under refinement, mass conservation (uniform and jumping diffusivity), and the
//! exact steady profile across a jump in D.

use crate::common::*;
use dorsalhorn::gpu::rd_step::Simulation;
use dorsalhorn::grid::{Boundary, Grid, Side};
use dorsalhorn::model::{Diffusivity, Model, Problem, Species};

fn gaussian_error(l: f64, dx: f64, sigma0: f64, t: f64) -> f64 {
    dorsalhorn::validate::groups::gaussian_error(gpu(), l, dx, sigma0, t).unwrap()
}

#[test]
fn gaussian_matches_heat_kernel() {
    // sigma0 = 4 dx, spread to sigma = sqrt(16 + 40) = 7.5 dx; the domain edge is 6.4 sigma away.
    let err = gaussian_error(96.0, 1.0, 4.0, 20.0);
    // Measured on lavapipe: 5.4e-4 of the initial peak (the O(dx²) truncation error of the
    // 5-point stencil and of point-sampling the initial Gaussian).
    assert!(err < 1e-3, "heat kernel error {err:e}");
}

#[test]
fn second_order_convergence() {
    // Same physical problem at dx = 1, 1/2, 1/4 µm (dt ∝ dx², so time error is also O(dx²)).
    // Measured errors 1.35e-3, 3.43e-4, 8.6e-5: orders 1.97 and 1.99.
    let errs: Vec<f64> = [1.0, 0.5, 0.25]
        .iter()
        .map(|&dx| gaussian_error(48.0, dx, 3.0, 8.0))
        .collect();
    let orders: Vec<f64> = errs.windows(2).map(|w| (w[0] / w[1]).log2()).collect();
    for (i, p) in orders.iter().enumerate() {
        assert!(
            *p > 1.8 && *p < 2.3,
            "observed order {p:.2} between refinements {i} and {} (errors {errs:?})",
            i + 1
        );
    }
}

#[test]
fn mass_is_conserved_with_no_flux() {
    // Two species, 2000 steps, no-flux edges (the `analytic` group's case A4).
    let (drift, spread) = dorsalhorn::validate::groups::conservation_drift(gpu()).unwrap();
    assert!(drift <= 1e-5, "relative mass drift {drift:e} > 1e-5");
    // Not a trivially frozen state: the field has smoothed out.
    assert!(spread < 1.0, "field did not diffuse (spread {spread})");
}

/// A field with D = 1 on the left and D = 0.05 on the right (and a capacity that jumps too):
/// Σ capacity·c stays constant.
#[test]
fn mass_is_conserved_across_a_jump_in_diffusivity() {
    let (nx, ny) = (64, 40);
    let d: Vec<f32> = (0..nx * ny)
        .map(|i| if i % nx < 27 { 1.0 } else { 0.05 })
        .collect();
    let cap: Vec<f32> = (0..nx * ny)
        .map(|i| if i % nx < 40 { 0.21 } else { 0.18 })
        .collect();
    let mut sp = Species::new("c", 1.0);
    sp.diffusivity = Diffusivity::Field(d);
    sp.capacity = Some(cap.clone());
    let problem = Problem {
        grid: Grid::new(nx, ny, 1.0),
        species: vec![sp],
        model: Model::Diffusion,
        dt_s: 0.04, // D/capacity max = 4.76: stability number 0.19
    };
    assert!(problem.stability_numbers()[0] <= 0.25);
    let init: Vec<f32> = (0..nx * ny)
        .map(|i| {
            if (i % nx) < 20 && (i / nx) < 20 {
                5.0
            } else {
                0.1
            }
        })
        .collect();
    let m0 = mass(&init, Some(&cap));
    let mut sim = Simulation::new(gpu(), &problem, &[init]).unwrap();
    sim.advance(gpu(), 5000);
    let got = sim.read_species(gpu(), 0).unwrap();
    let drift = (mass(&got, Some(&cap)) - m0).abs() / m0;
    assert!(
        drift <= 1e-5,
        "relative mass drift {drift:e} > 1e-5 across the jump"
    );
    let right: f64 = (0..nx * ny)
        .filter(|i| i % nx >= 27)
        .map(|i| got[i] as f64)
        .sum();
    assert!(
        right > 0.1 * 37.0 * 40.0 * 1.2,
        "mass did not cross the jump"
    );
}

/// Fixed values at x_min (1) and x_max (0), D jumping from 1 to 0.25 at a face: the steady
/// state is the continuous piecewise-linear profile (equal flux through both layers), which the
/// harmonic-mean face conductance reproduces exactly at cell centres.
#[test]
fn steady_profile_across_a_jump_is_exact() {
    let (nx, ny, m) = (40usize, 4usize, 16usize);
    let (d1, d2) = (1.0f64, 0.25f64);
    let d: Vec<f32> = (0..nx * ny)
        .map(|i| if i % nx < m { d1 as f32 } else { d2 as f32 })
        .collect();
    let mut sp = Species::new("c", 1.0);
    sp.diffusivity = Diffusivity::Field(d);
    let grid = Grid::new(nx, ny, 1.0)
        .with_boundary(Side::XMin, Boundary::Fixed { values: vec![1.0] })
        .with_boundary(Side::XMax, Boundary::Fixed { values: vec![0.0] });
    let problem = Problem {
        grid,
        species: vec![sp],
        model: Model::Diffusion,
        dt_s: 0.2,
    };
    let mut sim = Simulation::new(gpu(), &problem, &[vec![0.0; nx * ny]]).unwrap();
    sim.advance(gpu(), 40_000);
    let got = sim.read_species(gpu(), 0).unwrap();
    // Resistances: layer 1 is m cells of D1, layer 2 is nx − m cells of D2 (dx = 1).
    let (r1, r2) = (m as f64 / d1, (nx - m) as f64 / d2);
    let flux = 1.0 / (r1 + r2);
    let exact = |x: usize| -> f64 {
        let xc = x as f64 + 0.5;
        if x < m {
            1.0 - flux * xc / d1
        } else {
            flux * (nx as f64 - xc) / d2
        }
    };
    for y in 0..ny {
        for x in 0..nx {
            let e = (got[y * nx + x] as f64 - exact(x)).abs();
            assert!(
                e < 2e-4,
                "cell ({x}, {y}): {} vs exact {} (|Δ| = {e:e})",
                got[y * nx + x],
                exact(x)
            );
        }
    }
}
