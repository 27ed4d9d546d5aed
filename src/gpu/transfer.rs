//! The transfer kernels (shaders/transfer.wgsl) that move the diffusing mediators between the
//! reaction state (one storage buffer of cells) and the transport textures (RKL2 or multigrid):
//! their WGSL composition and bind-group entries. `tissue::TissueSim` builds and dispatches them.

use crate::gpu::WORKGROUP;
use crate::gpu::reaction::{AUX_STRIDE, STATE_STRIDE};
use crate::gpu::texture::texels_per_row;
use crate::model::network::state::MEDIATOR_SLOTS;

/// One transported species in the kernels' `species` array (shaders/transfer.wgsl; layout checked
/// in tests/it/shaders.rs): clearance rate k, retardation R, pial permeability.
#[repr(C)]
#[derive(Debug, Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
pub struct Species {
    pub k: f32,
    pub r: f32,
    pub p_pia: f32,
    pub _pad: f32,
}

/// One bind-group entry.
pub fn entry(binding: u32, resource: wgpu::BindingResource<'_>) -> wgpu::BindGroupEntry<'_> {
    wgpu::BindGroupEntry { binding, resource }
}

/// The WGSL of the transfer kernels of the mediators `members` on an `nx` × `ny` grid.
pub fn transfer_shader_source(nx: usize, ny: usize, members: &[usize]) -> String {
    ensemble_transfer_source(nx, ny, members, 1)
}

/// [`transfer_shader_source`] for an ensemble of `copies` grids side by side (the implicit
/// transport's kernels only).
pub fn ensemble_transfer_source(nx: usize, ny: usize, members: &[usize], copies: usize) -> String {
    let list = |v: Vec<usize>| {
        v.iter()
            .map(|s| format!("{s}u"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let n = members.len();
    format!(
        "const WG_X: u32 = {WORKGROUP}u;\nconst NX: u32 = {}u;\nconst NY: u32 = {}u;\nconst NTX: u32 = {}u;\nconst NS: u32 = {n}u;\nconst ENS: u32 = {copies}u;\n\
         const STRIDE: u32 = {STATE_STRIDE}u;\nconst AUX: u32 = {AUX_STRIDE}u;\n\
         const SLOTS = array<u32, {n}>({});\nconst MEMBERS = array<u32, {n}>({});\n{}",
        nx,
        ny,
        texels_per_row(nx),
        list(members.iter().map(|&m| MEDIATOR_SLOTS[m]).collect()),
        list(members.to_vec()),
        crate::gpu::shader::expand_species(include_str!("../../shaders/transfer.wgsl"), n)
    )
}
