//! Packed `rgba32float` layers (four cells per texel): creation, upload, readback with the one
//! 256-byte row-padding helper, uniform buffers, and the device-limit check of a grid.

use crate::error::GpuError;
use crate::gpu::Gpu;
use crate::gpu::rd_step::KernelLayout;
use crate::model::Problem;
use bytemuck::Pod;

/// Number of texels per row for `nx` cells.
pub fn texels_per_row(nx: usize) -> usize {
    nx.div_ceil(KernelLayout::CELLS_PER_TEXEL)
}

/// A uniform buffer holding `value`.
pub fn uniform_buffer<T: Pod>(gpu: &Gpu, label: &str, value: &T) -> wgpu::Buffer {
    let buf = gpu.device.create_buffer(&wgpu::BufferDescriptor {
        label: Some(label),
        size: std::mem::size_of::<T>() as u64,
        usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    gpu.queue.write_buffer(&buf, 0, bytemuck::bytes_of(value));
    buf
}

/// The copy location of one layer of a texture.
fn layer_origin(tex: &wgpu::Texture, layer: u32) -> wgpu::TexelCopyTextureInfo<'_> {
    wgpu::TexelCopyTextureInfo {
        texture: tex,
        mip_level: 0,
        origin: wgpu::Origin3d {
            x: 0,
            y: 0,
            z: layer,
        },
        aspect: wgpu::TextureAspect::All,
    }
}

/// A MAP_READ buffer large enough for one layer of a packed nx × ny texture.
pub fn readback_buffer(gpu: &Gpu, nx: usize, ny: usize) -> wgpu::Buffer {
    gpu.device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("readback"),
        size: padded_bytes_per_row(texels_per_row(nx) as u32) as u64 * ny as u64,
        usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    })
}

/// Reads one layer of a packed texture back to the host (row-major ny × nx) through `buffer`
/// (from [`readback_buffer`]); rows are padded to 256 bytes in the copy.
pub fn read_layer(
    gpu: &Gpu,
    tex: &wgpu::Texture,
    layer: u32,
    nx: usize,
    ny: usize,
    buffer: &wgpu::Buffer,
) -> Result<Vec<f32>, GpuError> {
    let ntx = texels_per_row(nx) as u32;
    let padded = padded_bytes_per_row(ntx);
    let mut encoder = gpu
        .device
        .create_command_encoder(&wgpu::CommandEncoderDescriptor {
            label: Some("readback"),
        });
    encoder.copy_texture_to_buffer(
        layer_origin(tex, layer),
        wgpu::TexelCopyBufferInfo {
            buffer,
            layout: wgpu::TexelCopyBufferLayout {
                offset: 0,
                bytes_per_row: Some(padded),
                rows_per_image: Some(ny as u32),
            },
        },
        wgpu::Extent3d {
            width: ntx,
            height: ny as u32,
            depth_or_array_layers: 1,
        },
    );
    gpu.queue.submit([encoder.finish()]);
    gpu.map_read(buffer, padded as u64 * ny as u64, |bytes| {
        unpack_rows(bytes, padded as usize, nx, ny)
    })
}

/// A packed rgba32float 2-D texture array of `layers` layers for an nx × ny grid.
pub fn packed_texture(
    gpu: &Gpu,
    label: &str,
    nx: usize,
    ny: usize,
    layers: u32,
    usage: wgpu::TextureUsages,
) -> wgpu::Texture {
    gpu.device.create_texture(&wgpu::TextureDescriptor {
        label: Some(label),
        size: wgpu::Extent3d {
            width: texels_per_row(nx) as u32,
            height: ny as u32,
            depth_or_array_layers: layers,
        },
        mip_level_count: 1,
        sample_count: 1,
        dimension: wgpu::TextureDimension::D2,
        format: wgpu::TextureFormat::Rgba32Float,
        usage,
        view_formats: &[],
    })
}

/// A view of all layers of a texture as a 2-D array.
pub fn array_view(t: &wgpu::Texture) -> wgpu::TextureView {
    t.create_view(&wgpu::TextureViewDescriptor {
        dimension: Some(wgpu::TextureViewDimension::D2Array),
        ..Default::default()
    })
}

/// Bytes per row of a texel-row copy, padded to wgpu's 256-byte alignment.
pub fn padded_bytes_per_row(ntx: u32) -> u32 {
    let unpadded = ntx * 16;
    unpadded.div_ceil(wgpu::COPY_BYTES_PER_ROW_ALIGNMENT) * wgpu::COPY_BYTES_PER_ROW_ALIGNMENT
}

/// Unpacks a padded texel-row copy into a row-major ny × nx array (drops pad cells and bytes).
pub fn unpack_rows(bytes: &[u8], padded_row_bytes: usize, nx: usize, ny: usize) -> Vec<f32> {
    let mut out = Vec::with_capacity(nx * ny);
    for y in 0..ny {
        let row = &bytes[y * padded_row_bytes..y * padded_row_bytes + nx * 4];
        out.extend(
            row.chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])),
        );
    }
    out
}

/// Writes one row-major ny × nx array into a layer of a packed texture (pad cells are 0).
pub fn write_layer(gpu: &Gpu, tex: &wgpu::Texture, layer: u32, nx: usize, ny: usize, data: &[f32]) {
    let ntx = texels_per_row(nx);
    let mut packed = vec![0.0f32; ntx * 4 * ny];
    for y in 0..ny {
        packed[y * ntx * 4..y * ntx * 4 + nx].copy_from_slice(&data[y * nx..(y + 1) * nx]);
    }
    gpu.queue.write_texture(
        layer_origin(tex, layer),
        bytemuck::cast_slice(&packed),
        wgpu::TexelCopyBufferLayout {
            offset: 0,
            bytes_per_row: Some(ntx as u32 * 16),
            rows_per_image: Some(ny as u32),
        },
        wgpu::Extent3d {
            width: ntx as u32,
            height: ny as u32,
            depth_or_array_layers: 1,
        },
    );
}

/// Refuses grids the device cannot hold, before anything is allocated.
pub fn check_limits(gpu: &Gpu, problem: &Problem) -> Result<(), GpuError> {
    let g = &problem.grid;
    let l = &gpu.limits;
    let too_large = |what, needed: u64, limit: u64| GpuError::GridTooLarge {
        nx: g.nx as u32,
        ny: g.ny as u32,
        adapter: gpu.info.name.clone(),
        what,
        needed,
        limit,
    };
    let ntx = texels_per_row(g.nx) as u64;
    let max_dim = l.max_texture_dimension_2d as u64;
    if ntx > max_dim {
        return Err(too_large(
            "the packed row width nx/4 (texels)",
            ntx,
            max_dim,
        ));
    }
    if g.ny as u64 > max_dim {
        return Err(too_large("the row count ny", g.ny as u64, max_dim));
    }
    let layers = 2 * problem.species.len() as u64;
    if layers > l.max_texture_array_layers as u64 {
        return Err(too_large(
            "the texture layers (2 per species)",
            layers,
            l.max_texture_array_layers as u64,
        ));
    }
    let readback = padded_bytes_per_row(ntx as u32) as u64 * g.ny as u64;
    if readback > l.max_buffer_size {
        return Err(too_large(
            "the readback buffer (bytes)",
            readback,
            l.max_buffer_size,
        ));
    }
    Ok(())
}
