//! The dorsal-horn model's local reaction system on the GPU (shaders/dorsal_horn_reaction.wgsl):
//! one invocation per cell, one RK4 step per dispatch, each cell with its own state and input.
//! It is the reaction stage of the spatial model, checked cell by cell against the f64
//! well-mixed reference (src/wellmixed.rs) in tests/reaction_gpu.rs.

use crate::error::{Error, GpuError};
use crate::gpu::Gpu;
use crate::wellmixed::{Input, Model, PARAM_KEYS, State};
use bytemuck::{Pod, Zeroable};

/// Floats per cell of state (33 states, the r_I and r_E warm starts, one pad).
pub const STATE_STRIDE: usize = 36;
/// Floats per cell of input.
pub const INPUT_STRIDE: usize = 20;

#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable)]
struct Globals {
    theta: [f32; 4],
    sigma_sex: f32,
    retardation: f32,
    dt: f32,
    n_cells: u32,
}

/// The WGSL of the reaction kernel: a generated `Params` struct, then the kernel.
pub fn shader_source() -> String {
    let mut s = String::from("struct Params {\n");
    for k in PARAM_KEYS {
        s.push_str(&format!("    {k}: f32,\n"));
    }
    s.push_str("}\n\n");
    s.push_str(include_str!("../shaders/dorsal_horn_reaction.wgsl"));
    s
}

/// Packs a state as the kernel reads it.
pub fn pack_state(s: &State) -> [f32; STATE_STRIDE] {
    let mut out = [0.0f32; STATE_STRIDE];
    for (o, v) in out.iter_mut().zip(s.to_array()) {
        *o = v as f32;
    }
    out[33] = s.r_i as f32;
    out[34] = s.r_e as f32;
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
        0.0,
    ]
    .map(|v| v as f32)
}

/// GPU state of many independent cells.
pub struct ReactionCells {
    n_cells: usize,
    pipeline: wgpu::ComputePipeline,
    bind_group: wgpu::BindGroup,
    globals: wgpu::Buffer,
    globals_value: Globals,
    inputs: wgpu::Buffer,
    state: wgpu::Buffer,
    readback: wgpu::Buffer,
}

impl ReactionCells {
    /// Uploads the model's parameters, thresholds and drugs, and one (state, input) per cell.
    pub fn new(gpu: &Gpu, model: &Model, cells: &[(State, Input)]) -> Result<ReactionCells, Error> {
        let device = &gpu.device;
        let n = cells.len();
        let scope = gpu.capture_errors();
        let storage = |label: &str, bytes: &[u8], extra: wgpu::BufferUsages| {
            let b = device.create_buffer(&wgpu::BufferDescriptor {
                label: Some(label),
                size: bytes.len().max(16) as u64,
                usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST | extra,
                mapped_at_creation: false,
            });
            gpu.queue.write_buffer(&b, 0, bytes);
            b
        };
        let params: Vec<f32> = model.pr.values().iter().map(|&v| v as f32).collect();
        let d = &model.drugs;
        let drugs: Vec<f32> = [
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
        ]
        .iter()
        .map(|&v| v as f32)
        .collect();
        let t = &model.theta;
        let globals_value = Globals {
            theta: [t.i as f32, t.e as f32, t.p as f32, t.w as f32],
            sigma_sex: model.sigma_sex as f32,
            retardation: if model.retardation { 1.0 } else { 0.0 },
            dt: 1.0,
            n_cells: n as u32,
        };
        let inputs: Vec<f32> = cells.iter().flat_map(|(_, i)| pack_input(i)).collect();
        let states: Vec<f32> = cells.iter().flat_map(|(s, _)| pack_state(s)).collect();
        let params_buf = storage(
            "reaction params",
            bytemuck::cast_slice(&params),
            wgpu::BufferUsages::empty(),
        );
        let globals = storage(
            "reaction globals",
            bytemuck::bytes_of(&globals_value),
            wgpu::BufferUsages::empty(),
        );
        let drugs_buf = storage(
            "reaction drugs",
            bytemuck::cast_slice(&drugs),
            wgpu::BufferUsages::empty(),
        );
        let inputs_buf = storage(
            "reaction inputs",
            bytemuck::cast_slice(&inputs),
            wgpu::BufferUsages::empty(),
        );
        let state = storage(
            "reaction state",
            bytemuck::cast_slice(&states),
            wgpu::BufferUsages::COPY_SRC,
        );
        let readback = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("reaction readback"),
            size: (states.len() * 4).max(16) as u64,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some("dorsal_horn_reaction"),
            source: wgpu::ShaderSource::Wgsl(shader_source().into()),
        });
        let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some("rk4_step"),
            layout: None,
            module: &module,
            entry_point: Some("rk4_step"),
            compilation_options: Default::default(),
            cache: None,
        });
        let layout = pipeline.get_bind_group_layout(0);
        let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("reaction"),
            layout: &layout,
            entries: &[
                wgpu::BindGroupEntry {
                    binding: 0,
                    resource: params_buf.as_entire_binding(),
                },
                wgpu::BindGroupEntry {
                    binding: 1,
                    resource: globals.as_entire_binding(),
                },
                wgpu::BindGroupEntry {
                    binding: 2,
                    resource: drugs_buf.as_entire_binding(),
                },
                wgpu::BindGroupEntry {
                    binding: 3,
                    resource: inputs_buf.as_entire_binding(),
                },
                wgpu::BindGroupEntry {
                    binding: 4,
                    resource: state.as_entire_binding(),
                },
            ],
        });
        gpu.validated(scope, "reaction set-up")?;
        Ok(ReactionCells {
            n_cells: n,
            pipeline,
            bind_group,
            globals,
            globals_value,
            inputs: inputs_buf,
            state,
            readback,
        })
    }

    /// Replaces every cell's input.
    pub fn set_inputs(&self, gpu: &Gpu, inputs: &[Input]) {
        let v: Vec<f32> = inputs.iter().flat_map(pack_input).collect();
        gpu.queue
            .write_buffer(&self.inputs, 0, bytemuck::cast_slice(&v));
    }

    /// Advances every cell by `steps` RK4 steps of `dt` seconds at constant input.
    pub fn advance(&mut self, gpu: &Gpu, dt: f64, steps: u64) {
        self.globals_value.dt = dt as f32;
        gpu.queue
            .write_buffer(&self.globals, 0, bytemuck::bytes_of(&self.globals_value));
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
                pass.set_pipeline(&self.pipeline);
                pass.set_bind_group(0, &self.bind_group, &[]);
                for _ in 0..n {
                    pass.dispatch_workgroups((self.n_cells as u32).div_ceil(64), 1, 1);
                }
            }
            gpu.queue.submit([enc.finish()]);
            left -= n;
        }
    }

    /// Reads every cell's state back (33 states, then r_I, r_E), as f64.
    pub fn read(&self, gpu: &Gpu) -> Result<Vec<[f64; STATE_STRIDE]>, GpuError> {
        let bytes = (self.n_cells * STATE_STRIDE * 4) as u64;
        let mut enc = gpu
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("reaction readback"),
            });
        enc.copy_buffer_to_buffer(&self.state, 0, &self.readback, 0, bytes);
        gpu.queue.submit([enc.finish()]);
        gpu.map_read(&self.readback, bytes, |view| {
            let floats: &[f32] = bytemuck::cast_slice(view);
            floats
                .chunks_exact(STATE_STRIDE)
                .map(|c| std::array::from_fn(|i| c[i] as f64))
                .collect()
        })
    }
}
