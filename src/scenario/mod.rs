//! The scenario front door (layer 2): built-in scenarios, reading a file or built-in by name,
//! the deserialiser with key paths, name checks, and [`load_any`] for both kinds.
//!
//! Two stages, as in ripgrep's low/high args: overrides (`--set key.path=value`) are merged into
//! the raw TOML tree first, so the command line wins over the file; only then is the tree
//! deserialised (unknown keys rejected) and resolved. Every error names the origin (file,
//! built-in scenario or `--set`), the key path, the value and what is allowed. The format is
//! documented key by key in docs/scenario-format.md.

pub mod demo;
pub mod descending;
pub mod dorsal_horn;
pub mod edit;
pub mod figures;
pub mod generic;
pub mod keys;
pub mod overrides;

use crate::error::ScenarioError;
use crate::scenario::generic::Scenario;
use crate::scenario::overrides::apply_override;
use std::path::Path;

/// The scenario format version this build reads and writes.
pub const FORMAT_VERSION: i64 = 1;

/// Scenarios compiled into the binary, of both kinds: (name, TOML source). Each is the file of
/// the same name in examples/scenarios/ (a test checks it).
pub const BUILTIN: &[(&str, &str)] = &[
    (
        "gray_scott",
        include_str!("../../examples/scenarios/gray_scott.toml"),
    ),
    (
        "cfa_ea_2hz",
        include_str!("../../examples/scenarios/cfa_ea_2hz.toml"),
    ),
    (
        "cfa_sham",
        include_str!("../../examples/scenarios/cfa_sham.toml"),
    ),
];

/// The scenario `dorsalhorn run` uses when none is given.
pub const DEFAULT_SCENARIO: &str = "cfa_ea_2hz";

/// The origin and TOML text of a scenario spec: a file path, or the name of a built-in scenario
/// of either kind (engine or dorsal-horn).
pub fn read_spec(spec: &str) -> Result<(String, String), ScenarioError> {
    let path = Path::new(spec);
    if path.exists() {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ScenarioError::new(spec, format!("cannot read the scenario file: {e}")))?;
        return Ok((spec.to_string(), text));
    }
    let all = BUILTIN.iter();
    if let Some((name, text)) = all.clone().find(|(n, _)| *n == spec) {
        return Ok((format!("built-in scenario `{name}`"), text.to_string()));
    }
    let names: Vec<&str> = all.map(|(n, _)| *n).collect();
    Err(ScenarioError::new(
        spec,
        format!(
            "no such file, and not a built-in scenario (built-ins: {}). Give the path of a .toml \
             scenario file (examples in examples/scenarios/) or a built-in name.",
            names.join(", ")
        ),
    ))
}

/// Deserialises a (merged) TOML tree into a raw scenario type; an error names the origin and
/// the key path (unknown keys included).
pub fn deserialize<T: serde::de::DeserializeOwned>(
    origin: &str,
    table: &toml::Table,
) -> Result<T, ScenarioError> {
    serde_path_to_error::deserialize(toml::Value::Table(table.clone())).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        // toml appends the enclosing table on a second line; the key path already says it.
        let inner = inner.lines().next().unwrap_or("").trim();
        if path == "." || path.is_empty() {
            ScenarioError::new(origin, inner.to_string())
        } else {
            keys::err(origin, &path, inner)
        }
    })
}

/// Whether `name` can be used as a file name as it is: 1 to `max_len` ASCII letters, digits,
/// `_`, `-` (and `.` if `dots`), not starting with `.`.
pub fn is_plain_name(name: &str, max_len: usize, dots: bool) -> bool {
    let plain = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || (dots && c == '.'));
    plain && !name.is_empty() && name.len() <= max_len && !name.starts_with('.')
}

/// Checks a scenario's `name`: it names the default output folder `out/<name>`, so it must be
/// a plain file name (1 to 64 letters, digits, `_`, `-` or `.`, not starting with `.`), never a
/// path.
pub fn check_name(origin: &str, name: &str) -> Result<(), ScenarioError> {
    if !is_plain_name(name, 64, true) {
        return Err(ScenarioError::new(
            origin,
            format!(
                "key `name`: {name:?} is not a scenario name: use 1 to 64 letters, digits, `_`, \
                 `-` or `.`, not starting with `.` (it names the output folder out/<name>), \
                 e.g. name = \"my_scenario\""
            ),
        ));
    }
    Ok(())
}

/// A scenario of either kind, as `load` returns it.
pub enum AnyScenario {
    Engine(Box<Scenario>),
    Tissue(Box<crate::scenario::dorsal_horn::TissueScenario>),
}

/// Loads a scenario of either kind: a file or built-in with a `[tissue]` table is a dorsal-horn
/// scenario, anything else an engine scenario.
pub fn load_any(spec: &str, set: &[String]) -> Result<AnyScenario, crate::Error> {
    let (origin, text) = crate::scenario::read_spec(spec)?;
    let mut table: toml::Table = toml::from_str(&text)
        .map_err(|e| crate::error::ScenarioError::new(&origin, format!("not valid TOML: {e}")))?;
    for o in set {
        apply_override(&mut table, o)?;
    }
    if crate::scenario::dorsal_horn::is_tissue(&table) {
        Ok(AnyScenario::Tissue(Box::new(
            crate::scenario::dorsal_horn::from_table(&origin, table)?,
        )))
    } else {
        Ok(AnyScenario::Engine(Box::new(
            crate::scenario::generic::from_table(&origin, table)?,
        )))
    }
}
