//! The computational grid: cell counts, spacing and boundary conditions.
//!
//! Cells are indexed (x, y) with x = 0..nx along a row and y = 0..ny across rows; host arrays
//! are row-major `[y * nx + x]`, matching NumPy's C order with shape (ny, nx).

use serde::Serialize;

/// The four sides of the rectangle, named by the coordinate they bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    XMin,
    XMax,
    YMin,
    YMax,
}

impl Side {
    pub const ALL: [Side; 4] = [Side::XMin, Side::XMax, Side::YMin, Side::YMax];

    pub fn key(self) -> &'static str {
        match self {
            Side::XMin => "x_min",
            Side::XMax => "x_max",
            Side::YMin => "y_min",
            Side::YMax => "y_max",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

/// Boundary condition on one side, for every species.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum Boundary {
    /// Zero normal flux (the default): mass is conserved.
    NoFlux,
    /// Wraps to the opposite side; both sides of an axis must be periodic.
    Periodic,
    /// The boundary face holds a fixed value, one per species (Dirichlet).
    Fixed { values: Vec<f32> },
}

/// A uniform 2-D grid of `nx × ny` square cells of side `dx_um` micrometres.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Grid {
    pub nx: usize,
    pub ny: usize,
    pub dx_um: f64,
    /// Indexed by [`Side::index`].
    pub boundary: [Boundary; 4],
}

impl Grid {
    pub fn new(nx: usize, ny: usize, dx_um: f64) -> Grid {
        Grid {
            nx,
            ny,
            dx_um,
            boundary: [
                Boundary::NoFlux,
                Boundary::NoFlux,
                Boundary::NoFlux,
                Boundary::NoFlux,
            ],
        }
    }

    pub fn with_boundary(mut self, side: Side, b: Boundary) -> Grid {
        self.boundary[side.index()] = b;
        self
    }

    pub fn cells(&self) -> usize {
        self.nx * self.ny
    }

    pub fn boundary(&self, side: Side) -> &Boundary {
        &self.boundary[side.index()]
    }

    /// Cell-centre coordinates in µm of cell (x, y).
    pub fn centre_um(&self, x: usize, y: usize) -> (f64, f64) {
        ((x as f64 + 0.5) * self.dx_um, (y as f64 + 0.5) * self.dx_um)
    }
}
