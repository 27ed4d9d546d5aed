//! The generic explicit reaction–diffusion step (shaders/rd_step.wgsl): [`Simulation`] with its
//! ping-pong textures, the kernel layout chosen per adapter and the step parameters. Its CPU
//! twin is `cpu::rd_step`.

use crate::error::{Error, GpuError};
use crate::gpu::binding::{storage_texture_entry, texture_entry, uniform_entry};
use crate::gpu::shader::{STENCIL_WGSL, expand_rows, expand_species};
use crate::gpu::texture::{
    array_view, check_limits, packed_texture, read_layer, readback_buffer, texels_per_row,
    uniform_buffer, write_layer,
};
use crate::gpu::{Gpu, WORKGROUP};
use crate::grid::{Boundary, Side};
use crate::model::{Diffusivity, MAX_SPECIES, Problem};
use bytemuck::{Pod, Zeroable};

/// The step kernel's uniform block; mirrored field by field by `StepParams` in
/// shaders/rd_step.wgsl (a test checks that size and offsets agree).
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable)]
pub struct StepParams {
    pub dt: f32,
    pub inv_dx2: f32,
    pub _pad0: f32,
    pub _pad1: f32,
    pub model: [[f32; 4]; 2],
    pub diffusivity: [[f32; 4]; 4],
    pub decay: [[f32; 4]; 4],
    pub bc_value: [[f32; 4]; 16],
}

/// How the step kernel maps cells to invocations. Chosen once per adapter by
/// [`KernelLayout::for_adapter`]; the benchmark can override it to compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct KernelLayout {
    /// Consecutive rows each invocation walks (register reuse of the vertical neighbours).
    pub rows: u32,
    /// Workgroup width in texels (the workgroup is `workgroup_x × 1`).
    pub workgroup_x: u32,
}

impl KernelLayout {
    /// Cells packed per texel (rgba32float); fixed by the storage format.
    pub const CELLS_PER_TEXEL: usize = 4;

    /// The layout for an adapter. CPU rasterisers (lavapipe) gain from walking rows: each
    /// texel is then fetched about 3 times instead of 5, and the 64 × 1 workgroup keeps the
    /// SIMD lanes on one row (measured: BENCHMARKS.md). Real GPUs need many more threads in
    /// flight than a 4-row walk leaves at 256² to 512², so they get one row per invocation.
    pub fn for_adapter(info: &wgpu::AdapterInfo) -> KernelLayout {
        match info.device_type {
            wgpu::DeviceType::Cpu => KernelLayout {
                rows: 1,
                workgroup_x: WORKGROUP,
            },
            _ => KernelLayout {
                rows: 1,
                workgroup_x: WORKGROUP,
            },
        }
    }
}

/// The complete WGSL source of the step kernel for a problem and a layout: the generated
/// header, shaders/rd_step.wgsl with its per-species blocks unrolled, and the model's `react`.
pub fn step_shader_source(problem: &Problem, layout: KernelLayout) -> String {
    let g = &problem.grid;
    let ns = problem.species.len();
    let bc = |side: Side| match g.boundary(side) {
        Boundary::NoFlux => "BC_NO_FLUX",
        Boundary::Periodic => "BC_PERIODIC",
        Boundary::Fixed { .. } => "BC_FIXED",
    };
    let header = format!(
        "// generated header\n\
         const NS: u32 = {ns}u;\n\
         const ROWS: u32 = {}u;\n\
         const WG_X: u32 = {}u;\n\
         const VARIABLE_D: bool = {};\n\
         const NX: u32 = {}u;\n\
         const NY: u32 = {}u;\n\
         const NTX: u32 = {}u;\n\
         const BC_X_MIN: u32 = {};\n\
         const BC_X_MAX: u32 = {};\n\
         const BC_Y_MIN: u32 = {};\n\
         const BC_Y_MAX: u32 = {};\n",
        layout.rows,
        layout.workgroup_x,
        problem.variable_diffusivity(),
        g.nx,
        g.ny,
        texels_per_row(g.nx),
        bc(Side::XMin),
        bc(Side::XMax),
        bc(Side::YMin),
        bc(Side::YMax),
    );
    let body = expand_species(
        &expand_rows(include_str!("../../shaders/rd_step.wgsl"), layout.rows),
        ns,
    );
    format!("{header}\n{STENCIL_WGSL}\n{body}\n{}", problem.model.wgsl())
}

/// Steps recorded into one command buffer before it is submitted.
const STEPS_PER_SUBMIT: u64 = 200;

/// GPU-resident state of one running problem.
pub struct Simulation {
    problem: Problem,
    layout: KernelLayout,
    ntx: u32,
    state: [wgpu::Texture; 2],
    bind_groups: [wgpu::BindGroup; 2],
    pipeline: wgpu::ComputePipeline,
    readback: wgpu::Buffer,
    /// Index of the texture that holds the current state.
    current: usize,
    step: u64,
}

impl Simulation {
    /// Builds the simulation with the adapter's default layout and uploads `initial`
    /// (one row-major ny × nx array per species).
    pub fn new(gpu: &Gpu, problem: &Problem, initial: &[Vec<f32>]) -> Result<Simulation, Error> {
        Self::with_layout(gpu, problem, initial, KernelLayout::for_adapter(&gpu.info))
    }

    #[expect(
        clippy::too_many_lines,
        reason = "creates the textures, pipelines and bind groups of the step in order: the device layout in one place"
    )]
    pub fn with_layout(
        gpu: &Gpu,
        problem: &Problem,
        initial: &[Vec<f32>],
        layout: KernelLayout,
    ) -> Result<Simulation, Error> {
        let g = &problem.grid;
        let ns = problem.species.len();
        assert!(
            (1..=MAX_SPECIES).contains(&ns),
            "species count is validated when the scenario is resolved"
        );
        assert_eq!(initial.len(), ns, "one initial field per species");
        check_limits(gpu, problem)?;
        let ntx = texels_per_row(g.nx) as u32;
        let device = &gpu.device;

        let scope = gpu.capture_errors();
        let state_usage = wgpu::TextureUsages::TEXTURE_BINDING
            | wgpu::TextureUsages::STORAGE_BINDING
            | wgpu::TextureUsages::COPY_SRC
            | wgpu::TextureUsages::COPY_DST;
        let make_state = |label| packed_texture(gpu, label, g.nx, g.ny, ns as u32, state_usage);
        let state = [make_state("state A"), make_state("state B")];

        // Coefficient texture: D then capacity, per species (a 1-texel dummy when unused).
        let variable = problem.variable_diffusivity();
        let coef_layers = if variable {
            coefficient_layers(problem)
        } else {
            Vec::new()
        };
        let (cw, ch, cl) = if variable {
            (ntx, g.ny as u32, 2 * ns as u32)
        } else {
            (1, 1, 1)
        };
        let coef = device.create_texture(&wgpu::TextureDescriptor {
            label: Some("coefficients"),
            size: wgpu::Extent3d {
                width: cw,
                height: ch,
                depth_or_array_layers: cl,
            },
            mip_level_count: 1,
            sample_count: 1,
            dimension: wgpu::TextureDimension::D2,
            format: wgpu::TextureFormat::Rgba32Float,
            usage: wgpu::TextureUsages::TEXTURE_BINDING | wgpu::TextureUsages::COPY_DST,
            view_formats: &[],
        });
        if variable {
            for (layer, data) in coef_layers.iter().enumerate() {
                write_layer(gpu, &coef, layer as u32, g.nx, g.ny, data);
            }
        }

        let params_buf = uniform_buffer(gpu, "step params", &step_params(problem));

        let bgl = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("step layout"),
            entries: &[
                uniform_entry(0, false),
                texture_entry(1),
                storage_texture_entry(2),
                texture_entry(3),
            ],
        });
        let views = [array_view(&state[0]), array_view(&state[1])];
        let coef_view = array_view(&coef);
        let make_bg = |from: usize| {
            device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some("step bind group"),
                layout: &bgl,
                entries: &[
                    wgpu::BindGroupEntry {
                        binding: 0,
                        resource: params_buf.as_entire_binding(),
                    },
                    wgpu::BindGroupEntry {
                        binding: 1,
                        resource: wgpu::BindingResource::TextureView(&views[from]),
                    },
                    wgpu::BindGroupEntry {
                        binding: 2,
                        resource: wgpu::BindingResource::TextureView(&views[1 - from]),
                    },
                    wgpu::BindGroupEntry {
                        binding: 3,
                        resource: wgpu::BindingResource::TextureView(&coef_view),
                    },
                ],
            })
        };
        let bind_groups = [make_bg(0), make_bg(1)];

        let source = step_shader_source(problem, layout);
        let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some("rd_step"),
            source: wgpu::ShaderSource::Wgsl(source.into()),
        });
        let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("step pipeline layout"),
            bind_group_layouts: &[Some(&bgl)],
            immediate_size: 0,
        });
        let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some("rd_step"),
            layout: Some(&pipeline_layout),
            module: &module,
            entry_point: Some("step"),
            compilation_options: Default::default(),
            cache: None,
        });

        let readback = readback_buffer(gpu, g.nx, g.ny);
        gpu.validated(scope, "pipeline set-up")?;

        let mut sim = Simulation {
            problem: problem.clone(),
            layout,
            ntx,
            state,
            bind_groups,
            pipeline,
            readback,
            current: 0,
            step: 0,
        };
        sim.upload(gpu, initial);
        Ok(sim)
    }

    pub fn problem(&self) -> &Problem {
        &self.problem
    }

    pub fn layout(&self) -> KernelLayout {
        self.layout
    }

    /// Steps taken since the start.
    pub fn step_count(&self) -> u64 {
        self.step
    }

    /// Simulated time in seconds.
    pub fn time_s(&self) -> f64 {
        self.step as f64 * self.problem.dt_s
    }

    /// Replaces the state with `fields` (one row-major ny × nx array per species).
    pub fn upload(&mut self, gpu: &Gpu, fields: &[Vec<f32>]) {
        let g = &self.problem.grid;
        for (s, f) in fields.iter().enumerate() {
            assert_eq!(f.len(), g.cells(), "field size must be nx * ny");
            write_layer(gpu, &self.state[self.current], s as u32, g.nx, g.ny, f);
        }
    }

    /// Records `steps` steps, submitting every `STEPS_PER_SUBMIT` (200), without reading back.
    pub fn advance(&mut self, gpu: &Gpu, steps: u64) {
        let groups_x = self.ntx.div_ceil(self.layout.workgroup_x);
        let groups_y = (self.problem.grid.ny as u32).div_ceil(self.layout.rows);
        let mut left = steps;
        while left > 0 {
            let n = left.min(STEPS_PER_SUBMIT);
            let mut encoder = gpu
                .device
                .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                    label: Some("steps"),
                });
            {
                let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                    label: Some("rd steps"),
                    timestamp_writes: None,
                });
                pass.set_pipeline(&self.pipeline);
                for _ in 0..n {
                    pass.set_bind_group(0, &self.bind_groups[self.current], &[]);
                    pass.dispatch_workgroups(groups_x, groups_y, 1);
                    self.current = 1 - self.current;
                }
            }
            gpu.queue.submit([encoder.finish()]);
            left -= n;
            self.step += n;
        }
    }

    /// Reads species `s` back to the host (row-major ny × nx).
    pub fn read_species(&self, gpu: &Gpu, s: usize) -> Result<Vec<f32>, GpuError> {
        let g = &self.problem.grid;
        read_layer(
            gpu,
            &self.state[self.current],
            s as u32,
            g.nx,
            g.ny,
            &self.readback,
        )
    }

    /// Reads every species back.
    pub fn read_all(&self, gpu: &Gpu) -> Result<Vec<Vec<f32>>, GpuError> {
        (0..self.problem.species.len())
            .map(|s| self.read_species(gpu, s))
            .collect()
    }
}

/// The coefficient layers of a problem: D of every species (per cell), then its capacity.
pub fn coefficient_layers(problem: &Problem) -> Vec<Vec<f32>> {
    let cells = problem.grid.cells();
    let mut layers: Vec<Vec<f32>> = problem
        .species
        .iter()
        .map(|s| match &s.diffusivity {
            Diffusivity::Uniform(d) => vec![*d; cells],
            Diffusivity::Field(v) => v.clone(),
        })
        .collect();
    layers.extend(
        problem
            .species
            .iter()
            .map(|s| s.capacity.clone().unwrap_or_else(|| vec![1.0; cells])),
    );
    layers
}

/// Fixed boundary values packed side-major as the kernels' `bc_value` (16 × vec4: side·4 +
/// species/4); 0 for sides that are not fixed.
pub fn fixed_boundary_values(grid: &crate::grid::Grid) -> [[f32; 4]; 16] {
    let mut out = [[0.0f32; 4]; 16];
    for (side, b) in grid.boundary.iter().enumerate() {
        if let Boundary::Fixed { values } = b {
            for (s, v) in values.iter().enumerate() {
                out[side * 4 + s / 4][s % 4] = *v;
            }
        }
    }
    out
}

/// Fills the uniform block from a problem.
pub fn step_params(problem: &Problem) -> StepParams {
    let g = &problem.grid;
    let mut p = StepParams {
        dt: problem.dt_s as f32,
        inv_dx2: (1.0 / (g.dx_um * g.dx_um)) as f32,
        model: problem.model.packed_params(),
        bc_value: fixed_boundary_values(g),
        ..Zeroable::zeroed()
    };
    for (s, sp) in problem.species.iter().enumerate() {
        let d = match sp.diffusivity {
            Diffusivity::Uniform(d) => d,
            Diffusivity::Field(_) => 0.0, // read from the coefficient texture
        };
        p.diffusivity[s / 4][s % 4] = d;
        p.decay[s / 4][s % 4] = sp.decay_per_s;
    }
    p
}
