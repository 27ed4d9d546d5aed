//! The `analytic` and `baseline` groups of `dorsalhorn validate`: checks of the numerics on
//! the user's GPU against closed-form answers, and the baseline requirements of MODEL.md §8.1
//! on the settled tissue (and, for the Jacobian, neuronal calibration and V1-type selectivity,
//! on the well-mixed compartment of §8.2). The test suite calls the same functions.

use super::report::GroupCheck;
use crate::error::Error;
use crate::gpu::Gpu;
use crate::gpu::rd_step::Simulation;
use crate::gpu::reaction::STATE_STRIDE;
use crate::gpu::rkl2::Rkl2;
use crate::gpu::texture::write_layer;
use crate::grid::Grid;
use crate::model::network::Model;
use crate::model::network::state::{ACTIVATIONS, Input, STATE_NAMES, State, slot};
use crate::model::{Model as EngineModel, Problem, Species};
use crate::params::ParamTable;
use crate::scenario::dorsal_horn::TissueScenario;
use crate::tissue::TissueSim;

fn check(
    group: &str,
    id: &str,
    what: &str,
    source: &str,
    measured: String,
    criterion: &str,
    pass: bool,
) -> GroupCheck {
    GroupCheck {
        group: group.into(),
        id: id.into(),
        what: what.into(),
        source: source.into(),
        measured,
        criterion: criterion.into(),
        pass,
    }
}

/// Spreads a Gaussian of width `sigma0` (µm) with D = 1 µm²/s for `t` s on a square domain of
/// side `l` µm with spacing `dx` (forward Euler at 0.2 of its limit), and returns
/// max |numeric − exact| / initial peak.
pub fn gaussian_error(gpu: &Gpu, l: f64, dx: f64, sigma0: f64, t: f64) -> Result<f64, Error> {
    let n = (l / dx).round() as usize;
    let d = 1.0;
    let dt = 0.2 * dx * dx / d;
    let steps = (t / dt).round() as u64;
    let grid = Grid::new(n, n, dx);
    let problem = Problem {
        grid: grid.clone(),
        species: vec![Species::new("c", d as f32)],
        model: EngineModel::Diffusion,
        dt_s: dt,
    };
    let (cx, cy) = (l / 2.0, l / 2.0);
    let profile = |s2: f64, amp: f64| -> Vec<f32> {
        (0..n * n)
            .map(|i| {
                let (x, y) = grid.centre_um(i % n, i / n);
                (amp * (-((x - cx).powi(2) + (y - cy).powi(2)) / (2.0 * s2)).exp()) as f32
            })
            .collect()
    };
    let init = profile(sigma0 * sigma0, 1.0);
    let mut sim = Simulation::new(gpu, &problem, &[init])?;
    sim.advance(gpu, steps);
    let got = sim.read_species(gpu, 0)?;
    let t_done = steps as f64 * dt;
    let s2 = sigma0 * sigma0 + 2.0 * d * t_done;
    let exact = profile(s2, sigma0 * sigma0 / s2);
    Ok(got
        .iter()
        .zip(&exact)
        .map(|(a, b)| (a - b).abs() as f64)
        .fold(0.0, f64::max))
}

/// Observed orders of convergence of [`gaussian_error`] at dx = 1, 1/2, 1/4 µm (dt ∝ dx²).
pub fn convergence_orders(gpu: &Gpu) -> Result<(Vec<f64>, Vec<f64>), Error> {
    let errs = [1.0, 0.5, 0.25]
        .iter()
        .map(|&dx| gaussian_error(gpu, 48.0, dx, 3.0, 8.0))
        .collect::<Result<Vec<f64>, Error>>()?;
    let orders = errs.windows(2).map(|w| (w[0] / w[1]).log2()).collect();
    Ok((errs, orders))
}

/// Relative drift of the total of two species diffusing for 2000 steps with no-flux edges,
/// and the spread left in the first (to show it did diffuse).
pub fn conservation_drift(gpu: &Gpu) -> Result<(f64, f32), Error> {
    let (nx, ny) = (101, 67);
    let problem = Problem {
        grid: Grid::new(nx, ny, 2.0),
        species: vec![Species::new("a", 1.0), Species::new("b", 0.3)],
        model: EngineModel::Diffusion,
        dt_s: 0.9,
    };
    let init: Vec<Vec<f32>> = (0..2)
        .map(|s| {
            (0..nx * ny)
                .map(|i| ((i * 37 + s * 11) % 101) as f32 / 10.0)
                .collect()
        })
        .collect();
    let total = |f: &[f32]| f.iter().map(|&v| v as f64).sum::<f64>();
    let m0: Vec<f64> = init.iter().map(|f| total(f)).collect();
    let mut sim = Simulation::new(gpu, &problem, &init)?;
    sim.advance(gpu, 2000);
    let got = sim.read_all(gpu)?;
    let drift = (0..2)
        .map(|s| (total(&got[s]) - m0[s]).abs() / m0[s])
        .fold(0.0, f64::max);
    let spread = got[0].iter().copied().fold(0.0f32, f32::max)
        - got[0].iter().copied().fold(f32::MAX, f32::min);
    Ok((drift, spread))
}

/// K0 by its integral representation ∫_0^∞ e^{−x·cosh t} dt (trapezoid, converges fast).
pub fn bessel_k0(x: f64) -> f64 {
    let (dt, mut s) = (1e-3, 0.0);
    let mut t = 0.0f64;
    while t < 20.0 {
        let w = if t == 0.0 { 0.5 } else { 1.0 };
        s += w * (-x * t.cosh()).exp();
        t += dt;
    }
    s * dt
}

/// The transport's (RKL2) steady state around a point source with first-order clearance
/// against Q·K0(r/L)/(2π·D), L = √(D/k) (MODEL.md §2.4), compared as ratios along an axis 3 to
/// 40 cells from the source: the worst relative deviation.
pub fn k0_profile_deviation(gpu: &Gpu) -> Result<f64, Error> {
    let (n, h, d, k) = (161usize, 5.0f64, 100.0f32, 0.01f32);
    let problem = Problem {
        grid: Grid::new(n, n, h),
        species: vec![Species::new("c", d)],
        model: EngineModel::Diffusion,
        dt_s: 1.0,
    };
    let mut rk = Rkl2::new(gpu, &problem, &[vec![0.0; n * n]], 200.0)?;
    rk.set_step(gpu, 200.0, k as f64)?;
    let centre = (n / 2) * n + n / 2;
    let mut sigma = vec![0.0f32; n * n];
    sigma[centre] = 1.0;
    write_layer(gpu, rk.linear_texture(), 0, n, n, &sigma);
    write_layer(gpu, rk.linear_texture(), 1, n, n, &vec![k; n * n]);
    rk.advance(gpu, 300);
    let c = rk.read_species(gpu, 0)?;
    let l = ((d / k) as f64).sqrt();
    let r_ref = 10usize;
    let at = |r: usize| c[centre + r] as f64;
    let mut worst = 0.0f64;
    for r in 3..=40usize {
        let got = at(r) / at(r_ref);
        let want = bessel_k0(r as f64 * h / l) / bessel_k0(r_ref as f64 * h / l);
        worst = worst.max((got / want - 1.0).abs());
    }
    Ok(worst)
}

/// [`k0_profile_deviation`] for the implicit transport (TR-BDF2 solved by multigrid,
/// src/gpu/multigrid.rs): the same grid, source and clearance, 60 steps of 200 s.
pub fn k0_profile_deviation_implicit(gpu: &Gpu) -> Result<f64, Error> {
    use crate::cpu::multigrid::Geometry;
    use crate::cpu::multigrid::TransportCoef;
    use crate::gpu::multigrid::Multigrid;
    let (n, h, d, k) = (161usize, 5.0f64, 100.0f32, 0.01f32);
    let geo = Geometry {
        nx: n,
        ny: n,
        h,
        g: vec![1.0; n * n],
        w: vec![1.0; n * n],
        robin: vec![0.0; n * n],
        absorbing_bottom: false,
    };
    let mut mg = Multigrid::new(gpu, &geo, 1, 0.0, 1, 1)?;
    let centre = (n / 2) * n + n / 2;
    let mut source = vec![0.0f32; n * n];
    source[centre] = 1.0;
    let zero = vec![0.0f32; n * n];
    let zero = [zero];
    mg.upload_step(gpu, &zero, &[source], &zero);
    mg.advance(gpu, 200.0, None, &[TransportCoef { d, r: 1.0, k }], 60);
    let c = mg.read_step(gpu, 0)?;
    let l = ((d / k) as f64).sqrt();
    let r_ref = 10usize;
    let at = |r: usize| c[centre + r] as f64;
    let mut worst = 0.0f64;
    for r in 3..=40usize {
        let got = at(r) / at(r_ref);
        let want = bessel_k0(r as f64 * h / l) / bessel_k0(r_ref as f64 * h / l);
        worst = worst.max((got / want - 1.0).abs());
    }
    Ok(worst)
}

/// The analytic group.
pub fn analytic(gpu: &Gpu) -> Result<Vec<GroupCheck>, Error> {
    let g = "analytic";
    let mut out = Vec::new();
    let err = gaussian_error(gpu, 96.0, 1.0, 4.0, 20.0)?;
    out.push(check(
        g,
        "A1",
        "heat kernel: a Gaussian spreads as the exact 2-D solution",
        "closed form",
        format!("max error {err:.2e} of the peak"),
        "< 1e-3 of the peak",
        err < 1e-3,
    ));
    let (errs, orders) = convergence_orders(gpu)?;
    out.push(check(
        g,
        "A2",
        "second-order convergence of the heat kernel (dx = 1, ½, ¼ µm)",
        "closed form",
        format!(
            "errors {:.2e}, {:.2e}, {:.2e}; orders {:.2}, {:.2}",
            errs[0], errs[1], errs[2], orders[0], orders[1]
        ),
        "each order in 1.8 … 2.3",
        orders.iter().all(|p| (1.8..2.3).contains(p)),
    ));
    let dev = k0_profile_deviation(gpu)?;
    out.push(check(
        g,
        "A3",
        "steady profile around a point source with clearance is K0(r/L) (RKL2 transport)",
        "MODEL.md §2.4",
        format!("worst deviation {:.2} %", 100.0 * dev),
        "< 2 % at 3–40 cells",
        dev < 0.02,
    ));
    let (drift, spread) = conservation_drift(gpu)?;
    out.push(check(
        g,
        "A4",
        "mass is conserved with no-flux edges (2 species, 2000 steps)",
        "conservation law",
        format!("relative drift {drift:.1e} (field spread now {spread:.2})"),
        "drift ≤ 1e-5 and the field has smoothed (spread < 1)",
        drift <= 1e-5 && spread < 1.0,
    ));
    let dev = k0_profile_deviation_implicit(gpu)?;
    out.push(check(
        g,
        "A5",
        "the same K0 profile with the implicit transport (TR-BDF2 solved by multigrid, the \
         default of the tissue model)",
        "MODEL.md §2.4",
        format!("worst deviation {:.2} %", 100.0 * dev),
        "< 2 % at 3–40 cells",
        dev < 0.02,
    ));
    Ok(out)
}

/// The scenario whose settled baseline the baseline group examines: the rat section on the
/// chosen grid with the shipped scenarios' settling.
pub fn baseline_scenario(spacing_um: f64) -> Result<TissueScenario, Error> {
    let text = format!(
        "format_version = 1\nname = \"baseline\"\n[tissue]\nanimal = \"rat\"\nspacing_um = {spacing_um}\n[time]\ndays = 1.0\nsettle_days = 7.0\n[pain]\nmodel = \"none\"\n"
    );
    Ok(crate::scenario::dorsal_horn::from_str(
        "validate baseline group",
        &text,
        &[],
    )?)
}

fn state_index(name: &str) -> usize {
    STATE_NAMES
        .iter()
        .position(|n| *n == name)
        .expect("a state name")
}

/// The baseline group: §8.1 items 1–4 in every cell of the settled tissue, items 5–7 on the
/// well-mixed compartment.
#[expect(
    clippy::too_many_lines,
    reason = "the §8.1 baseline checks in the spec's order"
)]
pub fn baseline(gpu: &Gpu, mut sim: TissueSim) -> Result<Vec<GroupCheck>, Error> {
    let g = "baseline";
    let src = "MODEL.md §8.1";
    let mut out = Vec::new();
    let base = sim.model.baseline_input();
    let rates = sim.rates(gpu, &base)?;
    let l = &sim.layout;
    let n = l.cells();
    let (mut lo, mut hi, mut count) = (f32::INFINITY, f32::NEG_INFINITY, 0usize);
    for i in (0..n).filter(|&i| l.active[i]) {
        for (present, r) in [
            (&l.pops.present_e, &rates.r_e),
            (&l.pops.present_i, &rates.r_i),
            (&l.pops.present_p, &rates.r_p),
            (&l.pops.present_w, &rates.r_w),
        ] {
            if present[i] > 0.0 {
                lo = lo.min(r[i]);
                hi = hi.max(r[i]);
                count += 1;
            }
        }
    }
    out.push(check(
        g,
        "B1",
        "quiet rates r_E, r_I, r_P, r_W wherever each population is present",
        src,
        format!("{lo:.2} … {hi:.2} Hz over {count} cell-populations"),
        "1 … 5 Hz",
        count > 0 && lo >= 1.0 && hi <= 5.0,
    ));
    let before = sim.read_states(gpu)?;
    let pr = &sim.model.pr;
    let (mut act, mut act_name, mut kmin, mut sc_dev, mut rho) =
        (0.0f32, "", f32::INFINITY, 0.0f32, 0.0f32);
    let (mut near, mut near_what) = (f32::INFINITY, String::new());
    for i in (0..n).filter(|&i| l.active[i]) {
        let c = &before[i * STATE_STRIDE..][..crate::model::network::state::N_STATES];
        for a in ACTIVATIONS {
            let v = c[state_index(a)];
            if v > act {
                (act, act_name) = (v, a);
            }
            if 1.0 - v < near {
                (near, near_what) = (1.0 - v, format!("{a} from 1"));
            }
        }
        let k = c[slot::K];
        let s = c[slot::S_C];
        let r = c[slot::RHO_M];
        kmin = kmin.min(k);
        sc_dev = sc_dev.max((s - 1.0).abs());
        rho = rho.max(r);
        for (d, what) in [
            (k, "K from 0".to_string()),
            (s - pr.S_min as f32, "S_C from S_min".to_string()),
            (pr.S_max as f32 - s, "S_C from S_max".to_string()),
            (pr.rho_max as f32 - r, "ρ_M from ρ_max".to_string()),
        ] {
            if d < near {
                (near, near_what) = (d, what);
            }
        }
    }
    out.push(check(
        g,
        "B2",
        "quiet glia and plasticity in every cell",
        src,
        format!("largest activation {act_name} {act:.3}; K ≥ {kmin:.3}; |S_C − 1| ≤ {sc_dev:.3}; ρ_M ≤ {rho:.3}"),
        "activations < 0.05, K > 0.95, |S_C − 1| < 0.05, ρ_M < 1.05",
        act < 0.05 && kmin > 0.95 && sc_dev < 0.05 && rho < 1.05,
    ));
    out.push(check(
        g,
        "B3",
        "no state within 0.05 of a saturating bound",
        src,
        format!("closest: {near_what} by {near:.3}"),
        "every distance > 0.05",
        near > 0.05,
    ));
    // 30 days with no protocol; the baseline is a fixed point of both split steps, so 6-h
    // steps only set how fast a transient would decay.
    let days = 30.0;
    let dt = 6.0 * 3600.0;
    for _ in 0..(days * 86400.0 / dt) as usize {
        sim.step(gpu, dt, 900.0, &|_| base)?;
    }
    let after = sim.read_states(gpu)?;
    let (mut drift, mut worst) = (0.0f32, 0usize);
    for i in (0..n).filter(|&i| sim.layout.active[i]) {
        for k in 0..crate::model::network::state::N_STATES {
            let d = (after[i * STATE_STRIDE + k] - before[i * STATE_STRIDE + k]).abs();
            if d > drift {
                (drift, worst) = (d, k);
            }
        }
    }
    out.push(check(
        g,
        "B4",
        "no drift over 30 further baseline days (tissue, every cell)",
        src,
        format!("largest change {drift:.2e} ({})", STATE_NAMES[worst]),
        "< 0.01",
        drift < 0.01,
    ));
    out.extend(well_mixed_baseline());
    Ok(out)
}

/// MODEL.md §8.1 item 5 on the well-mixed compartment: every slow state of the baseline `s` is
/// pushed by 0.01 (K down), and the distance from `s` is followed for 90 days. Returns the
/// distance at 0, 60 and 90 days and the decay rate over the last 30 (s⁻¹; the slowest mode,
/// §8.2 A: −7.6e-7).
pub fn perturbation_decay(m: &Model, s: &State, inp: &Input) -> (f64, f64, f64, f64) {
    let dev = |a: &State| {
        let (x, y) = (a.to_array(), s.to_array());
        x.iter()
            .zip(&y)
            .map(|(p, q)| (p - q) * (p - q))
            .sum::<f64>()
            .sqrt()
    };
    let mut p = *s;
    for v in [
        &mut p.m,
        &mut p.p,
        &mut p.x4,
        &mut p.a,
        &mut p.j,
        &mut p.cx,
        &mut p.tnf,
        &mut p.il1b,
        &mut p.y,
        &mut p.cats,
    ] {
        *v += 0.01;
    }
    p.k -= 0.01;
    p.rho_m += 0.01;
    let day = 86400.0;
    let p60 = m.run(&p, inp, 60.0 * day, 20.0);
    let p90 = m.run(&p60, inp, 30.0 * day, 20.0);
    let (n60, n90) = (dev(&p60), dev(&p90));
    (dev(&p), n60, n90, (n90 / n60).ln() / (30.0 * day))
}

/// §8.1 items 5–7 on the well-mixed compartment of §8.2 (no GPU).
pub fn well_mixed_baseline() -> Vec<GroupCheck> {
    let g = "baseline";
    let src = "MODEL.md §8.1, §8.2 A";
    let mut m = Model::new(&ParamTable::builtin());
    let s = m.calibrated_baseline();
    let inp = m.baseline_input();
    let mut out = Vec::new();
    // 5. Stability: a perturbation of the slow states decays; its slowest rate.
    let day = 86400.0;
    let (n0, n60, n90, rate) = perturbation_decay(&m, &s, &inp);
    out.push(check(
        g,
        "B5",
        "stable baseline: a perturbation of every slow state decays (well-mixed)",
        src,
        format!("norm {n0:.1e} → {n60:.1e} (60 d) → {n90:.1e} (90 d); slowest rate {rate:.2e} s⁻¹ (τ {:.0} d)", -1.0 / rate / day),
        "decays; slowest rate < 0 (§8.2: −7.6e-7 s⁻¹)",
        n60 < 0.2 * n0 && n90 < n60 && rate < 0.0,
    ));
    // 6. Neuronal calibration.
    let mut cp = inp;
    cp.r_cp += 10.0;
    let rp_c = m.fast(&s, &cp).r_p;
    let mut mech = inp;
    mech.r_ab += 20.0;
    mech.r_ad += 2.0;
    let rp_k1 = m.fast(&s, &mech).r_p;
    let mut s3 = s;
    s3.k = 0.3;
    let rp_k03 = m.fast(&s3, &mech).r_p;
    out.push(check(
        g,
        "B6",
        "neuronal calibration: 10 Hz Cp test; mechanical test at K = 1 and 0.3 (well-mixed)",
        src,
        format!("r_P {rp_c:.1} Hz; {rp_k1:.2} Hz; {rp_k03:.1} Hz"),
        "20–30 Hz; < 5 Hz; > 5 Hz",
        (20.0..=30.0).contains(&rp_c) && rp_k1 < 5.0 && rp_k03 > 5.0,
    ));
    // 7. V1-type selectivity.
    let s60 = m.run(&s, &cp, 60.0, 0.5);
    let mut worst_a = 0.0f64;
    for extra in [(20.0, 0.0), (0.0, 5.0)] {
        let mut a = inp;
        a.r_ab += extra.0;
        a.r_ad += extra.1;
        worst_a = worst_a.max(m.run(&s, &a, 600.0, 0.5).perk);
    }
    out.push(check(
        g,
        "B7",
        "V1-type selectivity: 10 Hz C raises pERK within 1 min; 10 min of Aβ 20 Hz or Aδ 5 Hz does not (well-mixed)",
        src,
        format!("pERK {:.2} at 60 s of C; ≤ {worst_a:.3} after A-fibre input", s60.perk),
        "> 0.5 after 60 s; < 0.05",
        s60.perk > 0.5 && worst_a < 0.05,
    ));
    out
}
