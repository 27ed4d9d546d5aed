//! dorsalhorn: a GPU reaction–diffusion simulator of spinal dorsal-horn tissue.
//!
//! The library is split by domain noun: [`grid`] (cells, spacing, boundaries), [`model`]
//! (reaction networks and the problem description), [`engine`] (GPU storage and the step
//! kernel), [`reference`](mod@cpu::rd_step) (the plain-Rust twin of the kernel), [`scenario`] (the versioned file
//! format), [`controller`] (the time loop with outputs and checks), [`output`] (NPY, PNG, CSV,
//! JSON writers) and [`bench`](mod@run::bench). [`gpu`] is the one module that opens a device; everything else
//! borrows it.
//!
//! The dorsal-horn model (MODEL.md) so far: [`params`] (the sourced parameter table),
//! [`anatomy`] (the tissue section, its maps and the labelled figure, drawn with [`canvas`]),
//! [`wellmixed`] (the f64 well-mixed reference of the reaction network), [`reaction_gpu`] (the
//! same network as a per-cell GPU stage), [`rkl2`] (super-time-stepping diffusion), [`tissue`]
//! and [`tissue_run`] (the spatial model and its scenarios) and [`view`] (the live window).

pub mod colormap;
pub mod cpu;
pub mod error;
pub mod gpu;
pub mod grid;
pub mod interrupt;
pub mod model;
pub mod output;
pub mod params;
pub mod run;
pub mod scenario;
pub mod tissue;
pub mod validate;
pub mod view;

pub use error::{Error, Result};
