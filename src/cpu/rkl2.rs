//! RKL2 super-time-stepping in plain Rust: the stage count and coefficients the GPU driver
//! (`gpu::rkl2`) uses, and [`Rkl2Reference`], its twin on the CPU.

use crate::model::Problem;

/// Smallest stage count s ≥ 2 with (s² + s − 2)/4 ≥ τ/Δt_expl.
pub fn stages_for(tau: f64, dt_expl: f64) -> u32 {
    let ratio = tau / dt_expl;
    let mut s = 2u32;
    while ((s * s + s - 2) as f64) / 4.0 < ratio {
        s += 1;
    }
    s
}

/// Per-stage coefficients (μ_j, ν_j, μ̃_j·τ, γ̃_j·τ) for j = 1..s (stage 1 written in the
/// general form with μ = ν = μ̃ = 0 and γ̃ = μ̃_1).
pub fn coefficients(s: u32, tau: f64) -> Vec<[f64; 4]> {
    let b = |j: u32| {
        if j <= 2 {
            1.0 / 3.0
        } else {
            ((j * j + j - 2) as f64) / (2.0 * (j * (j + 1)) as f64)
        }
    };
    let a = |j: u32| 1.0 - b(j);
    let w1 = 4.0 / ((s * s + s - 2) as f64);
    let mut out = vec![[0.0, 0.0, 0.0, b(1) * w1 * tau]];
    for j in 2..=s {
        let mu = (2 * j - 1) as f64 / j as f64 * b(j) / b(j - 1);
        let nu = -((j - 1) as f64) / j as f64 * b(j) / b(j - 2);
        let mu_t = mu * w1;
        let gamma_t = -a(j - 1) * mu_t;
        out.push([mu, nu, mu_t * tau, gamma_t * tau]);
    }
    out
}

/// Forward-Euler limit of L: 2/λ_max with λ_max = 8·max(D/a)/dx² + κ_max.
pub fn explicit_limit(max_d_over_a: f64, dx: f64, kappa_max: f64) -> f64 {
    2.0 / (8.0 * max_d_over_a / (dx * dx) + kappa_max).max(1e-300)
}

/// Plain-Rust twin of [`Rkl2`](crate::gpu::rkl2::Rkl2), in the same f32 arithmetic order.
pub struct Rkl2Reference {
    pub problem: Problem,
    pub fields: Vec<Vec<f32>>,
    coefs: Vec<[f32; 4]>,
}

impl Rkl2Reference {
    pub fn new(problem: Problem, fields: Vec<Vec<f32>>, tau: f64, stages: u32) -> Rkl2Reference {
        let coefs = coefficients(stages, tau)
            .iter()
            .map(|c| c.map(|x| x as f32))
            .collect();
        Rkl2Reference {
            problem,
            fields,
            coefs,
        }
    }

    pub fn advance(&mut self, steps: u64) {
        let n = self.problem.grid.cells();
        let op = |p: &Problem, s: usize, f: &[f32]| {
            let mut out = vec![0.0f32; n];
            crate::cpu::rd_step::diffusion_operator(p, s, f, &mut out);
            out
        };
        for _ in 0..steps {
            for s in 0..self.problem.species.len() {
                let y0 = self.fields[s].clone();
                let ly0 = op(&self.problem, s, &y0);
                let (mut prev2, mut prev) = (y0.clone(), y0.clone());
                for c in &self.coefs {
                    let lp = op(&self.problem, s, &prev);
                    let c0 = 1.0 - c[0] - c[1];
                    let next: Vec<f32> = (0..n)
                        .map(|i| {
                            c[0] * prev[i]
                                + c[1] * prev2[i]
                                + c0 * y0[i]
                                + c[2] * lp[i]
                                + c[3] * ly0[i]
                        })
                        .collect();
                    prev2 = std::mem::replace(&mut prev, next);
                }
                self.fields[s] = prev;
            }
        }
    }
}
