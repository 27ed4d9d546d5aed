//! The GPU driver of the implicit multigrid transport (shaders/multigrid.wgsl): the level
//! textures, the V-cycle kernels and the TR-BDF2 step. The equation, the solver and the CPU
//! twin are in `cpu::multigrid`.
//!
//! Longer than 600 lines: one driver: the level textures, the V-cycle kernels and the TR-BDF2 step
//! share every buffer.

use crate::cpu::multigrid::{
    COARSEST, Geometry, Hierarchy, SpeciesCoef, TR_BDF2_A0, TR_BDF2_A1, TR_BDF2_EXTRAPOLATE,
    TransportCoef, coarse_inverse, first_stage_theta, inverse_texels, step_coefficients,
};
use crate::error::{Error, GpuError};
use crate::gpu::binding::{storage_texture_entry, texture_entry, uniform_entry};
use crate::gpu::shader::expand_species;
use crate::gpu::texture::{
    array_view, packed_texture, read_layer, readback_buffer, texels_per_row, write_layer,
};
use crate::gpu::{Gpu, WORKGROUP};
use bytemuck::{Pod, Zeroable};

/// Workgroup width of the multigrid kernels.
const WG_X: u32 = WORKGROUP;
/// Dynamic uniform offsets must be multiples of this.
const SLOT: u64 = 256;
/// Layers of a level's geometry texture: G_x, G_y, w, F, S.
const GEOMETRY_LAYERS: u32 = 5;

/// The kernels' `Lvl` uniform (one 256-byte slot per level and colour).
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable)]
pub struct LevelParams {
    pub nx: u32,
    pub ny: u32,
    pub ntx: u32,
    pub colour: u32,
    pub cny: u32,
    pub cntx: u32,
    /// The history's layers of one kind (species × ensemble members).
    pub nsm: u32,
    pub _pad1: u32,
}

/// The kernels' `Coef` uniform as rows of four floats (layout checked in tests/shaders.rs): one
/// row per species (D*, m, R/c, unused), then p = (P_pia, a1, a0, extrapolation weight) and
/// q = (θ, 0, 0, 0) (shaders/multigrid.wgsl documents each).
pub fn coef_rows(species: &[[f32; 4]], p_pia: f32, theta: f32) -> Vec<[f32; 4]> {
    let mut data = species.to_vec();
    data.push([
        p_pia,
        TR_BDF2_A1 as f32,
        TR_BDF2_A0 as f32,
        TR_BDF2_EXTRAPOLATE as f32,
    ]);
    data.push([theta, 0.0, 0.0, 0.0]);
    data
}

/// The WGSL of the multigrid kernels for `ns` species.
pub fn shader_source(ns: usize) -> String {
    format!(
        "const NS: u32 = {ns}u;\nconst WG_X: u32 = {WG_X}u;\n{}",
        expand_species(include_str!("../../shaders/multigrid.wgsl"), ns)
    )
}

struct GpuLevel {
    nx: usize,
    ny: usize,
    x: [wgpu::Texture; 2],
    b: wgpu::Texture,
    /// Smooth and residual: x[cur] and b in, x[1 − cur] out.
    sweep: [wgpu::BindGroup; 2],
    /// Restrict (not on the coarsest level): x[cur] and b in, the next level's b and x[0] out.
    restrict: Option<[wgpu::BindGroup; 2]>,
    /// Prolong (not on the coarsest level), by [cur here][cur of the next level].
    prolong: Option<[[wgpu::BindGroup; 2]; 2]>,
    /// The exact solve (coarsest level only): b in, x[0] out.
    coarse: Option<wgpu::BindGroup>,
}

impl GpuLevel {
    fn ntx(&self) -> u32 {
        texels_per_row(self.nx) as u32
    }
}

/// Backward-Euler transport of `ns` species sharing one [`Geometry`], solved on the GPU by
/// multigrid V-cycles (see the module documentation). The right-hand side and the initial guess
/// are written into [`Multigrid::rhs_texture`] and [`Multigrid::guess_texture`] (by the
/// caller's kernels or [`Multigrid::upload`]); [`Multigrid::encode_solve`] records the cycles
/// and the solution is then in [`Multigrid::solution_texture`].
pub struct Multigrid {
    ns: usize,
    /// Grids side by side (an ensemble's members; 1 otherwise): member z's species are the
    /// layers z·ns..(z + 1)·ns of every level texture (shaders/multigrid.wgsl).
    members: usize,
    hierarchy: Hierarchy,
    levels: Vec<GpuLevel>,
    coef: wgpu::Buffer,
    coef_values: Vec<[f32; 4]>,
    p_pia: f32,
    smooth: wgpu::ComputePipeline,
    restrict: wgpu::ComputePipeline,
    coarse: wgpu::ComputePipeline,
    /// The coarsest level's inverses for the current coefficients, and those computed before
    /// (by coefficient bits: a run alternates between a few step lengths).
    inverse: wgpu::Texture,
    inverses: Vec<(Vec<[u32; 2]>, Vec<f32>)>,
    prolong: wgpu::ComputePipeline,
    cycles: u32,
    sweeps: u32,
    readback: wgpu::Buffer,
    /// The first stage's extrapolation weight as last uploaded.
    theta: f32,
    rhs_tr: wgpu::ComputePipeline,
    rhs_bdf2: wgpu::ComputePipeline,
    /// The fine level's history: Cⁿ in layers 0..ns, the source f = w·k·goal in ns..2ns, Cⁿ⁻¹
    /// in 2ns..3ns (for an ensemble: blocks of ns·members layers).
    history: wgpu::Texture,
    /// First stage's right-hand side: Cⁿ = x[0] and the history in, b out.
    rhs_tr_group: wgpu::BindGroup,
    /// Second stage's, by where the first stage left C*.
    rhs_bdf2_groups: [wgpu::BindGroup; 2],
}

/// The compiled multigrid kernels for `ns` species and their layout, shared by every
/// [`Multigrid`] of that size on a device ([`Gpu::kernels`]).
struct MgKernels {
    layout: wgpu::BindGroupLayout,
    smooth: wgpu::ComputePipeline,
    restrict: wgpu::ComputePipeline,
    coarse: wgpu::ComputePipeline,
    prolong: wgpu::ComputePipeline,
    rhs_tr: wgpu::ComputePipeline,
    rhs_bdf2: wgpu::ComputePipeline,
}

impl MgKernels {
    fn new(gpu: &Gpu, ns: usize) -> MgKernels {
        let device = &gpu.device;
        let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some("multigrid"),
            source: wgpu::ShaderSource::Wgsl(shader_source(ns).into()),
        });
        let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("multigrid layout"),
            entries: &[
                uniform_entry(0, true),
                uniform_entry(1, false),
                texture_entry(2),
                texture_entry(3),
                texture_entry(4),
                storage_texture_entry(5),
                storage_texture_entry(6),
                texture_entry(8),
            ],
        });
        let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("multigrid pipeline layout"),
            bind_group_layouts: &[Some(&layout)],
            immediate_size: 0,
        });
        let pipeline = |entry: &str| gpu.compute_pipeline(Some(&pipeline_layout), &module, entry);
        MgKernels {
            smooth: pipeline("mg_smooth"),
            restrict: pipeline("mg_restrict"),
            coarse: pipeline("mg_coarse"),
            prolong: pipeline("mg_prolong"),
            rhs_tr: pipeline("mg_rhs_tr"),
            rhs_bdf2: pipeline("mg_rhs_bdf2"),
            layout,
        }
    }
}

/// The copy location of a texture from layer `z` on.
fn layer_copy(texture: &wgpu::Texture, z: u32) -> wgpu::TexelCopyTextureInfo<'_> {
    wgpu::TexelCopyTextureInfo {
        texture,
        mip_level: 0,
        origin: wgpu::Origin3d { x: 0, y: 0, z },
        aspect: wgpu::TextureAspect::All,
    }
}

/// Which x texture of each level holds the current iterate while a solve is recorded.
struct Cursor(Vec<usize>);

impl Multigrid {
    /// Builds the hierarchy of `geo`, its textures and kernels for `ns` species; each solve
    /// takes `cycles` V-cycles of `sweeps` red–black sweeps before and after the coarse-grid
    /// correction.
    pub fn new(
        gpu: &Gpu,
        geo: &Geometry,
        ns: usize,
        p_pia: f32,
        cycles: u32,
        sweeps: u32,
    ) -> Result<Multigrid, Error> {
        Multigrid::ensemble(gpu, geo, ns, p_pia, cycles, sweeps, 1)
    }

    /// [`Multigrid::new`] for `members` copies of the problem side by side (an ensemble): every
    /// dispatch solves all of them, each with its own right-hand side and history.
    #[expect(
        clippy::too_many_lines,
        reason = "creates every level's textures, buffers, pipelines and bind groups in order: the whole device layout in one place"
    )]
    pub fn ensemble(
        gpu: &Gpu,
        geo: &Geometry,
        ns: usize,
        p_pia: f32,
        cycles: u32,
        sweeps: u32,
        members: usize,
    ) -> Result<Multigrid, Error> {
        let nsm = ns * members;
        let max_layers = gpu.limits.max_texture_array_layers as usize;
        if 3 * nsm > max_layers {
            return Err(GpuError::Validation {
                stage: "multigrid set-up",
                detail: format!(
                    "an ensemble of {members} needs {} texture layers and the adapter allows \
                     {max_layers}: run at most {} members side by side",
                    3 * nsm,
                    max_layers / (3 * ns)
                ),
            }
            .into());
        }
        let hierarchy = Hierarchy::new(geo);
        let device = &gpu.device;
        let scope = gpu.capture_errors();
        let kernels = gpu.kernels(&shader_source(ns), || MgKernels::new(gpu, ns));
        let layout = &kernels.layout;
        let last = hierarchy.levels.last().expect("one level");
        let coarse_cells = last.nx * last.ny;
        assert!(
            coarse_cells <= COARSEST * COARSEST,
            "the coarsest level is small"
        );
        let inverse = device.create_texture(&wgpu::TextureDescriptor {
            label: Some("multigrid coarsest inverses"),
            size: wgpu::Extent3d {
                width: (texels_per_row(last.nx) * last.ny) as u32,
                height: coarse_cells as u32,
                depth_or_array_layers: ns as u32,
            },
            mip_level_count: 1,
            sample_count: 1,
            dimension: wgpu::TextureDimension::D2,
            format: wgpu::TextureFormat::Rgba32Float,
            usage: wgpu::TextureUsages::TEXTURE_BINDING | wgpu::TextureUsages::COPY_DST,
            view_formats: &[],
        });
        let inverse_view = array_view(&inverse);
        let lvl_buf = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("multigrid levels"),
            size: SLOT * 2 * hierarchy.levels.len() as u64,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let mut slots = vec![0u8; (SLOT * 2) as usize * hierarchy.levels.len()];
        for (l, lv) in hierarchy.levels.iter().enumerate() {
            let coarse = hierarchy.levels.get(l + 1);
            for colour in 0..2u32 {
                let p = LevelParams {
                    nx: lv.nx as u32,
                    ny: lv.ny as u32,
                    ntx: texels_per_row(lv.nx) as u32,
                    colour,
                    cny: coarse.map_or(0, |c| c.ny as u32),
                    cntx: coarse.map_or(0, |c| texels_per_row(c.nx) as u32),
                    nsm: nsm as u32,
                    _pad1: 0,
                };
                let at = (2 * l + colour as usize) * SLOT as usize;
                slots[at..at + std::mem::size_of::<LevelParams>()]
                    .copy_from_slice(bytemuck::bytes_of(&p));
            }
        }
        gpu.queue.write_buffer(&lvl_buf, 0, &slots);
        let coef = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("multigrid coefficients"),
            size: 16 * (ns as u64 + 2),
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let usage = wgpu::TextureUsages::TEXTURE_BINDING
            | wgpu::TextureUsages::STORAGE_BINDING
            | wgpu::TextureUsages::COPY_SRC
            | wgpu::TextureUsages::COPY_DST;
        let dummy = packed_texture(gpu, "multigrid unused output", 1, 1, 1, usage);
        let dummy_view = array_view(&dummy);
        let mut tex = Vec::new();
        for lv in &hierarchy.levels {
            let geom = packed_texture(
                gpu,
                "multigrid geometry",
                lv.nx,
                lv.ny,
                GEOMETRY_LAYERS,
                usage,
            );
            for (layer, data) in [&lv.gx, &lv.gy, &lv.w, &lv.robin, &lv.s].iter().enumerate() {
                write_layer(gpu, &geom, layer as u32, lv.nx, lv.ny, data);
            }
            let make = |label: &str| packed_texture(gpu, label, lv.nx, lv.ny, nsm as u32, usage);
            tex.push((
                geom,
                [make("multigrid x 0"), make("multigrid x 1")],
                make("multigrid b"),
            ));
        }
        let lvl_binding = wgpu::BindingResource::Buffer(wgpu::BufferBinding {
            buffer: &lvl_buf,
            offset: 0,
            size: std::num::NonZeroU64::new(std::mem::size_of::<LevelParams>() as u64),
        });
        let group = |geom: &wgpu::TextureView,
                     a: &wgpu::TextureView,
                     b: &wgpu::TextureView,
                     o1: &wgpu::TextureView,
                     o2: &wgpu::TextureView| {
            device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some("multigrid"),
                layout,
                entries: &[
                    wgpu::BindGroupEntry {
                        binding: 0,
                        resource: lvl_binding.clone(),
                    },
                    wgpu::BindGroupEntry {
                        binding: 1,
                        resource: coef.as_entire_binding(),
                    },
                    wgpu::BindGroupEntry {
                        binding: 2,
                        resource: wgpu::BindingResource::TextureView(geom),
                    },
                    wgpu::BindGroupEntry {
                        binding: 3,
                        resource: wgpu::BindingResource::TextureView(a),
                    },
                    wgpu::BindGroupEntry {
                        binding: 4,
                        resource: wgpu::BindingResource::TextureView(b),
                    },
                    wgpu::BindGroupEntry {
                        binding: 5,
                        resource: wgpu::BindingResource::TextureView(o1),
                    },
                    wgpu::BindGroupEntry {
                        binding: 6,
                        resource: wgpu::BindingResource::TextureView(o2),
                    },
                    wgpu::BindGroupEntry {
                        binding: 8,
                        resource: wgpu::BindingResource::TextureView(&inverse_view),
                    },
                ],
            })
        };
        let views: Vec<_> = tex
            .iter()
            .map(|(g, x, b)| {
                (
                    array_view(g),
                    [array_view(&x[0]), array_view(&x[1])],
                    array_view(b),
                )
            })
            .collect();
        let mut levels = Vec::new();
        let n_levels = hierarchy.levels.len();
        for (l, (_, x, b)) in tex.into_iter().enumerate() {
            let (gv, xv, bv) = &views[l];
            let sweep = [
                group(gv, &xv[0], bv, &xv[1], &dummy_view),
                group(gv, &xv[1], bv, &xv[0], &dummy_view),
            ];
            let (restrict_groups, prolong_groups) = if l + 1 < n_levels {
                let (_, cx, cb) = &views[l + 1];
                (
                    Some([
                        group(gv, &xv[0], bv, cb, &cx[0]),
                        group(gv, &xv[1], bv, cb, &cx[0]),
                    ]),
                    Some([
                        [
                            group(gv, &xv[0], &cx[0], &xv[1], &dummy_view),
                            group(gv, &xv[0], &cx[1], &xv[1], &dummy_view),
                        ],
                        [
                            group(gv, &xv[1], &cx[0], &xv[0], &dummy_view),
                            group(gv, &xv[1], &cx[1], &xv[0], &dummy_view),
                        ],
                    ]),
                )
            } else {
                (None, None)
            };
            let lv = &hierarchy.levels[l];
            let coarse = (l + 1 == n_levels).then(|| group(gv, gv, bv, &xv[0], &dummy_view));
            levels.push(GpuLevel {
                nx: lv.nx,
                ny: lv.ny,
                x,
                b,
                sweep,
                restrict: restrict_groups,
                prolong: prolong_groups,
                coarse,
            });
        }
        let fine = &hierarchy.levels[0];
        let readback = readback_buffer(gpu, fine.nx, fine.ny);
        let history = packed_texture(
            gpu,
            "multigrid history",
            fine.nx,
            fine.ny,
            3 * nsm as u32,
            usage,
        );
        let history_view = array_view(&history);
        let (gv, xv, bv) = &views[0];
        let rhs_tr_group = group(gv, &xv[0], &history_view, bv, &xv[1]);
        let rhs_bdf2_groups = [
            group(gv, &xv[0], &history_view, bv, &xv[1]),
            group(gv, &xv[1], &history_view, bv, &xv[0]),
        ];
        gpu.validated(scope, "multigrid set-up")?;
        Ok(Multigrid {
            ns,
            members,
            levels,
            hierarchy,
            coef,
            coef_values: vec![[0.0; 4]; ns],
            p_pia,
            smooth: kernels.smooth.clone(),
            restrict: kernels.restrict.clone(),
            coarse: kernels.coarse.clone(),
            inverse,
            inverses: Vec::new(),
            prolong: kernels.prolong.clone(),
            cycles,
            sweeps,
            readback,
            theta: 0.0,
            rhs_tr: kernels.rhs_tr.clone(),
            rhs_bdf2: kernels.rhs_bdf2.clone(),
            history,
            rhs_tr_group,
            rhs_bdf2_groups,
        })
    }

    /// The hierarchy the solver runs on.
    pub fn hierarchy(&self) -> &Hierarchy {
        &self.hierarchy
    }

    pub fn species(&self) -> usize {
        self.ns
    }

    /// Problems side by side ([`Multigrid::ensemble`]).
    pub fn members(&self) -> usize {
        self.members
    }

    /// V-cycles per solve.
    pub fn cycles(&self) -> u32 {
        self.cycles
    }

    /// Sets each species' D* and mass coefficient m = R/Δt + k for the next solves.
    pub fn set_coefficients(&mut self, gpu: &Gpu, coefs: &[SpeciesCoef]) {
        assert_eq!(coefs.len(), self.ns, "one coefficient pair per species");
        let values: Vec<[f32; 4]> = coefs.iter().map(|c| [c.d, c.m, 0.0, 0.0]).collect();
        self.write_coefficients(gpu, values, 0.0);
    }

    fn write_coefficients(&mut self, gpu: &Gpu, values: Vec<[f32; 4]>, theta: f32) {
        if values == self.coef_values && theta == self.theta {
            return;
        }
        self.theta = theta;
        let data = coef_rows(&values, self.p_pia, self.theta);
        gpu.queue
            .write_buffer(&self.coef, 0, bytemuck::cast_slice(&data));
        let key: Vec<[u32; 2]> = values
            .iter()
            .map(|v| [v[0].to_bits(), v[1].to_bits()])
            .collect();
        let found = self.inverses.iter().position(|(k, _)| *k == key);
        let at = match found {
            Some(i) => i,
            None => {
                let last = self.hierarchy.levels.last().expect("one level");
                let inv: Vec<f32> = values
                    .iter()
                    .flat_map(|v| {
                        let m = coarse_inverse(last, SpeciesCoef { d: v[0], m: v[1] }, self.p_pia);
                        inverse_texels(last, &m)
                    })
                    .collect();
                if self.inverses.len() >= 8 {
                    self.inverses.remove(0);
                }
                self.inverses.push((key, inv));
                self.inverses.len() - 1
            }
        };
        let size = self.inverse.size();
        gpu.queue.write_texture(
            layer_copy(&self.inverse, 0),
            bytemuck::cast_slice(&self.inverses[at].1),
            wgpu::TexelCopyBufferLayout {
                offset: 0,
                bytes_per_row: Some(size.width * 16),
                rows_per_image: Some(size.height),
            },
            size,
        );
        self.coef_values = values;
    }

    /// Sets up the next TR-BDF2 steps ([`Multigrid::encode_step`]) of `dt` seconds for species
    /// with these (D*, R, k). `previous_dt` is the length of the step that led to Cⁿ, when the
    /// history holds its start Cⁿ⁻¹: the first stage then starts from the extrapolation
    /// Cⁿ + θ·(Cⁿ − Cⁿ⁻¹) with θ = [`first_stage_theta`].
    pub fn set_step(
        &mut self,
        gpu: &Gpu,
        dt: f64,
        previous_dt: Option<f64>,
        species: &[TransportCoef],
    ) {
        assert_eq!(species.len(), self.ns, "one coefficient set per species");
        let values = species
            .iter()
            .map(|sp| {
                let c = step_coefficients(*sp, dt);
                [c.d, c.m, c.r, 0.0]
            })
            .collect();
        self.write_coefficients(gpu, values, first_stage_theta(dt, previous_dt));
    }

    /// Records the copy of Cⁿ into the history's Cⁿ⁻¹ layers; it must precede the writing of
    /// the next step's Cⁿ.
    pub fn encode_keep_history(&self, enc: &mut wgpu::CommandEncoder) {
        let f = &self.levels[0];
        let nsm = (self.ns * self.members) as u32;
        enc.copy_texture_to_texture(
            layer_copy(&self.history, 0),
            layer_copy(&self.history, 2 * nsm),
            wgpu::Extent3d {
                width: f.ntx(),
                height: f.ny as u32,
                depth_or_array_layers: nsm,
            },
        );
    }

    /// Records the copy of member `member`'s Cⁿ layers of the history into `to`, a one-member
    /// solver of the same problem: all that the next step reads of the last one (the other
    /// layers and the level textures are rewritten by each step), so `to` continues exactly as
    /// the member would.
    pub fn encode_copy_member(
        &self,
        enc: &mut wgpu::CommandEncoder,
        member: usize,
        to: &Multigrid,
    ) {
        assert!(member < self.members && to.members == 1 && to.ns == self.ns);
        let f = &self.levels[0];
        let extent = wgpu::Extent3d {
            width: f.ntx(),
            height: f.ny as u32,
            depth_or_array_layers: self.ns as u32,
        };
        let first = (member * self.ns) as u32;
        enc.copy_texture_to_texture(
            layer_copy(&self.history, first),
            layer_copy(&to.history, 0),
            extent,
        );
    }

    /// The fine level's history texture: Cⁿ in layers 0..ns and the source f = w·k·goal in
    /// layers ns..2ns, written by the caller before [`Multigrid::encode_step`], and Cⁿ⁻¹ in
    /// layers 2ns..3ns ([`Multigrid::encode_keep_history`]).
    pub fn history_texture(&self) -> &wgpu::Texture {
        &self.history
    }

    /// Where [`Multigrid::encode_step`] leaves Cⁿ⁺¹: the fine level's `x[0]` (each solve flips
    /// the parity once per cycle, and each stage starts from its initial guess on the other
    /// side of the one its right-hand side kernel read).
    pub fn step_solution_texture(&self) -> &wgpu::Texture {
        &self.levels[0].x[0]
    }

    /// Records one TR-BDF2 step: the first stage's right-hand side and initial guess from Cⁿ
    /// (the fine level's `x[0]`) and the history, its solve, the second stage's right-hand side,
    /// initial guess and solve.
    pub fn encode_step(&self, pass: &mut wgpu::ComputePass) {
        let f = &self.levels[0];
        self.dispatch(pass, &self.rhs_tr, &self.rhs_tr_group, 0, f.ntx(), f.ny);
        let star = self.encode_solve_from(pass, 1);
        self.dispatch(
            pass,
            &self.rhs_bdf2,
            &self.rhs_bdf2_groups[star],
            0,
            f.ntx(),
            f.ny,
        );
        let end = self.encode_solve_from(pass, 1 - star);
        debug_assert_eq!(end, 0);
    }

    /// Writes Cⁿ (as the initial guess and history), the source f and the previous step's
    /// start Cⁿ⁻¹ for [`Multigrid::step`].
    pub fn upload_step(
        &self,
        gpu: &Gpu,
        c: &[Vec<f32>],
        source: &[Vec<f32>],
        previous: &[Vec<f32>],
    ) {
        let fl = &self.levels[0];
        let ns = self.ns;
        let nsm = ns * self.members;
        for s in 0..ns {
            write_layer(gpu, &fl.x[0], s as u32, fl.nx, fl.ny, &c[s]);
            write_layer(gpu, &self.history, s as u32, fl.nx, fl.ny, &c[s]);
            write_layer(
                gpu,
                &self.history,
                (nsm + s) as u32,
                fl.nx,
                fl.ny,
                &source[s],
            );
            write_layer(
                gpu,
                &self.history,
                (2 * nsm + s) as u32,
                fl.nx,
                fl.ny,
                &previous[s],
            );
        }
    }

    /// Takes one TR-BDF2 step now (see [`Multigrid::upload_step`]).
    pub fn step(&self, gpu: &Gpu) {
        self.submit(gpu, |pass| self.encode_step(pass));
    }

    /// Takes `steps` TR-BDF2 steps of `dt` seconds from the last result (or the upload), with
    /// the source of the upload: each step keeps its start as the next step's history, as the
    /// spatial model's transfer kernels do. `previous_dt` is the step that led to the current
    /// state, if the history holds its start.
    pub fn advance(
        &mut self,
        gpu: &Gpu,
        dt: f64,
        mut previous_dt: Option<f64>,
        species: &[TransportCoef],
        steps: u64,
    ) {
        let f = &self.levels[0];
        let extent = wgpu::Extent3d {
            width: f.ntx(),
            height: f.ny as u32,
            depth_or_array_layers: (self.ns * self.members) as u32,
        };
        for _ in 0..steps {
            self.set_step(gpu, dt, previous_dt, species);
            let mut enc = gpu
                .device
                .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                    label: Some("multigrid step"),
                });
            self.encode_keep_history(&mut enc);
            let f = &self.levels[0];
            enc.copy_texture_to_texture(
                layer_copy(&f.x[0], 0),
                layer_copy(&self.history, 0),
                extent,
            );
            {
                let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor {
                    label: Some("multigrid step"),
                    timestamp_writes: None,
                });
                self.encode_step(&mut pass);
            }
            gpu.queue.submit([enc.finish()]);
            previous_dt = Some(dt);
        }
    }

    /// The history's Cⁿ layers (row-major, one per species): the start of the last step, which
    /// the next step extrapolates from. With [`Multigrid::write_history`] it lets a checkpoint
    /// carry the transport between steps bit for bit (the other layers are rewritten each step).
    pub fn read_history(&self, gpu: &Gpu) -> Result<Vec<Vec<f32>>, GpuError> {
        let f = &self.levels[0];
        (0..self.ns * self.members)
            .map(|s| read_layer(gpu, &self.history, s as u32, f.nx, f.ny, &self.readback))
            .collect()
    }

    /// Writes the history's Cⁿ layers read by [`Multigrid::read_history`] (pad cells are 0, as
    /// the gather kernel leaves them).
    pub fn write_history(&self, gpu: &Gpu, layers: &[Vec<f32>]) {
        let f = &self.levels[0];
        for (s, layer) in layers.iter().enumerate() {
            write_layer(gpu, &self.history, s as u32, f.nx, f.ny, layer);
        }
    }

    /// Reads species `s` of the last step's result back (row-major).
    pub fn read_step(&self, gpu: &Gpu, s: usize) -> Result<Vec<f32>, GpuError> {
        let f = &self.levels[0];
        read_layer(
            gpu,
            self.step_solution_texture(),
            s as u32,
            f.nx,
            f.ny,
            &self.readback,
        )
    }

    /// The fine level's right-hand side b (one layer per species).
    pub fn rhs_texture(&self) -> &wgpu::Texture {
        &self.levels[0].b
    }

    /// Where a solve starts from: the fine level's `x[0]`.
    pub fn guess_texture(&self) -> &wgpu::Texture {
        &self.levels[0].x[0]
    }

    /// Where a solve of [`Multigrid::cycles`] V-cycles leaves the solution.
    pub fn solution_texture(&self) -> &wgpu::Texture {
        &self.levels[0].x[self.final_parity()]
    }

    /// Dispatches per TR-BDF2 step (for the profile).
    pub fn dispatches_per_step(&self) -> u64 {
        2 * self.dispatches_per_solve() + 2
    }

    /// Dispatches per solve.
    pub fn dispatches_per_solve(&self) -> u64 {
        let below = self.levels.len() as u64 - 1;
        // Red and black half-sweeps before and after, restriction, prolongation.
        let per_level = 4 * self.sweeps as u64 + 2;
        self.cycles as u64 * (below * per_level + 1)
    }

    /// The work of one solve in fine-grid passes of one species (each dispatch weighted by its
    /// level's cells relative to the fine level's).
    pub fn fine_passes_per_solve(&self) -> f64 {
        let fine = (self.levels[0].nx * self.levels[0].ny) as f64;
        let last = self.levels.len() - 1;
        let mut passes = 0.0;
        for (l, lv) in self.levels.iter().enumerate() {
            let share = (lv.nx * lv.ny) as f64 / fine;
            // Half-sweeps, the restriction (a residual pass) and the prolongation; the exact
            // coarsest solve is counted as one pass.
            let per_cycle = if l == last {
                1.0
            } else {
                4.0 * self.sweeps as f64 + 2.0
            };
            passes += per_cycle * share;
        }
        passes * self.cycles as f64
    }

    fn final_parity(&self) -> usize {
        // Per V-cycle on the fine level: 2·sweeps half-sweeps before and after (parity kept)
        // and one prolongation (flips).
        self.cycles as usize % 2
    }

    /// Writes an initial guess and right-hand side (row-major fields, one per species).
    pub fn upload(&self, gpu: &Gpu, guess: &[Vec<f32>], rhs: &[Vec<f32>]) {
        let f = &self.levels[0];
        for (s, (x, b)) in guess.iter().zip(rhs).enumerate() {
            write_layer(gpu, &f.x[0], s as u32, f.nx, f.ny, x);
            write_layer(gpu, &f.b, s as u32, f.nx, f.ny, b);
        }
    }

    /// Reads species `s` of the solution back (row-major).
    pub fn read_solution(&self, gpu: &Gpu, s: usize) -> Result<Vec<f32>, GpuError> {
        let f = &self.levels[0];
        read_layer(
            gpu,
            self.solution_texture(),
            s as u32,
            f.nx,
            f.ny,
            &self.readback,
        )
    }

    /// Records one solve (the fine level's `x[0]` as initial guess, its b as right-hand side).
    pub fn encode_solve(&self, pass: &mut wgpu::ComputePass) {
        let end = self.encode_solve_from(pass, 0);
        debug_assert_eq!(end, self.final_parity());
    }

    /// Records one solve starting from the fine level's x[`start`]; returns where it ends.
    fn encode_solve_from(&self, pass: &mut wgpu::ComputePass, start: usize) -> usize {
        let mut cur = Cursor(vec![0; self.levels.len()]);
        cur.0[0] = start;
        for _ in 0..self.cycles {
            self.encode_cycle(pass, 0, &mut cur);
        }
        cur.0[0]
    }

    fn submit(&self, gpu: &Gpu, record: impl FnOnce(&mut wgpu::ComputePass)) {
        let mut enc = gpu
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("multigrid"),
            });
        {
            let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("multigrid"),
                timestamp_writes: None,
            });
            record(&mut pass);
        }
        gpu.queue.submit([enc.finish()]);
    }

    /// Solves now (uploads nothing; see [`Multigrid::upload`]).
    pub fn solve(&self, gpu: &Gpu) {
        self.submit(gpu, |pass| self.encode_solve(pass));
    }

    fn dispatch(
        &self,
        pass: &mut wgpu::ComputePass,
        pipeline: &wgpu::ComputePipeline,
        group: &wgpu::BindGroup,
        slot: usize,
        texels: u32,
        rows: usize,
    ) {
        pass.set_pipeline(pipeline);
        pass.set_bind_group(0, group, &[(slot as u64 * SLOT) as u32]);
        pass.dispatch_workgroups(texels.div_ceil(WG_X), rows as u32, self.members as u32);
    }

    fn encode_sweep(&self, pass: &mut wgpu::ComputePass, l: usize, cur: &mut Cursor) {
        let lv = &self.levels[l];
        for colour in 0..2 {
            let c = cur.0[l];
            self.dispatch(
                pass,
                &self.smooth,
                &lv.sweep[c],
                2 * l + colour,
                lv.ntx(),
                lv.ny,
            );
            cur.0[l] = 1 - c;
        }
    }

    fn encode_cycle(&self, pass: &mut wgpu::ComputePass, l: usize, cur: &mut Cursor) {
        let lv = &self.levels[l];
        if l + 1 == self.levels.len() {
            let group = lv.coarse.as_ref().expect("the coarsest level");
            self.dispatch(pass, &self.coarse, group, 2 * l, lv.ntx(), lv.ny);
            cur.0[l] = 0;
            return;
        }
        for _ in 0..self.sweeps {
            self.encode_sweep(pass, l, cur);
        }
        let c = cur.0[l];
        let coarse = &self.levels[l + 1];
        let restrict = lv.restrict.as_ref().expect("a coarser level");
        self.dispatch(
            pass,
            &self.restrict,
            &restrict[c],
            2 * l,
            coarse.ntx(),
            coarse.ny,
        );
        cur.0[l + 1] = 0;
        self.encode_cycle(pass, l + 1, cur);
        let prolong = lv.prolong.as_ref().expect("a coarser level");
        let group = &prolong[c][cur.0[l + 1]];
        self.dispatch(pass, &self.prolong, group, 2 * l, lv.ntx(), lv.ny);
        cur.0[l] = 1 - c;
        for _ in 0..self.sweeps {
            self.encode_sweep(pass, l, cur);
        }
    }
}
