//! Time loops (layer 4): the dorsal-horn run and its stepper, its checkpoints and their
//! continuation, demo recordings, parameter sweeps and their GPU ensembles, the generic controller and the benchmark.

pub mod bench;
pub mod checkpoint;
pub mod csv;
pub mod demo;
pub mod dorsal_horn;
pub mod ensemble;
pub mod export;
pub mod generic;
pub mod resume;
pub mod stepper;
pub mod sweep;
