//! Time loops (layer 4): the generic controller and the benchmark.

pub mod bench;
pub mod generic;
