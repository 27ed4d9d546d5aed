//! Implicit (backward-Euler) transport of the diffusing mediators, solved by geometric
//! multigrid: the level hierarchy the CPU twin and the GPU driver share ([`Hierarchy`]), the
//! TR-BDF2 coefficients, and the plain-Rust twin of shaders/multigrid.wgsl ([`MgReference`]);
//! the GPU driver is `gpu::multigrid`.
//!
//! # The equation
//!
//! Every mediator s of the spatial model obeys (src/tissue/, MODEL.md §2)
//!
//! ```text
//!   α·R_s ∂C/∂t = D*_s ∇·(g ∇C) + α·k_s·(goal − C) − P_pia·F·C
//! ```
//!
//! with one geometry for all species: g = α·(λ_grey/λ)² (0 outside the cord), faces carrying the
//! harmonic mean of g, the mass weight w = α and the Robin weight F = (pial faces)/h of the pial
//! loss. The species differ only by scalars (D*_s, R_s, k_s), which is what lets one set of
//! textures and one coarse hierarchy serve all 14 mediators. Backward Euler over a step Δt is,
//! per unit area,
//!
//! ```text
//!   (m_s·w + p·F + D*_s·S)·C'_i − D*_s·Σ_f G_f·C'_nb(f) = w_i·(R_s/Δt·C_i + k_s·goal_i)
//! ```
//!
//! with m_s = R_s/Δt + k_s, p = P_pia, G_f = hm(g_i, g_nb)/h² the face conductances and S_i
//! their sum around cell i (plus 2·g_i/h² at an absorbing ventral side, the ghost cell of the
//! explicit kernels). The matrix is a symmetric M-matrix: the step is unconditionally stable,
//! positivity-preserving and conserves Σ w·R·C up to the clearance and pial terms when solved
//! exactly; the steady state of a step is the exact discrete steady state, as with RKL2.
//!
//! # The solver
//!
//! Cell-centred geometric multigrid as in AMReX's MLMG: V-cycles with red–black Gauss–Seidel
//! smoothing, restriction by averaging the residual over 2 × 2 cells, piecewise-constant
//! prolongation, and coarse operators from the fine ones (mass and Robin weights averaged
//! over the 2 × 2 cells; face conductances ⅛·Σ of the two fine faces they cover, i.e. the
//! Galerkin operator of piecewise-constant transfer with its diffusion halved, which is the
//! rediscretisation on the coarse grid). Cells outside the domain have a zero row and are left
//! untouched. The coarsest level (both sides ≤ [`COARSEST`] cells) is solved exactly, with
//! inverse matrices the host computes when the coefficients change ([`coarse_inverse`]).
//! Convergence per V-cycle, the cycle count and why are in docs/engine.md.

/// Coarsening stops once neither side of a level exceeds this many cells (the coarsest level,
/// at most 64 cells, is solved exactly).
pub const COARSEST: usize = 12;
/// V-cycles per solve of the spatial model's transport step (src/tissue/mod.rs).
pub const CYCLES: u32 = 1;
/// Red–black sweeps before and after the coarse-grid correction.
pub const SWEEPS: u32 = 1;

/// The transport geometry shared by every species, per cell of a row-major nx × ny grid.
#[derive(Debug, Clone)]
pub struct Geometry {
    pub nx: usize,
    pub ny: usize,
    /// Cell size (µm).
    pub h: f64,
    /// Conductance weight g (dimensionless, 0 outside the domain).
    pub g: Vec<f32>,
    /// Mass weight w (the volume fraction α; 0 outside the domain).
    pub w: Vec<f32>,
    /// Robin weight F (µm⁻¹): pial faces of the cell divided by h.
    pub robin: Vec<f32>,
    /// Whether the side y = ny − 1 holds the concentration at 0 (else no flux). The other sides
    /// are no-flux (the pial loss is carried by `robin`).
    pub absorbing_bottom: bool,
}

/// One level of the hierarchy: per cell the east and south face conductances (µm⁻², 0 at the
/// grid's edge and outside the domain), the mass and Robin weights, and the sum S of the
/// conductances around the cell (with the ghost term of an absorbing bottom).
#[derive(Debug, Clone)]
pub struct Level {
    pub nx: usize,
    pub ny: usize,
    pub gx: Vec<f32>,
    pub gy: Vec<f32>,
    pub w: Vec<f32>,
    pub robin: Vec<f32>,
    pub ghost: Vec<f32>,
    pub s: Vec<f32>,
}

impl Level {
    fn sums(&mut self) {
        let (nx, ny) = (self.nx, self.ny);
        self.s = (0..nx * ny)
            .map(|i| {
                let (x, y) = (i % nx, i / nx);
                let west = if x > 0 { self.gx[i - 1] } else { 0.0 };
                let north = if y > 0 { self.gy[i - nx] } else { 0.0 };
                ((self.gx[i] + west) + (self.gy[i] + north)) + self.ghost[i]
            })
            .collect();
    }

    /// Whether cell i takes part in the solve: every cell of the domain has a positive mass
    /// weight, and a coarse cell is in the domain when one of its fine cells is.
    pub fn active(&self, i: usize) -> bool {
        self.w[i] > 0.0
    }
}

/// Harmonic mean of two conductance weights, 0 where both are 0 (as `face` in stencil.wgsl).
pub(crate) fn harmonic(a: f32, b: f32) -> f32 {
    let s = a + b;
    if s > 0.0 { 2.0 * a * b / s } else { 0.0 }
}

/// The levels of the multigrid hierarchy, finest first.
#[derive(Debug, Clone)]
pub struct Hierarchy {
    pub levels: Vec<Level>,
}

impl Hierarchy {
    pub fn new(geo: &Geometry) -> Hierarchy {
        let (nx, ny) = (geo.nx, geo.ny);
        let inv_h2 = (1.0 / (geo.h * geo.h)) as f32;
        let n = nx * ny;
        let mut fine = Level {
            nx,
            ny,
            gx: (0..n)
                .map(|i| {
                    if i % nx + 1 < nx {
                        harmonic(geo.g[i], geo.g[i + 1]) * inv_h2
                    } else {
                        0.0
                    }
                })
                .collect(),
            gy: (0..n)
                .map(|i| {
                    if i / nx + 1 < ny {
                        harmonic(geo.g[i], geo.g[i + nx]) * inv_h2
                    } else {
                        0.0
                    }
                })
                .collect(),
            w: geo.w.clone(),
            robin: geo.robin.clone(),
            ghost: (0..n)
                .map(|i| {
                    if geo.absorbing_bottom && i / nx + 1 == ny {
                        2.0 * geo.g[i] * inv_h2
                    } else {
                        0.0
                    }
                })
                .collect(),
            s: Vec::new(),
        };
        fine.sums();
        let mut levels = vec![fine];
        loop {
            let f = levels.last().expect("one level");
            if f.nx <= COARSEST && f.ny <= COARSEST {
                break;
            }
            let (cx, cy) = (f.nx.div_ceil(2), f.ny.div_ceil(2));
            let at = |v: &[f32], x: usize, y: usize| {
                if x < f.nx && y < f.ny {
                    v[y * f.nx + x]
                } else {
                    0.0
                }
            };
            let quad = |v: &[f32], x: usize, y: usize| {
                0.25 * ((at(v, 2 * x, 2 * y) + at(v, 2 * x + 1, 2 * y))
                    + (at(v, 2 * x, 2 * y + 1) + at(v, 2 * x + 1, 2 * y + 1)))
            };
            let mut c = Level {
                nx: cx,
                ny: cy,
                gx: Vec::with_capacity(cx * cy),
                gy: Vec::with_capacity(cx * cy),
                w: Vec::with_capacity(cx * cy),
                robin: Vec::with_capacity(cx * cy),
                ghost: Vec::with_capacity(cx * cy),
                s: Vec::new(),
            };
            for y in 0..cy {
                for x in 0..cx {
                    c.gx.push(if x + 1 < cx {
                        0.125 * (at(&f.gx, 2 * x + 1, 2 * y) + at(&f.gx, 2 * x + 1, 2 * y + 1))
                    } else {
                        0.0
                    });
                    c.gy.push(if y + 1 < cy {
                        0.125 * (at(&f.gy, 2 * x, 2 * y + 1) + at(&f.gy, 2 * x + 1, 2 * y + 1))
                    } else {
                        0.0
                    });
                    c.w.push(quad(&f.w, x, y));
                    c.robin.push(quad(&f.robin, x, y));
                    c.ghost.push(0.5 * quad(&f.ghost, x, y));
                }
            }
            c.sums();
            levels.push(c);
        }
        Hierarchy { levels }
    }
}

/// What one species contributes to a solve: its D* (µm²/s) and mass coefficient m = R/c + k
/// (1/s) for a solve of time constant c (Δt for backward Euler, [`TR_BDF2_C`]·Δt for the stages
/// of TR-BDF2).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SpeciesCoef {
    pub d: f32,
    pub m: f32,
}

/// A species of the transport: D* (µm²/s), retardation R and clearance k (1/s).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TransportCoef {
    pub d: f32,
    pub r: f32,
    pub k: f32,
}

/// γ = 2 − √2 of TR-BDF2 (Bank et al. 1985; Hosea & Shampine 1996): the trapezoidal stage
/// reaches γ·Δt, the BDF2 stage Δt. With this γ both stages solve the same matrix.
pub const TR_BDF2_GAMMA: f64 = 2.0 - std::f64::consts::SQRT_2;
/// Both stages' time constant c/Δt = γ/2 = (1 − γ)/(2 − γ) = 1 − 1/√2.
pub const TR_BDF2_C: f64 = 1.0 - std::f64::consts::FRAC_1_SQRT_2;
/// The BDF2 stage: Cⁿ⁺¹ − c·L(Cⁿ⁺¹) = a1·C* − a0·Cⁿ with a1 = 1/(γ(2 − γ)),
/// a0 = (1 − γ)²/(γ(2 − γ)).
pub const TR_BDF2_A1: f64 = 1.0 / (TR_BDF2_GAMMA * (2.0 - TR_BDF2_GAMMA));
pub const TR_BDF2_A0: f64 =
    (1.0 - TR_BDF2_GAMMA) * (1.0 - TR_BDF2_GAMMA) / (TR_BDF2_GAMMA * (2.0 - TR_BDF2_GAMMA));
/// The first stage's initial guess Cⁿ + θ·(Cⁿ − Cⁿ⁻¹) extends the previous step's change to
/// t + γ·Δt: θ = γ·Δt/Δt_prev, at most [`MAX_THETA`] (after a short step, cut to reach an
/// output or a session, the difference is small and would be amplified), 0 without a previous
/// step.
pub fn first_stage_theta(dt: f64, previous_dt: Option<f64>) -> f32 {
    previous_dt.map_or(0.0, |p| (TR_BDF2_GAMMA * dt / p).min(MAX_THETA)) as f32
}

/// Largest first-stage extrapolation weight.
pub const MAX_THETA: f64 = 1.0;

/// The second stage starts from the line through Cⁿ and C* extended to tⁿ⁺¹:
/// C* + ((1 − γ)/γ)·(C* − Cⁿ).
pub const TR_BDF2_EXTRAPOLATE: f64 = (1.0 - TR_BDF2_GAMMA) / TR_BDF2_GAMMA;

/// A species' coefficients for the stages of a TR-BDF2 step of `dt` seconds: D*, m = R/c + k
/// and R/c with c = [`TR_BDF2_C`]·Δt.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepCoef {
    pub d: f32,
    pub m: f32,
    pub r: f32,
}

pub fn step_coefficients(sp: TransportCoef, dt: f64) -> StepCoef {
    let r_over_c = sp.r as f64 / (TR_BDF2_C * dt);
    StepCoef {
        d: sp.d,
        m: (r_over_c + sp.k as f64) as f32,
        r: r_over_c as f32,
    }
}

/// The inverse of the coarsest level's matrix for one species (row-major, f32), computed in f64
/// by Gauss–Jordan elimination with partial pivoting. Cells outside the domain get an identity
/// row (their correction stays 0).
pub fn coarse_inverse(l: &Level, c: SpeciesCoef, p: f32) -> Vec<f32> {
    let n = l.nx * l.ny;
    let mut a = vec![0.0f64; n * n];
    let mut inv = vec![0.0f64; n * n];
    for i in 0..n {
        inv[i * n + i] = 1.0;
        if !l.active(i) {
            a[i * n + i] = 1.0;
            continue;
        }
        let (x, y) = (i % l.nx, i / l.nx);
        a[i * n + i] = (c.m as f64 * l.w[i] as f64 + p as f64 * l.robin[i] as f64)
            + c.d as f64 * l.s[i] as f64;
        let mut couple = |j: usize, g: f32| {
            if l.active(j) {
                a[i * n + j] -= c.d as f64 * g as f64;
            }
        };
        if x + 1 < l.nx {
            couple(i + 1, l.gx[i]);
        }
        if x > 0 {
            couple(i - 1, l.gx[i - 1]);
        }
        if y + 1 < l.ny {
            couple(i + l.nx, l.gy[i]);
        }
        if y > 0 {
            couple(i - l.nx, l.gy[i - l.nx]);
        }
    }
    for col in 0..n {
        let pivot = (col..n)
            .max_by(|&r, &q| a[r * n + col].abs().total_cmp(&a[q * n + col].abs()))
            .expect("a column");
        if pivot != col {
            for k in 0..n {
                a.swap(col * n + k, pivot * n + k);
                inv.swap(col * n + k, pivot * n + k);
            }
        }
        let d = a[col * n + col];
        for k in 0..n {
            a[col * n + k] /= d;
            inv[col * n + k] /= d;
        }
        for r in 0..n {
            if r != col {
                let f = a[r * n + col];
                if f != 0.0 {
                    for k in 0..n {
                        a[r * n + k] -= f * a[col * n + k];
                        inv[r * n + k] -= f * inv[col * n + k];
                    }
                }
            }
        }
    }
    inv.iter().map(|&v| v as f32).collect()
}

/// The inverse of [`coarse_inverse`] laid out as the kernel reads it: for each column j, one
/// texel per texel t = y·ntx + X of the level holding A⁻¹(i, j) of its four cells (rows of
/// texels, then columns: a texture of width ntx·ny and height nx·ny).
pub(crate) fn inverse_texels(l: &Level, inv: &[f32]) -> Vec<f32> {
    let (n, ntx) = (l.nx * l.ny, l.nx.div_ceil(4));
    let mut out = vec![0.0f32; 4 * ntx * l.ny * n];
    for j in 0..n {
        for y in 0..l.ny {
            for x in 0..l.nx {
                let (t, lane) = (y * ntx + x / 4, x % 4);
                out[(j * ntx * l.ny + t) * 4 + lane] = inv[(y * l.nx + x) * n + j];
            }
        }
    }
    out
}

/// The plain-Rust twin of the GPU solver (f32, the shader's order of operations).
pub struct MgReference {
    pub hierarchy: Hierarchy,
    /// Pial permeability P_pia (µm/s).
    pub p: f32,
}

/// The steady penetration of a species held at 1 in the CSF into the domain of `geo`: the
/// solution of D*·∇·(g∇C) − w·k·C + P·F·(1 − C) = 0 (the transport's operator of
/// src/tissue/mod.rs without production; P·F the Robin exchange of its pial faces, §2.5), by
/// V-cycles until one changes no cell by more than `tol` of the field's largest value (in f32 a
/// residual test cannot go below ~1e-5 of the diffusion terms, and with weak clearance that is a
/// large error). Returns the field (0 outside the domain) and the cycles it took; `None` if 500
/// cycles do not reach `tol`.
pub fn steady_penetration(
    geo: &Geometry,
    sp: TransportCoef,
    p_pia: f32,
    tol: f32,
) -> Option<(Vec<f32>, usize)> {
    let mg = MgReference::new(geo, p_pia);
    let c = SpeciesCoef { d: sp.d, m: sp.k };
    let b: Vec<f32> = geo.robin.iter().map(|&f| p_pia * f).collect();
    let scale = b.iter().copied().fold(0.0f32, f32::max);
    if scale <= 0.0 {
        return Some((vec![0.0; b.len()], 0));
    }
    let mut x = vec![0.0f32; b.len()];
    for cycle in 1..=500 {
        let before = x.clone();
        mg.v_cycle(0, c, &mut x, &b, 2, 2);
        let top = x.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        if x.iter()
            .zip(&before)
            .all(|(a, b)| (a - b).abs() <= tol * top)
        {
            return Some((x, cycle));
        }
    }
    None
}

/// Which cells a red–black half-sweep updates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Colour {
    Red,
    Black,
}

impl MgReference {
    pub fn new(geo: &Geometry, p_pia: f32) -> MgReference {
        MgReference {
            hierarchy: Hierarchy::new(geo),
            p: p_pia,
        }
    }

    fn diag(&self, l: &Level, c: SpeciesCoef, i: usize) -> f32 {
        (c.m * l.w[i] + self.p * l.robin[i]) + c.d * l.s[i]
    }

    /// D*·Σ G·x over the neighbours of cell i.
    fn neighbours(l: &Level, c: SpeciesCoef, x: &[f32], i: usize) -> f32 {
        let (nx, ny) = (l.nx, l.ny);
        let (cx, cy) = (i % nx, i / nx);
        let east = if cx + 1 < nx { l.gx[i] * x[i + 1] } else { 0.0 };
        let west = if cx > 0 { l.gx[i - 1] * x[i - 1] } else { 0.0 };
        let south = if cy + 1 < ny {
            l.gy[i] * x[i + nx]
        } else {
            0.0
        };
        let north = if cy > 0 {
            l.gy[i - nx] * x[i - nx]
        } else {
            0.0
        };
        c.d * ((east + west) + (south + north))
    }

    /// One red–black half-sweep on level `lv`.
    pub fn half_sweep(&self, lv: usize, c: SpeciesCoef, x: &mut [f32], b: &[f32], colour: Colour) {
        let l = &self.hierarchy.levels[lv];
        let parity = match colour {
            Colour::Red => 0,
            Colour::Black => 1,
        };
        let old = x.to_vec();
        for i in 0..l.nx * l.ny {
            if (i % l.nx + i / l.nx) % 2 != parity {
                continue;
            }
            if l.active(i) {
                x[i] = (b[i] + Self::neighbours(l, c, &old, i)) / self.diag(l, c, i);
            }
        }
    }

    /// r = b − A·x on level `lv` (0 outside the domain).
    pub fn residual(&self, lv: usize, c: SpeciesCoef, x: &[f32], b: &[f32]) -> Vec<f32> {
        let l = &self.hierarchy.levels[lv];
        (0..l.nx * l.ny)
            .map(|i| {
                if l.active(i) {
                    (b[i] + Self::neighbours(l, c, x, i)) - self.diag(l, c, i) * x[i]
                } else {
                    0.0
                }
            })
            .collect()
    }

    /// The coarse right-hand side: the residual averaged over 2 × 2 cells.
    pub fn restrict(&self, lv: usize, r: &[f32]) -> Vec<f32> {
        let (f, c) = (&self.hierarchy.levels[lv], &self.hierarchy.levels[lv + 1]);
        let at = |x: usize, y: usize| {
            if x < f.nx && y < f.ny {
                r[y * f.nx + x]
            } else {
                0.0
            }
        };
        (0..c.nx * c.ny)
            .map(|i| {
                let (x, y) = (i % c.nx, i / c.nx);
                0.25 * ((at(2 * x, 2 * y) + at(2 * x + 1, 2 * y))
                    + (at(2 * x, 2 * y + 1) + at(2 * x + 1, 2 * y + 1)))
            })
            .collect()
    }

    /// x += P·e (piecewise constant) on level `lv` from the correction e of level `lv + 1`.
    pub fn prolong(&self, lv: usize, x: &mut [f32], e: &[f32]) {
        let (f, c) = (&self.hierarchy.levels[lv], &self.hierarchy.levels[lv + 1]);
        for i in 0..f.nx * f.ny {
            let (x0, y0) = (i % f.nx, i / f.nx);
            if f.active(i) {
                x[i] += e[(y0 / 2) * c.nx + x0 / 2];
            }
        }
    }

    /// One TR-BDF2 step of the transport for one species on the fine level: Cⁿ is `c`, the
    /// source f = w·k·goal is `f`; each stage takes `cycles` V-cycles of `sweeps` sweeps
    /// (`coef` from [`step_coefficients`]).
    #[expect(
        clippy::too_many_arguments,
        reason = "the operator of one level: its geometry, coefficients and the three fields it reads and writes"
    )]
    pub fn tr_bdf2_step(
        &self,
        coef: StepCoef,
        c: &[f32],
        f: &[f32],
        previous: &[f32],
        theta: f32,
        cycles: usize,
        sweeps: usize,
    ) -> Vec<f32> {
        let l = &self.hierarchy.levels[0];
        let sc = SpeciesCoef {
            d: coef.d,
            m: coef.m,
        };
        let b1: Vec<f32> = (0..l.nx * l.ny)
            .map(|i| {
                if l.active(i) {
                    let own = 2.0 * (coef.r * l.w[i] * c[i] + f[i]);
                    (own + Self::neighbours(l, sc, c, i)) - self.diag(l, sc, i) * c[i]
                } else {
                    0.0
                }
            })
            .collect();
        let mut star: Vec<f32> = c
            .iter()
            .zip(previous)
            .map(|(&x, &p)| x + theta * (x - p))
            .collect();
        for _ in 0..cycles {
            self.v_cycle(0, sc, &mut star, &b1, sweeps, sweeps);
        }
        let (a1, a0) = (TR_BDF2_A1 as f32, TR_BDF2_A0 as f32);
        let b2: Vec<f32> = (0..l.nx * l.ny)
            .map(|i| {
                if l.active(i) {
                    coef.r * l.w[i] * (a1 * star[i] - a0 * c[i]) + f[i]
                } else {
                    0.0
                }
            })
            .collect();
        let e = TR_BDF2_EXTRAPOLATE as f32;
        let mut next: Vec<f32> = star
            .iter()
            .zip(c)
            .map(|(&s, &old)| s + e * (s - old))
            .collect();
        for _ in 0..cycles {
            self.v_cycle(0, sc, &mut next, &b2, sweeps, sweeps);
        }
        next
    }

    /// One V-cycle (`pre` and `post` red–black sweeps) for A·x = b on level `lv`.
    pub fn v_cycle(
        &self,
        lv: usize,
        c: SpeciesCoef,
        x: &mut [f32],
        b: &[f32],
        pre: usize,
        post: usize,
    ) {
        let last = self.hierarchy.levels.len() - 1;
        if lv == last {
            let inv = coarse_inverse(&self.hierarchy.levels[last], c, self.p);
            let n = x.len();
            for i in 0..n {
                let mut acc = 0.0f32;
                for j in 0..n {
                    acc += inv[i * n + j] * b[j];
                }
                x[i] = acc;
            }
            return;
        }
        for _ in 0..pre {
            self.half_sweep(lv, c, x, b, Colour::Red);
            self.half_sweep(lv, c, x, b, Colour::Black);
        }
        let r = self.residual(lv, c, x, b);
        let bc = self.restrict(lv, &r);
        let cl = &self.hierarchy.levels[lv + 1];
        let mut e = vec![0.0f32; cl.nx * cl.ny];
        self.v_cycle(lv + 1, c, &mut e, &bc, pre, post);
        self.prolong(lv, x, &e);
        for _ in 0..post {
            self.half_sweep(lv, c, x, b, Colour::Red);
            self.half_sweep(lv, c, x, b, Colour::Black);
        }
    }
}
