//! CPU-only shader checks: naga parses and validates every composed kernel (every model, both
//! diffusivity paths, several layouts and species counts), every `.wgsl` file takes part in one,
//! the workgroup size is what the layout asks for, and every struct the host writes for a kernel
//! matches the WGSL layout member by member (the layout table below).

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
    // The ensemble's kernel: per-member globals, drugs and inputs (src/run/ensemble.rs).
    validate(
        "dorsal_horn_reaction (ensemble of 5)",
        &dorsalhorn::gpu::reaction::ensemble_shader_source(CellMode::Tissue, 5),
    );
    let module = validate("dorsal_horn_reaction", &shader_source(CellMode::Tissue));
    let ep = module
        .entry_points
        .iter()
        .find(|e| e.name == "rk4_step")
        .expect("rk4_step");
    assert_eq!(ep.workgroup_size, [dorsalhorn::gpu::WORKGROUP, 1, 1]);
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
            assert_eq!(ep.workgroup_size, [dorsalhorn::gpu::WORKGROUP, 1, 1]);
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
        .chain([dorsalhorn::gpu::transfer::ensemble_transfer_source(
            layout.problem.grid.nx,
            layout.problem.grid.ny,
            &all,
            5,
        )])
        .collect()
}

#[test]
fn transfer_kernels_validate() {
    for src in transfer_sources() {
        let module = validate("transfer", &src);
        for entry in ["gather", "gather_implicit", "scatter"] {
            let ep = module
                .entry_points
                .iter()
                .find(|e| e.name == entry)
                .unwrap_or_else(|| panic!("no entry point {entry}"));
            assert_eq!(ep.workgroup_size, [dorsalhorn::gpu::WORKGROUP, 1, 1]);
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

/// One row of the layout table: a WGSL struct (in a composed kernel) and its Rust mirror, with
/// the Rust size and the offset of every WGSL member on the Rust side.
struct Row {
    wgsl: &'static str,
    source: String,
    size: usize,
    members: Vec<(String, usize)>,
}

/// Members of a `#[repr(C)]` struct, by field name and offset.
macro_rules! fields {
    ($t:ty: $($f:ident),* $(,)?) => {
        vec![$((stringify!($f).to_string(), std::mem::offset_of!($t, $f))),*]
    };
}

/// The members a Rust array field `[f32; N]` stands for in WGSL, one scalar per name.
fn spread(field_offset: usize, names: &[&str]) -> Vec<(String, usize)> {
    names
        .iter()
        .enumerate()
        .map(|(k, n)| (n.to_string(), field_offset + 4 * k))
        .collect()
}

#[expect(
    clippy::too_many_lines,
    reason = "the layout table: one row per struct"
)]
fn layout_table() -> Vec<Row> {
    use dorsalhorn::gpu::multigrid::LevelParams;
    use dorsalhorn::gpu::reaction::{CellMap, CellMode, Globals, Step};
    use dorsalhorn::gpu::rkl2::{DiffParams, Stage};
    use dorsalhorn::gpu::transfer::Species as TransferSpecies;
    use std::mem::{offset_of, size_of};
    let p = problem(Model::Diffusion, 1, false);
    let rd_step = step_shader_source(
        &p,
        KernelLayout {
            rows: 1,
            workgroup_x: 64,
        },
    );
    let rkl2 = dorsalhorn::gpu::rkl2::shader_source(&p, 64);
    let reaction = dorsalhorn::gpu::reaction::shader_source(CellMode::Tissue);
    let mut cell_map = Vec::new();
    for (off, names) in [
        (
            offset_of!(CellMap, glu),
            &["glu_cp", "glu_cn", "glu_ad", "glu_ab"][..],
        ),
        (
            offset_of!(CellMap, ei),
            &["ei_cp", "ei_cn", "ei_ad", "ei_ab"],
        ),
        (
            offset_of!(CellMap, atp),
            &["atp_cp", "atp_cn", "atp_ad", "atp_ab"],
        ),
        (offset_of!(CellMap, ea_ab), &["ea_ab"]),
        (offset_of!(CellMap, ea_ad), &["ea_ad"]),
        (offset_of!(CellMap, p), &["p_cp", "p_cn", "p_ad", "p_ea_ad"]),
        (
            offset_of!(CellMap, w),
            &["w_cp", "w_cn", "w_ad", "w_ab", "w_ea_ab", "w_ea_ad"],
        ),
        (offset_of!(CellMap, rho_enk), &["rho_enk"]),
        (offset_of!(CellMap, rho_dyn), &["rho_dyn"]),
        (offset_of!(CellMap, rho_em), &["rho_em"]),
        (offset_of!(CellMap, v_5ht), &["v_5ht"]),
        (offset_of!(CellMap, v_ne), &["v_ne"]),
        (offset_of!(CellMap, inj), &["inj"]),
        (offset_of!(CellMap, inj_atp), &["inj_atp"]),
        (offset_of!(CellMap, alpha_ratio), &["alpha_ratio"]),
        (
            offset_of!(CellMap, theta),
            &["theta_i", "theta_e", "theta_p", "theta_w"],
        ),
        (offset_of!(CellMap, end_w), &["end_w"]),
        (offset_of!(CellMap, pia_it), &["pia_it"]),
        (offset_of!(CellMap, pia_ab), &["pia_ab"]),
        (offset_of!(CellMap, p_ab), &["p_ab"]),
        (
            offset_of!(CellMap, ast),
            &["ast_cp", "ast_cn", "ast_ad", "ast_ab"],
        ),
    ] {
        cell_map.extend(spread(off, names));
    }
    vec![
        Row {
            wgsl: "StepParams",
            source: rd_step,
            size: size_of::<StepParams>(),
            members: fields!(StepParams: dt, inv_dx2, _pad0, _pad1, model, diffusivity, decay, bc_value),
        },
        Row {
            wgsl: "DiffParams",
            source: rkl2.clone(),
            size: size_of::<DiffParams>(),
            members: [
                fields!(DiffParams: inv_dx2),
                spread(offset_of!(DiffParams, _pad), &["_pad0", "_pad1", "_pad2"]),
                fields!(DiffParams: bc_value),
            ]
            .concat(),
        },
        Row {
            wgsl: "Stage",
            source: rkl2,
            size: size_of::<Stage>(),
            members: fields!(Stage: mu, nu, mu_tau, gamma_tau),
        },
        Row {
            wgsl: "Lvl",
            source: dorsalhorn::gpu::multigrid::shader_source(14),
            size: size_of::<LevelParams>(),
            members: fields!(LevelParams: nx, ny, ntx, colour, cny, cntx, nsm, _pad1),
        },
        Row {
            wgsl: "Globals",
            source: reaction.clone(),
            size: size_of::<Globals>(),
            members: fields!(Globals: sigma_sex, retardation, n_cells, rvm, a7, t_route, facilitation, _pad2),
        },
        Row {
            wgsl: "Step",
            source: reaction.clone(),
            size: size_of::<Step>(),
            members: fields!(Step: dt, input, count, _pad),
        },
        Row {
            wgsl: "CellMap",
            source: reaction,
            size: size_of::<CellMap>(),
            members: cell_map,
        },
        Row {
            wgsl: "Species",
            source: transfer_sources().remove(0),
            size: size_of::<TransferSpecies>(),
            members: fields!(TransferSpecies: k, r, p_pia, _pad),
        },
    ]
}

/// The members (name, offset) and size of a WGSL struct, from naga's layouter.
fn wgsl_struct(source: &str, name: &str) -> (Vec<(String, usize)>, usize) {
    let module = validate(name, source);
    let mut layouter = naga::proc::Layouter::default();
    layouter.update(module.to_ctx()).unwrap();
    let (handle, ty) = module
        .types
        .iter()
        .find(|(_, t)| t.name.as_deref() == Some(name))
        .unwrap_or_else(|| panic!("no struct {name} in its kernel"));
    let naga::TypeInner::Struct { members, span } = &ty.inner else {
        panic!("{name} is not a struct")
    };
    assert_eq!(layouter[handle].size, *span);
    let members = members
        .iter()
        .map(|m| (m.name.clone().unwrap_or_default(), m.offset as usize))
        .collect();
    (members, *span as usize)
}

#[test]
fn every_host_written_struct_matches_its_wgsl_layout() {
    for row in layout_table() {
        let (members, size) = wgsl_struct(&row.source, row.wgsl);
        assert_eq!(size, row.size, "{}: size", row.wgsl);
        assert_eq!(members, row.members, "{}: members and offsets", row.wgsl);
    }
}

/// Positional packers: a value per named field, packed, must land at the WGSL member of the same
/// name, so that two swapped fields fail even where their values happen to be equal elsewhere.
#[test]
fn drugs_pack_in_wgsl_member_order() {
    use dorsalhorn::model::network::protocol::{DRUG_KEYS, drug_slot};
    use dorsalhorn::model::network::state::Drugs;
    let mut d = Drugs::default();
    for (i, name) in DRUG_KEYS.iter().enumerate() {
        *drug_slot(&mut d, name) = (i + 1) as f64;
    }
    let packed = dorsalhorn::gpu::reaction::pack_drugs(&d);
    let source =
        dorsalhorn::gpu::reaction::shader_source(dorsalhorn::gpu::reaction::CellMode::Tissue);
    let (members, size) = wgsl_struct(&source, "Drugs");
    assert_eq!(packed.len() * 4, size, "Drugs: packed length");
    let mut named = 0;
    for (name, off) in members {
        if name.starts_with('_') {
            assert_eq!(packed[off / 4], 0.0, "padding {name}");
            continue;
        }
        assert!(
            DRUG_KEYS.contains(&name.as_str()),
            "WGSL Drugs member {name} is no drug key"
        );
        let mut copy = d;
        assert_eq!(
            packed[off / 4],
            *drug_slot(&mut copy, &name) as f32,
            "Drugs.{name}"
        );
        named += 1;
    }
    assert_eq!(named, DRUG_KEYS.len(), "every drug key is a WGSL member");
}

/// `Coef` is a vec4 array sized by the species count and two vec4s: the rows `coef_rows`
/// writes must land on its members for any species count.
#[test]
fn coef_rows_match_the_wgsl_layout() {
    use dorsalhorn::gpu::multigrid::{coef_rows, shader_source};
    for ns in [1usize, 3, 14] {
        let (members, size) = wgsl_struct(&shader_source(ns), "Coef");
        let names: Vec<&str> = members.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["sp", "p", "q"], "Coef members");
        let species: Vec<[f32; 4]> = (0..ns).map(|s| [s as f32 + 1.0, 2.0, 3.0, 0.0]).collect();
        let rows = coef_rows(&species, 0.5, 0.25);
        assert_eq!(rows.len() * 16, size, "ns = {ns}: Coef size");
        assert_eq!(members[0].1, 0);
        assert_eq!(members[1].1, 16 * ns, "ns = {ns}: offset of p");
        assert_eq!(members[2].1, 16 * ns + 16, "ns = {ns}: offset of q");
        assert_eq!(rows[members[1].1 / 16][0], 0.5, "p.x is P_pia");
        assert_eq!(rows[members[2].1 / 16][0], 0.25, "q.x is θ");
        assert_eq!(&rows[..ns], &species[..], "sp rows");
    }
}

#[test]
fn input_packs_in_wgsl_member_order() {
    use dorsalhorn::gpu::reaction::{CellMode, INPUT_STRIDE, pack_input, shader_source};
    use dorsalhorn::model::network::state::Input;
    let i = Input {
        r_cp: 1.0,
        r_cn: 2.0,
        r_ad: 3.0,
        r_ab: 4.0,
        ea_on: true,
        ea_f: 6.0,
        ea_rho: 7.0,
        pep_enk: 8.0,
        pep_dyn: 9.0,
        ea_hg: 10.0,
        i_inj: 11.0,
        mmp9: 12.0,
        ea_gain: [13.0, 14.0, 15.0, 16.0],
        naloxone_nm: 17.0,
        il1_gain: 18.0,
        u_nmda: 19.0,
        t_cell: 20.0,
        i_infl: 21.0,
    };
    let expected = |name: &str| -> f64 {
        match name {
            "r_cp" => i.r_cp,
            "r_cn" => i.r_cn,
            "r_ad" => i.r_ad,
            "r_ab" => i.r_ab,
            "ea_on" => 1.0,
            "ea_f" => i.ea_f,
            "ea_rho" => i.ea_rho,
            "pep_enk" => i.pep_enk,
            "pep_dyn" => i.pep_dyn,
            "ea_hg" => i.ea_hg,
            "i_inj" => i.i_inj,
            "mmp9" => i.mmp9,
            "gain0" => i.ea_gain[0],
            "gain1" => i.ea_gain[1],
            "gain2" => i.ea_gain[2],
            "gain3" => i.ea_gain[3],
            "naloxone_nm" => i.naloxone_nm,
            "u_nmda" => i.u_nmda,
            "il1_gain" => i.il1_gain,
            "t_cell" => i.t_cell,
            "i_infl" => i.i_infl,
            other => panic!("WGSL Input member {other} has no Rust field"),
        }
    };
    let packed = pack_input(&i);
    let (members, size) = wgsl_struct(&shader_source(CellMode::Tissue), "Input");
    assert_eq!(INPUT_STRIDE * 4, size, "Input: packed length");
    for (name, off) in members {
        let want = if name.starts_with('_') {
            0.0
        } else {
            expected(&name)
        };
        assert_eq!(packed[off / 4], want as f32, "Input.{name}");
    }
}

/// Every struct a kernel binds as a uniform or storage buffer is host-written: it must be
/// generated from its Rust declaration or have a row in the tests above.
#[test]
fn no_host_written_struct_without_a_layout_check() {
    // Generated from the Rust declaration (model::network::coefficients): no hand mirror.
    let generated = ["Params"];
    let checked: BTreeSet<String> = layout_table()
        .iter()
        .map(|r| r.wgsl.to_string())
        .chain(["Drugs".to_string(), "Input".to_string(), "Coef".to_string()])
        .collect();
    let bound = bound_structs(&[
        dorsalhorn::gpu::rkl2::shader_source(&problem(Model::Diffusion, 1, false), 64),
        dorsalhorn::gpu::multigrid::shader_source(14),
        dorsalhorn::gpu::reaction::shader_source(dorsalhorn::gpu::reaction::CellMode::Tissue),
        transfer_sources().remove(0),
        step_shader_source(
            &problem(Model::Diffusion, 1, false),
            KernelLayout {
                rows: 1,
                workgroup_x: 64,
            },
        ),
    ]);
    for ty in bound {
        assert!(
            checked.contains(&ty) || generated.contains(&ty.as_str()),
            "struct {ty} is bound by a kernel but has no layout check (tests/it/shaders.rs)"
        );
    }
}

/// The struct types of every `var<uniform>` / `var<storage>` binding (also inside `array<…>`).
fn bound_structs(sources: &[String]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for src in sources {
        let structs: BTreeSet<&str> = src
            .lines()
            .filter_map(|l| l.trim().strip_prefix("struct "))
            .filter_map(|l| l.split([' ', '{']).next())
            .collect();
        for l in src
            .lines()
            .filter(|l| l.contains("var<uniform>") || l.contains("var<storage"))
        {
            let ty = l
                .rsplit(':')
                .next()
                .unwrap_or("")
                .trim()
                .trim_end_matches(';');
            let ty = ty.strip_prefix("array<").map_or(ty, |t| {
                t.trim_end_matches('>').split(',').next().unwrap_or("")
            });
            if structs.contains(ty.trim()) {
                out.insert(ty.trim().to_string());
            }
        }
    }
    out
}
