//! Plain-Rust reference twin of the GPU step (shaders/rd_step.wgsl), used by the tests.
//!
//! It performs the same f32 arithmetic in the same order as the shader, cell by cell, with the
//! same boundary rules, so GPU and CPU agree to rounding (bit-exact on lavapipe, which does not
//! fuse multiply-adds).

use crate::grid::{Boundary, Side};
use crate::model::{Diffusivity, Problem};

/// Host state: one row-major `ny × nx` array per species.
pub struct Reference {
    pub problem: Problem,
    pub fields: Vec<Vec<f32>>,
    scratch: Vec<Vec<f32>>,
    pub step: u64,
}

impl Reference {
    pub fn new(problem: Problem, fields: Vec<Vec<f32>>) -> Reference {
        let scratch = fields.clone();
        Reference {
            problem,
            fields,
            scratch,
            step: 0,
        }
    }

    pub fn advance(&mut self, steps: u64) {
        for _ in 0..steps {
            self.step_once();
        }
    }

    fn step_once(&mut self) {
        let p = &self.problem;
        let g = &p.grid;
        let (nx, ny) = (g.nx, g.ny);
        let ns = p.species.len();
        let dt = p.dt_s as f32;
        let inv_dx2 = (1.0 / (g.dx_um * g.dx_um)) as f32;
        let variable = p.variable_diffusivity();
        let mut c = vec![0.0f32; ns];
        let mut rates = vec![0.0f32; ns];
        for y in 0..ny {
            for x in 0..nx {
                let i = y * nx + x;
                for (cs, f) in c.iter_mut().zip(&self.fields) {
                    *cs = f[i];
                }
                p.model.react(&c, &mut rates);
                for s in 0..ns {
                    let f = &self.fields[s];
                    let cc = c[s];
                    let nb = |side: Side| neighbour(p, f, s, x, y, side, cc);
                    let (up, down, west, east) = (
                        nb(Side::YMin),
                        nb(Side::YMax),
                        nb(Side::XMin),
                        nb(Side::XMax),
                    );
                    let sp = &p.species[s];
                    let diff = if variable {
                        let k = |xx: usize, yy: usize| match &sp.diffusivity {
                            Diffusivity::Uniform(d) => *d,
                            Diffusivity::Field(v) => v[yy * nx + xx],
                        };
                        let kc = k(x, y);
                        let kn = |side: Side| {
                            let (xx, yy) = neighbour_index_clamped(p, x, y, side);
                            k(xx, yy)
                        };
                        let flux = face(kc, kn(Side::YMin)) * (up - cc)
                            + face(kc, kn(Side::YMax)) * (down - cc)
                            + face(kc, kn(Side::XMin)) * (west - cc)
                            + face(kc, kn(Side::XMax)) * (east - cc);
                        flux * inv_dx2 / sp.capacity_at(i)
                    } else {
                        let lap = up + down + west + east - 4.0 * cc;
                        let d = match sp.diffusivity {
                            Diffusivity::Uniform(d) => d,
                            Diffusivity::Field(_) => unreachable!("variable path handles fields"),
                        };
                        d * inv_dx2 * lap
                    };
                    let rate = rates[s] - sp.decay_per_s * cc;
                    self.scratch[s][i] = cc + dt * (diff + rate);
                }
            }
        }
        std::mem::swap(&mut self.fields, &mut self.scratch);
        self.step += 1;
    }
}

fn face(a: f32, b: f32) -> f32 {
    let s = a + b;
    if s > 0.0 { 2.0 * a * b / s } else { 0.0 }
}

/// Index of the neighbour cell across `side`, clamped at no-flux/fixed sides, wrapped at
/// periodic ones (used for diffusivity lookups).
fn neighbour_index_clamped(p: &Problem, x: usize, y: usize, side: Side) -> (usize, usize) {
    let g = &p.grid;
    let periodic = matches!(g.boundary(side), Boundary::Periodic);
    match side {
        Side::XMin if x == 0 => (if periodic { g.nx - 1 } else { 0 }, y),
        Side::XMin => (x - 1, y),
        Side::XMax if x + 1 == g.nx => (if periodic { 0 } else { x }, y),
        Side::XMax => (x + 1, y),
        Side::YMin if y == 0 => (x, if periodic { g.ny - 1 } else { 0 }),
        Side::YMin => (x, y - 1),
        Side::YMax if y + 1 == g.ny => (x, if periodic { 0 } else { y }),
        Side::YMax => (x, y + 1),
    }
}

/// Neighbour value across `side`, with the boundary rule applied at the domain edge.
fn neighbour(p: &Problem, f: &[f32], s: usize, x: usize, y: usize, side: Side, c: f32) -> f32 {
    let g = &p.grid;
    let at_edge = match side {
        Side::XMin => x == 0,
        Side::XMax => x + 1 == g.nx,
        Side::YMin => y == 0,
        Side::YMax => y + 1 == g.ny,
    };
    if let (true, Boundary::Fixed { values }) = (at_edge, g.boundary(side)) {
        return 2.0 * values[s] - c;
    }
    let (xx, yy) = neighbour_index_clamped(p, x, y, side);
    f[yy * g.nx + xx]
}

/// The flux-form diffusion operator L(c) = (1/a)·Σ_faces K_f (c_nb − c)/dx² of species `s`
/// on field `f`, in the floating-point order of `diffusion_operator` in shaders/rkl2.wgsl
/// (harmonic-mean faces, boundary ghosts as in the step kernel).
pub fn diffusion_operator(p: &Problem, s: usize, f: &[f32], out: &mut [f32]) {
    let g = &p.grid;
    let nx = g.nx;
    let inv_dx2 = (1.0 / (g.dx_um * g.dx_um)) as f32;
    let sp = &p.species[s];
    let k = |xx: usize, yy: usize| sp.diffusivity.at(yy * nx + xx);
    for y in 0..g.ny {
        for x in 0..nx {
            let i = y * nx + x;
            let c = f[i];
            let nb = |side: Side| neighbour(p, f, s, x, y, side, c);
            let kn = |side: Side| {
                let (xx, yy) = neighbour_index_clamped(p, x, y, side);
                k(xx, yy)
            };
            let kc = k(x, y);
            let flux = face(kc, kn(Side::YMin)) * (nb(Side::YMin) - c)
                + face(kc, kn(Side::YMax)) * (nb(Side::YMax) - c)
                + face(kc, kn(Side::XMin)) * (nb(Side::XMin) - c)
                + face(kc, kn(Side::XMax)) * (nb(Side::XMax) - c);
            out[i] = flux * inv_dx2 / sp.capacity_at(i);
        }
    }
}
