//! Engine scenarios (Gray–Scott, diffusion): the raw TOML form and its resolution into a
//! validated [`Scenario`] (defaults applied, ranges checked, patches rasterised, stability).
//!
//! Longer than 600 lines: one format: raw types, resolution, boundary and patch rasterisation with
//! their per-key errors.

use crate::error::ScenarioError;
use crate::grid::{Boundary, Grid, Side};
use crate::model::{Diffusivity, EXPLICIT_STABILITY_LIMIT, MAX_SPECIES, Model, Problem, Species};
use crate::scenario::keys::{err, int_range, positive, range};
use crate::scenario::overrides::apply_override;
use crate::scenario::{FORMAT_VERSION, check_name, deserialize, read_spec};
use serde::{Deserialize, Serialize};

/// Largest grid side accepted before any device is consulted (the device check comes later).
pub const MAX_GRID_SIDE: i64 = 65_536;
/// Largest cell count (nx·ny) accepted: it bounds the host memory of a scenario's fields
/// before any device is consulted.
pub const MAX_CELLS: i64 = 1 << 26;
/// Largest step count of one run.
pub const MAX_STEPS: i64 = 1_000_000_000;

// ------------------------------------------------------------------------------------------
// Raw form

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawScenario {
    pub format_version: i64,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    pub grid: RawGrid,
    pub time: RawTime,
    pub model: RawModel,
    pub species: Vec<RawSpecies>,
    #[serde(default)]
    pub output: RawOutput,
    #[serde(default)]
    pub checks: RawChecks,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawGrid {
    pub size: Vec<i64>,
    #[serde(default = "one")]
    pub spacing_um: f64,
    #[serde(default)]
    pub boundary: RawBoundaries,
}

fn one() -> f64 {
    1.0
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawBoundaries {
    pub x_min: Option<toml::Value>,
    pub x_max: Option<toml::Value>,
    pub y_min: Option<toml::Value>,
    pub y_max: Option<toml::Value>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawTime {
    pub dt_s: f64,
    pub steps: i64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawModel {
    pub kind: String,
    pub feed: Option<f64>,
    pub kill: Option<f64>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawSpecies {
    pub name: String,
    pub diffusivity_um2_s: f64,
    #[serde(default)]
    pub decay_per_s: f64,
    #[serde(default)]
    pub initial: f64,
    #[serde(default)]
    pub patches: Vec<RawPatch>,
    #[serde(default)]
    pub diffusivity_regions: Vec<RawPatch>,
    pub display_range: Option<Vec<f64>>,
}

/// A shape that sets (or, for a Gaussian, adds) values in a region of the grid.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawPatch {
    pub shape: String,
    pub x: Option<Vec<i64>>,
    pub y: Option<Vec<i64>>,
    pub fraction: Option<f64>,
    pub center_um: Option<Vec<f64>>,
    pub radius_um: Option<f64>,
    pub sigma_um: Option<f64>,
    pub value: Option<f64>,
    pub amplitude: Option<f64>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawOutput {
    pub every_steps: Option<i64>,
    pub fields: Option<bool>,
    pub frames: Option<bool>,
    pub species: Option<Vec<String>>,
    pub colormap: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawChecks {
    pub every_steps: Option<i64>,
    pub nonnegative: Option<bool>,
}

// ------------------------------------------------------------------------------------------
// Resolved form

/// Where fields go and how often.
#[derive(Debug, Clone, Serialize)]
pub struct OutputSpec {
    /// Steps between outputs; the final state is always written.
    pub every_steps: u64,
    pub fields: bool,
    pub frames: bool,
    /// Indices of the species written.
    pub species: Vec<usize>,
    pub colormap: crate::colormap::Colormap,
    /// Per species: fixed PNG value range, or `None` for the frame's own min..max.
    pub display_range: Vec<Option<(f32, f32)>>,
}

/// Health checks of the running state.
#[derive(Debug, Clone, Serialize)]
pub struct CheckSpec {
    /// Steps between finiteness/positivity checks (outputs are always checked too).
    pub every_steps: u64,
    /// Whether negative values count as blow-up.
    pub nonnegative: bool,
}

/// A validated scenario, ready to run.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub name: String,
    pub description: String,
    /// Where it came from (file path or `built-in scenario NAME`).
    pub origin: String,
    pub problem: Problem,
    pub initial: Vec<Vec<f32>>,
    pub steps: u64,
    pub output: OutputSpec,
    pub checks: CheckSpec,
    /// The merged raw tree (file + overrides), as recorded in summary.json.
    pub resolved_toml: toml::Table,
}

// ------------------------------------------------------------------------------------------
// Loading

/// Loads a scenario by path, or by built-in name when no such file exists.
pub fn load(spec: &str, overrides: &[String]) -> Result<Scenario, ScenarioError> {
    let (origin, text) = read_spec(spec)?;
    from_str(&origin, &text, overrides)
}

/// Parses, applies overrides and resolves a scenario from TOML text.
pub fn from_str(origin: &str, text: &str, overrides: &[String]) -> Result<Scenario, ScenarioError> {
    let mut table: toml::Table = toml::from_str(text)
        .map_err(|e| ScenarioError::new(origin, format!("not valid TOML: {e}")))?;
    for o in overrides {
        apply_override(&mut table, o)?;
    }
    from_table(origin, table)
}

/// Resolves a parsed (and overridden) TOML tree.
pub fn from_table(origin: &str, table: toml::Table) -> Result<Scenario, ScenarioError> {
    let raw: RawScenario = deserialize(origin, &table)?;
    resolve(origin, raw, table)
}

#[expect(
    clippy::too_many_lines,
    reason = "resolves every table of the engine format with its per-key errors, in key order"
)]
fn resolve(origin: &str, raw: RawScenario, table: toml::Table) -> Result<Scenario, ScenarioError> {
    if let Some(name) = &raw.name {
        check_name(origin, name)?;
    }
    if raw.format_version != FORMAT_VERSION {
        return Err(err(
            origin,
            "format_version",
            format!(
                "{} is not supported: this build of dorsalhorn reads format_version = \
                 {FORMAT_VERSION}",
                raw.format_version
            ),
        ));
    }

    // Grid
    if raw.grid.size.len() != 2 {
        return Err(err(
            origin,
            "grid.size",
            format!(
                "{:?} must be two cell counts [nx, ny], e.g. [256, 256]",
                raw.grid.size
            ),
        ));
    }
    let nx = int_range(origin, "grid.size[0]", raw.grid.size[0], 3, MAX_GRID_SIDE)? as usize;
    let ny = int_range(origin, "grid.size[1]", raw.grid.size[1], 3, MAX_GRID_SIDE)? as usize;
    if (nx as i64) * (ny as i64) > MAX_CELLS {
        return Err(err(
            origin,
            "grid.size",
            format!(
                "[{nx}, {ny}] is {} cells: at most {MAX_CELLS} (2^26) are allowed; use a coarser \
                 grid",
                nx * ny
            ),
        ));
    }
    let dx = positive(origin, "grid.spacing_um", raw.grid.spacing_um, "µm")?;

    // Species
    let ns = raw.species.len();
    if ns == 0 || ns > MAX_SPECIES {
        return Err(err(
            origin,
            "species",
            format!("{ns} species given: allowed 1 to {MAX_SPECIES} [[species]] entries"),
        ));
    }
    let names: Vec<String> = raw.species.iter().map(|s| s.name.clone()).collect();
    for (i, n) in names.iter().enumerate() {
        let key = format!("species[{i}].name");
        if n.is_empty()
            || !n
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(err(
                origin,
                &key,
                format!("`{n}` is not allowed: use letters, digits, `_` and `-` (it names files)"),
            ));
        }
        if names[..i].contains(n) {
            return Err(err(
                origin,
                &key,
                format!("`{n}` is used twice: species names must be unique"),
            ));
        }
    }

    // Boundaries
    let mut grid = Grid::new(nx, ny, dx);
    for side in Side::ALL {
        let raw_b = match side {
            Side::XMin => &raw.grid.boundary.x_min,
            Side::XMax => &raw.grid.boundary.x_max,
            Side::YMin => &raw.grid.boundary.y_min,
            Side::YMax => &raw.grid.boundary.y_max,
        };
        let key = format!("grid.boundary.{}", side.key());
        let b = match raw_b {
            None => Boundary::NoFlux,
            Some(v) => parse_boundary(origin, &key, v, ns)?,
        };
        grid.boundary[side.index()] = b;
    }
    for (a, b, axis) in [(Side::XMin, Side::XMax, "x"), (Side::YMin, Side::YMax, "y")] {
        let pa = matches!(grid.boundary(a), Boundary::Periodic);
        let pb = matches!(grid.boundary(b), Boundary::Periodic);
        if pa != pb {
            return Err(err(
                origin,
                &format!("grid.boundary.{}", if pa { b.key() } else { a.key() }),
                format!(
                    "periodic boundaries come in pairs: set both {axis}_min and {axis}_max to \
                     \"periodic\", or neither"
                ),
            ));
        }
    }

    // Time
    let dt = positive(origin, "time.dt_s", raw.time.dt_s, "s")?;
    let steps = int_range(origin, "time.steps", raw.time.steps, 1, MAX_STEPS)? as u64;

    // Model
    let model = match raw.model.kind.as_str() {
        "gray_scott" => {
            let feed = raw.model.feed.ok_or_else(|| {
                err(
                    origin,
                    "model.feed",
                    "missing: gray_scott needs feed (F, 1/s)",
                )
            })?;
            let kill = raw.model.kill.ok_or_else(|| {
                err(
                    origin,
                    "model.kill",
                    "missing: gray_scott needs kill (k, 1/s)",
                )
            })?;
            let feed = range(origin, "model.feed", feed, 0.0, 1.0, "1/s")?;
            let kill = range(origin, "model.kill", kill, 0.0, 1.0, "1/s")?;
            Model::GrayScott {
                feed: feed as f32,
                kill: kill as f32,
            }
        }
        "diffusion" => {
            for (k, v) in [
                ("model.feed", raw.model.feed),
                ("model.kill", raw.model.kill),
            ] {
                if v.is_some() {
                    return Err(err(
                        origin,
                        k,
                        "is not a parameter of model `diffusion` (remove it)",
                    ));
                }
            }
            Model::Diffusion
        }
        other => {
            return Err(err(
                origin,
                "model.kind",
                format!("`{other}` is not a model: allowed \"gray_scott\", \"diffusion\""),
            ));
        }
    };
    if let Some(n) = model.required_species().filter(|&n| n != ns) {
        return Err(err(
            origin,
            "species",
            format!(
                "model `{}` needs exactly {n} species, {ns} given",
                model.name()
            ),
        ));
    }

    // Species fields
    let mut species = Vec::with_capacity(ns);
    let mut initial = Vec::with_capacity(ns);
    let mut display_range = Vec::with_capacity(ns);
    for (i, rs) in raw.species.iter().enumerate() {
        let key = |k: &str| format!("species[{i}].{k}");
        let d = range(
            origin,
            &key("diffusivity_um2_s"),
            rs.diffusivity_um2_s,
            0.0,
            1e9,
            "µm²/s",
        )?;
        let decay = range(origin, &key("decay_per_s"), rs.decay_per_s, 0.0, 1e9, "1/s")?;
        if !rs.initial.is_finite() {
            return Err(err(
                origin,
                &key("initial"),
                format!("{} is not a finite number", rs.initial),
            ));
        }
        let mut field = vec![rs.initial as f32; nx * ny];
        for (j, p) in rs.patches.iter().enumerate() {
            apply_patch(
                origin,
                &key(&format!("patches[{j}]")),
                p,
                &grid,
                &mut field,
                true,
            )?;
        }
        let diffusivity = if rs.diffusivity_regions.is_empty() {
            Diffusivity::Uniform(d as f32)
        } else {
            let mut dfield = vec![d as f32; nx * ny];
            for (j, p) in rs.diffusivity_regions.iter().enumerate() {
                let k = key(&format!("diffusivity_regions[{j}]"));
                apply_patch(origin, &k, p, &grid, &mut dfield, false)?;
                if let Some(v) = p.value {
                    range(origin, &format!("{k}.value"), v, 0.0, 1e9, "µm²/s")?;
                }
            }
            Diffusivity::Field(dfield)
        };
        let range = match &rs.display_range {
            None => None,
            Some(r) if r.len() == 2 && r[0].is_finite() && r[1].is_finite() && r[0] < r[1] => {
                Some((r[0] as f32, r[1] as f32))
            }
            Some(r) => {
                return Err(err(
                    origin,
                    &key("display_range"),
                    format!("{r:?} must be [low, high] with low < high, both finite"),
                ));
            }
        };
        species.push(Species {
            name: rs.name.clone(),
            diffusivity,
            decay_per_s: decay as f32,
            capacity: None,
        });
        initial.push(field);
        display_range.push(range);
    }

    let problem = Problem {
        grid,
        species,
        model,
        dt_s: dt,
    };

    // Outputs and checks
    let every = match raw.output.every_steps {
        None => steps,
        Some(v) => int_range(origin, "output.every_steps", v, 1, MAX_STEPS)? as u64,
    };
    let out_species = match &raw.output.species {
        None => (0..ns).collect(),
        Some(list) => {
            let mut idx = Vec::new();
            for (j, n) in list.iter().enumerate() {
                let i = problem.species_index(n).ok_or_else(|| {
                    err(
                        origin,
                        &format!("output.species[{j}]"),
                        format!(
                            "`{n}` is not a species of this scenario (species: {})",
                            names.join(", ")
                        ),
                    )
                })?;
                idx.push(i);
            }
            idx
        }
    };
    let colormap = match raw.output.colormap.as_deref() {
        None => crate::colormap::Colormap::Viridis,
        Some(name) => crate::colormap::Colormap::from_name(name).ok_or_else(|| {
            err(
                origin,
                "output.colormap",
                format!(
                    "`{name}` is not a colormap: allowed {}",
                    crate::colormap::Colormap::NAMES.join(", ")
                ),
            )
        })?,
    };
    let output = OutputSpec {
        every_steps: every,
        fields: raw.output.fields.unwrap_or(true),
        frames: raw.output.frames.unwrap_or(true),
        species: out_species,
        colormap,
        display_range,
    };
    let checks = CheckSpec {
        every_steps: match raw.checks.every_steps {
            None => every.min(1000),
            Some(v) => int_range(origin, "checks.every_steps", v, 1, MAX_STEPS)? as u64,
        },
        nonnegative: raw.checks.nonnegative.unwrap_or(true),
    };

    Ok(Scenario {
        name: raw.name.clone().unwrap_or_else(|| "unnamed".to_string()),
        description: raw.description.clone().unwrap_or_default(),
        origin: origin.to_string(),
        problem,
        initial,
        steps,
        output,
        checks,
        resolved_toml: table,
    })
}

fn parse_boundary(
    origin: &str,
    key: &str,
    v: &toml::Value,
    ns: usize,
) -> Result<Boundary, ScenarioError> {
    const ALLOWED: &str = "allowed \"no_flux\", \"periodic\", or { fixed = VALUE } / { fixed = [one value per species] }";
    match v {
        toml::Value::String(s) => match s.as_str() {
            "no_flux" => Ok(Boundary::NoFlux),
            "periodic" => Ok(Boundary::Periodic),
            other => Err(err(
                origin,
                key,
                format!("\"{other}\" is not a boundary kind: {ALLOWED}"),
            )),
        },
        toml::Value::Table(t) => {
            if let Some(extra) = t.keys().find(|k| k.as_str() != "fixed") {
                return Err(err(
                    origin,
                    &format!("{key}.{extra}"),
                    format!("unknown key: {ALLOWED}"),
                ));
            }
            let fk = format!("{key}.fixed");
            let values: Vec<f32> = match t.get("fixed") {
                Some(toml::Value::Float(f)) => vec![*f as f32; ns],
                Some(toml::Value::Integer(i)) => vec![*i as f32; ns],
                Some(toml::Value::Array(a)) => {
                    if a.len() != ns {
                        return Err(err(
                            origin,
                            &fk,
                            format!("{} values given, one per species ({ns}) needed", a.len()),
                        ));
                    }
                    a.iter()
                        .map(|x| match x {
                            toml::Value::Float(f) => Ok(*f as f32),
                            toml::Value::Integer(i) => Ok(*i as f32),
                            other => Err(err(origin, &fk, format!("{other} is not a number"))),
                        })
                        .collect::<Result<_, _>>()?
                }
                Some(other) => {
                    return Err(err(
                        origin,
                        &fk,
                        format!("{other} is not a number or an array of numbers"),
                    ));
                }
                None => return Err(err(origin, key, format!("empty table: {ALLOWED}"))),
            };
            if values.iter().any(|x| !x.is_finite()) {
                return Err(err(origin, &fk, "values must be finite"));
            }
            Ok(Boundary::Fixed { values })
        }
        other => Err(err(
            origin,
            key,
            format!("{other} is not a boundary: {ALLOWED}"),
        )),
    }
}

/// Rasterises one patch into `field`. `allow_gaussian` is false for diffusivity regions.
#[expect(
    clippy::too_many_lines,
    reason = "one patch shape after another with their per-key errors"
)]
fn apply_patch(
    origin: &str,
    key: &str,
    p: &RawPatch,
    grid: &Grid,
    field: &mut [f32],
    allow_gaussian: bool,
) -> Result<(), ScenarioError> {
    let (nx, ny) = (grid.nx, grid.ny);
    let k = |s: &str| format!("{key}.{s}");
    let need_value = || -> Result<f32, ScenarioError> {
        let v = p.value.ok_or_else(|| {
            err(
                origin,
                &k("value"),
                format!("missing: shape \"{}\" sets `value`", p.shape),
            )
        })?;
        if !v.is_finite() {
            return Err(err(origin, &k("value"), format!("{v} is not finite")));
        }
        Ok(v as f32)
    };
    let unused = |names: &[(&str, bool)]| -> Result<(), ScenarioError> {
        for (n, present) in names {
            if *present {
                return Err(err(
                    origin,
                    &k(n),
                    format!("is not used by shape \"{}\" (remove it)", p.shape),
                ));
            }
        }
        Ok(())
    };
    let cell_range = |name: &str,
                      r: &Option<Vec<i64>>,
                      n: usize|
     -> Result<(usize, usize), ScenarioError> {
        let r = r.as_ref().ok_or_else(|| {
            err(
                origin,
                &k(name),
                "missing: give [first, last] cell indices (inclusive)",
            )
        })?;
        if r.len() != 2 || r[0] < 0 || r[1] < r[0] || r[1] >= n as i64 {
            return Err(err(
                origin,
                &k(name),
                format!(
                    "{r:?} must be [first, last] with 0 ≤ first ≤ last ≤ {} (inclusive cell indices)",
                    n - 1
                ),
            ));
        }
        Ok((r[0] as usize, r[1] as usize))
    };
    match p.shape.as_str() {
        "rect" => {
            unused(&[
                ("fraction", p.fraction.is_some()),
                ("center_um", p.center_um.is_some()),
                ("radius_um", p.radius_um.is_some()),
                ("sigma_um", p.sigma_um.is_some()),
                ("amplitude", p.amplitude.is_some()),
            ])?;
            let (x0, x1) = cell_range("x", &p.x, nx)?;
            let (y0, y1) = cell_range("y", &p.y, ny)?;
            let v = need_value()?;
            for y in y0..=y1 {
                field[y * nx + x0..=y * nx + x1].fill(v);
            }
        }
        "centered_square" => {
            unused(&[
                ("x", p.x.is_some()),
                ("y", p.y.is_some()),
                ("center_um", p.center_um.is_some()),
                ("radius_um", p.radius_um.is_some()),
                ("sigma_um", p.sigma_um.is_some()),
                ("amplitude", p.amplitude.is_some()),
            ])?;
            let f = p.fraction.ok_or_else(|| {
                err(
                    origin,
                    &k("fraction"),
                    "missing: side as a fraction of the grid, e.g. 0.125",
                )
            })?;
            let f = range(origin, &k("fraction"), f, 0.0, 1.0, "")?;
            let v = need_value()?;
            let (x0, x1) = centered_span(nx, f);
            let (y0, y1) = centered_span(ny, f);
            for y in y0..y1 {
                field[y * nx + x0..y * nx + x1].fill(v);
            }
        }
        "disk" | "gaussian" => {
            unused(&[
                ("x", p.x.is_some()),
                ("y", p.y.is_some()),
                ("fraction", p.fraction.is_some()),
            ])?;
            let c = p
                .center_um
                .as_ref()
                .ok_or_else(|| err(origin, &k("center_um"), "missing: [x, y] in µm"))?;
            if c.len() != 2 || !c.iter().all(|v| v.is_finite()) {
                return Err(err(
                    origin,
                    &k("center_um"),
                    format!("{c:?} must be [x, y] in µm"),
                ));
            }
            if p.shape == "disk" {
                unused(&[
                    ("sigma_um", p.sigma_um.is_some()),
                    ("amplitude", p.amplitude.is_some()),
                ])?;
                let r = p
                    .radius_um
                    .ok_or_else(|| err(origin, &k("radius_um"), "missing: disk radius in µm"))?;
                let r = positive(origin, &k("radius_um"), r, "µm")?;
                let v = need_value()?;
                for y in 0..ny {
                    for x in 0..nx {
                        let (px, py) = grid.centre_um(x, y);
                        if (px - c[0]).powi(2) + (py - c[1]).powi(2) <= r * r {
                            field[y * nx + x] = v;
                        }
                    }
                }
            } else {
                if !allow_gaussian {
                    return Err(err(
                        origin,
                        &k("shape"),
                        "\"gaussian\" adds to a field; regions allow \"rect\", \"centered_square\", \"disk\"",
                    ));
                }
                unused(&[
                    ("radius_um", p.radius_um.is_some()),
                    ("value", p.value.is_some()),
                ])?;
                let s = p.sigma_um.ok_or_else(|| {
                    err(origin, &k("sigma_um"), "missing: standard deviation in µm")
                })?;
                let s = positive(origin, &k("sigma_um"), s, "µm")?;
                let a = p
                    .amplitude
                    .ok_or_else(|| err(origin, &k("amplitude"), "missing: peak value added"))?;
                if !a.is_finite() {
                    return Err(err(origin, &k("amplitude"), format!("{a} is not finite")));
                }
                for y in 0..ny {
                    for x in 0..nx {
                        let (px, py) = grid.centre_um(x, y);
                        let r2 = (px - c[0]).powi(2) + (py - c[1]).powi(2);
                        field[y * nx + x] += (a * (-r2 / (2.0 * s * s)).exp()) as f32;
                    }
                }
            }
        }
        other => {
            return Err(err(
                origin,
                &k("shape"),
                format!(
                    "\"{other}\" is not a shape: allowed \"rect\", \"centered_square\", \"disk\", \"gaussian\""
                ),
            ));
        }
    }
    Ok(())
}

/// Half-open cell span of a centred square side: h = max(1, round(n·f)) cells starting at
/// n/2 − ⌊h/2⌋ (the peer benchmarks' seed rule).
pub fn centered_span(n: usize, fraction: f64) -> (usize, usize) {
    let h = ((n as f64 * fraction).round() as usize).clamp(1, n);
    let start = (n / 2).saturating_sub(h / 2);
    (start, (start + h).min(n))
}

impl Scenario {
    /// Steps at which outputs are written: every `every_steps` and the final step.
    pub fn output_steps(&self) -> Vec<u64> {
        let mut v: Vec<u64> = (0..=self.steps)
            .step_by(self.output.every_steps as usize)
            .collect();
        if v.last() != Some(&self.steps) {
            v.push(self.steps);
        }
        v
    }

    /// Refuses a time step beyond the explicit stability limit, naming the fix.
    pub fn check_stability(&self) -> Result<(), ScenarioError> {
        for (s, nu) in self
            .problem
            .species
            .iter()
            .zip(self.problem.stability_numbers())
        {
            if nu > EXPLICIT_STABILITY_LIMIT {
                return Err(ScenarioError::new(
                    &self.origin,
                    format!(
                        "key `time.dt_s`: {} s is unstable for species `{}`: D·dt/dx² = {nu:.4} \
                         exceeds the explicit limit {EXPLICIT_STABILITY_LIMIT}. Use dt_s ≤ {:.6} s \
                         or a coarser grid.spacing_um.",
                        self.problem.dt_s,
                        s.name,
                        self.problem.max_stable_dt()
                    ),
                ));
            }
        }
        // The whole step: diffusion, reaction and decay together, at the initial state.
        let stiffness = self.problem.step_stiffness(&self.initial);
        for (s, &z) in self.problem.species.iter().zip(&stiffness) {
            if z > crate::model::EXPLICIT_STEP_LIMIT {
                let dt_max = self.problem.dt_s * crate::model::EXPLICIT_STEP_LIMIT / z;
                return Err(ScenarioError::new(
                    &self.origin,
                    format!(
                        "key `time.dt_s`: {} s is unstable for species `{}` once its reaction \
                         is counted: dt·(8·D/dx² + reaction rate + decay) = {z:.3} exceeds {} \
                         (the reaction Jacobian's Gershgorin bound at the initial state). Use \
                         dt_s ≤ {dt_max:.6} s.",
                        self.problem.dt_s,
                        s.name,
                        crate::model::EXPLICIT_STEP_LIMIT
                    ),
                ));
            }
        }
        Ok(())
    }
}
