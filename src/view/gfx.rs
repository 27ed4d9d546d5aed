//! Drawing the window: the surface, the egui renderer, presenting a frame and the screenshot.

use super::{App, UiState};
use crate::colormap::Colormap;
use crate::error::Error;
use crate::figure::panel::gradient_texture;
use crate::output;
use crate::view::sim_thread::ToSim;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use winit::event_loop::ActiveEventLoop;
use winit::window::Window;

pub(crate) struct Gfx {
    pub(crate) window: Arc<Window>,
    pub(crate) surface: wgpu::Surface<'static>,
    pub(crate) device: wgpu::Device,
    pub(crate) queue: wgpu::Queue,
    pub(crate) config: wgpu::SurfaceConfiguration,
    pub(crate) egui_state: egui_winit::State,
    pub(crate) renderer: egui_wgpu::Renderer,
}

/// The dark theme's panel colour (27, 27, 27 in sRGB; the target is not sRGB-encoded).
const CLEAR: wgpu::Color = wgpu::Color {
    r: 27.0 / 255.0,
    g: 27.0 / 255.0,
    b: 27.0 / 255.0,
    a: 1.0,
};

pub(crate) fn ensure_gradients(ui: &mut UiState, ctx: &egui::Context) {
    if !ui.gradients.is_empty() {
        return;
    }
    for name in Colormap::NAMES {
        let c = Colormap::from_name(name).expect("listed name");
        ui.gradients.push((c, gradient_texture(ctx, c)));
    }
}

fn render(
    gfx: &mut Gfx,
    jobs: &[egui::ClippedPrimitive],
    delta: &egui::TexturesDelta,
    ppp: f32,
    screenshot: Option<&Path>,
) -> Result<(), Error> {
    let size = gfx.window.inner_size();
    if size.width == 0 || size.height == 0 {
        return Ok(());
    }
    if size.width != gfx.config.width || size.height != gfx.config.height {
        gfx.config.width = size.width;
        gfx.config.height = size.height;
        gfx.surface.configure(&gfx.device, &gfx.config);
    }
    let screen = egui_wgpu::ScreenDescriptor {
        size_in_pixels: [gfx.config.width, gfx.config.height],
        pixels_per_point: ppp,
    };
    for (id, deltas) in &delta.set {
        for d in deltas {
            gfx.renderer.update_texture(&gfx.device, &gfx.queue, *id, d);
        }
    }
    let mut enc = gfx
        .device
        .create_command_encoder(&wgpu::CommandEncoderDescriptor {
            label: Some("egui"),
        });
    let extra = gfx
        .renderer
        .update_buffers(&gfx.device, &gfx.queue, &mut enc, jobs, &screen);
    let frame = match gfx.surface.get_current_texture() {
        wgpu::CurrentSurfaceTexture::Success(f) | wgpu::CurrentSurfaceTexture::Suboptimal(f) => {
            Some(f)
        }
        wgpu::CurrentSurfaceTexture::Outdated | wgpu::CurrentSurfaceTexture::Lost => {
            gfx.surface.configure(&gfx.device, &gfx.config);
            None
        }
        _ => None,
    };
    let draw =
        |enc: &mut wgpu::CommandEncoder, view: &wgpu::TextureView, r: &egui_wgpu::Renderer| {
            crate::figure::offscreen::draw_pass(enc, view, CLEAR, r, jobs, &screen);
        };
    if let Some(f) = &frame {
        let view = f
            .texture
            .create_view(&wgpu::TextureViewDescriptor::default());
        draw(&mut enc, &view, &gfx.renderer);
    }
    // A screenshot draws the same paint jobs into an offscreen texture of the surface's format
    // and reads it back after the frame is presented (`figure::offscreen::read_back`).
    let (w, h) = (gfx.config.width, gfx.config.height);
    let shot = screenshot.map(|path| {
        let tex = crate::figure::offscreen::target_texture(&gfx.device, [w, h], gfx.config.format);
        let view = tex.create_view(&wgpu::TextureViewDescriptor::default());
        draw(&mut enc, &view, &gfx.renderer);
        (path, tex)
    });
    let present = || {
        if let Some(f) = frame {
            gfx.window.pre_present_notify();
            gfx.queue.present(f);
        }
        for id in &delta.free {
            gfx.renderer.free_texture(id);
        }
    };
    match shot {
        Some((path, tex)) => {
            let rgb = crate::figure::offscreen::read_back(
                &gfx.device,
                &gfx.queue,
                enc,
                extra,
                &tex,
                [w, h],
                present,
            )?;
            output::write_atomic(path, &output::png_bytes(&rgb, w as usize, h as usize))?;
        }
        None => {
            gfx.queue
                .submit(extra.into_iter().chain(std::iter::once(enc.finish())));
            present();
        }
    }
    Ok(())
}

impl App {
    pub(super) fn create_gfx(&mut self, el: &ActiveEventLoop) -> Result<Gfx, Error> {
        let title = format!("dorsalhorn view — {}", self.opts.scenario.name);
        let attrs = Window::default_attributes()
            .with_title(title)
            .with_inner_size(winit::dpi::PhysicalSize::new(
                self.opts.size[0],
                self.opts.size[1],
            ));
        let window = Arc::new(
            el.create_window(attrs)
                .map_err(|e| super::no_display(&self.opts, &e.to_string()))?,
        );
        let instance =
            wgpu::Instance::new(wgpu::InstanceDescriptor::new_with_display_handle_from_env(
                Box::new(el.owned_display_handle()),
            ));
        let surface = instance
            .create_surface(window.clone())
            .map_err(|e| Error::Output(format!("cannot draw into the window: {e}")))?;
        let (adapter, device, queue) = crate::gpu::for_surface(&instance, &surface)?;
        let size = window.inner_size();
        let mut config = surface
            .get_default_config(&adapter, size.width.max(1), size.height.max(1))
            .ok_or_else(|| Error::Output("the adapter cannot present to this window".into()))?;
        // egui blends in gamma space and wants a non-sRGB target; the field colours are sRGB
        // bytes, so they reach the screen unchanged, as in the PNG writer.
        let caps = surface.get_capabilities(&adapter);
        if let Some(f) = caps.formats.iter().find(|f| !f.is_srgb()) {
            config.format = *f;
        }
        config.usage = wgpu::TextureUsages::RENDER_ATTACHMENT;
        config.present_mode = wgpu::PresentMode::AutoVsync;
        surface.configure(&device, &config);
        let egui_state = egui_winit::State::new(
            self.ctx.clone(),
            egui::ViewportId::ROOT,
            &window,
            Some(window.scale_factor() as f32),
            None,
            Some(device.limits().max_texture_dimension_2d as usize),
        );
        let renderer = egui_wgpu::Renderer::new(
            &device,
            config.format,
            egui_wgpu::RendererOptions::PREDICTABLE,
        );
        Ok(Gfx {
            window,
            surface,
            device,
            queue,
            config,
            egui_state,
            renderer,
        })
    }

    pub(super) fn redraw(&mut self, el: &ActiveEventLoop) {
        if self.script_finished {
            el.exit();
            return;
        }
        self.drain_sim();
        let now = Instant::now();
        let frame_dt = self
            .ui
            .frame_times
            .back()
            .map_or(0.0, |t| now.duration_since(*t).as_secs_f64())
            .min(0.25);
        self.ui.frame_times.push_back(now);
        while self.ui.frame_times.len() > 60 {
            self.ui.frame_times.pop_front();
        }
        // Scripted mode: each frame takes exactly `steps_per_frame` steps, waited for.
        if let Some(script) = self.opts.script.clone() {
            if self.ui.snap.is_some() && self.ui.geometry.is_some() {
                // A demo started at a later step (--step) goes there first.
                self.wait_for_jump();
                if self.script_started.is_none() {
                    self.script_started = Some(Instant::now());
                }
                if self.script_frames < script.frames && script.steps_per_frame > 0 {
                    let _ = self.to_sim.send(ToSim::Steps(script.steps_per_frame));
                    self.wait_steps((self.script_frames + 1) * script.steps_per_frame);
                }
                self.script_frames += 1;
            } else if self.ui.sim_error.is_none() {
                // Wait for the baseline without spinning.
                if let Ok(m) = self.from_sim.recv_timeout(Duration::from_millis(20)) {
                    self.on_sim(m);
                }
            }
        }
        self.drive(frame_dt);
        let Some(mut gfx) = self.gfx.take() else {
            return;
        };
        let t_ui = Instant::now();
        let raw = gfx.egui_state.take_egui_input(&gfx.window);
        let ctx = self.ctx.clone();
        let full = ctx.run_ui(raw, |ui| self.build_ui(ui));
        gfx.egui_state
            .handle_platform_output(&gfx.window, full.platform_output);
        let ppp = full.pixels_per_point;
        self.next_repaint = full
            .viewport_output
            .get(&egui::ViewportId::ROOT)
            .map(|v| v.repaint_delay)
            .filter(|d| *d < Duration::from_secs(3600))
            .map(|d| Instant::now() + d);
        let jobs = ctx.tessellate(full.shapes, ppp);
        let shot = self.ui.screenshot.take().or_else(|| {
            let s = self.opts.script.as_ref()?;
            (self.script_frames >= s.frames && self.ui.geometry.is_some())
                .then(|| s.screenshot.clone())
                .flatten()
        });
        let t_draw = Instant::now();
        let result = render(&mut gfx, &jobs, &full.textures_delta, ppp, shot.as_deref());
        if self.script_started.is_some() && shot.is_none() {
            self.cpu_s += (t_draw - t_ui).as_secs_f64();
            self.draw_s += t_draw.elapsed().as_secs_f64();
            self.timed_frames += 1;
        }
        if let Err(e) = result {
            self.ui.status = e.to_string();
            if self.opts.script.is_some() {
                self.fatal = Some(e);
                el.exit();
            }
        } else if let Some(p) = &shot {
            self.ui.status = format!("screenshot {}", p.display());
        }
        self.frames += 1;
        if self.first_frame_s.is_none() {
            let t = self.start.elapsed().as_secs_f64();
            self.first_frame_s = Some(t);
            eprintln!("dorsalhorn view: first frame after {t:.2} s");
        }
        if self.first_field_frame_s.is_none() && self.ui.panels[0].values.len() > 1 {
            let t = self.start.elapsed().as_secs_f64();
            self.first_field_frame_s = Some(t);
            eprintln!("dorsalhorn view: first frame with fields after {t:.2} s");
        }
        self.gfx = Some(gfx);
        if let Some(s) = &self.opts.script
            && self.ui.geometry.is_some()
            && self.script_frames >= s.frames
        {
            self.finish_script(shot.as_deref());
            self.script_finished = true;
            el.exit();
        }
        if let Some(msg) = &self.ui.sim_error
            && self.opts.script.is_some()
        {
            self.fatal = Some(Error::Output(format!("the simulation failed: {msg}")));
            el.exit();
        }
    }

    pub(super) fn request_screenshot(&mut self) {
        let t = self.ui.snap.as_ref().map_or(0.0, |s| s.time_s);
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis());
        self.ui.screenshot = Some(self.opts.out_dir.join(format!(
            "screenshot_t{:06}min_{stamp}.png",
            (t / 60.0).round() as u64
        )));
    }
}
