//! Reaction models and the problem description the engine runs.
//!
//! A [`Model`] is one enum variant per built-in reaction network. Each carries its WGSL reaction
//! function (`shaders/models/*.wgsl`) and a plain-Rust twin of the same arithmetic
//! ([`Model::react`]) that the reference solver and the tests use.

pub mod anatomy;
pub mod network;

use crate::grid::Grid;
use serde::Serialize;

/// Most species one problem can hold (the step uniform packs per-species values in 4 × vec4).
pub const MAX_SPECIES: usize = 16;

/// The built-in reaction networks.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Model {
    /// Gray–Scott: u' = −uv² + F(1 − u), v' = uv² − (F + k)v. Two species, u then v.
    GrayScott { feed: f32, kill: f32 },
    /// No reaction: pure diffusion (plus each species' first-order decay).
    Diffusion,
}

/// The bound on dt·|λ| of an explicit (forward Euler) step: [`Problem::step_stiffness`].
pub const EXPLICIT_STEP_LIMIT: f64 = 2.0;

impl Model {
    /// Gershgorin row sums of the reaction Jacobian at the state `c` (one per species, in the
    /// model's time unit, written into `rows`): |∂f_s/∂c_s| + Σ_(j≠s) |∂f_s/∂c_j|, a bound on
    /// how fast the reaction moves species s.
    pub fn jacobian_row_sums(&self, c: &[f64], rows: &mut [f64]) {
        match *self {
            Model::GrayScott { feed, kill } => {
                let (u, v) = (c[0], c[1]);
                let (f, k) = (feed as f64, kill as f64);
                // J = [[−v² − F, −2uv], [v², 2uv − (F + k)]]
                rows[0] = (v * v + f).abs() + (2.0 * u * v).abs();
                rows[1] = (v * v).abs() + (2.0 * u * v - (f + k)).abs();
            }
            Model::Diffusion => rows.fill(0.0),
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Model::GrayScott { .. } => "gray_scott",
            Model::Diffusion => "diffusion",
        }
    }

    /// Number of species the model requires, or `None` if it accepts any number.
    pub fn required_species(&self) -> Option<usize> {
        match self {
            Model::GrayScott { .. } => Some(2),
            Model::Diffusion => None,
        }
    }

    /// The WGSL source of the model's `react` function.
    pub fn wgsl(&self) -> &'static str {
        match self {
            Model::GrayScott { .. } => include_str!("../../shaders/models/gray_scott.wgsl"),
            Model::Diffusion => include_str!("../../shaders/models/diffusion.wgsl"),
        }
    }

    /// Parameters as packed into `StepParams::model`.
    pub fn packed_params(&self) -> [[f32; 4]; 2] {
        match self {
            Model::GrayScott { feed, kill } => [[*feed, *kill, 0.0, 0.0], [0.0; 4]],
            Model::Diffusion => [[0.0; 4]; 2],
        }
    }

    /// Reaction rates at one cell, in the same floating-point order as the shader.
    pub fn react(&self, c: &[f32], out: &mut [f32]) {
        match self {
            Model::GrayScott { feed, kill } => {
                let (u, v) = (c[0], c[1]);
                let uvv = u * v * v;
                out[0] = -uvv + feed * (1.0 - u);
                out[1] = uvv - (feed + kill) * v;
            }
            Model::Diffusion => out.iter_mut().for_each(|r| *r = 0.0),
        }
    }
}

/// Diffusivity of one species, in µm²/s.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Diffusivity {
    Uniform(f32),
    /// One value per cell, row-major (ny × nx). Face coefficients are harmonic means.
    #[serde(skip)]
    Field(Vec<f32>),
}

impl Diffusivity {
    pub fn max(&self) -> f32 {
        match self {
            Diffusivity::Uniform(d) => *d,
            Diffusivity::Field(v) => v.iter().copied().fold(0.0, f32::max),
        }
    }

    pub fn at(&self, i: usize) -> f32 {
        match self {
            Diffusivity::Uniform(d) => *d,
            Diffusivity::Field(v) => v[i],
        }
    }
}

/// One diffusing species.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Species {
    pub name: String,
    pub diffusivity: Diffusivity,
    /// First-order clearance rate k (1/s): adds −k·c to the reaction.
    pub decay_per_s: f32,
    /// Capacity per cell (volume fraction × retardation); `None` means 1 everywhere. The
    /// conserved quantity is Σ capacity·c.
    #[serde(skip)]
    pub capacity: Option<Vec<f32>>,
}

impl Species {
    pub fn new(name: &str, diffusivity: f32) -> Species {
        Species {
            name: name.to_string(),
            diffusivity: Diffusivity::Uniform(diffusivity),
            decay_per_s: 0.0,
            capacity: None,
        }
    }

    pub fn capacity_at(&self, i: usize) -> f32 {
        self.capacity.as_ref().map_or(1.0, |c| c[i])
    }

    /// Largest D/capacity over the grid (the quantity that bounds the explicit step).
    pub fn max_effective_diffusivity(&self, cells: usize) -> f32 {
        match (&self.diffusivity, &self.capacity) {
            (d, None) => d.max(),
            (d, Some(cap)) => (0..cells).map(|i| d.at(i) / cap[i]).fold(0.0, f32::max),
        }
    }
}

/// Everything the engine needs to advance a reaction–diffusion system.
#[derive(Debug, Clone)]
pub struct Problem {
    pub grid: Grid,
    pub species: Vec<Species>,
    pub model: Model,
    pub dt_s: f64,
}

/// Largest stable value of the explicit-Euler diffusion number D·dt/dx² on a 5-point stencil.
pub const EXPLICIT_STABILITY_LIMIT: f64 = 0.25;

impl Problem {
    /// Whether any species needs the spatially varying diffusivity path.
    pub fn variable_diffusivity(&self) -> bool {
        self.species
            .iter()
            .any(|s| matches!(s.diffusivity, Diffusivity::Field(_)) || s.capacity.is_some())
    }

    /// Per species: the explicit diffusion number max(D/capacity)·dt/dx² (stable if ≤ 0.25).
    pub fn stability_numbers(&self) -> Vec<f64> {
        let cells = self.grid.cells();
        self.species
            .iter()
            .map(|s| {
                s.max_effective_diffusivity(cells) as f64 * self.dt_s
                    / (self.grid.dx_um * self.grid.dx_um)
            })
            .collect()
    }

    /// The explicit step's stiffness per species, estimated at the worst cell of the state
    /// `c` (one array per species): dt·(8·D/dx² + the Gershgorin row sum of the reaction
    /// Jacobian + the decay rate), an upper bound of dt·|λ| for the eigenvalues λ of the
    /// linearised reaction–diffusion step. Forward Euler needs it ≤ [`EXPLICIT_STEP_LIMIT`].
    /// Diffusion alone gives 8·D·dt/dx² (≤ 2 ⇔ the stability number ≤ 0.25).
    pub fn step_stiffness(&self, c: &[Vec<f32>]) -> Vec<f64> {
        let nu = self.stability_numbers();
        let n = self.species.len();
        let mut worst = vec![0.0f64; n];
        let cells = c.first().map_or(0, Vec::len);
        let (mut state, mut rows) = (vec![0.0f64; n], vec![0.0f64; n]);
        for i in 0..cells {
            for (s, v) in state.iter_mut().enumerate() {
                *v = c[s][i] as f64;
            }
            self.model.jacobian_row_sums(&state, &mut rows);
            for (w, &r) in worst.iter_mut().zip(&rows) {
                *w = w.max(r);
            }
        }
        (0..n)
            .map(|s| 8.0 * nu[s] + self.dt_s * (worst[s] + self.species[s].decay_per_s as f64))
            .collect()
    }

    /// Largest stable time step in seconds (from the most diffusive species).
    pub fn max_stable_dt(&self) -> f64 {
        let cells = self.grid.cells();
        let dmax = self
            .species
            .iter()
            .map(|s| s.max_effective_diffusivity(cells) as f64)
            .fold(0.0, f64::max);
        if dmax <= 0.0 {
            f64::INFINITY
        } else {
            EXPLICIT_STABILITY_LIMIT * self.grid.dx_um * self.grid.dx_um / dmax
        }
    }

    pub fn species_index(&self, name: &str) -> Option<usize> {
        self.species.iter().position(|s| s.name == name)
    }
}
