//! Time loops (layer 4): the generic controller and the benchmark.

pub mod bench;
pub mod dorsal_horn;
pub mod generic;
pub mod stepper;
