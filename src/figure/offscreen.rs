//! Drawing egui into a texture with no window: the composed figures of `dorsalhorn run` use the
//! window's drawing code and its renderer (egui-wgpu) on the run's own device, then read the
//! pixels back. Nothing here needs a display or an X server.

use crate::error::Error;
use crate::gpu::Gpu;

/// The target format: egui blends in gamma space and wants a non-sRGB target, as the window's
/// surface; the field colours are sRGB bytes and reach the PNG unchanged.
const FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::Rgba8Unorm;

/// An egui renderer that draws into textures and reads them back.
pub struct Offscreen {
    renderer: egui_wgpu::Renderer,
}

impl Offscreen {
    pub fn new(gpu: &Gpu) -> Offscreen {
        Offscreen {
            renderer: egui_wgpu::Renderer::new(
                &gpu.device,
                FORMAT,
                egui_wgpu::RendererOptions::PREDICTABLE,
            ),
        }
    }

    /// Runs `build` for one frame of `size` pixels at `ppp` pixels per point and returns the
    /// frame's RGB bytes (row-major, row 0 at the top).
    pub fn draw(
        &mut self,
        gpu: &Gpu,
        ctx: &egui::Context,
        size: [u32; 2],
        ppp: f32,
        background: [u8; 3],
        build: impl FnMut(&mut egui::Ui),
    ) -> Result<Vec<u8>, Error> {
        let (w, h) = (size[0], size[1]);
        let max = gpu.limits.max_texture_dimension_2d;
        if w == 0 || h == 0 || w > max || h > max {
            return Err(Error::Output(format!(
                "a figure of {w} × {h} pixels does not fit this adapter (1 to {max} pixels a side): \
                 choose a smaller output.figure_size"
            )));
        }
        let mut raw = egui::RawInput {
            screen_rect: Some(egui::Rect::from_min_size(
                egui::Pos2::ZERO,
                egui::vec2(w as f32 / ppp, h as f32 / ppp),
            )),
            max_texture_side: Some(max as usize),
            ..Default::default()
        };
        raw.viewports
            .entry(egui::ViewportId::ROOT)
            .or_default()
            .native_pixels_per_point = Some(ppp);
        let full = ctx.run_ui(raw, build);
        let jobs = ctx.tessellate(full.shapes, full.pixels_per_point);
        let screen = egui_wgpu::ScreenDescriptor {
            size_in_pixels: [w, h],
            pixels_per_point: full.pixels_per_point,
        };
        for (id, deltas) in &full.textures_delta.set {
            for d in deltas {
                self.renderer
                    .update_texture(&gpu.device, &gpu.queue, *id, d);
            }
        }
        let mut enc = gpu
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("figure"),
            });
        let extra = self
            .renderer
            .update_buffers(&gpu.device, &gpu.queue, &mut enc, &jobs, &screen);
        let tex = target_texture(&gpu.device, [w, h], FORMAT);
        let view = tex.create_view(&wgpu::TextureViewDescriptor::default());
        let c = |v: u8| f64::from(v) / 255.0;
        let clear = wgpu::Color {
            r: c(background[0]),
            g: c(background[1]),
            b: c(background[2]),
            a: 1.0,
        };
        draw_pass(&mut enc, &view, clear, &self.renderer, &jobs, &screen);
        read_back(&gpu.device, &gpu.queue, enc, extra, &tex, [w, h], || {
            for id in &full.textures_delta.free {
                self.renderer.free_texture(id);
            }
        })
    }
}

/// A texture of `size` pixels and `format` to draw into and copy from.
pub fn target_texture(
    device: &wgpu::Device,
    size: [u32; 2],
    format: wgpu::TextureFormat,
) -> wgpu::Texture {
    device.create_texture(&wgpu::TextureDescriptor {
        label: Some("offscreen target"),
        size: wgpu::Extent3d {
            width: size[0],
            height: size[1],
            depth_or_array_layers: 1,
        },
        mip_level_count: 1,
        sample_count: 1,
        dimension: wgpu::TextureDimension::D2,
        format,
        usage: wgpu::TextureUsages::RENDER_ATTACHMENT | wgpu::TextureUsages::COPY_SRC,
        view_formats: &[],
    })
}

/// Records one render pass that clears `view` to `clear` and draws egui's paint `jobs` into it
/// (the window's frame and screenshot, and the figures).
pub fn draw_pass(
    enc: &mut wgpu::CommandEncoder,
    view: &wgpu::TextureView,
    clear: wgpu::Color,
    renderer: &egui_wgpu::Renderer,
    jobs: &[egui::ClippedPrimitive],
    screen: &egui_wgpu::ScreenDescriptor,
) {
    let mut pass = enc
        .begin_render_pass(&wgpu::RenderPassDescriptor {
            label: Some("egui"),
            color_attachments: &[Some(wgpu::RenderPassColorAttachment {
                view,
                depth_slice: None,
                resolve_target: None,
                ops: wgpu::Operations {
                    load: wgpu::LoadOp::Clear(clear),
                    store: wgpu::StoreOp::Store,
                },
            })],
            depth_stencil_attachment: None,
            timestamp_writes: None,
            occlusion_query_set: None,
            multiview_mask: None,
        })
        .forget_lifetime();
    renderer.render(&mut pass, jobs, screen);
}

/// Copies `tex` (8-bit RGBA or BGRA, `size` pixels) to a buffer, submits `enc` after `extra`,
/// runs `after_submit` (the window presents its frame there), waits and returns the RGB bytes.
/// The window's screenshot uses it too.
pub fn read_back(
    device: &wgpu::Device,
    queue: &wgpu::Queue,
    mut enc: wgpu::CommandEncoder,
    extra: Vec<wgpu::CommandBuffer>,
    tex: &wgpu::Texture,
    size: [u32; 2],
    after_submit: impl FnOnce(),
) -> Result<Vec<u8>, Error> {
    let [w, h] = size;
    let bgra = matches!(
        tex.format(),
        wgpu::TextureFormat::Bgra8Unorm | wgpu::TextureFormat::Bgra8UnormSrgb
    );
    let padded = (4 * w).div_ceil(256) * 256;
    let buf = device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("readback"),
        size: u64::from(padded) * u64::from(h),
        usage: wgpu::BufferUsages::COPY_DST | wgpu::BufferUsages::MAP_READ,
        mapped_at_creation: false,
    });
    enc.copy_texture_to_buffer(
        tex.as_image_copy(),
        wgpu::TexelCopyBufferInfo {
            buffer: &buf,
            layout: wgpu::TexelCopyBufferLayout {
                offset: 0,
                bytes_per_row: Some(padded),
                rows_per_image: Some(h),
            },
        },
        wgpu::Extent3d {
            width: w,
            height: h,
            depth_or_array_layers: 1,
        },
    );
    queue.submit(extra.into_iter().chain(std::iter::once(enc.finish())));
    after_submit();
    let slice = buf.slice(..);
    slice.map_async(wgpu::MapMode::Read, |_| {});
    device
        .poll(wgpu::PollType::wait_indefinitely())
        .map_err(|e| Error::Output(format!("readback from the GPU failed: {e}")))?;
    let data = slice
        .get_mapped_range()
        .map_err(|e| Error::Output(format!("readback from the GPU failed: {e}")))?;
    let mut rgb = Vec::with_capacity((w * h * 3) as usize);
    for row in 0..h as usize {
        let line = &data[row * padded as usize..][..4 * w as usize];
        for px in line.chunks_exact(4) {
            if bgra {
                rgb.extend([px[2], px[1], px[0]]);
            } else {
                rgb.extend([px[0], px[1], px[2]]);
            }
        }
    }
    Ok(rgb)
}
