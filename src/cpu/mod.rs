//! Plain-Rust twins of the GPU kernels (layer 2): each kernel under `shaders/` that has an entry
//! point has a driver `gpu/<stem>.rs` and a twin listed in [`TWINS`], with the test that compares
//! them and its tolerance (tests/it/architecture.rs checks the table against the tree).

pub mod multigrid;
pub mod rd_step;
pub mod rkl2;

/// A kernel's CPU twin and the test that holds them together.
#[derive(Debug, Clone, Copy)]
pub struct Twin {
    /// The shader's file stem (`shaders/<stem>.wgsl`, driver `src/gpu/<stem>.rs`).
    pub stem: &'static str,
    /// The twin: a source file and the type or function in it.
    pub file: &'static str,
    pub item: &'static str,
    /// The GPU-vs-twin test file and the tolerance it asserts.
    pub test: &'static str,
    pub tolerance: &'static str,
}

/// Every kernel's twin.
pub const TWINS: &[Twin] = &[
    Twin {
        stem: "rd_step",
        file: "src/cpu/rd_step.rs",
        item: "Reference",
        test: "tests/it/gpu_vs_reference.rs",
        tolerance: "max |GPU − twin| ≤ 1e-5 per species after many steps",
    },
    Twin {
        stem: "rkl2",
        file: "src/cpu/rkl2.rs",
        item: "Rkl2Reference",
        test: "tests/it/rkl2.rs",
        tolerance: "max |GPU − twin| ≤ 1e-5",
    },
    Twin {
        stem: "multigrid",
        file: "src/cpu/multigrid.rs",
        item: "MgReference",
        test: "tests/it/multigrid.rs",
        tolerance: "≤ 1e-5 of each field's maximum",
    },
    Twin {
        stem: "reaction",
        file: "src/model/network/mod.rs",
        item: "Model",
        test: "tests/it/reaction_gpu.rs",
        tolerance: "every state within 1e-3 (f64 RK4 reference)",
    },
    Twin {
        stem: "transfer",
        file: "src/model/network/mod.rs",
        item: "Model",
        test: "tests/it/tissue.rs",
        tolerance: "a uniform tissue (gather, transport, scatter every step) stays within 1e-3 \
                    of the well-mixed model in every state",
    },
];
