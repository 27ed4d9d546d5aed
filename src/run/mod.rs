//! Time loops (layer 4): the dorsal-horn run and its stepper, demo recordings, parameter
//! sweeps, the generic controller and the benchmark.

pub mod bench;
pub mod demo;
pub mod dorsal_horn;
pub mod export;
pub mod generic;
pub mod stepper;
pub mod sweep;
