//! dorsalhorn: a GPU reaction–diffusion simulator of spinal dorsal-horn tissue.
//!
//! The library is split by domain noun: [`grid`] (cells, spacing, boundaries), [`model`]
//! (reaction networks and the problem description), [`engine`] (GPU storage and the step
//! kernel), [`reference`] (the plain-Rust twin of the kernel), [`scenario`] (the versioned file
//! format), [`controller`] (the time loop with outputs and checks), [`output`] (NPY, PNG, CSV,
//! JSON writers) and [`bench`]. [`gpu`] is the one module that opens a device; everything else
//! borrows it.

pub mod anatomy;
pub mod bench;
pub mod canvas;
pub mod colormap;
pub mod controller;
pub mod engine;
pub mod error;
pub mod gpu;
pub mod grid;
pub mod model;
pub mod output;
pub mod params;
pub mod reaction_gpu;
pub mod reference;
pub mod rkl2;
pub mod scenario;
pub mod wellmixed;

pub use error::{Error, Result};
