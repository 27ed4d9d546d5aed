//! dorsalhorn: a GPU reaction–diffusion simulator of spinal dorsal-horn tissue.
//!
//! Folders by domain, in layers that import only downward (docs/architecture.md; checked by
//! tests/it/architecture.rs):
//!
//! ```text
//! L6  main.rs, cli/        the command line (binary only)
//! L5  view/, validate/     the live window; the validation suite
//! L4  run/                 time loops: the shared dorsal-horn Stepper, `run`, the engine loop, bench
//! L3  tissue/              the spatial model on the GPU: section, baseline, read-outs
//! L2  gpu/, cpu/           kernel drivers (the only device owner) and their CPU twins
//!     scenario/            the scenario formats and their front door
//! L1  model/               what is simulated: the network (f64), protocol, anatomy; no wgpu
//! L0  error, grid, colormap, params, interrupt, output/
//! ```
//!
//! [`gpu`] is the one module that opens a device; everything else borrows it. The dorsal-horn
//! model's parameters are in [`params`], its equations in [`model::network`], its tissue in
//! [`model::anatomy`] and [`tissue`], its scenarios in [`scenario`].

pub mod colormap;
pub mod cpu;
pub mod error;
pub mod figure;
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
