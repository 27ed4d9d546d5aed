//! The one place that asks for a GPU adapter and opens a device.
//!
//! Everything else borrows `&Gpu` (its `device` and `queue`); tests open their own `Gpu` and hand
//! it in. Adapter choice honours wgpu's environment variables (`WGPU_BACKEND`,
//! `WGPU_ADAPTER_NAME`, `WGPU_POWER_PREF`).

pub mod binding;
pub mod multigrid;
pub mod rd_step;
pub mod reaction;
pub mod rkl2;
pub mod shader;
pub mod texture;
pub mod transfer;

/// The workgroup width of every kernel (invocations along x). Each composed kernel receives it
/// as `WG_X` in its generated header, so the WGSL never writes the number, and every dispatch
/// divides by it.
pub const WORKGROUP: u32 = 64;
use crate::error::GpuError;

/// An open device with the facts about it that the rest of the program needs.
pub struct Gpu {
    pub device: wgpu::Device,
    pub queue: wgpu::Queue,
    pub info: wgpu::AdapterInfo,
    pub limits: wgpu::Limits,
    /// Kernels compiled on this device, by key ([`Gpu::kernels`]).
    kernels: std::sync::Mutex<Vec<(String, KernelSet)>>,
}

type KernelSet = std::sync::Arc<dyn std::any::Any + Send + Sync>;

/// A short description of one adapter, for `dorsalhorn info` and output metadata.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AdapterSummary {
    pub name: String,
    pub backend: String,
    pub device_type: String,
    pub driver: String,
    pub driver_info: String,
}

impl From<&wgpu::AdapterInfo> for AdapterSummary {
    fn from(info: &wgpu::AdapterInfo) -> Self {
        AdapterSummary {
            name: info.name.clone(),
            backend: format!("{:?}", info.backend),
            device_type: format!("{:?}", info.device_type),
            driver: info.driver.clone(),
            driver_info: info.driver_info.clone(),
        }
    }
}

fn instance() -> wgpu::Instance {
    wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env())
}

impl Gpu {
    /// Opens the preferred adapter (high performance, env overrides honoured) with the adapter's
    /// own limits, so that large grids are possible where the hardware allows them.
    pub fn new() -> Result<Gpu, GpuError> {
        let instance = instance();
        let adapter = match std::env::var("WGPU_ADAPTER_NAME") {
            Ok(wanted) if !wanted.is_empty() => adapter_by_name(&instance, &wanted)?,
            _ => pollster::block_on(
                instance.request_adapter(&wgpu::RequestAdapterOptions {
                    power_preference: wgpu::PowerPreference::from_env()
                        .unwrap_or(wgpu::PowerPreference::HighPerformance),
                    force_fallback_adapter: false,
                    compatible_surface: None,
                    apply_limit_buckets: false,
                }),
            )
            .map_err(|e| GpuError::NoAdapter {
                detail: e.to_string(),
            })?,
        };
        Self::from_adapter(&adapter)
    }

    fn from_adapter(adapter: &wgpu::Adapter) -> Result<Gpu, GpuError> {
        let info = adapter.get_info();
        let limits = adapter.limits();
        let desc = wgpu::DeviceDescriptor {
            label: Some("dorsalhorn"),
            required_features: wgpu::Features::empty(),
            required_limits: limits.clone(),
            experimental_features: wgpu::ExperimentalFeatures::disabled(),
            memory_hints: wgpu::MemoryHints::Performance,
            trace: wgpu::Trace::Off,
        };
        let (device, queue) =
            pollster::block_on(adapter.request_device(&desc)).map_err(|e| GpuError::Device {
                adapter: info.name.clone(),
                detail: e.to_string(),
            })?;
        Ok(Gpu {
            device,
            queue,
            info,
            limits,
            kernels: std::sync::Mutex::new(Vec::new()),
        })
    }

    /// Kernels (pipelines, their layouts) compiled once per device: `build` runs the first time
    /// `key` (the shader source, or anything that determines what `build` makes) is asked for
    /// with this type; later calls share the same objects. Compiling the large unrolled kernels
    /// takes most of a second on the software driver, and `validate` builds a tissue per arm.
    pub fn kernels<T: std::any::Any + Send + Sync>(
        &self,
        key: &str,
        build: impl FnOnce() -> T,
    ) -> std::sync::Arc<T> {
        let key = format!("{}\n{key}", std::any::type_name::<T>());
        let cached = {
            let sets = self.kernels.lock().unwrap_or_else(|e| e.into_inner());
            sets.iter()
                .find(|(k, _)| *k == key)
                .map(|(_, set)| set.clone())
        };
        if let Some(set) = cached
            && let Ok(t) = set.downcast::<T>()
        {
            return t;
        }
        let built = std::sync::Arc::new(build());
        let mut sets = self.kernels.lock().unwrap_or_else(|e| e.into_inner());
        sets.push((key, built.clone()));
        built
    }

    /// Whether the adapter is a CPU (software) driver such as lavapipe.
    pub fn is_software(&self) -> bool {
        self.info.device_type == wgpu::DeviceType::Cpu
    }

    pub fn summary(&self) -> AdapterSummary {
        AdapterSummary::from(&self.info)
    }

    /// A compute pipeline for entry point `entry` of `module` (`layout: None` derives the
    /// layout from the shader).
    pub fn compute_pipeline(
        &self,
        layout: Option<&wgpu::PipelineLayout>,
        module: &wgpu::ShaderModule,
        entry: &str,
    ) -> wgpu::ComputePipeline {
        self.device
            .create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some(entry),
                layout,
                module,
                entry_point: Some(entry),
                compilation_options: Default::default(),
                cache: None,
            })
    }

    /// Starts capturing validation errors of the calls that follow (see [`Gpu::validated`]).
    pub fn capture_errors(&self) -> wgpu::ErrorScopeGuard {
        self.device.push_error_scope(wgpu::ErrorFilter::Validation)
    }

    /// Ends a capture started by [`Gpu::capture_errors`]: a validation error becomes a typed
    /// error naming `stage` instead of a panic.
    pub fn validated(
        &self,
        scope: wgpu::ErrorScopeGuard,
        stage: &'static str,
    ) -> Result<(), GpuError> {
        match pollster::block_on(scope.pop()) {
            Some(e) => Err(GpuError::Validation {
                stage,
                detail: e.to_string(),
            }),
            None => Ok(()),
        }
    }

    /// Maps the first `bytes` of a MAP_READ buffer (after submitted copies into it finish),
    /// hands the bytes to `read` and unmaps.
    pub fn map_read<T>(
        &self,
        buffer: &wgpu::Buffer,
        bytes: u64,
        read: impl FnOnce(&[u8]) -> T,
    ) -> Result<T, GpuError> {
        let slice = buffer.slice(..bytes);
        let (tx, rx) = std::sync::mpsc::channel();
        slice.map_async(wgpu::MapMode::Read, move |r| {
            let _ = tx.send(r);
        });
        self.wait()?;
        rx.recv()
            .map_err(|e| GpuError::Readback(e.to_string()))?
            .map_err(|e| GpuError::Readback(e.to_string()))?;
        let out = {
            let view = slice
                .get_mapped_range()
                .map_err(|e| GpuError::Readback(e.to_string()))?;
            read(&view)
        };
        buffer.unmap();
        Ok(out)
    }

    /// Waits until all submitted work is done.
    pub fn wait(&self) -> Result<(), GpuError> {
        self.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map(|_| ())
            .map_err(|e| GpuError::Readback(e.to_string()))
    }
}

/// The first adapter whose name contains `wanted` (case-insensitive), as wgpu's own
/// `WGPU_ADAPTER_NAME` handling does, but with an error listing the adapters where it panics.
fn adapter_by_name(instance: &wgpu::Instance, wanted: &str) -> Result<wgpu::Adapter, GpuError> {
    let adapters = pollster::block_on(instance.enumerate_adapters(wgpu::Backends::all()));
    let lower = wanted.to_lowercase();
    let names: Vec<String> = adapters
        .iter()
        .map(|a| {
            let i = a.get_info();
            format!("`{}` ({:?})", i.name, i.backend)
        })
        .collect();
    adapters
        .into_iter()
        .find(|a| a.get_info().name.to_lowercase().contains(&lower))
        .ok_or_else(|| GpuError::NoAdapter {
            detail: format!(
                "WGPU_ADAPTER_NAME={wanted:?} matches none of the adapters visible here: {}; \
                 set it to part of one of these names, or unset it",
                if names.is_empty() {
                    "there are none".to_string()
                } else {
                    names.join(", ")
                }
            ),
        })
}

/// Every adapter visible to wgpu, with its limits (for `dorsalhorn info`).
pub fn list_adapters() -> Vec<(AdapterSummary, wgpu::Limits)> {
    let instance = instance();
    let adapters = pollster::block_on(instance.enumerate_adapters(wgpu::Backends::all()));
    adapters
        .iter()
        .map(|a| (AdapterSummary::from(&a.get_info()), a.limits()))
        .collect()
}

/// The window's adapter and device: an adapter that can present to `surface`, and a device on
/// it. The window draws on a device of its own while the simulation thread steps on a [`Gpu`],
/// so that drawing never waits behind a transport step (about a second on lavapipe); both
/// devices are requested in this module, the crate's only adapter and device requests.
pub fn for_surface(
    instance: &wgpu::Instance,
    surface: &wgpu::Surface<'_>,
) -> Result<(wgpu::Adapter, wgpu::Device, wgpu::Queue), GpuError> {
    let adapter = pollster::block_on(instance.request_adapter(&wgpu::RequestAdapterOptions {
        power_preference:
            wgpu::PowerPreference::from_env().unwrap_or(wgpu::PowerPreference::HighPerformance),
        force_fallback_adapter: false,
        compatible_surface: Some(surface),
        apply_limit_buckets: false,
    }))
    .map_err(|e| GpuError::NoAdapter {
        detail: format!("no adapter can draw into the window: {e}"),
    })?;
    let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
        label: Some("dorsalhorn view"),
        required_features: wgpu::Features::empty(),
        required_limits: wgpu::Limits::downlevel_defaults().using_resolution(adapter.limits()),
        experimental_features: wgpu::ExperimentalFeatures::disabled(),
        memory_hints: wgpu::MemoryHints::Performance,
        trace: wgpu::Trace::Off,
    }))
    .map_err(|e| GpuError::Device {
        adapter: adapter.get_info().name,
        detail: e.to_string(),
    })?;
    Ok((adapter, device, queue))
}
