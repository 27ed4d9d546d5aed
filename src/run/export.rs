//! Exports of a finished run for other tools: `regions.npy` (the dominant region of every cell,
//! once per run) and `fields.nc`, one self-describing NetCDF file with every snapshot field on
//! (time, y, x) with coordinates in hours and micrometres, units and long names, and the region
//! map with its legend, so `xarray.open_dataset("fields.nc")` gives labelled arrays.

use crate::error::Error;
use crate::model::anatomy::Region;
use crate::model::network::state::{field_info, field_name};
use crate::output;
use crate::output::netcdf::{Attr, NcFile, NcType, Var, be_f32, be_f64};
use crate::run::stepper::Stepper;
use crate::scenario::dorsal_horn::TissueScenario;
use std::path::Path;

/// Writes `regions.npy` and, when the scenario asks for it, `fields.nc` from the snapshots at
/// `minutes` in `dir/fields/`; `command` started the run (the file's `history`: a resumed run
/// gives the same file as an uninterrupted one).
pub fn write_exports(
    dir: &Path,
    sc: &TissueScenario,
    st: &Stepper,
    minutes: &[u64],
    command: &str,
) -> Result<(), Error> {
    let t = &st.sim.layout.tissue;
    let (nx, ny, h) = (t.nx, t.ny, t.h);
    let region = t.dominant_map();
    let codes: Vec<f32> = region.iter().map(|&r| f32::from(r)).collect();
    output::write_atomic(&dir.join("regions.npy"), &output::npy_bytes(&codes, ny, nx))?;
    if !sc.netcdf {
        return Ok(());
    }
    let p = output::Provenance::of_this_run();
    let legend: Vec<String> = Region::ALL
        .iter()
        .map(|r| r.long_name().replace([' ', '\''], "_"))
        .collect();
    let mut nc = NcFile {
        dims: vec![("time".into(), 0), ("y".into(), ny), ("x".into(), nx)],
        attrs: vec![
            ("Conventions".into(), Attr::Text("CF-1.8".into())),
            (
                "title".into(),
                Attr::Text(format!("dorsalhorn run of `{}`", sc.name)),
            ),
            ("scenario".into(), Attr::Text(sc.description.clone())),
            (
                "source".into(),
                Attr::Text(format!(
                    "dorsalhorn {} ({})",
                    env!("CARGO_PKG_VERSION"),
                    p.source_revision
                )),
            ),
            ("history".into(), Attr::Text(command.to_string())),
            (
                "comment".into(),
                Attr::Text(
                    "Transverse section of the lumbar dorsal horn; NaN outside the cord and, for \
                     the rates r_I, r_E, r_P, r_W, where the population is absent. The same data \
                     as fields/*.npy."
                        .into(),
                ),
            ),
        ],
        vars: Vec::new(),
    };
    let text = |s: &str| Attr::Text(s.to_string());
    nc.vars.push(Var {
        name: "x".into(),
        dims: vec![2],
        ty: NcType::Double,
        attrs: vec![
            ("units".into(), text("um")),
            (
                "long_name".into(),
                text("mediolateral position of the cell centre (0 = the grid's medial edge)"),
            ),
        ],
    });
    nc.vars.push(Var {
        name: "y".into(),
        dims: vec![1],
        ty: NcType::Double,
        attrs: vec![
            ("units".into(), text("um")),
            (
                "long_name".into(),
                text("depth of the cell centre below the grid's dorsal edge"),
            ),
            ("positive".into(), text("down")),
        ],
    });
    nc.vars.push(Var {
        name: "region".into(),
        dims: vec![1, 2],
        ty: NcType::Byte,
        attrs: vec![
            ("long_name".into(), text("dominant region of the cell")),
            (
                "flag_values".into(),
                Attr::Bytes((0..Region::ALL.len() as i8).collect()),
            ),
            ("flag_meanings".into(), Attr::Text(legend.join(" "))),
        ],
    });
    nc.vars.push(Var {
        name: "time".into(),
        dims: vec![0],
        ty: NcType::Double,
        attrs: vec![
            ("units".into(), text("h")),
            (
                "long_name".into(),
                text("model time since the start of the protocol"),
            ),
        ],
    });
    for &f in &sc.fields {
        let (meaning, unit) = field_info(f);
        nc.vars.push(Var {
            name: field_name(f).to_string(),
            dims: vec![0, 1, 2],
            ty: NcType::Float,
            attrs: vec![
                ("units".into(), text(unit)),
                ("long_name".into(), text(meaning)),
            ],
        });
    }
    let xs: Vec<f64> = (0..nx).map(|i| (i as f64 + 0.5) * h).collect();
    let ys: Vec<f64> = (0..ny).map(|j| (j as f64 + 0.5) * h).collect();
    let fixed = vec![be_f64(&xs), be_f64(&ys), region.clone()];
    let records = minutes.iter().map(|&m| {
        let mut rec = vec![be_f64(&[m as f64 / 60.0])];
        for &f in &sc.fields {
            let path = dir
                .join("fields")
                .join(format!("{}_t{m:06}min.npy", field_name(f)));
            let (_, v) = output::read_npy_file(&path)?;
            rec.push(be_f32(&v));
        }
        Ok(rec)
    });
    nc.write(&dir.join("fields.nc"), &fixed, records)
}
