//! The dorsal-horn model's local reaction system on the GPU (shaders/reaction.wgsl):
//! one invocation per cell, one RK4 step per dispatch, each cell with its own state, map
//! ([`CellMap`]: what it sees of the tissue, and its thresholds θ) and input. It is the reaction
//! stage of the spatial model (src/tissue/mod.rs), checked cell by cell against the f64 well-mixed
//! reference (src/model/network/) in tests/it/reaction_gpu.rs.
//!
//! Longer than 600 lines: one kernel's driver: its buffers, packers, sub-step tables and the four
//! entry points that share them.

use crate::error::{Error, GpuError};
use crate::gpu::binding::uniform_entry;
use crate::gpu::shader::expand_blocks;
use crate::gpu::{Gpu, WORKGROUP};
use crate::model::network::coefficients::PARAM_KEYS;
use crate::model::network::pk::PialCombination;
use crate::model::network::protocol::DRUG_KEYS;
use crate::model::network::state::{Drugs, Input, MEDIATOR_SLOTS, N_STATES, State};
use crate::model::network::{Model, Thresholds};
use bytemuck::{Pod, Zeroable};

/// Floats per cell of state (the N_STATES states, then the r_I and r_E warm starts).
pub const STATE_STRIDE: usize = 36;
/// Floats per cell (or per broadcast sub-step) of input.
pub const INPUT_STRIDE: usize = 21;
/// Floats per cell of [`CellMap`].
pub const MAP_STRIDE: usize = std::mem::size_of::<CellMap>() / 4;
/// Floats per cell of the kernel's auxiliary output: the 14 mediator goals and two unused slots.
pub const AUX_STRIDE: usize = 16;
/// Floats per cell of the rates buffer: r_I, r_E, r_P, r_W (or θ_I, θ_E, θ_P, θ_W).
pub const RATES_STRIDE: usize = 4;
/// Sub-steps (and broadcast inputs) one submit can hold.
pub const MAX_SUBSTEPS: usize = 4096;
/// Dynamic uniform offsets must be multiples of this.
const SLOT: u64 = 256;

/// What one cell sees of the tissue (the kernel's `CellMap`): afferent maps of its glutamate
/// pool, of its E and I populations, of its ATP pool and of the columnar kernels of P and W;
/// peptide source and varicosity densities; the footprints of the injury signal; α_grey/α (0 marks a cell outside
/// the domain); and its thresholds θ.
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable, PartialEq)]
pub struct CellMap {
    /// The local afferent maps (T_Cp, T_Cn, T_Aδ, T_Aβ) of the neurons' glutamate pool (§4.2):
    /// the neurons read its C-fibre part (N, D_E, LTP, SP release); the astrocytes read `ast`.
    pub glu: [f32; 4],
    pub ei: [f32; 4],
    pub atp: [f32; 4],
    pub ea_ab: f32,
    pub ea_ad: f32,
    pub p: [f32; 4],
    pub w: [f32; 6],
    pub rho_enk: f32,
    pub rho_dyn: f32,
    pub rho_em: f32,
    pub v_5ht: f32,
    pub v_ne: f32,
    /// The footprint of the injury signal S_inj (§11.1), as is and 3 × 3 smoothed for the
    /// ATP pool.
    pub inj: f32,
    pub inj_atp: f32,
    pub alpha_ratio: f32,
    pub theta: [f32; 4],
    /// β-endorphin in the cell relative to C_csf,END: its steady penetration from the pia,
    /// normalised to mean 1 over laminae I–II (§2.5; `Layout::penetration`), 1 where
    /// w_END_pia = 0 and in the well-mixed compartment.
    pub end_w: f32,
    /// An intrathecal small molecule's and an intrathecal antibody's occupancy in the cell
    /// relative to the dose's: their steady penetration from the pia, normalised to mean 1 over
    /// laminae I–II (§2.5; `Layout::penetration`), 1 where w_it_pia = 0 and in the well-mixed
    /// compartment.
    pub pia_it: f32,
    pub pia_ab: f32,
    /// T_Aβ as the columnar kernel of P sees it (§4.3): the reach of the polysynaptic Aβ
    /// relay to lamina I (1 in the well-mixed compartment).
    pub p_ab: f32,
    /// The afferent maps (T_Cp, T_Cn, T_Aδ, T_Aβ) of the glutamate an astrocyte senses, the
    /// H(Glu) term of D_A (§4.7): the local terminals averaged over an astrocyte's domain
    /// (`astro_sense_um`; equal to `glu` when it is 0 and in the well-mixed compartment).
    pub ast: [f32; 4],
}

impl CellMap {
    /// (pia_it, pia_ab) as the drug combination takes them ([`Model::cell_drugs`]).
    pub fn pia(&self) -> [f64; 2] {
        [self.pia_it as f64, self.pia_ab as f64]
    }

    /// The well-mixed compartment of MODEL.md §8.2: T = 1 except T_Aβ = 0.3 in the glutamate
    /// and ATP pool, lamina V values for W (T_C 0.15, T_Aδ 0.8, T_Aβ 0.6), every density 1.
    pub fn well_mixed(theta: &Thresholds) -> CellMap {
        CellMap {
            glu: [1.0, 1.0, 1.0, 0.3],
            ei: [1.0; 4],
            atp: [1.0, 1.0, 1.0, 0.3],
            ea_ab: 1.0,
            ea_ad: 1.0,
            p: [1.0; 4],
            w: [0.15, 0.15, 0.8, 0.6, 0.6, 0.8],
            rho_enk: 1.0,
            rho_dyn: 1.0,
            rho_em: 1.0,
            v_5ht: 1.0,
            v_ne: 1.0,
            inj: 1.0,
            inj_atp: 1.0,
            alpha_ratio: 1.0,
            theta: [
                theta.i as f32,
                theta.e as f32,
                theta.p as f32,
                theta.w as f32,
            ],
            end_w: 1.0,
            pia_it: 1.0,
            pia_ab: 1.0,
            p_ab: 1.0,
            ast: [1.0, 1.0, 1.0, 0.3],
        }
    }
}

/// The kernel's `Globals` (shaders/reaction.wgsl; layout checked in tests/it/shaders.rs).
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable)]
pub struct Globals {
    pub sigma_sex: f32,
    pub retardation: f32,
    pub n_cells: u32,
    pub rvm: f32,
    pub a7: f32,
    pub t_route: f32,
    /// n_mode, the descending-facilitation mode (1 on, 0 off).
    pub facilitation: f32,
    pub _pad2: u32,
}

/// What the cells of a [`ReactionCells`] are, compiled into its kernel as constants (a uniform
/// `if` costs its whole body on lavapipe, taken or not; BENCHMARKS.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CellMode {
    /// Well-mixed compartments: each cell reads its own input and every state, the mediators
    /// included, evolves in the reaction step.
    WellMixed,
    /// The cells of the tissue: every cell reads the sub-step's broadcast input and the 14
    /// diffusing mediators are frozen in the reaction step (the transport step moves them).
    Tissue,
}

/// The kernel's `Step`: a run of `count` sub-steps of `dt` seconds, sub-step k reading the
/// broadcast input `input + k` (256-byte dynamic-offset slots). `exp_step_goals` ends the run by
/// writing the mediators' goals at input `input + count`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable)]
pub struct Step {
    pub dt: f32,
    pub input: u32,
    pub count: u32,
    pub _pad: u32,
}

/// A run of sub-steps of equal length, advanced by one dispatch (see [`Step`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SubstepRun {
    /// Sub-step length (s).
    pub dt: f64,
    /// Index of the first sub-step's broadcast input.
    pub input: u32,
    /// Number of sub-steps.
    pub count: u32,
}

impl SubstepRun {
    pub fn new(dt: f64, input: u32, count: u32) -> SubstepRun {
        SubstepRun { dt, input, count }
    }
}

/// How a reaction sub-step advances the local states.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Integrator {
    /// Classical RK4 (the well-mixed reference's scheme; needs steps below the fastest local
    /// time constant, ≈ 20 s).
    Rk4,
    /// Exponential midpoint on the production–loss form dx/dt = a − b·x: second order,
    /// positivity-preserving and stable for any step (the spatial model's scheme).
    ExponentialMidpoint,
}

/// Kernels of the reaction shader besides the step kernels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kernel {
    /// r_I, r_E, r_P, r_W into aux slots 16..20 (P and W from the uploaded columns).
    Rates,
    /// Calibrated θ_I, θ_E, θ_P, θ_W into aux slots 16..20.
    Calibrate,
}

/// The WGSL of the reaction kernel: a generated `Params` struct, then the kernel with its
/// per-element loops unrolled (`// @each_state`: the N_STATES states, `// @each_quad`: the
/// vec4s of a cell's state or map, `// @each_mediator`: the 14 mediators; `{i}` is the index). Constant
/// indices keep the kernel's private arrays in registers (BENCHMARKS.md: 10× on lavapipe).
pub fn shader_source(mode: CellMode) -> String {
    ensemble_shader_source(mode, 1)
}

/// How the kernel finds a cell's globals, drugs and broadcast inputs (the `// @member_bindings`
/// of shaders/reaction.wgsl): one set bound directly, or, for an ensemble of `members` (each
/// `n_cells` cells, side by side in every buffer but the maps), per-member arrays copied into
/// private variables when an invocation starts (the member is the workgroup's z, so the copies
/// are uniform across a workgroup).
fn member_prelude(members: usize) -> String {
    if members <= 1 {
        return r"@group(0) @binding(1) var<storage, read> G: Globals;
@group(0) @binding(2) var<storage, read> drugs: array<Drugs, 3>;
var<private> D: Drugs;
fn enter_member(local: u32, member: u32) -> u32 {
    return local;
}
fn member_inputs() -> u32 {
    return 0u;
}
fn drug_set(k: u32) -> Drugs {
    return drugs[k];
}
"
        .to_string()
            + &enter_drugs_source();
    }
    format!(
        r"const ENSEMBLE: u32 = {members}u;
@group(0) @binding(1) var<storage, read> globals: array<Globals>;
@group(0) @binding(2) var<storage, read> drugs: array<Drugs>;
var<private> G: Globals;
var<private> D: Drugs;
var<private> MEMBER: u32;
// `member` (the workgroup's z) becomes the invocation's; returns the cell's index in the state
// and aux buffers.
fn enter_member(local: u32, member: u32) -> u32 {{
    let m = min(member, ENSEMBLE - 1u);
    G = globals[m];
    MEMBER = m;
    return m * G.n_cells + local;
}}
fn member_inputs() -> u32 {{
    return MEMBER * {MAX_SUBSTEPS}u;
}}
fn drug_set(k: u32) -> Drugs {{
    return drugs[MEMBER * 3u + k];
}}
{}",
        enter_drugs_source()
    )
}

/// [`shader_source`] for an ensemble of `members` (1: the plain kernel).
pub fn ensemble_shader_source(mode: CellMode, members: usize) -> String {
    let tissue = mode == CellMode::Tissue;
    let mut s = format!(
        "// The cells' mode (src/gpu/reaction.rs, CellMode).\nconst BROADCAST: bool = {tissue};\n\
         const TRANSPORT: bool = {tissue};\nconst WG_X: u32 = {WORKGROUP}u;\n\
         const MAP_QUADS: u32 = {}u;\n\nstruct Params {{\n",
        MAP_STRIDE / 4
    );
    for k in PARAM_KEYS {
        s.push_str(&format!("    {k}: f32,\n"));
    }
    s.push_str("}\n\n");
    let body = include_str!("../../shaders/reaction.wgsl");
    let body = expand_blocks(body, "// @each_state", "// @end_state", "{i}", N_STATES);
    let body = expand_blocks(
        &body,
        "// @each_quad",
        "// @end_quad",
        "{i}",
        STATE_STRIDE / 4,
    );
    let body = expand_blocks(
        &body,
        "// @each_map_quad",
        "// @end_map_quad",
        "{i}",
        MAP_STRIDE / 4,
    );
    let body = expand_blocks(
        &body,
        "// @each_mediator",
        "// @end_mediator",
        "{i}",
        MEDIATOR_SLOTS.len(),
    );
    s.push_str(&body.replace("// @member_bindings\n", &member_prelude(members)));
    s
}

/// Packs a state as the kernel reads it.
pub fn pack_state(s: &State) -> [f32; STATE_STRIDE] {
    let mut out = [0.0f32; STATE_STRIDE];
    for (o, v) in out.iter_mut().zip(s.to_array()) {
        *o = v as f32;
    }
    out[N_STATES] = s.r_i as f32;
    out[N_STATES + 1] = s.r_e as f32;
    out
}

/// Packs an input as the kernel reads it.
pub fn pack_input(i: &Input) -> [f32; INPUT_STRIDE] {
    [
        i.r_cp,
        i.r_cn,
        i.r_ad,
        i.r_ab,
        if i.ea_on { 1.0 } else { 0.0 },
        i.ea_f,
        i.ea_rho,
        i.pep_enk,
        i.pep_dyn,
        i.ea_hg,
        i.i_inj,
        i.mmp9,
        i.ea_gain[0],
        i.ea_gain[1],
        i.ea_gain[2],
        i.ea_gain[3],
        i.naloxone_nm,
        i.u_nmda,
        i.il1_gain,
        i.t_cell,
        i.i_infl,
    ]
    .map(|v| v as f32)
}

/// The kernel's three drug sets of a model: the uniform occupancies, then the intrathecal small
/// molecules' and antibodies' (zero without intrathecal doses), which each cell scales by its
/// depth profile (`enter_drugs` in the kernel, [`Model::cell_drugs`] on the host).
pub fn pack_drug_sets(model: &Model) -> Vec<f32> {
    let pia = model.drugs_pia.unwrap_or_default();
    [&model.drugs, &pia[0], &pia[1]]
        .into_iter()
        .flat_map(pack_drugs)
        .collect()
}

/// The kernel's `enter_drugs`: the cell's occupancies `D` from the member's three sets
/// ([`pack_drug_sets`]) and its pial profiles, as [`crate::model::network::pk::combine`] forms
/// them on the host.
fn enter_drugs_source() -> String {
    let mut s = String::from(
        "// An occupancy u where the concentration is pi × the dose's (Emax, Hill 1):\n\
         // c = u/(1 − u) → c·pi/(c·pi + 1) = u·pi/(u·pi + 1 − u) (pk::occupancy_at on the host).\n\
         fn pia_u(u: f32, pi: f32) -> f32 {\n    let num = u * pi;\n    let den = num + (1.0 - u);\n    \
         return select(select(num / den, 0.0, den <= 0.0), u, pi == 1.0);\n}\n\n\
         // The cell's drugs (src/gpu/reaction.rs, `enter_drugs_source`; pk::combine on the host).\n\
         fn enter_drugs(m: CellMap) {\n    let a = drug_set(0u);\n    let b = drug_set(1u);\n    \
         let c = drug_set(2u);\n",
    );
    for key in DRUG_KEYS {
        let line = match PialCombination::of(key) {
            PialCombination::Concentration => {
                format!("    D.{key} = a.{key} + b.{key} + c.{key};\n")
            }
            PialCombination::Flat => {
                format!("    D.{key} = min(a.{key} + b.{key} + c.{key}, 1.0);\n")
            }
            PialCombination::Source => format!(
                "    D.{key} = min(a.{key} + b.{key} * m.pia_it + c.{key} * m.pia_ab, 1.0);\n"
            ),
            PialCombination::Occupancy => format!(
                "    D.{key} = min(a.{key} + pia_u(b.{key}, m.pia_it) + pia_u(c.{key}, m.pia_ab), \
                 1.0);\n"
            ),
        };
        s.push_str(&line);
    }
    s.push_str("}\n");
    s
}

/// The drug occupancies in the kernel's `Drugs` order.
pub fn pack_drugs(d: &Drugs) -> Vec<f32> {
    [
        d.nmda,
        d.mek,
        d.trkb,
        d.p2x4,
        d.x4_antisense,
        d.minocycline,
        d.p38,
        d.cats,
        d.cx3cr1,
        d.fluorocitrate,
        d.laa,
        d.jnk,
        d.carbenoxolone,
        d.cxcr4,
        d.ccr2,
        d.cxcr2,
        d.il1r,
        d.tnf,
        d.cck,
        d.naloxone_nm,
        d.il10_block,
        d.il10_exo,
        d.mu_delta,
        d.kappa,
        d.gaba_gly,
        d.ht1,
        d.a2,
        d.mu_agonist,
        d.a2_agonist,
        d.clp257,
        d.nep,
        d.afferent_block,
        d.ea_block,
        d.ht3,
        0.0,
    ]
    .iter()
    .map(|&v| v as f32)
    .collect()
}

fn storage_entry(binding: u32, read_only: bool) -> wgpu::BindGroupLayoutEntry {
    wgpu::BindGroupLayoutEntry {
        binding,
        visibility: wgpu::ShaderStages::COMPUTE,
        ty: wgpu::BindingType::Buffer {
            ty: wgpu::BufferBindingType::Storage { read_only },
            has_dynamic_offset: false,
            min_binding_size: None,
        },
        count: None,
    }
}

/// The compiled reaction kernels of one [`CellMode`] and their layouts, shared by every
/// [`ReactionCells`] of that mode on a device ([`Gpu::kernels`]).
struct ReactionKernels {
    layout0: wgpu::BindGroupLayout,
    layout1: wgpu::BindGroupLayout,
    rk4: wgpu::ComputePipeline,
    exp: wgpu::ComputePipeline,
    exp_goals: wgpu::ComputePipeline,
    rates: wgpu::ComputePipeline,
    calibrate: wgpu::ComputePipeline,
}

impl ReactionKernels {
    fn new(gpu: &Gpu, mode: CellMode, members: usize) -> ReactionKernels {
        let device = &gpu.device;
        let layout0 = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("reaction layout"),
            entries: &[
                storage_entry(0, true),
                storage_entry(1, true),
                storage_entry(2, true),
                storage_entry(3, true),
                storage_entry(4, false),
                storage_entry(5, true),
                storage_entry(6, false),
                storage_entry(7, true),
                storage_entry(8, false),
            ],
        });
        let layout1 = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("reaction step layout"),
            entries: &[uniform_entry(0, true)],
        });
        let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some("dorsal_horn_reaction"),
            source: wgpu::ShaderSource::Wgsl(ensemble_shader_source(mode, members).into()),
        });
        let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("reaction pipeline layout"),
            bind_group_layouts: &[Some(&layout0), Some(&layout1)],
            immediate_size: 0,
        });
        let pipeline = |entry: &str| gpu.compute_pipeline(Some(&pipeline_layout), &module, entry);
        ReactionKernels {
            rk4: pipeline("rk4_step"),
            exp: pipeline("exp_step"),
            exp_goals: pipeline("exp_step_goals"),
            rates: pipeline("evaluate_rates"),
            calibrate: pipeline("calibrate_thresholds"),
            layout0,
            layout1,
        }
    }
}

/// GPU state of many cells: the reaction kernels and their buffers.
pub struct ReactionCells {
    /// Cells per member.
    n_cells: usize,
    /// Members side by side (1 unless an ensemble, [`ReactionCells::ensemble`]).
    members: usize,
    broadcast: bool,
    rk4: wgpu::ComputePipeline,
    exp: wgpu::ComputePipeline,
    exp_goals: wgpu::ComputePipeline,
    drugs: wgpu::Buffer,
    globals: wgpu::Buffer,
    globals_value: Globals,
    integrator: Integrator,
    rates: wgpu::ComputePipeline,
    calibrate: wgpu::ComputePipeline,
    bind_group: wgpu::BindGroup,
    step_group: wgpu::BindGroup,
    steps: wgpu::Buffer,
    inputs: wgpu::Buffer,
    state: wgpu::Buffer,
    maps: wgpu::Buffer,
    aux: wgpu::Buffer,
    columns: wgpu::Buffer,
    rates_out: wgpu::Buffer,
    readback: wgpu::Buffer,
}

impl ReactionCells {
    /// Well-mixed cells: each with its own state and input, the §8.2 compartment map and the
    /// model's thresholds; every state (mediators included) evolves in the reaction step.
    pub fn new(gpu: &Gpu, model: &Model, cells: &[(State, Input)]) -> Result<ReactionCells, Error> {
        let states: Vec<[f32; STATE_STRIDE]> = cells.iter().map(|(s, _)| pack_state(s)).collect();
        let maps = vec![CellMap::well_mixed(&model.theta); cells.len()];
        let inputs: Vec<Input> = cells.iter().map(|(_, i)| *i).collect();
        let r = ReactionCells::with_maps(gpu, model, &states, &maps, CellMode::WellMixed)?;
        r.set_inputs(gpu, &inputs);
        Ok(r)
    }

    /// Cells with one state and map each, in mode `mode` (the spatial model's cells are
    /// [`CellMode::Tissue`]).
    pub fn with_maps(
        gpu: &Gpu,
        model: &Model,
        states: &[[f32; STATE_STRIDE]],
        maps: &[CellMap],
        mode: CellMode,
    ) -> Result<ReactionCells, Error> {
        ReactionCells::ensemble(gpu, model, states, maps, mode, 1)
    }

    /// `members` copies of the cells side by side (an ensemble: one dispatch advances them all,
    /// each member with its own drugs, descending switches and broadcast inputs, sharing the
    /// maps and parameters): `states` holds the members' cells one member after another, `maps`
    /// one member's. Only the exponential-midpoint runs ([`ReactionCells::encode`]) know the
    /// members; the other kernels need `members` = 1.
    #[expect(
        clippy::too_many_lines,
        reason = "creates the buffers, pipelines and bind groups of the reaction stage in order: the device layout in one place"
    )]
    pub fn ensemble(
        gpu: &Gpu,
        model: &Model,
        states: &[[f32; STATE_STRIDE]],
        maps: &[CellMap],
        mode: CellMode,
        members: usize,
    ) -> Result<ReactionCells, Error> {
        let broadcast = mode == CellMode::Tissue;
        assert!(members == 1 || broadcast, "ensembles are of tissue cells");
        let device = &gpu.device;
        let n = maps.len();
        let all = n * members;
        assert_eq!(states.len(), all, "one state per cell and member");
        let scope = gpu.capture_errors();
        let buffer = |label: &str, size: usize, extra: wgpu::BufferUsages| {
            device.create_buffer(&wgpu::BufferDescriptor {
                label: Some(label),
                size: (size as u64).max(16),
                usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST | extra,
                mapped_at_creation: false,
            })
        };
        let none = wgpu::BufferUsages::empty();
        let params: Vec<f32> = model.pr.values().iter().map(|&v| v as f32).collect();
        let params_buf = buffer("reaction params", params.len() * 4, none);
        gpu.queue
            .write_buffer(&params_buf, 0, bytemuck::cast_slice(&params));
        let globals = Globals {
            sigma_sex: model.sigma_sex as f32,
            retardation: if model.retardation { 1.0 } else { 0.0 },
            n_cells: n as u32,
            rvm: model.rvm as f32,
            a7: model.a7 as f32,
            t_route: model.t_route as f32,
            facilitation: model.n_mode as f32,
            _pad2: 0,
        };
        let globals_buf = buffer(
            "reaction globals",
            std::mem::size_of::<Globals>() * members,
            none,
        );
        let drugs = pack_drug_sets(model);
        let drugs_buf = buffer("reaction drugs", drugs.len() * 4 * members, none);
        for k in 0..members {
            gpu.queue.write_buffer(
                &globals_buf,
                (k * std::mem::size_of::<Globals>()) as u64,
                bytemuck::bytes_of(&globals),
            );
            gpu.queue.write_buffer(
                &drugs_buf,
                (k * drugs.len() * 4) as u64,
                bytemuck::cast_slice(&drugs),
            );
        }
        let n_inputs = if broadcast { MAX_SUBSTEPS * members } else { n };
        let inputs = buffer("reaction inputs", n_inputs * INPUT_STRIDE * 4, none);
        let state = buffer(
            "reaction state",
            all * STATE_STRIDE * 4,
            wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST,
        );
        gpu.queue
            .write_buffer(&state, 0, bytemuck::cast_slice(states));
        let maps_buf = buffer("reaction maps", n * MAP_STRIDE * 4, none);
        gpu.queue
            .write_buffer(&maps_buf, 0, bytemuck::cast_slice(maps));
        let aux = buffer(
            "reaction aux",
            all * AUX_STRIDE * 4,
            wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST,
        );
        let columns = buffer("reaction columns", n * 16, none);
        let rates_out = buffer(
            "reaction rates",
            n * RATES_STRIDE * 4,
            wgpu::BufferUsages::COPY_SRC,
        );
        let readback = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("reaction readback"),
            size: ((all * STATE_STRIDE.max(AUX_STRIDE) * 4) as u64).max(16),
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let steps = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("reaction sub-steps"),
            size: SLOT * MAX_SUBSTEPS as u64,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let kernels = gpu.kernels(&ensemble_shader_source(mode, members), || {
            ReactionKernels::new(gpu, mode, members)
        });
        let (layout0, layout1) = (&kernels.layout0, &kernels.layout1);
        let buffers = [
            &params_buf,
            &globals_buf,
            &drugs_buf,
            &inputs,
            &state,
            &maps_buf,
            &aux,
            &columns,
            &rates_out,
        ];
        let entries: Vec<wgpu::BindGroupEntry> = buffers
            .iter()
            .enumerate()
            .map(|(i, b)| wgpu::BindGroupEntry {
                binding: i as u32,
                resource: b.as_entire_binding(),
            })
            .collect();
        let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("reaction"),
            layout: layout0,
            entries: &entries,
        });
        let step_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("reaction sub-step"),
            layout: layout1,
            entries: &[wgpu::BindGroupEntry {
                binding: 0,
                resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                    buffer: &steps,
                    offset: 0,
                    size: std::num::NonZeroU64::new(16),
                }),
            }],
        });
        let out = ReactionCells {
            n_cells: n,
            members,
            broadcast,
            rk4: kernels.rk4.clone(),
            exp: kernels.exp.clone(),
            exp_goals: kernels.exp_goals.clone(),
            drugs: drugs_buf,
            globals: globals_buf,
            globals_value: globals,
            integrator: Integrator::Rk4,
            rates: kernels.rates.clone(),
            calibrate: kernels.calibrate.clone(),
            bind_group,
            step_group,
            steps,
            inputs,
            state,
            maps: maps_buf,
            aux,
            columns,
            rates_out,
            readback,
        };
        gpu.validated(scope, "reaction set-up")?;
        Ok(out)
    }

    pub fn cells(&self) -> usize {
        self.n_cells
    }

    /// Chooses the sub-step scheme (RK4 by default).
    pub fn set_integrator(&mut self, integrator: Integrator) {
        self.integrator = integrator;
    }

    /// Replaces the inputs: one per cell, or (broadcast) one per sub-step.
    pub fn set_inputs(&self, gpu: &Gpu, inputs: &[Input]) {
        let v: Vec<f32> = inputs.iter().flat_map(pack_input).collect();
        gpu.queue
            .write_buffer(&self.inputs, 0, bytemuck::cast_slice(&v));
    }

    /// Replaces the drug occupancies and the descending-drive switches with the model's.
    pub fn set_drugs(&mut self, gpu: &Gpu, model: &Model) {
        gpu.queue
            .write_buffer(&self.drugs, 0, bytemuck::cast_slice(&pack_drug_sets(model)));
        self.globals_value.rvm = model.rvm as f32;
        self.globals_value.a7 = model.a7 as f32;
        self.globals_value.facilitation = model.n_mode as f32;
        gpu.queue
            .write_buffer(&self.globals, 0, bytemuck::bytes_of(&self.globals_value));
    }

    /// Replaces every cell's map.
    pub fn set_maps(&self, gpu: &Gpu, maps: &[CellMap]) {
        gpu.queue
            .write_buffer(&self.maps, 0, bytemuck::cast_slice(maps));
    }

    /// Replaces every cell's state.
    pub fn set_states(&self, gpu: &Gpu, states: &[[f32; STATE_STRIDE]]) {
        gpu.queue
            .write_buffer(&self.state, 0, bytemuck::cast_slice(states));
    }

    /// Replaces every cell's state from a flat array (STATE_STRIDE floats per cell, as
    /// [`ReactionCells::read_raw`] gives it).
    pub fn set_states_raw(&self, gpu: &Gpu, states: &[f32]) {
        gpu.queue
            .write_buffer(&self.state, 0, bytemuck::cast_slice(states));
    }

    /// Per cell (r_E, r_I) seen by P, then by W, for [`Kernel::Rates`].
    pub fn set_columns(&self, gpu: &Gpu, columns: &[[f32; 4]]) {
        gpu.queue
            .write_buffer(&self.columns, 0, bytemuck::cast_slice(columns));
    }

    pub fn state_buffer(&self) -> &wgpu::Buffer {
        &self.state
    }

    pub fn aux_buffer(&self) -> &wgpu::Buffer {
        &self.aux
    }

    fn groups(&self) -> u32 {
        (self.n_cells as u32).div_ceil(WORKGROUP)
    }

    /// Members side by side (1 unless built by [`ReactionCells::ensemble`]).
    pub fn members(&self) -> usize {
        self.members
    }

    /// Member `member`'s broadcast inputs, one per sub-step (as [`ReactionCells::set_inputs`]
    /// for one member).
    pub fn set_member_inputs(&self, gpu: &Gpu, member: usize, inputs: &[Input]) {
        assert!(self.broadcast && member < self.members && inputs.len() <= MAX_SUBSTEPS);
        let v: Vec<f32> = inputs.iter().flat_map(pack_input).collect();
        let at = member * MAX_SUBSTEPS * INPUT_STRIDE * 4;
        gpu.queue
            .write_buffer(&self.inputs, at as u64, bytemuck::cast_slice(&v));
    }

    /// Member `member`'s drug occupancies and descending-drive switches (the model's), as
    /// [`ReactionCells::set_drugs`] for one member.
    pub fn set_member_drugs(&self, gpu: &Gpu, member: usize, model: &Model) {
        assert!(member < self.members);
        let drugs = pack_drug_sets(model);
        gpu.queue.write_buffer(
            &self.drugs,
            (member * drugs.len() * 4) as u64,
            bytemuck::cast_slice(&drugs),
        );
        let mut g = self.globals_value;
        g.rvm = model.rvm as f32;
        g.a7 = model.a7 as f32;
        g.facilitation = model.n_mode as f32;
        gpu.queue.write_buffer(
            &self.globals,
            (member * std::mem::size_of::<Globals>()) as u64,
            bytemuck::bytes_of(&g),
        );
    }

    /// Records copies of member `member`'s cells (state and aux) into `to`, a one-member
    /// [`ReactionCells`] of the same cells.
    pub fn encode_copy_member(
        &self,
        enc: &mut wgpu::CommandEncoder,
        member: usize,
        to: &ReactionCells,
    ) {
        assert!(member < self.members && to.members == 1 && to.n_cells == self.n_cells);
        for (src, dst, stride) in [
            (&self.state, &to.state, STATE_STRIDE),
            (&self.aux, &to.aux, AUX_STRIDE),
        ] {
            let bytes = (self.n_cells * stride * 4) as u64;
            enc.copy_buffer_to_buffer(src, member as u64 * bytes, dst, 0, bytes);
        }
    }

    /// Writes the slots (runs of sub-steps) for the next [`ReactionCells::encode`] and
    /// [`ReactionCells::encode_kernel`] calls.
    pub fn set_substeps(&self, gpu: &Gpu, runs: &[SubstepRun]) {
        assert!(runs.len() <= MAX_SUBSTEPS, "too many sub-step runs");
        let mut bytes = vec![0u8; runs.len() * SLOT as usize];
        for (k, run) in runs.iter().enumerate() {
            let step = Step {
                dt: run.dt as f32,
                input: run.input,
                count: run.count,
                _pad: 0,
            };
            bytes[k * SLOT as usize..][..std::mem::size_of::<Step>()]
                .copy_from_slice(bytemuck::bytes_of(&step));
        }
        gpu.queue.write_buffer(&self.steps, 0, &bytes);
    }

    /// Records the run of sub-steps in slot `slot` (written by
    /// [`ReactionCells::set_substeps`]): one dispatch. With the exponential-midpoint integrator
    /// the dispatch takes the run's `count` sub-steps (and the goals when the run asks for
    /// them); RK4 takes one step per dispatch.
    pub fn encode(&self, pass: &mut wgpu::ComputePass, slot: usize, goals: bool) {
        assert!(
            self.members == 1 || self.integrator == Integrator::ExponentialMidpoint,
            "an ensemble advances by exponential-midpoint runs"
        );
        pass.set_pipeline(match (self.integrator, goals) {
            (Integrator::Rk4, _) => &self.rk4,
            (Integrator::ExponentialMidpoint, false) => &self.exp,
            (Integrator::ExponentialMidpoint, true) => &self.exp_goals,
        });
        pass.set_bind_group(0, &self.bind_group, &[]);
        pass.set_bind_group(1, &self.step_group, &[(slot as u64 * SLOT) as u32]);
        // An ensemble's members are the workgroups' z.
        pass.dispatch_workgroups(self.groups(), 1, self.members as u32);
    }

    /// Records one dispatch of `kernel` with sub-step slot `slot`'s input (one member only:
    /// the ensemble's kernel sets a member's globals and drugs in the exponential runs alone).
    pub fn encode_kernel(&self, pass: &mut wgpu::ComputePass, kernel: Kernel, slot: usize) {
        assert_eq!(
            self.members, 1,
            "probes and calibration run on one-member cells"
        );
        pass.set_pipeline(match kernel {
            Kernel::Rates => &self.rates,
            Kernel::Calibrate => &self.calibrate,
        });
        pass.set_bind_group(0, &self.bind_group, &[]);
        pass.set_bind_group(1, &self.step_group, &[(slot as u64 * SLOT) as u32]);
        pass.dispatch_workgroups(self.groups(), 1, 1);
    }

    /// Advances every cell by `steps` sub-steps of `dt` seconds at constant input (input 0 in
    /// broadcast mode).
    pub fn advance(&mut self, gpu: &Gpu, dt: f64, steps: u64) {
        assert_eq!(self.members, 1, "RK4 steps run on one-member cells");
        self.set_substeps(gpu, &[SubstepRun::new(dt, 0, 1)]);
        let mut left = steps;
        while left > 0 {
            let n = left.min(500);
            let mut enc = gpu
                .device
                .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                    label: Some("reaction"),
                });
            {
                let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor {
                    label: Some("rk4"),
                    timestamp_writes: None,
                });
                for _ in 0..n {
                    self.encode(&mut pass, 0, false);
                }
            }
            gpu.queue.submit([enc.finish()]);
            left -= n;
        }
    }

    /// Runs `kernel` once with the broadcast `input` and returns its per-cell result
    /// (RATES_STRIDE floats per cell: r_I, r_E, r_P, r_W or the four θ).
    pub fn run_kernel(
        &self,
        gpu: &Gpu,
        kernel: Kernel,
        input: &Input,
    ) -> Result<Vec<f32>, GpuError> {
        assert!(self.broadcast, "kernels with one input need broadcast mode");
        self.set_inputs(gpu, &[*input]);
        self.set_substeps(gpu, &[SubstepRun::new(0.0, 0, 1)]);
        let mut enc = gpu
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("reaction kernel"),
            });
        {
            let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("reaction kernel"),
                timestamp_writes: None,
            });
            self.encode_kernel(&mut pass, kernel, 0);
        }
        gpu.queue.submit([enc.finish()]);
        self.read_buffer(gpu, &self.rates_out, self.n_cells * RATES_STRIDE)
    }

    fn read_buffer(
        &self,
        gpu: &Gpu,
        src: &wgpu::Buffer,
        floats: usize,
    ) -> Result<Vec<f32>, GpuError> {
        let bytes = (floats * 4) as u64;
        let mut enc = gpu
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("reaction readback"),
            });
        enc.copy_buffer_to_buffer(src, 0, &self.readback, 0, bytes);
        gpu.queue.submit([enc.finish()]);
        gpu.map_read(&self.readback, bytes, |view| {
            bytemuck::cast_slice(view).to_vec()
        })
    }

    /// Every cell's raw state (STATE_STRIDE floats per cell; an ensemble's members one after
    /// another).
    pub fn read_raw(&self, gpu: &Gpu) -> Result<Vec<f32>, GpuError> {
        self.read_buffer(gpu, &self.state, self.n_cells * self.members * STATE_STRIDE)
    }

    /// Every cell's aux output (AUX_STRIDE floats per cell).
    pub fn read_aux(&self, gpu: &Gpu) -> Result<Vec<f32>, GpuError> {
        self.read_buffer(gpu, &self.aux, self.n_cells * self.members * AUX_STRIDE)
    }

    /// Reads every cell's state back (N_STATES states, then r_I, r_E), as f64.
    pub fn read(&self, gpu: &Gpu) -> Result<Vec<[f64; STATE_STRIDE]>, GpuError> {
        Ok(self
            .read_raw(gpu)?
            .chunks_exact(STATE_STRIDE)
            .map(|c| std::array::from_fn(|i| c[i] as f64))
            .collect())
    }
}
