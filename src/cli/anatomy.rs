//! `dorsalhorn anatomy`.

use dorsalhorn::error::Error;
use std::path::PathBuf;

/// The options of `dorsalhorn anatomy`.
#[derive(clap::Args)]
pub struct AnatomyArgs {
    /// rat or mouse.
    #[arg(long, default_value = "rat")]
    pub species: String,
    /// Grid spacing in µm (rat default 5; 10 is the classroom grid).
    #[arg(long, default_value_t = 5.0)]
    pub spacing_um: f64,
    /// PNG file to write.
    #[arg(long)]
    pub out: PathBuf,
    /// Also write every spatial map (termination, band, injury footprint, density, varicosity,
    /// α, λ; the CFA and SNI footprints as S_inj_CFA, S_inj_SNI) as `<name>.png` (viridis,
    /// 0 … max) and `<name>.npy` into this folder.
    #[arg(long)]
    pub maps: Option<PathBuf>,
}

pub fn run(args: AnatomyArgs) -> Result<(), Error> {
    let AnatomyArgs {
        species,
        spacing_um,
        out,
        maps,
    } = args;
    use dorsalhorn::model::anatomy::{Animal, Outline, Territory, Tissue};
    let animal = Animal::from_name(&species).ok_or_else(|| {
        dorsalhorn::error::ScenarioError::new(
            "--species",
            format!("`{species}` is not supported: allowed rat, mouse"),
        )
    })?;
    if !(spacing_um.is_finite() && (0.5..=50.0).contains(&spacing_um)) {
        return Err(dorsalhorn::error::ScenarioError::new(
            "--spacing-um",
            format!("{spacing_um} is out of range: allowed 0.5 ≤ spacing ≤ 50 µm"),
        )
        .into());
    }
    let outline = Outline::new(&dorsalhorn::params::ParamTable::builtin(), animal);
    let tissue = Tissue::rasterise(outline, spacing_um);
    dorsalhorn::output::write_atomic(&out, &tissue.figure().png())?;
    if let Some(dir) = maps {
        std::fs::create_dir_all(&dir)
            .map_err(|e| Error::io("cannot create the maps folder", &dir, e))?;
        let table = dorsalhorn::params::ParamTable::builtin();
        let m = tissue.maps(&table);
        // The pain models' own injury footprints (§11.1, §11.4) beside the nerve-injury one.
        let cfa = tissue.maps_for(&table, Territory::Inflamed).s_inj;
        let sni = tissue.maps_for(&table, Territory::Sni).s_inj;
        let named = dorsalhorn::model::anatomy::maps::Maps::NAMES
            .iter()
            .copied()
            .zip(m.all())
            .chain([("S_inj_CFA", &cfa), ("S_inj_SNI", &sni)]);
        let mut count = 0;
        for (name, v) in named {
            let hi = v.iter().copied().fold(0.0f32, f32::max).max(1e-30);
            let png = dorsalhorn::output::field_png(
                v,
                tissue.nx,
                tissue.ny,
                dorsalhorn::colormap::Colormap::Viridis,
                (0.0, hi),
            );
            dorsalhorn::output::write_atomic(&dir.join(format!("{name}.png")), &png)?;
            let npy = dorsalhorn::output::npy_bytes(v, tissue.ny, tissue.nx);
            dorsalhorn::output::write_atomic(&dir.join(format!("{name}.npy")), &npy)?;
            count += 1;
        }
        eprintln!("wrote {count} maps into {}", dir.display());
    }
    eprintln!(
        "wrote {} ({} anatomy, {} x {} cells at {} µm)",
        out.display(),
        animal.name(),
        tissue.nx,
        tissue.ny,
        spacing_um
    );
    Ok(())
}
