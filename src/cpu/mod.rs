//! Plain-Rust twins of the GPU kernels (layer 2): same stem as the shader they check.

pub mod multigrid;
pub mod rd_step;
pub mod rkl2;
