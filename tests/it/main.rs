//! The integration tests, one binary: a module per area, one shared GPU device
//! (`common::gpu`). One binary links once and opens the device once, where nineteen binaries
//! linked nineteen times (BENCHMARKS.md, "One test binary").

mod common;

mod architecture;
mod bad_input;
mod batch;
mod cli;
mod demos;
mod diffusion;
mod docs;
mod figures;
mod fuzz;
mod golden_images;
mod gpu_vs_reference;
mod multigrid;
mod reaction_gpu;
mod rkl2;
mod robustness;
mod scenarios;
mod shaders;
mod tissue;
mod validate;
mod view;
mod view_replay;
mod wellmixed;
