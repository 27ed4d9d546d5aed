//! RKL2 super-time-stepping for diffusion (Meyer, Balsara & Aslam 2014; MODEL.md §3.2): one
//! large step τ taken as s explicit stencil stages, stable for τ ≤ Δt_expl·(s² + s − 2)/4 with
//! Δt_expl = dx²/(4·max D/a) the forward-Euler limit, second order in time. It handles spatially
//! varying D and capacity a (harmonic-mean faces) and every boundary kind of the step kernel.
//!
//! [`Rkl2`] runs it on the GPU (shaders/rkl2.wgsl); [`Rkl2Reference`](crate::cpu::rkl2::Rkl2Reference) is its plain-Rust twin.
//! Only the diffusion part of a [`Problem`] is used (its model and decay are ignored): reactions
//! are split off (Strang) by the caller. A linear source and sink per cell, σ − κ·c, frozen over
//! a step, can be added (the spatial model's lagged production and clearance, §3.2 item 4); the
//! stability bound then uses λ_max = 8·max(D/a)/dx² + max κ.

use crate::cpu::rkl2::{coefficients, explicit_limit, stages_for};
use crate::error::{Error, GpuError};
use crate::gpu::binding::{storage_texture_entry, texture_entry, uniform_entry};
use crate::gpu::rd_step::{coefficient_layers, fixed_boundary_values};
use crate::gpu::shader::{STENCIL_WGSL, expand_species};
use crate::gpu::texture::{
    array_view, check_limits, packed_texture, read_layer, readback_buffer, texels_per_row,
    uniform_buffer, write_layer,
};
use crate::gpu::{Gpu, WORKGROUP};
use crate::grid::{Boundary, Side};
use crate::model::{EXPLICIT_STABILITY_LIMIT, Problem};
use bytemuck::{Pod, Zeroable};

/// The kernels' `DiffParams` uniform (shaders/rkl2.wgsl; layout checked in tests/it/shaders.rs).
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable)]
pub struct DiffParams {
    pub inv_dx2: f32,
    pub _pad: [f32; 3],
    pub bc_value: [[f32; 4]; 16],
}

/// One stage's `Stage` uniform (shaders/rkl2.wgsl), in its 256-byte dynamic-offset slot: μ_j, ν_j,
/// μ̃_j·τ and γ̃_j·τ (layout checked in tests/it/shaders.rs).
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable)]
pub struct Stage {
    pub mu: f32,
    pub nu: f32,
    pub mu_tau: f32,
    pub gamma_tau: f32,
}

/// Dynamic uniform offsets must be multiples of this (WebGPU's minimum alignment).
const STAGE_STRIDE: u64 = 256;
/// Most stages one step may take (the stage buffer's size).
pub const MAX_STAGES: u32 = 4096;

fn bc_code(b: &Boundary) -> &'static str {
    match b {
        Boundary::NoFlux => "BC_NO_FLUX",
        Boundary::Periodic => "BC_PERIODIC",
        Boundary::Fixed { .. } => "BC_FIXED",
    }
}

/// The WGSL of the RKL2 kernels for a problem.
pub fn shader_source(problem: &Problem, workgroup_x: u32) -> String {
    let g = &problem.grid;
    let header = format!(
        "const NS: u32 = {}u;\nconst WG_X: u32 = {workgroup_x}u;\nconst NX: u32 = {}u;\nconst NY: u32 = {}u;\n\
         const NTX: u32 = {}u;\nconst BC_X_MIN: u32 = {};\nconst BC_X_MAX: u32 = {};\n\
         const BC_Y_MIN: u32 = {};\nconst BC_Y_MAX: u32 = {};\n",
        problem.species.len(),
        g.nx,
        g.ny,
        texels_per_row(g.nx),
        bc_code(g.boundary(Side::XMin)),
        bc_code(g.boundary(Side::XMax)),
        bc_code(g.boundary(Side::YMin)),
        bc_code(g.boundary(Side::YMax)),
    );
    format!(
        "{header}\n{STENCIL_WGSL}\n{}",
        expand_species(
            include_str!("../../shaders/rkl2.wgsl"),
            problem.species.len()
        )
    )
}

/// GPU state of an RKL2 diffusion run.
pub struct Rkl2 {
    problem: Problem,
    tau: f64,
    stages: u32,
    time_s: f64,
    max_d_over_a: f64,
    stage_buf: wgpu::Buffer,
    linear: wgpu::Texture,
    y0: wgpu::Texture,
    ring: [wgpu::Texture; 3],
    operator: wgpu::ComputePipeline,
    stage: wgpu::ComputePipeline,
    op_group: wgpu::BindGroup,
    stage_groups: [wgpu::BindGroup; 3],
    coef_group: wgpu::BindGroup,
    readback: wgpu::Buffer,
    steps: u64,
}

impl Rkl2 {
    /// Builds the kernels for a step τ (s) and uploads `initial` (one row-major field per
    /// species). The stage count follows from τ and the explicit limit.
    #[expect(
        clippy::too_many_lines,
        reason = "creates the textures, pipelines and bind groups of the RKL2 stages in order: the device layout in one place"
    )]
    pub fn new(
        gpu: &Gpu,
        problem: &Problem,
        initial: &[Vec<f32>],
        tau: f64,
    ) -> Result<Rkl2, Error> {
        check_limits(gpu, problem)?;
        let g = &problem.grid;
        let ns = problem.species.len() as u32;
        let device = &gpu.device;
        let max_d_over_a = problem
            .species
            .iter()
            .map(|s| s.max_effective_diffusivity(g.cells()) as f64)
            .fold(1e-30, f64::max);
        let dt_expl = EXPLICIT_STABILITY_LIMIT * g.dx_um * g.dx_um / max_d_over_a;
        let stages = stages_for(tau, dt_expl);
        let scope = gpu.capture_errors();
        let usage = wgpu::TextureUsages::TEXTURE_BINDING
            | wgpu::TextureUsages::STORAGE_BINDING
            | wgpu::TextureUsages::COPY_SRC
            | wgpu::TextureUsages::COPY_DST;
        let y0 = packed_texture(gpu, "rkl2 Y0", g.nx, g.ny, ns, usage);
        let ly0 = packed_texture(gpu, "rkl2 L(Y0)", g.nx, g.ny, ns, usage);
        let ring = [
            packed_texture(gpu, "rkl2 ring 0", g.nx, g.ny, ns, usage),
            packed_texture(gpu, "rkl2 ring 1", g.nx, g.ny, ns, usage),
            packed_texture(gpu, "rkl2 ring 2", g.nx, g.ny, ns, usage),
        ];
        let linear = packed_texture(
            gpu,
            "rkl2 linear source and sink",
            g.nx,
            g.ny,
            2 * ns,
            wgpu::TextureUsages::TEXTURE_BINDING
                | wgpu::TextureUsages::STORAGE_BINDING
                | wgpu::TextureUsages::COPY_DST,
        );
        let coef = packed_texture(
            gpu,
            "rkl2 coefficients",
            g.nx,
            g.ny,
            2 * ns,
            wgpu::TextureUsages::TEXTURE_BINDING | wgpu::TextureUsages::COPY_DST,
        );
        for (layer, data) in coefficient_layers(problem).iter().enumerate() {
            write_layer(gpu, &coef, layer as u32, g.nx, g.ny, data);
        }
        for (s, f) in initial.iter().enumerate() {
            write_layer(gpu, &y0, s as u32, g.nx, g.ny, f);
        }
        let params = DiffParams {
            inv_dx2: (1.0 / (g.dx_um * g.dx_um)) as f32,
            _pad: [0.0; 3],
            bc_value: fixed_boundary_values(g),
        };
        let params_buf = uniform_buffer(gpu, "rkl2 params", &params);
        check_stages(tau, stages)?;
        let stage_buf = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("rkl2 stages"),
            size: STAGE_STRIDE * MAX_STAGES as u64,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        write_stages(gpu, &stage_buf, stages, tau);

        let layout0 = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("rkl2 layout"),
            entries: &[
                uniform_entry(0, false),
                texture_entry(1),
                storage_texture_entry(2),
                texture_entry(3),
                texture_entry(4),
                texture_entry(5),
                texture_entry(6),
                texture_entry(7),
            ],
        });
        let layout1 = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("rkl2 stage layout"),
            entries: &[uniform_entry(0, true)],
        });
        let v = |t: &wgpu::Texture| array_view(t);
        let (vy0, vly0, vcoef, vlinear) = (v(&y0), v(&ly0), v(&coef), v(&linear));
        let vring = [v(&ring[0]), v(&ring[1]), v(&ring[2])];
        let group = |src: &wgpu::TextureView,
                     dst: &wgpu::TextureView,
                     b4: &wgpu::TextureView,
                     b5: &wgpu::TextureView,
                     b6: &wgpu::TextureView| {
            let tv = wgpu::BindingResource::TextureView;
            device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some("rkl2 group"),
                layout: &layout0,
                entries: &[
                    wgpu::BindGroupEntry {
                        binding: 0,
                        resource: params_buf.as_entire_binding(),
                    },
                    wgpu::BindGroupEntry {
                        binding: 1,
                        resource: tv(src),
                    },
                    wgpu::BindGroupEntry {
                        binding: 2,
                        resource: tv(dst),
                    },
                    wgpu::BindGroupEntry {
                        binding: 3,
                        resource: tv(&vcoef),
                    },
                    wgpu::BindGroupEntry {
                        binding: 4,
                        resource: tv(b4),
                    },
                    wgpu::BindGroupEntry {
                        binding: 5,
                        resource: tv(b5),
                    },
                    wgpu::BindGroupEntry {
                        binding: 6,
                        resource: tv(b6),
                    },
                    wgpu::BindGroupEntry {
                        binding: 7,
                        resource: tv(&vlinear),
                    },
                ],
            })
        };
        // L(Y0): reads Y0, writes L(Y0); the unused bindings get a ring texture.
        let op_group = group(&vy0, &vly0, &vring[1], &vring[1], &vring[1]);
        // Stage j reads ring[(j−1)%3] and ring[(j−2)%3], writes ring[j%3].
        let stage_groups = [0usize, 1, 2].map(|r| {
            group(
                &vring[(r + 2) % 3],
                &vring[r],
                &vy0,
                &vly0,
                &vring[(r + 1) % 3],
            )
        });
        let coef_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("rkl2 stage coefficients"),
            layout: &layout1,
            entries: &[wgpu::BindGroupEntry {
                binding: 0,
                resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                    buffer: &stage_buf,
                    offset: 0,
                    size: std::num::NonZeroU64::new(16),
                }),
            }],
        });
        let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some("rkl2"),
            source: wgpu::ShaderSource::Wgsl(shader_source(problem, WORKGROUP).into()),
        });
        let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("rkl2 pipeline layout"),
            bind_group_layouts: &[Some(&layout0), Some(&layout1)],
            immediate_size: 0,
        });
        let pipeline = |entry: &str| gpu.compute_pipeline(Some(&pipeline_layout), &module, entry);
        let (operator, stage) = (pipeline("apply_operator"), pipeline("stage"));
        let readback = readback_buffer(gpu, g.nx, g.ny);
        gpu.validated(scope, "RKL2 set-up")?;
        Ok(Rkl2 {
            problem: problem.clone(),
            tau,
            stages,
            time_s: 0.0,
            max_d_over_a,
            stage_buf,
            linear,
            y0,
            ring,
            operator,
            stage,
            op_group,
            stage_groups,
            coef_group,
            readback,
            steps: 0,
        })
    }

    /// Stages per step.
    pub fn stages(&self) -> u32 {
        self.stages
    }

    pub fn time_s(&self) -> f64 {
        self.time_s
    }

    /// Largest D/a over the grid (what bounds the explicit step).
    pub fn max_d_over_a(&self) -> f64 {
        self.max_d_over_a
    }

    /// Steps taken so far.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// Changes the step to τ with a linear sink of at most `kappa_max` (1/s): the stage count
    /// follows from the stability bound (an error above [`MAX_STAGES`]).
    pub fn set_step(&mut self, gpu: &Gpu, tau: f64, kappa_max: f64) -> Result<u32, Error> {
        let dt_expl = explicit_limit(self.max_d_over_a, self.problem.grid.dx_um, kappa_max);
        let stages = stages_for(tau, dt_expl);
        check_stages(tau, stages)?;
        if stages != self.stages || tau != self.tau {
            write_stages(gpu, &self.stage_buf, stages, tau);
            self.stages = stages;
            self.tau = tau;
        }
        Ok(stages)
    }

    /// The field texture (NS layers, 4 cells per texel) that a step advances in place.
    pub fn fields_texture(&self) -> &wgpu::Texture {
        &self.y0
    }

    /// The σ (layers 0..NS) and κ (layers NS..2NS) texture of the linear term.
    pub fn linear_texture(&self) -> &wgpu::Texture {
        &self.linear
    }

    /// Advances `steps` steps of τ (one submit per step: s + 1 dispatches and two copies).
    pub fn advance(&mut self, gpu: &Gpu, steps: u64) {
        for _ in 0..steps {
            let mut enc = gpu
                .device
                .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                    label: Some("rkl2 step"),
                });
            self.encode_step(&mut enc);
            gpu.queue.submit([enc.finish()]);
        }
    }

    /// Records one step of τ into `enc`.
    pub fn encode_step(&mut self, enc: &mut wgpu::CommandEncoder) {
        let g = &self.problem.grid;
        let groups = (
            (texels_per_row(g.nx) as u32).div_ceil(WORKGROUP),
            g.ny as u32,
        );
        let extent = wgpu::Extent3d {
            width: texels_per_row(g.nx) as u32,
            height: g.ny as u32,
            depth_or_array_layers: self.problem.species.len() as u32,
        };
        let copy = |enc: &mut wgpu::CommandEncoder, from: &wgpu::Texture, to: &wgpu::Texture| {
            enc.copy_texture_to_texture(from.as_image_copy(), to.as_image_copy(), extent);
        };
        copy(enc, &self.y0, &self.ring[0]);
        {
            let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("rkl2"),
                timestamp_writes: None,
            });
            pass.set_pipeline(&self.operator);
            pass.set_bind_group(0, &self.op_group, &[]);
            pass.set_bind_group(1, &self.coef_group, &[0]);
            pass.dispatch_workgroups(groups.0, groups.1, 1);
            pass.set_pipeline(&self.stage);
            for j in 1..=self.stages {
                pass.set_bind_group(0, &self.stage_groups[(j % 3) as usize], &[]);
                pass.set_bind_group(
                    1,
                    &self.coef_group,
                    &[((j - 1) as u64 * STAGE_STRIDE) as u32],
                );
                pass.dispatch_workgroups(groups.0, groups.1, 1);
            }
        }
        copy(enc, &self.ring[(self.stages % 3) as usize], &self.y0);
        self.steps += 1;
        self.time_s += self.tau;
    }

    pub fn read_species(&self, gpu: &Gpu, s: usize) -> Result<Vec<f32>, GpuError> {
        let g = &self.problem.grid;
        read_layer(gpu, &self.y0, s as u32, g.nx, g.ny, &self.readback)
    }
}

/// Refuses a step that needs more stages than the stage buffer holds.
fn check_stages(tau: f64, stages: u32) -> Result<(), Error> {
    if stages > MAX_STAGES {
        return Err(Error::Scenario(crate::error::ScenarioError::new(
            "time step",
            format!(
                "an RKL2 step of {tau} s needs {stages} stages, more than {MAX_STAGES}: take \
                 shorter steps"
            ),
        )));
    }
    Ok(())
}

fn write_stages(gpu: &Gpu, buf: &wgpu::Buffer, stages: u32, tau: f64) {
    let mut bytes = vec![0u8; (STAGE_STRIDE * stages as u64) as usize];
    for (j, c) in coefficients(stages, tau).iter().enumerate() {
        let v = Stage {
            mu: c[0] as f32,
            nu: c[1] as f32,
            mu_tau: c[2] as f32,
            gamma_tau: c[3] as f32,
        };
        bytes[j * STAGE_STRIDE as usize..][..16].copy_from_slice(bytemuck::bytes_of(&v));
    }
    gpu.queue.write_buffer(buf, 0, &bytes);
}
