//! Time loops (layer 4): the dorsal-horn run and its stepper, parameter sweeps, the generic
//! controller and the benchmark.

pub mod bench;
pub mod dorsal_horn;
pub mod export;
pub mod generic;
pub mod stepper;
pub mod sweep;
