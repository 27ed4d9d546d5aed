//! `dorsalhorn info`.

use dorsalhorn::error::Error;
use dorsalhorn::{gpu, model};

pub fn run() -> Result<(), Error> {
    let adapters = gpu::list_adapters();
    if adapters.is_empty() {
        return Err(dorsalhorn::error::GpuError::NoAdapter {
            detail: "no adapter on any backend".into(),
        }
        .into());
    }
    // The adapter the other commands would open; its error (a WGPU_ADAPTER_NAME that
    // matches nothing, a device that cannot be opened) follows the list, with exit 3.
    let opened = gpu::Gpu::new();
    let chosen = opened.as_ref().ok().map(|g| g.summary());
    for (a, l) in adapters {
        let is_default = chosen
            .as_ref()
            .is_some_and(|c| c.name == a.name && c.backend == a.backend);
        let mark = if is_default { " (default)" } else { "" };
        println!("adapter: {}{mark}", a.name);
        println!(
            "  backend: {}   type: {}   driver: {} {}",
            a.backend, a.device_type, a.driver, a.driver_info
        );
        println!(
            "  max_texture_dimension_2d: {}  -> largest grid {} x {} cells",
            l.max_texture_dimension_2d,
            l.max_texture_dimension_2d as u64 * 4,
            l.max_texture_dimension_2d
        );
        println!(
            "  max_texture_array_layers: {}  -> at most {} species",
            l.max_texture_array_layers,
            (l.max_texture_array_layers / 2).min(model::MAX_SPECIES as u32)
        );
        println!("  max_buffer_size: {} bytes", l.max_buffer_size);
        println!(
            "  max_compute_workgroup_size_x: {}",
            l.max_compute_workgroup_size_x
        );
    }
    opened.map(|_| ()).map_err(Error::from)
}
