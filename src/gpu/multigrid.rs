//! Implicit (backward-Euler) transport of the diffusing mediators, solved by geometric
//! multigrid: the plain-Rust twin of shaders/multigrid.wgsl ([`MgReference`]), the level
//! hierarchy both share ([`Hierarchy`]) and the GPU driver ([`Multigrid`]).
//!
//! # The equation
//!
//! Every mediator s of the spatial model obeys (src/tissue.rs, MODEL.md §2)
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
/// V-cycles per solve of the spatial model's transport step (src/tissue.rs).
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
fn harmonic(a: f32, b: f32) -> f32 {
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
fn inverse_texels(l: &Level, inv: &[f32]) -> Vec<f32> {
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
    #[allow(clippy::too_many_arguments)]
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

// ---------------------------------------------------------------------------------------------
// The GPU solver.

use crate::error::{Error, GpuError};
use crate::gpu::Gpu;
use crate::gpu::engine::{
    array_view, expand_species, packed_texture, read_layer, readback_buffer, storage_texture_entry,
    texels_per_row, texture_entry, uniform_entry, write_layer,
};
use bytemuck::{Pod, Zeroable};

/// Workgroup width of the multigrid kernels.
const WG_X: u32 = 64;
/// Dynamic uniform offsets must be multiples of this.
const SLOT: u64 = 256;
/// Layers of a level's geometry texture: G_x, G_y, w, F, S.
const GEOMETRY_LAYERS: u32 = 5;

/// The kernels' `Lvl` uniform (one 256-byte slot per level and colour).
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable)]
pub struct LevelParams {
    pub nx: u32,
    pub ny: u32,
    pub ntx: u32,
    pub colour: u32,
    pub cny: u32,
    pub cntx: u32,
    pub _pad0: u32,
    pub _pad1: u32,
}

/// The WGSL of the multigrid kernels for `ns` species.
pub fn shader_source(ns: usize) -> String {
    format!(
        "const NS: u32 = {ns}u;\nconst WG_X: u32 = {WG_X}u;\n{}",
        expand_species(include_str!("../../shaders/multigrid.wgsl"), ns)
    )
}

struct GpuLevel {
    nx: usize,
    ny: usize,
    x: [wgpu::Texture; 2],
    b: wgpu::Texture,
    /// Smooth and residual: x[cur] and b in, x[1 − cur] out.
    sweep: [wgpu::BindGroup; 2],
    /// Restrict (not on the coarsest level): x[cur] and b in, the next level's b and x[0] out.
    restrict: Option<[wgpu::BindGroup; 2]>,
    /// Prolong (not on the coarsest level), by [cur here][cur of the next level].
    prolong: Option<[[wgpu::BindGroup; 2]; 2]>,
    /// The exact solve (coarsest level only): b in, x[0] out.
    coarse: Option<wgpu::BindGroup>,
}

impl GpuLevel {
    fn ntx(&self) -> u32 {
        texels_per_row(self.nx) as u32
    }
}

/// Backward-Euler transport of `ns` species sharing one [`Geometry`], solved on the GPU by
/// multigrid V-cycles (see the module documentation). The right-hand side and the initial guess
/// are written into [`Multigrid::rhs_texture`] and [`Multigrid::guess_texture`] (by the
/// caller's kernels or [`Multigrid::upload`]); [`Multigrid::encode_solve`] records the cycles
/// and the solution is then in [`Multigrid::solution_texture`].
pub struct Multigrid {
    ns: usize,
    hierarchy: Hierarchy,
    levels: Vec<GpuLevel>,
    coef: wgpu::Buffer,
    coef_values: Vec<[f32; 4]>,
    p_pia: f32,
    smooth: wgpu::ComputePipeline,
    restrict: wgpu::ComputePipeline,
    coarse: wgpu::ComputePipeline,
    /// The coarsest level's inverses for the current coefficients, and those computed before
    /// (by coefficient bits: a run alternates between a few step lengths).
    inverse: wgpu::Texture,
    inverses: Vec<(Vec<[u32; 2]>, Vec<f32>)>,
    prolong: wgpu::ComputePipeline,
    cycles: u32,
    sweeps: u32,
    readback: wgpu::Buffer,
    /// The first stage's extrapolation weight as last uploaded.
    theta: f32,
    rhs_tr: wgpu::ComputePipeline,
    rhs_bdf2: wgpu::ComputePipeline,
    /// The fine level's history: Cⁿ in layers 0..ns, the source f = w·k·goal in ns..2ns.
    history: wgpu::Texture,
    /// First stage's right-hand side: Cⁿ = x[0] and the history in, b out.
    rhs_tr_group: wgpu::BindGroup,
    /// Second stage's, by where the first stage left C*.
    rhs_bdf2_groups: [wgpu::BindGroup; 2],
}

/// The compiled multigrid kernels for `ns` species and their layout, shared by every
/// [`Multigrid`] of that size on a device ([`Gpu::kernels`]).
struct MgKernels {
    layout: wgpu::BindGroupLayout,
    smooth: wgpu::ComputePipeline,
    restrict: wgpu::ComputePipeline,
    coarse: wgpu::ComputePipeline,
    prolong: wgpu::ComputePipeline,
    rhs_tr: wgpu::ComputePipeline,
    rhs_bdf2: wgpu::ComputePipeline,
}

impl MgKernels {
    fn new(gpu: &Gpu, ns: usize) -> MgKernels {
        let device = &gpu.device;
        let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some("multigrid"),
            source: wgpu::ShaderSource::Wgsl(shader_source(ns).into()),
        });
        let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("multigrid layout"),
            entries: &[
                uniform_entry(0, true),
                uniform_entry(1, false),
                texture_entry(2),
                texture_entry(3),
                texture_entry(4),
                storage_texture_entry(5),
                storage_texture_entry(6),
                texture_entry(8),
            ],
        });
        let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("multigrid pipeline layout"),
            bind_group_layouts: &[Some(&layout)],
            immediate_size: 0,
        });
        let pipeline = |entry: &str| gpu.compute_pipeline(Some(&pipeline_layout), &module, entry);
        MgKernels {
            smooth: pipeline("mg_smooth"),
            restrict: pipeline("mg_restrict"),
            coarse: pipeline("mg_coarse"),
            prolong: pipeline("mg_prolong"),
            rhs_tr: pipeline("mg_rhs_tr"),
            rhs_bdf2: pipeline("mg_rhs_bdf2"),
            layout,
        }
    }
}

/// The copy location of a texture from layer `z` on.
fn layer_copy(texture: &wgpu::Texture, z: u32) -> wgpu::TexelCopyTextureInfo<'_> {
    wgpu::TexelCopyTextureInfo {
        texture,
        mip_level: 0,
        origin: wgpu::Origin3d { x: 0, y: 0, z },
        aspect: wgpu::TextureAspect::All,
    }
}

/// Which x texture of each level holds the current iterate while a solve is recorded.
struct Cursor(Vec<usize>);

impl Multigrid {
    /// Builds the hierarchy of `geo`, its textures and kernels for `ns` species; each solve
    /// takes `cycles` V-cycles of `sweeps` red–black sweeps before and after the coarse-grid
    /// correction.
    pub fn new(
        gpu: &Gpu,
        geo: &Geometry,
        ns: usize,
        p_pia: f32,
        cycles: u32,
        sweeps: u32,
    ) -> Result<Multigrid, Error> {
        let hierarchy = Hierarchy::new(geo);
        let device = &gpu.device;
        let scope = gpu.capture_errors();
        let kernels = gpu.kernels(&shader_source(ns), || MgKernels::new(gpu, ns));
        let layout = &kernels.layout;
        let last = hierarchy.levels.last().expect("one level");
        let coarse_cells = last.nx * last.ny;
        assert!(
            coarse_cells <= COARSEST * COARSEST,
            "the coarsest level is small"
        );
        let inverse = device.create_texture(&wgpu::TextureDescriptor {
            label: Some("multigrid coarsest inverses"),
            size: wgpu::Extent3d {
                width: (texels_per_row(last.nx) * last.ny) as u32,
                height: coarse_cells as u32,
                depth_or_array_layers: ns as u32,
            },
            mip_level_count: 1,
            sample_count: 1,
            dimension: wgpu::TextureDimension::D2,
            format: wgpu::TextureFormat::Rgba32Float,
            usage: wgpu::TextureUsages::TEXTURE_BINDING | wgpu::TextureUsages::COPY_DST,
            view_formats: &[],
        });
        let inverse_view = array_view(&inverse);
        let lvl_buf = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("multigrid levels"),
            size: SLOT * 2 * hierarchy.levels.len() as u64,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let mut slots = vec![0u8; (SLOT * 2) as usize * hierarchy.levels.len()];
        for (l, lv) in hierarchy.levels.iter().enumerate() {
            let coarse = hierarchy.levels.get(l + 1);
            for colour in 0..2u32 {
                let p = LevelParams {
                    nx: lv.nx as u32,
                    ny: lv.ny as u32,
                    ntx: texels_per_row(lv.nx) as u32,
                    colour,
                    cny: coarse.map_or(0, |c| c.ny as u32),
                    cntx: coarse.map_or(0, |c| texels_per_row(c.nx) as u32),
                    _pad0: 0,
                    _pad1: 0,
                };
                let at = (2 * l + colour as usize) * SLOT as usize;
                slots[at..at + std::mem::size_of::<LevelParams>()]
                    .copy_from_slice(bytemuck::bytes_of(&p));
            }
        }
        gpu.queue.write_buffer(&lvl_buf, 0, &slots);
        let coef = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("multigrid coefficients"),
            size: 16 * (ns as u64 + 2),
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let usage = wgpu::TextureUsages::TEXTURE_BINDING
            | wgpu::TextureUsages::STORAGE_BINDING
            | wgpu::TextureUsages::COPY_SRC
            | wgpu::TextureUsages::COPY_DST;
        let dummy = packed_texture(gpu, "multigrid unused output", 1, 1, 1, usage);
        let dummy_view = array_view(&dummy);
        let mut tex = Vec::new();
        for lv in &hierarchy.levels {
            let geom = packed_texture(
                gpu,
                "multigrid geometry",
                lv.nx,
                lv.ny,
                GEOMETRY_LAYERS,
                usage,
            );
            for (layer, data) in [&lv.gx, &lv.gy, &lv.w, &lv.robin, &lv.s].iter().enumerate() {
                write_layer(gpu, &geom, layer as u32, lv.nx, lv.ny, data);
            }
            let make = |label: &str| packed_texture(gpu, label, lv.nx, lv.ny, ns as u32, usage);
            tex.push((
                geom,
                [make("multigrid x 0"), make("multigrid x 1")],
                make("multigrid b"),
            ));
        }
        let lvl_binding = wgpu::BindingResource::Buffer(wgpu::BufferBinding {
            buffer: &lvl_buf,
            offset: 0,
            size: std::num::NonZeroU64::new(std::mem::size_of::<LevelParams>() as u64),
        });
        let group = |geom: &wgpu::TextureView,
                     a: &wgpu::TextureView,
                     b: &wgpu::TextureView,
                     o1: &wgpu::TextureView,
                     o2: &wgpu::TextureView| {
            device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some("multigrid"),
                layout,
                entries: &[
                    wgpu::BindGroupEntry {
                        binding: 0,
                        resource: lvl_binding.clone(),
                    },
                    wgpu::BindGroupEntry {
                        binding: 1,
                        resource: coef.as_entire_binding(),
                    },
                    wgpu::BindGroupEntry {
                        binding: 2,
                        resource: wgpu::BindingResource::TextureView(geom),
                    },
                    wgpu::BindGroupEntry {
                        binding: 3,
                        resource: wgpu::BindingResource::TextureView(a),
                    },
                    wgpu::BindGroupEntry {
                        binding: 4,
                        resource: wgpu::BindingResource::TextureView(b),
                    },
                    wgpu::BindGroupEntry {
                        binding: 5,
                        resource: wgpu::BindingResource::TextureView(o1),
                    },
                    wgpu::BindGroupEntry {
                        binding: 6,
                        resource: wgpu::BindingResource::TextureView(o2),
                    },
                    wgpu::BindGroupEntry {
                        binding: 8,
                        resource: wgpu::BindingResource::TextureView(&inverse_view),
                    },
                ],
            })
        };
        let views: Vec<_> = tex
            .iter()
            .map(|(g, x, b)| {
                (
                    array_view(g),
                    [array_view(&x[0]), array_view(&x[1])],
                    array_view(b),
                )
            })
            .collect();
        let mut levels = Vec::new();
        let n_levels = hierarchy.levels.len();
        for (l, (_, x, b)) in tex.into_iter().enumerate() {
            let (gv, xv, bv) = &views[l];
            let sweep = [
                group(gv, &xv[0], bv, &xv[1], &dummy_view),
                group(gv, &xv[1], bv, &xv[0], &dummy_view),
            ];
            let (restrict_groups, prolong_groups) = if l + 1 < n_levels {
                let (_, cx, cb) = &views[l + 1];
                (
                    Some([
                        group(gv, &xv[0], bv, cb, &cx[0]),
                        group(gv, &xv[1], bv, cb, &cx[0]),
                    ]),
                    Some([
                        [
                            group(gv, &xv[0], &cx[0], &xv[1], &dummy_view),
                            group(gv, &xv[0], &cx[1], &xv[1], &dummy_view),
                        ],
                        [
                            group(gv, &xv[1], &cx[0], &xv[0], &dummy_view),
                            group(gv, &xv[1], &cx[1], &xv[0], &dummy_view),
                        ],
                    ]),
                )
            } else {
                (None, None)
            };
            let lv = &hierarchy.levels[l];
            let coarse = (l + 1 == n_levels).then(|| group(gv, gv, bv, &xv[0], &dummy_view));
            levels.push(GpuLevel {
                nx: lv.nx,
                ny: lv.ny,
                x,
                b,
                sweep,
                restrict: restrict_groups,
                prolong: prolong_groups,
                coarse,
            });
        }
        let fine = &hierarchy.levels[0];
        let readback = readback_buffer(gpu, fine.nx, fine.ny);
        let history = packed_texture(
            gpu,
            "multigrid history",
            fine.nx,
            fine.ny,
            3 * ns as u32,
            usage,
        );
        let history_view = array_view(&history);
        let (gv, xv, bv) = &views[0];
        let rhs_tr_group = group(gv, &xv[0], &history_view, bv, &xv[1]);
        let rhs_bdf2_groups = [
            group(gv, &xv[0], &history_view, bv, &xv[1]),
            group(gv, &xv[1], &history_view, bv, &xv[0]),
        ];
        gpu.validated(scope, "multigrid set-up")?;
        Ok(Multigrid {
            ns,
            levels,
            hierarchy,
            coef,
            coef_values: vec![[0.0; 4]; ns],
            p_pia,
            smooth: kernels.smooth.clone(),
            restrict: kernels.restrict.clone(),
            coarse: kernels.coarse.clone(),
            inverse,
            inverses: Vec::new(),
            prolong: kernels.prolong.clone(),
            cycles,
            sweeps,
            readback,
            theta: 0.0,
            rhs_tr: kernels.rhs_tr.clone(),
            rhs_bdf2: kernels.rhs_bdf2.clone(),
            history,
            rhs_tr_group,
            rhs_bdf2_groups,
        })
    }

    /// The hierarchy the solver runs on.
    pub fn hierarchy(&self) -> &Hierarchy {
        &self.hierarchy
    }

    pub fn species(&self) -> usize {
        self.ns
    }

    /// V-cycles per solve.
    pub fn cycles(&self) -> u32 {
        self.cycles
    }

    /// Sets each species' D* and mass coefficient m = R/Δt + k for the next solves.
    pub fn set_coefficients(&mut self, gpu: &Gpu, coefs: &[SpeciesCoef]) {
        assert_eq!(coefs.len(), self.ns, "one coefficient pair per species");
        let values: Vec<[f32; 4]> = coefs.iter().map(|c| [c.d, c.m, 0.0, 0.0]).collect();
        self.write_coefficients(gpu, values, 0.0);
    }

    fn write_coefficients(&mut self, gpu: &Gpu, values: Vec<[f32; 4]>, theta: f32) {
        if values == self.coef_values && theta == self.theta {
            return;
        }
        self.theta = theta;
        let mut data = values.clone();
        data.push([
            self.p_pia,
            TR_BDF2_A1 as f32,
            TR_BDF2_A0 as f32,
            TR_BDF2_EXTRAPOLATE as f32,
        ]);
        data.push([self.theta, 0.0, 0.0, 0.0]);
        gpu.queue
            .write_buffer(&self.coef, 0, bytemuck::cast_slice(&data));
        let key: Vec<[u32; 2]> = values
            .iter()
            .map(|v| [v[0].to_bits(), v[1].to_bits()])
            .collect();
        let found = self.inverses.iter().position(|(k, _)| *k == key);
        let at = match found {
            Some(i) => i,
            None => {
                let last = self.hierarchy.levels.last().expect("one level");
                let inv: Vec<f32> = values
                    .iter()
                    .flat_map(|v| {
                        let m = coarse_inverse(last, SpeciesCoef { d: v[0], m: v[1] }, self.p_pia);
                        inverse_texels(last, &m)
                    })
                    .collect();
                if self.inverses.len() >= 8 {
                    self.inverses.remove(0);
                }
                self.inverses.push((key, inv));
                self.inverses.len() - 1
            }
        };
        let size = self.inverse.size();
        gpu.queue.write_texture(
            layer_copy(&self.inverse, 0),
            bytemuck::cast_slice(&self.inverses[at].1),
            wgpu::TexelCopyBufferLayout {
                offset: 0,
                bytes_per_row: Some(size.width * 16),
                rows_per_image: Some(size.height),
            },
            size,
        );
        self.coef_values = values;
    }

    /// Sets up the next TR-BDF2 steps ([`Multigrid::encode_step`]) of `dt` seconds for species
    /// with these (D*, R, k). `previous_dt` is the length of the step that led to Cⁿ, when the
    /// history holds its start Cⁿ⁻¹: the first stage then starts from the extrapolation
    /// Cⁿ + θ·(Cⁿ − Cⁿ⁻¹) with θ = [`first_stage_theta`].
    pub fn set_step(
        &mut self,
        gpu: &Gpu,
        dt: f64,
        previous_dt: Option<f64>,
        species: &[TransportCoef],
    ) {
        assert_eq!(species.len(), self.ns, "one coefficient set per species");
        let values = species
            .iter()
            .map(|sp| {
                let c = step_coefficients(*sp, dt);
                [c.d, c.m, c.r, 0.0]
            })
            .collect();
        self.write_coefficients(gpu, values, first_stage_theta(dt, previous_dt));
    }

    /// Records the copy of Cⁿ into the history's Cⁿ⁻¹ layers; it must precede the writing of
    /// the next step's Cⁿ.
    pub fn encode_keep_history(&self, enc: &mut wgpu::CommandEncoder) {
        let f = &self.levels[0];
        enc.copy_texture_to_texture(
            layer_copy(&self.history, 0),
            layer_copy(&self.history, 2 * self.ns as u32),
            wgpu::Extent3d {
                width: f.ntx(),
                height: f.ny as u32,
                depth_or_array_layers: self.ns as u32,
            },
        );
    }

    /// The fine level's history texture: Cⁿ in layers 0..ns and the source f = w·k·goal in
    /// layers ns..2ns, written by the caller before [`Multigrid::encode_step`], and Cⁿ⁻¹ in
    /// layers 2ns..3ns ([`Multigrid::encode_keep_history`]).
    pub fn history_texture(&self) -> &wgpu::Texture {
        &self.history
    }

    /// Where [`Multigrid::encode_step`] leaves Cⁿ⁺¹: the fine level's x[0] (each solve flips
    /// the parity once per cycle, and each stage starts from its initial guess on the other
    /// side of the one its right-hand side kernel read).
    pub fn step_solution_texture(&self) -> &wgpu::Texture {
        &self.levels[0].x[0]
    }

    /// Records one TR-BDF2 step: the first stage's right-hand side and initial guess from Cⁿ
    /// (the fine level's x[0]) and the history, its solve, the second stage's right-hand side,
    /// initial guess and solve.
    pub fn encode_step(&self, pass: &mut wgpu::ComputePass) {
        let f = &self.levels[0];
        self.dispatch(pass, &self.rhs_tr, &self.rhs_tr_group, 0, f.ntx(), f.ny);
        let star = self.encode_solve_from(pass, 1);
        self.dispatch(
            pass,
            &self.rhs_bdf2,
            &self.rhs_bdf2_groups[star],
            0,
            f.ntx(),
            f.ny,
        );
        let end = self.encode_solve_from(pass, 1 - star);
        debug_assert_eq!(end, 0);
    }

    /// Writes Cⁿ (as the initial guess and history), the source f and the previous step's
    /// start Cⁿ⁻¹ for [`Multigrid::step`].
    pub fn upload_step(
        &self,
        gpu: &Gpu,
        c: &[Vec<f32>],
        source: &[Vec<f32>],
        previous: &[Vec<f32>],
    ) {
        let fl = &self.levels[0];
        let ns = self.ns;
        for s in 0..ns {
            write_layer(gpu, &fl.x[0], s as u32, fl.nx, fl.ny, &c[s]);
            write_layer(gpu, &self.history, s as u32, fl.nx, fl.ny, &c[s]);
            write_layer(
                gpu,
                &self.history,
                (ns + s) as u32,
                fl.nx,
                fl.ny,
                &source[s],
            );
            write_layer(
                gpu,
                &self.history,
                (2 * ns + s) as u32,
                fl.nx,
                fl.ny,
                &previous[s],
            );
        }
    }

    /// Takes one TR-BDF2 step now (see [`Multigrid::upload_step`]).
    pub fn step(&self, gpu: &Gpu) {
        self.submit(gpu, |pass| self.encode_step(pass));
    }

    /// Takes `steps` TR-BDF2 steps of `dt` seconds from the last result (or the upload), with
    /// the source of the upload: each step keeps its start as the next step's history, as the
    /// spatial model's transfer kernels do. `previous_dt` is the step that led to the current
    /// state, if the history holds its start.
    pub fn advance(
        &mut self,
        gpu: &Gpu,
        dt: f64,
        mut previous_dt: Option<f64>,
        species: &[TransportCoef],
        steps: u64,
    ) {
        let f = &self.levels[0];
        let extent = wgpu::Extent3d {
            width: f.ntx(),
            height: f.ny as u32,
            depth_or_array_layers: self.ns as u32,
        };
        for _ in 0..steps {
            self.set_step(gpu, dt, previous_dt, species);
            let mut enc = gpu
                .device
                .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                    label: Some("multigrid step"),
                });
            self.encode_keep_history(&mut enc);
            let f = &self.levels[0];
            enc.copy_texture_to_texture(
                layer_copy(&f.x[0], 0),
                layer_copy(&self.history, 0),
                extent,
            );
            {
                let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor {
                    label: Some("multigrid step"),
                    timestamp_writes: None,
                });
                self.encode_step(&mut pass);
            }
            gpu.queue.submit([enc.finish()]);
            previous_dt = Some(dt);
        }
    }

    /// Reads species `s` of the last step's result back (row-major).
    pub fn read_step(&self, gpu: &Gpu, s: usize) -> Result<Vec<f32>, GpuError> {
        let f = &self.levels[0];
        read_layer(
            gpu,
            self.step_solution_texture(),
            s as u32,
            f.nx,
            f.ny,
            &self.readback,
        )
    }

    /// The fine level's right-hand side b (one layer per species).
    pub fn rhs_texture(&self) -> &wgpu::Texture {
        &self.levels[0].b
    }

    /// Where a solve starts from: the fine level's x[0].
    pub fn guess_texture(&self) -> &wgpu::Texture {
        &self.levels[0].x[0]
    }

    /// Where a solve of [`Multigrid::cycles`] V-cycles leaves the solution.
    pub fn solution_texture(&self) -> &wgpu::Texture {
        &self.levels[0].x[self.final_parity()]
    }

    /// Dispatches per TR-BDF2 step (for the profile).
    pub fn dispatches_per_step(&self) -> u64 {
        2 * self.dispatches_per_solve() + 2
    }

    /// Dispatches per solve.
    pub fn dispatches_per_solve(&self) -> u64 {
        let below = self.levels.len() as u64 - 1;
        // Red and black half-sweeps before and after, restriction, prolongation.
        let per_level = 4 * self.sweeps as u64 + 2;
        self.cycles as u64 * (below * per_level + 1)
    }

    /// The work of one solve in fine-grid passes of one species (each dispatch weighted by its
    /// level's cells relative to the fine level's).
    pub fn fine_passes_per_solve(&self) -> f64 {
        let fine = (self.levels[0].nx * self.levels[0].ny) as f64;
        let last = self.levels.len() - 1;
        let mut passes = 0.0;
        for (l, lv) in self.levels.iter().enumerate() {
            let share = (lv.nx * lv.ny) as f64 / fine;
            // Half-sweeps, the restriction (a residual pass) and the prolongation; the exact
            // coarsest solve is counted as one pass.
            let per_cycle = if l == last {
                1.0
            } else {
                4.0 * self.sweeps as f64 + 2.0
            };
            passes += per_cycle * share;
        }
        passes * self.cycles as f64
    }

    fn final_parity(&self) -> usize {
        // Per V-cycle on the fine level: 2·sweeps half-sweeps before and after (parity kept)
        // and one prolongation (flips).
        self.cycles as usize % 2
    }

    /// Writes an initial guess and right-hand side (row-major fields, one per species).
    pub fn upload(&self, gpu: &Gpu, guess: &[Vec<f32>], rhs: &[Vec<f32>]) {
        let f = &self.levels[0];
        for (s, (x, b)) in guess.iter().zip(rhs).enumerate() {
            write_layer(gpu, &f.x[0], s as u32, f.nx, f.ny, x);
            write_layer(gpu, &f.b, s as u32, f.nx, f.ny, b);
        }
    }

    /// Reads species `s` of the solution back (row-major).
    pub fn read_solution(&self, gpu: &Gpu, s: usize) -> Result<Vec<f32>, GpuError> {
        let f = &self.levels[0];
        read_layer(
            gpu,
            self.solution_texture(),
            s as u32,
            f.nx,
            f.ny,
            &self.readback,
        )
    }

    /// Records one solve (the fine level's x[0] as initial guess, its b as right-hand side).
    pub fn encode_solve(&self, pass: &mut wgpu::ComputePass) {
        let end = self.encode_solve_from(pass, 0);
        debug_assert_eq!(end, self.final_parity());
    }

    /// Records one solve starting from the fine level's x[`start`]; returns where it ends.
    fn encode_solve_from(&self, pass: &mut wgpu::ComputePass, start: usize) -> usize {
        let mut cur = Cursor(vec![0; self.levels.len()]);
        cur.0[0] = start;
        for _ in 0..self.cycles {
            self.encode_cycle(pass, 0, &mut cur);
        }
        cur.0[0]
    }

    fn submit(&self, gpu: &Gpu, record: impl FnOnce(&mut wgpu::ComputePass)) {
        let mut enc = gpu
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("multigrid"),
            });
        {
            let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("multigrid"),
                timestamp_writes: None,
            });
            record(&mut pass);
        }
        gpu.queue.submit([enc.finish()]);
    }

    /// Solves now (uploads nothing; see [`Multigrid::upload`]).
    pub fn solve(&self, gpu: &Gpu) {
        self.submit(gpu, |pass| self.encode_solve(pass));
    }

    fn dispatch(
        &self,
        pass: &mut wgpu::ComputePass,
        pipeline: &wgpu::ComputePipeline,
        group: &wgpu::BindGroup,
        slot: usize,
        texels: u32,
        rows: usize,
    ) {
        pass.set_pipeline(pipeline);
        pass.set_bind_group(0, group, &[(slot as u64 * SLOT) as u32]);
        pass.dispatch_workgroups(texels.div_ceil(WG_X), rows as u32, 1);
    }

    fn encode_sweep(&self, pass: &mut wgpu::ComputePass, l: usize, cur: &mut Cursor) {
        let lv = &self.levels[l];
        for colour in 0..2 {
            let c = cur.0[l];
            self.dispatch(
                pass,
                &self.smooth,
                &lv.sweep[c],
                2 * l + colour,
                lv.ntx(),
                lv.ny,
            );
            cur.0[l] = 1 - c;
        }
    }

    fn encode_cycle(&self, pass: &mut wgpu::ComputePass, l: usize, cur: &mut Cursor) {
        let lv = &self.levels[l];
        if l + 1 == self.levels.len() {
            let group = lv.coarse.as_ref().expect("the coarsest level");
            self.dispatch(pass, &self.coarse, group, 2 * l, lv.ntx(), lv.ny);
            cur.0[l] = 0;
            return;
        }
        for _ in 0..self.sweeps {
            self.encode_sweep(pass, l, cur);
        }
        let c = cur.0[l];
        let coarse = &self.levels[l + 1];
        let restrict = lv.restrict.as_ref().expect("a coarser level");
        self.dispatch(
            pass,
            &self.restrict,
            &restrict[c],
            2 * l,
            coarse.ntx(),
            coarse.ny,
        );
        cur.0[l + 1] = 0;
        self.encode_cycle(pass, l + 1, cur);
        let prolong = lv.prolong.as_ref().expect("a coarser level");
        let group = &prolong[c][cur.0[l + 1]];
        self.dispatch(pass, &self.prolong, group, 2 * l, lv.ntx(), lv.ny);
        cur.0[l] = 1 - c;
        for _ in 0..self.sweeps {
            self.encode_sweep(pass, l, cur);
        }
    }
}
