//! The spatial dorsal-horn model (MODEL.md §1–§4 on the tissue grid): the reaction stage of
//! src/gpu/reaction.rs in every cell of the section, coupled to the transport of the 14 diffusing
//! mediators by Strang splitting (§3.2 item 5):
//!
//!   reaction(Δt/2) → goals → transport(Δt) → reaction(Δt/2)
//!
//! * **Reaction** (shaders/reaction.wgsl): exponential-midpoint sub-steps of every
//!   local state per cell (positivity-preserving, stable for any sub-step), with the mediators
//!   frozen (lagged, §3.2 item 4). Each cell reads its
//!   [`CellMap`](crate::gpu::reaction::CellMap): the afferent termination maps of its glutamate pool and of its E and I
//!   populations, the 3 × 3-smoothed maps of its ATP pool (§2.4), the columnar-kernel maps of P
//!   and W (§4.3), the peptide densities ρ and varicosity densities V (smoothed, §2.4), the
//!   injury band, α_grey/α (sources are per tissue volume, divided by α) and its own thresholds θ
//!   (§4.3, calibrated per cell so that every grey cell has the target rates at baseline).
//! * **Transport** (src/gpu/multigrid.rs by default, src/gpu/rkl2.rs as the reference): RKL2 super-time-stepping of
//!   α·R·∂C/∂t = ∇·(α·D*·∇C) + α·k·(goal − C) − α·P_pia·g_pia·C (the Robin pial loss), i.e. per
//!   mediator the operator L(C) = ∇·(αD*∇C)/(αR) + σ − κ·C with σ = k·goal/R and
//!   κ = (k + P_pia·g_pia)/R, where goal is the production goal of §4.0's L convention evaluated at the midpoint of the
//!   step. D*(x) = D_free/λ_X² · (λ_grey/λ(x))² (per-species λ scaled by the region's
//!   small-molecule tortuosity), faces carry the harmonic mean of α·D*; the pial faces
//!   exchange with a CSF at zero concentration (§2.5); the midline is no-flux; the ventral edge
//!   is no-flux or absorbing. The clearance sits in the transport operator, not in the
//!   reaction, so that short-lived peptides (t½ 30 s–2 min) relax to their diffusive
//!   quasi-steady profile even at steps of many half-lives (the steady state of the step is
//!   exact; deviations decay every step). Two groups (the peptides; the cytokines and
//!   chemokines) take the stage counts of their own largest D*/R.
//! * **Probes** (§4.11) evaluate the fast rates on the current state (nothing is advanced): a
//!   first pass gives r_E and r_I everywhere, the host forms the columnar averages of §4.3, a
//!   second pass gives r_P and r_W.
//!
//! Longer than 600 lines: TissueSim's construction and its Strang step work on one set of device
//! buffers; splitting them would expose those buffers crate-wide.

pub mod baseline;
mod ensemble;
pub mod observe;
pub mod section;
pub mod spatial;

use crate::cpu::multigrid::{CYCLES, SWEEPS, TransportCoef};
use crate::error::{Error, GpuError};
use crate::gpu::multigrid::Multigrid;
use crate::gpu::reaction::{
    CellMode, Integrator, Kernel, MAX_SUBSTEPS, RATES_STRIDE, ReactionCells, STATE_STRIDE,
    SubstepRun, pack_state,
};
use crate::gpu::rkl2::Rkl2;
use crate::gpu::texture::{array_view, texels_per_row};
use crate::gpu::transfer::{
    Species as TransferSpecies, ensemble_transfer_source, entry, transfer_shader_source,
};
use crate::gpu::{Gpu, WORKGROUP};
use crate::model::network::Model;
use crate::model::network::state::{Input, MEDIATOR_SLOTS, MEDIATORS, State};
use crate::scenario::dorsal_horn::TransportScheme;
use crate::tissue::section::Layout;

/// Fast rates of every cell: r_I, r_E, r_P, r_W.
#[derive(Debug, Clone)]
pub struct Rates {
    pub r_i: Vec<f32>,
    pub r_e: Vec<f32>,
    pub r_p: Vec<f32>,
    pub r_w: Vec<f32>,
}

/// The probe integrals of §4.11 over lamina I in the tested band (Hz·s·µm²) and the ongoing
/// r_P averaged with the same weights (Hz).
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct ProbeResponse {
    pub mech: f64,
    pub heat: f64,
    pub ongoing_r_p: f64,
}

/// The spatial model on the GPU.
pub struct TissueSim {
    pub layout: Layout,
    pub model: Model,
    reaction: ReactionCells,
    transport: Transport,
    scheme: TransportScheme,
    /// Model time (s): written only by this type's methods (`step`, `arrive_at`,
    /// `rewind_clock`, `reset_clock`).
    time_s: f64,
    /// Transport steps and reaction sub-steps taken.
    transport_steps: u64,
    reaction_substeps: u64,
    /// Species-stencil passes of the transport so far (Σ stages × species per group), and what
    /// forward Euler at each group's stability limit would have needed for the same time.
    pub stencil_passes: u64,
    pub explicit_passes: f64,
    /// Compute dispatches recorded so far (reaction, transfer and transport).
    pub dispatches: u64,
    /// Sampled timing of the step's phases, when enabled ([`TissueSim::sample_profile`]).
    profile: Option<StepProfile>,
    /// The last transport step's length, while the implicit transport's history holds its start
    /// (None after the states were replaced).
    previous_dt: Option<f64>,
    /// Copies of the tissue side by side (an ensemble, [`TissueSim::into_ensemble`]; 1
    /// otherwise).
    members: usize,
}

/// Everything of a [`TissueSim`] that stepping changes: the clock and counters, every cell's
/// raw state, and the implicit transport's history (the last step's start, which the next step
/// extrapolates from; empty when there is none). What stays fixed from the set-up (maps,
/// thresholds, kernels) is rebuilt from the scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct SimState {
    pub time_s: f64,
    pub transport_steps: u64,
    pub reaction_substeps: u64,
    pub stencil_passes: u64,
    pub explicit_passes: f64,
    pub dispatches: u64,
    pub previous_dt: Option<f64>,
    /// STATE_STRIDE floats per cell.
    pub states: Vec<f32>,
    /// One row-major layer per mediator.
    pub history: Vec<Vec<f32>>,
}

/// Wall time of the reaction and transport phases over the sampled steps: every `every`-th
/// transport step is submitted phase by phase and waited for, so that its GPU time can be
/// attributed (the results are bit-identical to unsampled steps).
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct StepProfile {
    pub every: u64,
    /// Steps sampled.
    pub steps: u64,
    /// Seconds of the sampled steps' reaction phases (both halves, goals) and transport phases
    /// (gather, solve, scatter).
    pub reaction_s: f64,
    pub transport_s: f64,
}

/// One RKL2 transport group on the GPU: its RKL2 state and the kernels that move its mediators
/// between the reaction state and the RKL2 textures.
struct Rkl2Group {
    members: Vec<usize>,
    kappa_max: f64,
    rk: Rkl2,
    gather: wgpu::ComputePipeline,
    scatter: wgpu::ComputePipeline,
    gather_group: wgpu::BindGroup,
    scatter_group: wgpu::BindGroup,
}

/// The implicit transport of all 14 mediators: the multigrid solver and the kernels that fill
/// its right-hand side and initial guess from the reaction state and write the solution back.
struct ImplicitTransport {
    mg: Multigrid,
    gather: wgpu::ComputePipeline,
    scatter: wgpu::ComputePipeline,
    gather_group: wgpu::BindGroup,
    scatter_group: wgpu::BindGroup,
}

enum Transport {
    Rkl2(Vec<Rkl2Group>),
    Implicit(Box<ImplicitTransport>),
}

/// The transfer kernels' per-species coefficients of the mediators `members`.
fn transfer_species(layout: &Layout, members: &[usize]) -> Vec<TransferSpecies> {
    members
        .iter()
        .map(|&m| {
            let (k, r) = layout.clearance[m];
            TransferSpecies {
                k,
                r,
                p_pia: layout.p_pia,
                _pad: 0.0,
            }
        })
        .collect()
}

impl TissueSim {
    /// Uploads the layout and starts every active cell from `initial` (the well-mixed
    /// calibrated baseline) with the default (implicit) transport; θ still has to be calibrated
    /// ([`TissueSim::calibrate`]).
    pub fn new(
        gpu: &Gpu,
        layout: Layout,
        model: Model,
        initial: &State,
    ) -> Result<TissueSim, Error> {
        TissueSim::with_scheme(gpu, layout, model, initial, TransportScheme::default())
    }

    /// [`TissueSim::new`] with the transport scheme `scheme`.
    pub fn with_scheme(
        gpu: &Gpu,
        layout: Layout,
        model: Model,
        initial: &State,
        scheme: TransportScheme,
    ) -> Result<TissueSim, Error> {
        let packed = pack_state(initial);
        let states: Vec<[f32; STATE_STRIDE]> = (0..layout.cells())
            .map(|i| {
                if layout.active[i] {
                    packed
                } else {
                    [0.0; STATE_STRIDE]
                }
            })
            .collect();
        TissueSim::build(gpu, layout, model, &states, scheme, 1)
    }

    /// Builds the device side from every member's cell states (one member after another).
    /// (The ensemble's own methods are in `ensemble.rs`.)
    #[expect(
        clippy::too_many_lines,
        reason = "builds the model's device buffers, bind groups and transport in one place"
    )]
    fn build(
        gpu: &Gpu,
        layout: Layout,
        model: Model,
        states: &[[f32; STATE_STRIDE]],
        scheme: TransportScheme,
        ensemble: usize,
    ) -> Result<TissueSim, Error> {
        let n = layout.cells();
        assert!(ensemble == 1 || scheme == TransportScheme::Implicit);
        let bytes = (n * ensemble * STATE_STRIDE * 4) as u64;
        let limit = gpu
            .limits
            .max_storage_buffer_binding_size
            .min(gpu.limits.max_buffer_size);
        if bytes > limit {
            return Err(GpuError::GridTooLarge {
                nx: layout.tissue.nx as u32,
                ny: layout.tissue.ny as u32,
                adapter: gpu.info.name.clone(),
                what: "the per-cell state buffer (bytes; raise tissue.spacing_um)",
                needed: bytes,
                limit,
            }
            .into());
        }
        let mut m = model;
        m.retardation = true;
        let mut reaction = ReactionCells::ensemble(
            gpu,
            &m,
            states,
            &layout.cell_maps,
            CellMode::Tissue,
            ensemble,
        )?;
        reaction.set_integrator(Integrator::ExponentialMidpoint);
        let device = &gpu.device;
        let scope = gpu.capture_errors();
        let storage = |label: &str, data: &[u8]| {
            let b = device.create_buffer(&wgpu::BufferDescriptor {
                label: Some(label),
                size: (data.len() as u64).max(16),
                usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            });
            gpu.queue.write_buffer(&b, 0, data);
            b
        };
        let pia = storage("pia", bytemuck::cast_slice(&layout.pia));
        let active: Vec<f32> = layout
            .active
            .iter()
            .map(|&a| if a { 1.0 } else { 0.0 })
            .collect();
        let active_buf = storage("active", bytemuck::cast_slice(&active));
        let transport = match scheme {
            TransportScheme::Rkl2 => {
                let mut groups = Vec::new();
                for members in &layout.groups {
                    let problem = layout.group_problem(members);
                    let fields: Vec<Vec<f32>> = members
                        .iter()
                        .map(|&m| (0..n).map(|i| states[i][MEDIATOR_SLOTS[m]]).collect())
                        .collect();
                    let kappa_max = layout.kappa_max(members);
                    let mut rk = Rkl2::new(gpu, &problem, &fields, 600.0)?;
                    rk.set_step(gpu, 600.0, kappa_max)?;
                    let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
                        label: Some("transfer"),
                        source: wgpu::ShaderSource::Wgsl(
                            transfer_shader_source(
                                layout.problem.grid.nx,
                                layout.problem.grid.ny,
                                members,
                            )
                            .into(),
                        ),
                    });
                    let pipeline = |entry: &str| gpu.compute_pipeline(None, &module, entry);
                    let (gather, scatter) = (pipeline("gather"), pipeline("scatter"));
                    let species = transfer_species(&layout, members);
                    let species_buf = storage("transfer species", bytemuck::cast_slice(&species));
                    let fields_view = array_view(rk.fields_texture());
                    let linear_view = array_view(rk.linear_texture());
                    let gather_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
                        label: Some("gather"),
                        layout: &gather.get_bind_group_layout(0),
                        entries: &[
                            entry(0, reaction.state_buffer().as_entire_binding()),
                            entry(1, reaction.aux_buffer().as_entire_binding()),
                            entry(2, pia.as_entire_binding()),
                            entry(3, species_buf.as_entire_binding()),
                            entry(4, wgpu::BindingResource::TextureView(&fields_view)),
                            entry(5, wgpu::BindingResource::TextureView(&linear_view)),
                        ],
                    });
                    let scatter_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
                        label: Some("scatter"),
                        layout: &scatter.get_bind_group_layout(0),
                        entries: &[
                            entry(6, reaction.state_buffer().as_entire_binding()),
                            entry(7, wgpu::BindingResource::TextureView(&fields_view)),
                            entry(8, active_buf.as_entire_binding()),
                        ],
                    });
                    groups.push(Rkl2Group {
                        members: members.clone(),
                        kappa_max,
                        rk,
                        gather,
                        scatter,
                        gather_group,
                        scatter_group,
                    });
                }
                Transport::Rkl2(groups)
            }
            TransportScheme::Implicit => {
                let members: Vec<usize> = (0..MEDIATORS.len()).collect();
                let geo = layout.transport_geometry();
                let mg = Multigrid::ensemble(
                    gpu,
                    &geo,
                    members.len(),
                    layout.p_pia,
                    CYCLES,
                    SWEEPS,
                    ensemble,
                )?;
                let source = ensemble_transfer_source(
                    layout.problem.grid.nx,
                    layout.problem.grid.ny,
                    &members,
                    ensemble,
                );
                let (gather, scatter) = (*gpu.kernels(&source, || {
                    let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
                        label: Some("transfer"),
                        source: wgpu::ShaderSource::Wgsl(source.as_str().into()),
                    });
                    let pipeline = |entry: &str| gpu.compute_pipeline(None, &module, entry);
                    (pipeline("gather_implicit"), pipeline("scatter"))
                }))
                .clone();
                let species = transfer_species(&layout, &members);
                let species_buf = storage("transfer species", bytemuck::cast_slice(&species));
                let mass = storage("transfer mass", bytemuck::cast_slice(&geo.w));
                let guess_view = array_view(mg.guess_texture());
                let history_view = array_view(mg.history_texture());
                let solution_view = array_view(mg.step_solution_texture());
                // The kernel reads the mediators from fixed state and aux quads.
                assert_eq!(
                    MEDIATOR_SLOTS,
                    [3, 4, 5, 6, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20]
                );
                let gather_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
                    label: Some("gather implicit"),
                    layout: &gather.get_bind_group_layout(0),
                    entries: &[
                        entry(11, reaction.state_buffer().as_entire_binding()),
                        entry(12, reaction.aux_buffer().as_entire_binding()),
                        entry(3, species_buf.as_entire_binding()),
                        entry(4, wgpu::BindingResource::TextureView(&guess_view)),
                        entry(9, mass.as_entire_binding()),
                        entry(10, wgpu::BindingResource::TextureView(&history_view)),
                    ],
                });
                let scatter_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
                    label: Some("scatter"),
                    layout: &scatter.get_bind_group_layout(0),
                    entries: &[
                        entry(6, reaction.state_buffer().as_entire_binding()),
                        entry(7, wgpu::BindingResource::TextureView(&solution_view)),
                        entry(8, active_buf.as_entire_binding()),
                    ],
                });
                Transport::Implicit(Box::new(ImplicitTransport {
                    mg,
                    gather,
                    scatter,
                    gather_group,
                    scatter_group,
                }))
            }
        };
        gpu.validated(scope, "tissue transfer set-up")?;
        Ok(TissueSim {
            layout,
            model: m,
            reaction,
            transport,
            scheme,
            time_s: 0.0,
            transport_steps: 0,
            reaction_substeps: 0,
            stencil_passes: 0,
            explicit_passes: 0.0,
            dispatches: 0,
            profile: None,
            previous_dt: None,
            members: ensemble,
        })
    }

    /// Sets every cell's θ so that its rates are the §4.3 targets at the current state with
    /// `input` (§8.1: by construction in every grey cell).
    /// The calibrated thresholds θ of every cell (zeros outside the cord).
    pub fn thetas(&self) -> Vec<[f32; 4]> {
        self.layout.cell_maps.iter().map(|m| m.theta).collect()
    }

    /// Sets every cell's θ (from [`TissueSim::thetas`] of the same layout).
    pub fn set_thetas(&mut self, gpu: &Gpu, thetas: &[[f32; 4]]) {
        for (m, t) in self.layout.cell_maps.iter_mut().zip(thetas) {
            m.theta = *t;
        }
        self.reaction.set_maps(gpu, &self.layout.cell_maps);
    }

    pub fn calibrate(&mut self, gpu: &Gpu, input: &Input) -> Result<(), Error> {
        let aux = self.reaction.run_kernel(gpu, Kernel::Calibrate, input)?;
        for (i, m) in self.layout.cell_maps.iter_mut().enumerate() {
            if self.layout.active[i] {
                let a = &aux[i * RATES_STRIDE..][..4];
                m.theta = [a[0], a[1], a[2], a[3]];
            }
        }
        self.reaction.set_maps(gpu, &self.layout.cell_maps);
        Ok(())
    }

    /// Replaces the model's drugs, descending switches and facilitation mode (the parameters and thresholds stay
    /// those of the set-up).
    pub fn set_model(&mut self, gpu: &Gpu, model: &Model) {
        self.model.drugs = model.drugs;
        self.model.drugs_pia = model.drugs_pia;
        self.model.rvm = model.rvm;
        self.model.a7 = model.a7;
        self.model.n_mode = model.n_mode;
        self.reaction.set_drugs(gpu, &self.model);
    }

    /// Makes `to` (a one-member tissue of the same layout and transport) hold member `member`'s
    /// cells and transport history (on the device; with [`TissueSim::follow`] for the clock and
    /// counters, `to` then reads out, probes, checkpoints and steps on exactly as the member
    /// would).
    pub fn copy_member_into(&self, gpu: &Gpu, member: usize, to: &TissueSim) {
        let mut enc = gpu
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("ensemble member copy"),
            });
        self.reaction
            .encode_copy_member(&mut enc, member, &to.reaction);
        if let (Transport::Implicit(from), Transport::Implicit(into)) =
            (&self.transport, &to.transport)
        {
            from.mg.encode_copy_member(&mut enc, member, &into.mg);
        }
        gpu.queue.submit([enc.finish()]);
    }

    /// Samples every `every`-th transport step's phases from now on ([`StepProfile`]).
    pub fn sample_profile(&mut self, every: u64) {
        self.profile = Some(StepProfile {
            every: every.max(1),
            ..StepProfile::default()
        });
    }

    /// The sampled profile so far.
    pub fn profile(&self) -> Option<StepProfile> {
        self.profile
    }

    /// The transport scheme.
    pub fn scheme(&self) -> TransportScheme {
        self.scheme
    }

    /// RKL2 stages of each transport group for a step of `dt` seconds (the implicit scheme's
    /// V-cycles per solve, as one group).
    pub fn transport_stages(&mut self, gpu: &Gpu, dt: f64) -> Result<Vec<u32>, Error> {
        match &mut self.transport {
            Transport::Rkl2(groups) => groups
                .iter_mut()
                .map(|t| t.rk.set_step(gpu, dt, t.kappa_max))
                .collect(),
            Transport::Implicit(t) => Ok(vec![t.mg.cycles()]),
        }
    }

    /// Names of the mediators of each transport group.
    pub fn transport_groups(&self) -> Vec<Vec<&'static str>> {
        match &self.transport {
            Transport::Rkl2(groups) => groups
                .iter()
                .map(|t| t.members.iter().map(|&m| MEDIATORS[m]).collect())
                .collect(),
            Transport::Implicit(_) => vec![MEDIATORS.to_vec()],
        }
    }

    /// Sets up the transport for a step of `dt` seconds and counts its work: species-stencil
    /// passes (fine-grid equivalents for multigrid) and what forward Euler would need.
    fn prepare_transport(&mut self, gpu: &Gpu, dt: f64) -> Result<(), Error> {
        let h = self.layout.tissue.h;
        match &mut self.transport {
            Transport::Rkl2(groups) => {
                for t in groups.iter_mut() {
                    let s = t.rk.set_step(gpu, dt, t.kappa_max)?;
                    let size = t.members.len() as u64;
                    self.stencil_passes += (s as u64 + 1) * size;
                    let limit =
                        crate::cpu::rkl2::explicit_limit(t.rk.max_d_over_a(), h, t.kappa_max);
                    self.explicit_passes += (dt / limit).ceil() * size as f64;
                    // gather, operator, stages, scatter
                    self.dispatches += s as u64 + 3;
                }
            }
            Transport::Implicit(t) => {
                let layout = &self.layout;
                let coefs: Vec<TransportCoef> = (0..MEDIATORS.len())
                    .map(|m| {
                        let (k, r) = layout.clearance[m];
                        TransportCoef {
                            d: layout.d_star[m],
                            r,
                            k,
                        }
                    })
                    .collect();
                t.mg.set_step(gpu, dt, self.previous_dt, &coefs);
                let ns = MEDIATORS.len() as f64;
                self.stencil_passes +=
                    ((2.0 * t.mg.fine_passes_per_solve() + 2.0) * ns).round() as u64;
                for group in &layout.groups {
                    let limit = crate::cpu::rkl2::explicit_limit(
                        layout.max_d_over_a(group),
                        h,
                        layout.kappa_max(group),
                    );
                    self.explicit_passes += (dt / limit).ceil() * group.len() as f64;
                }
                self.dispatches += t.mg.dispatches_per_step() + 2;
            }
        }
        Ok(())
    }

    /// One Strang step of `dt` seconds, with reaction sub-steps of at most `substep` seconds,
    /// the input at each sub-step's midpoint from `input_at(t)`.
    pub fn step(
        &mut self,
        gpu: &Gpu,
        dt: f64,
        substep: f64,
        input_at: &dyn Fn(f64) -> Input,
    ) -> Result<(), Error> {
        let inputs = self.substep_inputs(dt, substep, input_at)?;
        self.step_members(gpu, dt, &[inputs])
    }

    /// The broadcast inputs of the next step of `dt` seconds with reaction sub-steps of at most
    /// `substep` seconds: n sub-steps in each half, each taking the input at its midpoint
    /// (second order in the input's variation), with the goals' input at the step's midpoint
    /// between the halves (2n + 1 inputs).
    pub fn substep_inputs(
        &self,
        dt: f64,
        substep: f64,
        input_at: &dyn Fn(f64) -> Input,
    ) -> Result<Vec<Input>, Error> {
        let half = 0.5 * dt;
        let n = (half / substep - 1e-9).ceil().max(1.0) as usize;
        if 2 * n + 1 > MAX_SUBSTEPS {
            return Err(Error::Scenario(crate::error::ScenarioError::new(
                "time step",
                format!(
                    "a step of {dt} s with reaction sub-steps of {substep} s needs {} sub-steps, \
                     more than {MAX_SUBSTEPS}: use a shorter step",
                    2 * n + 1
                ),
            )));
        }
        let h = half / n as f64;
        let t0 = self.time_s;
        let mut inputs = Vec::with_capacity(2 * n + 1);
        for k in 0..n {
            inputs.push(input_at(t0 + (k as f64 + 0.5) * h));
        }
        inputs.push(input_at(t0 + half));
        for k in 0..n {
            inputs.push(input_at(t0 + half + (k as f64 + 0.5) * h));
        }
        Ok(inputs)
    }

    /// One Strang step of `dt` seconds of every member, member k with the broadcast inputs
    /// `inputs[k]` of [`TissueSim::substep_inputs`] (the same number for every member).
    #[expect(
        clippy::too_many_lines,
        reason = "the phases of one Strang step in the order they run, with their profiling"
    )]
    pub fn step_members(&mut self, gpu: &Gpu, dt: f64, inputs: &[Vec<Input>]) -> Result<(), Error> {
        assert_eq!(inputs.len(), self.members, "one input list per member");
        let count = inputs[0].len();
        assert!(
            count % 2 == 1 && inputs.iter().all(|i| i.len() == count),
            "2n + 1 inputs for every member"
        );
        let half = 0.5 * dt;
        let n = count / 2;
        let h = half / n as f64;
        let t0 = self.time_s;
        // Slots: the first half's run, ending with the goals at the midpoint; the second half's.
        let slots = [
            SubstepRun::new(h, 0, n as u32),
            SubstepRun::new(h, (n + 1) as u32, n as u32),
        ];
        self.prepare_transport(gpu, dt)?;
        if self.members == 1 {
            self.reaction.set_inputs(gpu, &inputs[0]);
        } else {
            for (k, member) in inputs.iter().enumerate() {
                self.reaction.set_member_inputs(gpu, k, member);
            }
        }
        self.reaction.set_substeps(gpu, &slots);
        let g = &self.layout.problem.grid;
        let texel_groups = (
            (texels_per_row(g.nx) as u32).div_ceil(WORKGROUP),
            g.ny as u32,
        );
        let cell_groups = ((g.nx * g.ny * self.members) as u32).div_ceil(WORKGROUP);
        let encoder = |label: &str| {
            gpu.device
                .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some(label) })
        };
        let pass_of =
            |enc: &mut wgpu::CommandEncoder, label: &'static str| -> wgpu::ComputePass<'static> {
                enc.begin_compute_pass(&wgpu::ComputePassDescriptor {
                    label: Some(label),
                    timestamp_writes: None,
                })
                .forget_lifetime()
            };
        // The first reaction half and the mediators' goals at the midpoint.
        let mut first = encoder("reaction, first half");
        {
            let mut pass = pass_of(&mut first, "reaction, first half");
            self.reaction.encode(&mut pass, 0, true);
        }
        // The transport: gather the mediators, move them, scatter them back.
        let mut transport = encoder("transport");
        match &mut self.transport {
            Transport::Rkl2(groups) => {
                {
                    let mut pass = pass_of(&mut transport, "rkl2 gather");
                    for t in groups.iter() {
                        pass.set_pipeline(&t.gather);
                        pass.set_bind_group(0, &t.gather_group, &[]);
                        pass.dispatch_workgroups(texel_groups.0, texel_groups.1, 1);
                    }
                }
                for t in groups.iter_mut() {
                    t.rk.encode_step(&mut transport);
                }
                let mut pass = pass_of(&mut transport, "rkl2 scatter");
                for t in groups.iter() {
                    pass.set_pipeline(&t.scatter);
                    pass.set_bind_group(0, &t.scatter_group, &[]);
                    pass.dispatch_workgroups(cell_groups, 1, 1);
                }
            }
            Transport::Implicit(t) => {
                t.mg.encode_keep_history(&mut transport);
                let mut pass = pass_of(&mut transport, "implicit transport");
                pass.set_pipeline(&t.gather);
                pass.set_bind_group(0, &t.gather_group, &[]);
                pass.dispatch_workgroups(texel_groups.0, texel_groups.1, self.members as u32);
                t.mg.encode_step(&mut pass);
                pass.set_pipeline(&t.scatter);
                pass.set_bind_group(0, &t.scatter_group, &[]);
                pass.dispatch_workgroups(cell_groups, 1, 1);
            }
        }
        let mut second = encoder("reaction, second half");
        {
            let mut pass = pass_of(&mut second, "reaction, second half");
            self.reaction.encode(&mut pass, 1, false);
        }
        let sampled = self
            .profile
            .as_ref()
            .is_some_and(|p| self.transport_steps.is_multiple_of(p.every));
        if sampled {
            // Each phase alone, waited for: where the GPU time goes (the numerics are the same).
            gpu.wait()?;
            let start = std::time::Instant::now();
            gpu.queue.submit([first.finish()]);
            gpu.wait()?;
            let t1 = start.elapsed().as_secs_f64();
            gpu.queue.submit([transport.finish()]);
            gpu.wait()?;
            let t2 = start.elapsed().as_secs_f64();
            gpu.queue.submit([second.finish()]);
            gpu.wait()?;
            let t3 = start.elapsed().as_secs_f64();
            let p = self.profile.as_mut().expect("sampled implies a profile");
            p.steps += 1;
            p.reaction_s += t1 + (t3 - t2);
            p.transport_s += t2 - t1;
        } else {
            gpu.queue
                .submit([first.finish(), transport.finish(), second.finish()]);
        }
        self.dispatches += 2;
        self.time_s = t0 + dt;
        self.previous_dt = Some(dt);
        self.transport_steps += 1;
        self.reaction_substeps += 2 * n as u64;
        Ok(())
    }

    /// Every cell's raw state (STATE_STRIDE floats per cell).
    pub fn read_states(&self, gpu: &Gpu) -> Result<Vec<f32>, GpuError> {
        self.reaction.read_raw(gpu)
    }

    /// Starts the implicit transport's next step without the previous step's history (its
    /// first stage then starts from Cⁿ rather than an extrapolation): a run starts so, whether
    /// its baseline was just settled or restored, so that both give the same bits.
    pub fn forget_history(&mut self) {
        self.previous_dt = None;
    }

    /// Model time (s).
    pub fn time_s(&self) -> f64 {
        self.time_s
    }

    /// Transport steps taken since the clock was last reset.
    pub fn transport_steps(&self) -> u64 {
        self.transport_steps
    }

    /// Reaction sub-steps taken since the clock was last reset.
    pub fn reaction_substeps(&self) -> u64 {
        self.reaction_substeps
    }

    /// Takes a cut's time exactly once the steps' float sum has reached it (within 1 µs), so
    /// that output times are the scheduled ones.
    pub fn arrive_at(&mut self, cut: f64) {
        self.time_s = cut;
    }

    /// Sets the model time without touching the counters: settling runs before t = 0, and the
    /// steady-state search restores the time it started from.
    pub fn rewind_clock(&mut self, t: f64) {
        self.time_s = t;
    }

    /// Sets the clock to 0 and the step, pass and dispatch counters to zero (a run starts at
    /// its baseline; the settling's steps are not the run's).
    pub fn reset_clock(&mut self) {
        self.time_s = 0.0;
        self.transport_steps = 0;
        self.reaction_substeps = 0;
        self.stencil_passes = 0;
        self.explicit_passes = 0.0;
        self.dispatches = 0;
        if let Some(p) = self.profile.as_mut() {
            *p = StepProfile {
                every: p.every,
                ..StepProfile::default()
            };
        }
    }

    /// Everything of the tissue that stepping changes ([`SimState`]), read back for a
    /// checkpoint.
    pub fn save(&self, gpu: &Gpu) -> Result<SimState, GpuError> {
        let history = match &self.transport {
            Transport::Implicit(t) if self.previous_dt.is_some() => t.mg.read_history(gpu)?,
            _ => Vec::new(),
        };
        Ok(SimState {
            time_s: self.time_s,
            transport_steps: self.transport_steps,
            reaction_substeps: self.reaction_substeps,
            stencil_passes: self.stencil_passes,
            explicit_passes: self.explicit_passes,
            dispatches: self.dispatches,
            previous_dt: self.previous_dt,
            states: self.read_states(gpu)?,
            history,
        })
    }

    /// Puts back what [`TissueSim::save`] read (on a tissue built from the same scenario and
    /// parameters), so that the next steps are bit-identical to those after the save. Refuses a
    /// state of another size (another grid or transport).
    pub fn restore(&mut self, gpu: &Gpu, s: &SimState) -> Result<(), Error> {
        let cells = self.layout.cells();
        let (nx, ny) = (self.layout.problem.grid.nx, self.layout.problem.grid.ny);
        // The implicit transport has a history exactly when it has taken a step since its
        // states were last replaced; RKL2 has none.
        let history_ok = match &self.transport {
            Transport::Implicit(_) if s.previous_dt.is_some() => {
                s.history.len() == MEDIATORS.len() && s.history.iter().all(|l| l.len() == nx * ny)
            }
            _ => s.history.is_empty(),
        };
        if s.states.len() != cells * STATE_STRIDE || !history_ok {
            return Err(Error::Output(format!(
                "the saved tissue state does not fit this tissue ({} values for {cells} cells of \
                 {STATE_STRIDE} states; {} transport history layers): it was saved from another \
                 grid or transport scheme",
                s.states.len(),
                s.history.len()
            )));
        }
        self.reaction.set_states_raw(gpu, &s.states);
        if let Transport::Implicit(t) = &self.transport
            && !s.history.is_empty()
        {
            t.mg.write_history(gpu, &s.history);
        }
        self.time_s = s.time_s;
        self.transport_steps = s.transport_steps;
        self.reaction_substeps = s.reaction_substeps;
        self.stencil_passes = s.stencil_passes;
        self.explicit_passes = s.explicit_passes;
        self.dispatches = s.dispatches;
        self.previous_dt = s.previous_dt;
        gpu.wait()?;
        Ok(())
    }

    /// Replaces every cell's state (STATE_STRIDE floats per cell).
    pub fn write_states(&mut self, gpu: &Gpu, states: &[[f32; STATE_STRIDE]]) {
        self.reaction.set_states(gpu, states);
        self.previous_dt = None;
    }

    /// The fast rates of every cell at the current state with `input` (nothing advances).
    pub fn rates(&self, gpu: &Gpu, input: &Input) -> Result<Rates, GpuError> {
        let n = self.layout.cells();
        let first = self.reaction.run_kernel(gpu, Kernel::Rates, input)?;
        let pick = |aux: &[f32], k: usize| -> Vec<f32> {
            (0..n).map(|i| aux[i * RATES_STRIDE + k]).collect()
        };
        let (r_i, r_e) = (pick(&first, 0), pick(&first, 1));
        self.reaction
            .set_columns(gpu, &self.layout.columns(&r_e, &r_i));
        let second = self.reaction.run_kernel(gpu, Kernel::Rates, input)?;
        Ok(Rates {
            r_i,
            r_e,
            r_p: pick(&second, 2),
            r_w: pick(&second, 3),
        })
    }

    /// The behavioural probes of §4.11 on the current state (frozen), with the protocol's
    /// `input` (EA-pool input removed) and peripheral gain `gain`.
    pub fn probe(&self, gpu: &Gpu, input: &Input, gain: f64) -> Result<ProbeResponse, GpuError> {
        Ok(self.probe_with_rates(gpu, input, gain)?.0)
    }

    /// [`TissueSim::probe`], and the rates of every cell under the probe's ongoing input (the
    /// protocol's input with the EA-pool input removed): when no EA session is on, that is the
    /// protocol's input itself, so a read-out can reuse them.
    pub fn probe_with_rates(
        &self,
        gpu: &Gpu,
        input: &Input,
        gain: f64,
    ) -> Result<(ProbeResponse, Rates), GpuError> {
        let pr = &self.model.pr;
        let mut base = *input;
        base.ea_on = false;
        let area = self.layout.tissue.h * self.layout.tissue.h;
        let w = &self.layout.probe_weight;
        let integral = |r: &Rates| -> f64 {
            w.iter()
                .zip(&r.r_p)
                .map(|(&w, &r)| (w * r) as f64)
                .sum::<f64>()
                * area
        };
        let ongoing = self.rates(gpu, &base)?;
        let wsum: f64 = w.iter().map(|&x| x as f64).sum::<f64>() * area;
        let mut mech = base;
        mech.r_ab += pr.mech_Ab_rate;
        mech.r_ad += gain * pr.mech_Ad_rate;
        let r_mech = integral(&self.rates(gpu, &mech)?) * pr.mech_duration;
        let mut heat1 = base;
        heat1.r_cp += gain * pr.heat_Cp_rate;
        heat1.r_ad += gain * pr.heat_Ad_rate;
        let mut heat2 = base;
        heat2.r_cp += gain * pr.heat_Cp_rate;
        let r_heat = integral(&self.rates(gpu, &heat1)?)
            + integral(&self.rates(gpu, &heat2)?) * (pr.heat_duration - 1.0);
        let response = ProbeResponse {
            mech: r_mech,
            heat: r_heat,
            ongoing_r_p: integral(&ongoing) / wsum.max(1e-30),
        };
        Ok((response, ongoing))
    }

    /// Area of lamina I in the tested band (µm², the probe weights' integral).
    pub fn probe_area_um2(&self) -> f64 {
        let h = self.layout.tissue.h;
        self.layout
            .probe_weight
            .iter()
            .map(|&w| w as f64)
            .sum::<f64>()
            * h
            * h
    }
}
