//! CPU-only shader checks: naga parses and validates every composed kernel (every model, both
//! diffusivity paths, several layouts and species counts), every `.wgsl` file takes part in one,
//! the workgroup size is what the layout asks for, and the Rust uniform struct matches the WGSL
//! layout member by member.

use dorsalhorn::gpu::rd_step::{KernelLayout, StepParams, step_shader_source};
use dorsalhorn::grid::Grid;
use dorsalhorn::model::{Diffusivity, MAX_SPECIES, Model, Problem, Species};
use std::collections::BTreeSet;

fn problem(model: Model, ns: usize, variable: bool) -> Problem {
    let species = (0..ns)
        .map(|i| {
            let mut s = Species::new(&format!("s{i}"), 0.1);
            if variable {
                s.diffusivity = Diffusivity::Field(vec![0.1; 64]);
            }
            s
        })
        .collect();
    Problem {
        grid: Grid::new(8, 8, 1.0),
        species,
        model,
        dt_s: 1.0,
    }
}

fn compositions() -> Vec<(String, Problem, KernelLayout)> {
    let mut v = Vec::new();
    for variable in [false, true] {
        for layout in [
            KernelLayout {
                rows: 1,
                workgroup_x: 64,
            },
            KernelLayout {
                rows: 3,
                workgroup_x: 32,
            },
        ] {
            let gs = Model::GrayScott {
                feed: 0.035,
                kill: 0.065,
            };
            v.push((
                format!("gray_scott var={variable} {layout:?}"),
                problem(gs, 2, variable),
                layout,
            ));
            for ns in [1, 5, MAX_SPECIES] {
                v.push((
                    format!("diffusion ns={ns} var={variable} {layout:?}"),
                    problem(Model::Diffusion, ns, variable),
                    layout,
                ));
            }
        }
    }
    v
}

fn validate(name: &str, src: &str) -> naga::Module {
    let module = naga::front::wgsl::parse_str(src)
        .unwrap_or_else(|e| panic!("{name}: WGSL parse error:\n{}", e.emit_to_string(src)));
    naga::valid::Validator::new(
        naga::valid::ValidationFlags::all(),
        naga::valid::Capabilities::empty(),
    )
    .validate(&module)
    .unwrap_or_else(|e| panic!("{name}: validation error: {e:?}"));
    module
}

#[test]
fn every_composed_kernel_validates() {
    for (name, p, layout) in compositions() {
        let module = validate(&name, &step_shader_source(&p, layout));
        let ep = module
            .entry_points
            .iter()
            .find(|e| e.name == "step")
            .expect("entry point `step`");
        assert_eq!(
            ep.workgroup_size,
            [layout.workgroup_x, 1, 1],
            "{name}: workgroup size"
        );
    }
}

#[test]
fn rkl2_kernels_validate() {
    for (name, p, _) in compositions() {
        let module = validate(
            &format!("rkl2 {name}"),
            &dorsalhorn::gpu::rkl2::shader_source(&p, 64),
        );
        for entry in ["apply_operator", "stage"] {
            assert!(
                module.entry_points.iter().any(|e| e.name == entry),
                "{name}: no entry point {entry}"
            );
        }
    }
}

#[test]
fn reaction_kernel_validates() {
    use dorsalhorn::gpu::reaction::{CellMode, shader_source};
    validate(
        "dorsal_horn_reaction (well-mixed)",
        &shader_source(CellMode::WellMixed),
    );
    let module = validate("dorsal_horn_reaction", &shader_source(CellMode::Tissue));
    let ep = module
        .entry_points
        .iter()
        .find(|e| e.name == "rk4_step")
        .expect("rk4_step");
    assert_eq!(ep.workgroup_size, [64, 1, 1]);
    for entry in [
        "exp_step",
        "exp_step_goals",
        "evaluate_rates",
        "calibrate_thresholds",
    ] {
        assert!(
            module.entry_points.iter().any(|e| e.name == entry),
            "no entry point {entry}"
        );
    }
}

#[test]
fn multigrid_kernels_validate() {
    for ns in [1, 3, 14] {
        let module = validate(
            &format!("multigrid ns={ns}"),
            &dorsalhorn::gpu::multigrid::shader_source(ns),
        );
        for entry in [
            "mg_smooth",
            "mg_restrict",
            "mg_coarse",
            "mg_prolong",
            "mg_rhs_tr",
            "mg_rhs_bdf2",
        ] {
            let ep = module
                .entry_points
                .iter()
                .find(|e| e.name == entry)
                .unwrap_or_else(|| panic!("no entry point {entry}"));
            assert_eq!(ep.workgroup_size, [64, 1, 1]);
        }
    }
}

fn transfer_sources() -> Vec<String> {
    let layout = dorsalhorn::tissue::section::Layout::new(
        &dorsalhorn::params::ParamTable::builtin(),
        dorsalhorn::model::anatomy::Animal::Rat,
        40.0,
        false,
    );
    let all: Vec<usize> = (0..dorsalhorn::model::network::state::MEDIATORS.len()).collect();
    layout
        .groups
        .iter()
        .chain([&all])
        .map(|g| {
            dorsalhorn::gpu::transfer::transfer_shader_source(
                layout.problem.grid.nx,
                layout.problem.grid.ny,
                g,
            )
        })
        .collect()
}

#[test]
fn transfer_kernels_validate() {
    for src in transfer_sources() {
        let module = validate("transfer", &src);
        for entry in ["gather", "gather_implicit", "scatter"] {
            assert!(module.entry_points.iter().any(|e| e.name == entry));
        }
    }
}

#[test]
fn every_wgsl_file_is_used() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("shaders");
    let mut files = BTreeSet::new();
    let mut stack = vec![dir.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "wgsl") {
                files.insert(p);
            }
        }
    }
    assert!(!files.is_empty());
    let mut sources: Vec<String> = compositions()
        .iter()
        .map(|(_, p, l)| step_shader_source(p, *l))
        .collect();
    sources.extend(
        compositions()
            .iter()
            .map(|(_, p, _)| dorsalhorn::gpu::rkl2::shader_source(p, 64)),
    );
    for mode in [
        dorsalhorn::gpu::reaction::CellMode::WellMixed,
        dorsalhorn::gpu::reaction::CellMode::Tissue,
    ] {
        sources.push(dorsalhorn::gpu::reaction::shader_source(mode));
    }
    sources.extend(transfer_sources());
    sources.push(dorsalhorn::gpu::multigrid::shader_source(14));
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        // Every line of the file (template lines aside) must appear in one validated composition.
        let lines: Vec<&str> = text
            .lines()
            .filter(|l| {
                !l.contains("{s}")
                    && !l.contains("{r}")
                    && !l.contains("{i}")
                    && !l.contains("/*LIST*/")
                    && !l.trim().starts_with("// @")
            })
            .collect();
        assert!(
            sources.iter().any(|s| {
                let have: BTreeSet<&str> = s.lines().collect();
                lines.iter().all(|l| have.contains(l))
            }),
            "{} is not part of any validated kernel",
            f.display()
        );
    }
}

#[test]
fn uniform_struct_matches_wgsl_layout() {
    let p = problem(Model::Diffusion, 1, false);
    let module = validate(
        "layout",
        &step_shader_source(
            &p,
            KernelLayout {
                rows: 1,
                workgroup_x: 64,
            },
        ),
    );
    let mut layouter = naga::proc::Layouter::default();
    layouter.update(module.to_ctx()).unwrap();
    let (handle, ty) = module
        .types
        .iter()
        .find(|(_, t)| t.name.as_deref() == Some("StepParams"))
        .unwrap();
    let naga::TypeInner::Struct { members, span } = &ty.inner else {
        panic!("StepParams is not a struct")
    };
    assert_eq!(
        *span as usize,
        std::mem::size_of::<StepParams>(),
        "struct size"
    );
    assert_eq!(
        layouter[handle].size as usize,
        std::mem::size_of::<StepParams>()
    );
    let rust_offsets: &[(&str, usize)] = &[
        ("dt", std::mem::offset_of!(StepParams, dt)),
        ("inv_dx2", std::mem::offset_of!(StepParams, inv_dx2)),
        ("_pad0", std::mem::offset_of!(StepParams, _pad0)),
        ("_pad1", std::mem::offset_of!(StepParams, _pad1)),
        ("model", std::mem::offset_of!(StepParams, model)),
        ("diffusivity", std::mem::offset_of!(StepParams, diffusivity)),
        ("decay", std::mem::offset_of!(StepParams, decay)),
        ("bc_value", std::mem::offset_of!(StepParams, bc_value)),
    ];
    assert_eq!(members.len(), rust_offsets.len(), "member count");
    for (m, (name, off)) in members.iter().zip(rust_offsets) {
        assert_eq!(m.name.as_deref(), Some(*name), "member order");
        assert_eq!(m.offset as usize, *off, "offset of {name}");
    }
}
