//! The implicit transport (src/gpu/multigrid.rs, src/cpu/multigrid.rs, shaders/multigrid.wgsl): the GPU kernels against
//! the plain-Rust twin on the real tissue geometry, the V-cycle's convergence, and TR-BDF2
//! against closed forms far beyond the explicit limit: the heat kernel with its second order in
//! time, the K0 steady profile around a point source with clearance, and the mass balance.

use crate::common::*;
use dorsalhorn::cpu::multigrid::{
    Geometry, MgReference, SpeciesCoef, TransportCoef, first_stage_theta, steady_penetration,
    step_coefficients,
};
use dorsalhorn::gpu::multigrid::Multigrid;
use dorsalhorn::model::anatomy::Animal;
use dorsalhorn::params::ParamTable;
use dorsalhorn::tissue::section::Layout;

/// The rat section's transport geometry on the 40 µm grid.
fn tissue_geometry() -> (Layout, Geometry) {
    let layout = Layout::new(&ParamTable::builtin(), Animal::Rat, 40.0, true);
    let geo = layout.transport_geometry();
    (layout, geo)
}

/// A uniform square of side n with cell size h (no-flux sides, no Robin loss).
fn square(n: usize, h: f64) -> Geometry {
    Geometry {
        nx: n,
        ny: n,
        h,
        g: vec![1.0; n * n],
        w: vec![1.0; n * n],
        robin: vec![0.0; n * n],
        absorbing_bottom: false,
    }
}

fn rel_diff(a: &[f32], b: &[f32]) -> f32 {
    let scale = b.iter().fold(1e-30f32, |m, v| m.max(v.abs()));
    max_abs_diff(a, b) / scale
}

/// Three mediators of the model (a peptide, a cytokine, a chemokine with retardation) through
/// two TR-BDF2 steps of 600 s on the 40 µm tissue with an absorbing ventral side and the pial
/// loss: the GPU agrees with the twin within 1e-5 of each field's maximum (measured on lavapipe:
/// ≤ 2e-6).
#[test]
fn gpu_matches_the_twin_on_the_tissue() {
    let (layout, geo) = tissue_geometry();
    let n = geo.nx * geo.ny;
    let species = [
        TransportCoef {
            d: 231.4,
            r: 1.0,
            k: 0.0231,
        },
        TransportCoef {
            d: 31.4,
            r: 1.0,
            k: 3.85e-4,
        },
        TransportCoef {
            d: 51.8,
            r: 10.0,
            k: 1.28e-4,
        },
    ];
    let p_pia = 0.3f32;
    let mut mg = Multigrid::new(gpu(), &geo, 3, p_pia, 1, 1).unwrap();
    let twin = MgReference::new(&geo, p_pia);
    let field = |s: usize, f: &dyn Fn(usize) -> f32| -> Vec<f32> {
        (0..n)
            .map(|i| {
                if geo.w[i] > 0.0 {
                    f(i) * (s + 1) as f32
                } else {
                    0.0
                }
            })
            .collect()
    };
    let c: Vec<Vec<f32>> = (0..3)
        .map(|s| field(s, &|i| 0.05 + layout.maps.t_cp[i]))
        .collect();
    let source: Vec<Vec<f32>> = (0..3)
        .map(|s| {
            let k = species[s].k;
            field(s, &|i| geo.w[i] * k * (layout.maps.band_paw[i] + 0.1))
        })
        .collect();
    mg.upload_step(gpu(), &c, &source, &c);
    mg.advance(gpu(), 600.0, None, &species, 2);
    for s in 0..3 {
        let got = mg.read_step(gpu(), s).unwrap();
        let mut want = c[s].clone();
        let mut prev = c[s].clone();
        let mut previous_dt = None;
        for _ in 0..2 {
            let theta = first_stage_theta(600.0, previous_dt);
            let next = twin.tr_bdf2_step(
                step_coefficients(species[s], 600.0),
                &want,
                &source[s],
                &prev,
                theta,
                1,
                1,
            );
            prev = want;
            want = next;
            previous_dt = Some(600.0);
        }
        let err = rel_diff(&got, &want);
        eprintln!("species {s}: GPU vs twin {err:.2e} of the maximum");
        assert!(err < 1e-5, "species {s}: {err}");
    }
}

/// One V(1,1)-cycle on the 10 µm tissue cuts the error of a realistic initial guess (the last
/// step's solution, with the source changed by up to 30 %) by ≥ 8× for a peptide, a cytokine
/// and a chemokine at 600 s and 60 s (measured 11–15×).
#[test]
fn a_v_cycle_cuts_the_error_tenfold() {
    let layout = Layout::new(&ParamTable::builtin(), Animal::Rat, 10.0, false);
    let geo = layout.transport_geometry();
    let (nx, n) = (geo.nx, geo.nx * geo.ny);
    let twin = MgReference::new(&geo, 0.3);
    assert_eq!(
        twin.hierarchy.levels.len(),
        5,
        "175 × 130 coarsens four times (11 × 9 is solved exactly)"
    );
    let norm = |a: &[f32], b: &[f32]| {
        a.iter()
            .zip(b)
            .map(|(x, y)| ((x - y) as f64).powi(2))
            .sum::<f64>()
            .sqrt()
    };
    for (d, r, k) in [
        (231.4f32, 1.0f32, 0.0231f32),
        (31.4, 1.0, 3.85e-4),
        (51.8, 10.0, 1.28e-4),
    ] {
        let src = &layout.maps.t_cp;
        let steady = SpeciesCoef { d, m: k };
        let b0: Vec<f32> = (0..n).map(|i| geo.w[i] * k * src[i]).collect();
        let mut prev = vec![0.0f32; n];
        for _ in 0..40 {
            twin.v_cycle(0, steady, &mut prev, &b0, 2, 2);
        }
        for dt in [600.0f32, 60.0] {
            let c = SpeciesCoef { d, m: r / dt + k };
            let b: Vec<f32> = (0..n)
                .map(|i| {
                    let goal = src[i] * (1.0 + 0.3 * (i % nx) as f32 / nx as f32);
                    geo.w[i] * (r / dt * prev[i] + k * goal)
                })
                .collect();
            let mut exact = prev.clone();
            for _ in 0..40 {
                twin.v_cycle(0, c, &mut exact, &b, 2, 2);
            }
            let mut x = prev.clone();
            twin.v_cycle(0, c, &mut x, &b, 1, 1);
            let factor = norm(&prev, &exact) / norm(&x, &exact);
            eprintln!("D* {d}, R {r}, k {k:.2e}, Δt {dt}: one V-cycle cuts the error {factor:.1}×");
            assert!(factor > 8.0, "{factor}");
        }
    }
}

/// A Gaussian spreading on a 96 × 96 grid (dx = 1 µm, D = 1 µm²/s) over 60 s (the no-flux
/// walls are 4 σ away) with TR-BDF2 steps of 10–40× the explicit limit: against the exact 2-D
/// heat kernel the error is < 3e-3 of the peak (space and time), and against a run of 0.625-s
/// steps (the same spatial operator) the time error falls ≥ 3× per step halving (second order:
/// 4×).
#[test]
fn heat_kernel_at_large_steps_second_order() {
    let n = 96;
    let geo = square(n, 1.0);
    let (sigma0, d, t_end) = (4.0f64, 1.0f64, 60.0f64);
    let centre = (n as f64 - 1.0) / 2.0;
    let gaussian = |var: f64, amp: f64| -> Vec<f32> {
        (0..n * n)
            .map(|i| {
                let (x, y) = ((i % n) as f64 - centre, (i / n) as f64 - centre);
                (amp * (-(x * x + y * y) / (2.0 * var)).exp()) as f32
            })
            .collect()
    };
    let exact = gaussian(
        sigma0 * sigma0 + 2.0 * d * t_end,
        sigma0 * sigma0 / (sigma0 * sigma0 + 2.0 * d * t_end),
    );
    let peak = exact.iter().fold(0.0f32, |a, &b| a.max(b)) as f64;
    let sp = [TransportCoef {
        d: d as f32,
        r: 1.0,
        k: 0.0,
    }];
    let zero = vec![vec![0.0f32; n * n]];
    let run = |steps: u64| {
        let mut mg = Multigrid::new(gpu(), &geo, 1, 0.0, 6, 2).unwrap();
        let c0 = vec![gaussian(sigma0 * sigma0, 1.0)];
        mg.upload_step(gpu(), &c0, &zero, &c0);
        mg.advance(gpu(), t_end / steps as f64, None, &sp, steps);
        mg.read_step(gpu(), 0).unwrap()
    };
    let fine = run(96);
    let runs: Vec<Vec<f32>> = [6u64, 12, 24].iter().map(|&s| run(s)).collect();
    let vs_exact = max_abs_diff(&runs[1], &exact) as f64 / peak;
    let time: Vec<f64> = runs
        .iter()
        .map(|r| max_abs_diff(r, &fine) as f64 / peak)
        .collect();
    eprintln!(
        "heat kernel at Δt = 5 s (20× the explicit limit) vs exact: {vs_exact:.2e} of the peak; \
         time error at Δt = 10, 5, 2.5 s vs 0.625 s: {time:?}"
    );
    assert!(vs_exact < 3e-3, "{vs_exact}");
    assert!(
        time[0] > 3.0 * time[1] && time[1] > 3.0 * time[2],
        "{time:?}"
    );
}

/// The steady state around a point source with clearance k is Q·K0(r/L)/(2π·D), L = √(D/k):
/// 60 TR-BDF2 steps of 200 s (1600× the explicit limit) on a 161 × 161 grid (h = 5 µm,
/// D = 100 µm²/s, k = 0.01/s) reach it, compared as ratios 3 to 40 cells from the source,
/// within 2 % (the discretisation error near the source; RKL2 gives 1.15 %).
#[test]
fn steady_profile_around_a_point_source_is_k0() {
    let worst = dorsalhorn::validate::groups::k0_profile_deviation_implicit(gpu()).unwrap();
    eprintln!("implicit K0 profile: worst relative deviation {worst:.2e}");
    assert!(worst < 0.02, "{worst}");
}

/// No clearance, no Robin loss, no-flux sides on the 40 µm tissue: TR-BDF2 keeps Σ w·R·C exactly,
/// the V-cycle leaves a residual whose sum is what drifts. With the production setting (one
/// V(1,1)-cycle per stage) the drift over 100 steps of 600 s is < 5e-4 relative (measured
/// 1.3e-4 on lavapipe; two cycles per stage give 1.1e-5, the f32 floor of this sum).
#[test]
fn mass_is_kept_without_clearance() {
    let (layout, mut geo) = tissue_geometry();
    geo.robin = vec![0.0; geo.robin.len()];
    geo.absorbing_bottom = false;
    let n = geo.nx * geo.ny;
    let c0: Vec<f32> = (0..n)
        .map(|i| {
            if geo.w[i] > 0.0 {
                layout.maps.t_cp[i] + 0.01
            } else {
                0.0
            }
        })
        .collect();
    let sp = [TransportCoef {
        d: 31.4,
        r: 3.0,
        k: 0.0,
    }];
    let mut mg = Multigrid::new(gpu(), &geo, 1, 0.0, 1, 1).unwrap();
    let start = std::slice::from_ref(&c0);
    mg.upload_step(gpu(), start, &[vec![0.0; n]], start);
    mg.advance(gpu(), 600.0, None, &sp, 100);
    let c = mg.read_step(gpu(), 0).unwrap();
    let m0 = mass(&c0, Some(&geo.w));
    let m1 = mass(&c, Some(&geo.w));
    let drift = (m1 / m0 - 1.0).abs();
    let spread = max_abs_diff(&c, &c0);
    eprintln!("mass drift over 100 steps: {drift:.2e} (largest local change {spread:.2e})");
    assert!(drift < 5e-4, "{drift}");
    assert!(spread > 0.01, "the field must actually move: {spread}");
}

/// The steady penetration from the pia (§2.5; β-endorphin's depth profile, src/tissue/section.rs)
/// against its closed form: a slab of depth H = 960 µm with Robin faces on top (C_csf = 1) and no
/// flux elsewhere gives C(y) = A·cosh((H − y)/L), L = √(D*/k),
/// A = P/(P·cosh(H/L) + (D*/L)·sinh(H/L)). β-endorphin's constants (D* 105 µm²/s,
/// t½ 40 min, P 0.3 µm/s) on a 10 µm grid agree within 1 % of the surface value (the
/// cell-centred Robin face is first order in h).
#[test]
fn steady_penetration_from_the_pia_is_the_closed_form() {
    let (nx, ny, h) = (8usize, 96usize, 10.0);
    let n = nx * ny;
    let geo = Geometry {
        nx,
        ny,
        h,
        g: vec![1.0; n],
        w: vec![1.0; n],
        robin: (0..n)
            .map(|i| if i < nx { 1.0 / h as f32 } else { 0.0 })
            .collect(),
        absorbing_bottom: false,
    };
    let (d, k, p) = (105.0f64, std::f64::consts::LN_2 / 2400.0, 0.3f64);
    let sp = TransportCoef {
        d: d as f32,
        r: 1.0,
        k: k as f32,
    };
    let (c, cycles) = steady_penetration(&geo, sp, p as f32, 1e-6).expect("converges");
    let (big_h, l) = (ny as f64 * h, (d / k).sqrt());
    let a = p / (p * (big_h / l).cosh() + d / l * (big_h / l).sinh());
    let exact = |y: f64| a * ((big_h - y) / l).cosh();
    let mut worst = 0.0f64;
    for row in 0..ny {
        let y = (row as f64 + 0.5) * h;
        for x in 0..nx {
            worst = worst.max((c[row * nx + x] as f64 - exact(y)).abs());
        }
    }
    assert!(
        worst < 0.01 * exact(0.0),
        "worst {worst:.2e} of {:.4} after {cycles} cycles",
        exact(0.0)
    );
    // The profile falls with depth, as the closed form: 0.3 of the way down is below the top.
    assert!(c[30 * nx] < c[0] * 0.9, "{} vs {}", c[30 * nx], c[0]);
}
