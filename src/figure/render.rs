//! `dorsalhorn render`: composed figures and a movie drawn again from a finished run folder,
//! with other fields, ranges, layout, size or theme, without running the model: the frames are
//! the NPY snapshots in `fields/` (at `output.snapshot_every_h`), the pain course comes from
//! `timeseries.csv`, the lamina map from `regions.npy`, the protocol from `scenario.toml`.

use super::timeseries::RunSeries;
use super::{FigureReport, FigureWriter, Scene};
use crate::error::Error;
use crate::gpu::Gpu;
use crate::model::network::state::field_name;
use crate::output::read_npy_file;
use crate::scenario::dorsal_horn::TissueScenario;
use std::collections::BTreeSet;
use std::path::Path;

/// The minutes at which `fields/` holds a snapshot of every one of `fields`.
fn snapshot_minutes(run: &Path, fields: &[usize]) -> Result<Vec<u64>, Error> {
    let dir = run.join("fields");
    let mut common: Option<BTreeSet<u64>> = None;
    for &f in fields {
        let prefix = format!("{}_t", field_name(f));
        let mins: BTreeSet<u64> = std::fs::read_dir(&dir)
            .map_err(|e| Error::io("cannot read the snapshots of", &dir, e))?
            .flatten()
            .filter_map(|e| {
                let n = e.file_name().to_string_lossy().to_string();
                n.strip_prefix(&prefix)?
                    .strip_suffix("min.npy")?
                    .parse()
                    .ok()
            })
            .collect();
        common = Some(match common {
            None => mins,
            Some(c) => c.intersection(&mins).copied().collect(),
        });
    }
    let mins: Vec<u64> = common.unwrap_or_default().into_iter().collect();
    if mins.is_empty() {
        let names: Vec<&str> = fields.iter().map(|&f| field_name(f)).collect();
        return Err(Error::Output(format!(
            "{} has no snapshot of all of {}: draw fields the run saved (its output.fields), or run it again with them",
            dir.display(),
            names.join(", ")
        )));
    }
    Ok(mins)
}

/// Draws the figures of `sc.figures` (the run's scenario with any `--set` edits of the figure
/// keys) from the run folder `run` into `out` (`out/figures/`, `out/movie.*`).
pub fn render_folder(
    gpu: &Gpu,
    run: &Path,
    sc: &TissueScenario,
    out: &Path,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<FigureReport, Error> {
    let opts = sc.figures.clone();
    let minutes = snapshot_minutes(run, &opts.fields)?;
    let ((ny, nx), codes) = read_npy_file(&run.join("regions.npy"))?;
    let series = RunSeries::load(run, None)?;
    let footer = std::fs::read(run.join("provenance.json"))
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .map(|v| {
            format!(
                "dorsalhorn {} ({})  ·  {} µm grid, {nx} × {ny} cells  ·  {}  ·  redrawn from {}",
                v["dorsalhorn_version"].as_str().unwrap_or("?"),
                v["provenance"]["source_revision"].as_str().unwrap_or("?"),
                sc.spacing_um,
                v["adapter"]["name"].as_str().unwrap_or("?"),
                run.display()
            )
        })
        .unwrap_or_else(|| format!("redrawn from {}", run.display()));
    let scene = Scene {
        name: sc.name.clone(),
        description: sc.description.clone(),
        nx,
        ny,
        h_um: sc.spacing_um,
        region: codes.iter().map(|&c| c as u8).collect(),
        duration_s: sc.duration_s,
        protocol: sc.protocol.clone(),
        pain_name: sc.pain_name(),
        doses: sc.doses.clone(),
        colormap: sc.colormap,
        footer,
        // A demo recording's captions are not kept in the run folder: `render` redraws its
        // figures without them (`dorsalhorn demo NAME --record` draws them again with).
        story: None,
    };
    let mut w = FigureWriter::new(out, scene, opts.clone())?;
    let pain = |name: &str| series.column(name).unwrap_or_default();
    for (m, h) in pain("P_mech").iter().zip(pain("P_heat")) {
        w.pain(m[0] * 86400.0, m[1], h[1]);
    }
    for &m in &minutes {
        let values = opts
            .fields
            .iter()
            .map(|&f| {
                let path = run
                    .join("fields")
                    .join(format!("{}_t{m:06}min.npy", field_name(f)));
                let ((fy, fx), v) = read_npy_file(&path)?;
                if (fy, fx) != (ny, nx) {
                    return Err(Error::Output(format!(
                        "{}: {fy} × {fx} cells, regions.npy has {ny} × {nx}",
                        path.display()
                    )));
                }
                Ok(v)
            })
            .collect::<Result<Vec<_>, _>>()?;
        w.record(m as f64 * 60.0, &values)?;
    }
    w.finish(gpu, progress)
}
