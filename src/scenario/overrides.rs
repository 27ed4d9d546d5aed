//! `--set key.path=value` overrides, merged into the raw TOML tree before it is deserialised,
//! so the command line wins over the file.

use crate::error::ScenarioError;

/// Applies one `key.path=value` override to the raw tree. The value is read as a TOML value;
/// if it is not valid TOML it is taken as a string (so `--set model.kind=diffusion` works).
/// A path segment applied to an array of tables with `name` keys selects by name
/// (`species.u.diffusivity_um2_s`); `[n]` selects by index (`species[1].initial`).
pub fn apply_override(table: &mut toml::Table, spec: &str) -> Result<(), ScenarioError> {
    let origin = format!("--set {}", shorten(spec));
    let Some((path, value_text)) = spec.split_once('=') else {
        return Err(ScenarioError::new(
            origin,
            "expected KEY.PATH=VALUE, e.g. --set grid.size=[200,136]".to_string(),
        ));
    };
    let path = path.trim();
    let value = match toml::from_str::<toml::Table>(&format!("v = {value_text}")) {
        Ok(mut t) => t.remove("v").expect("parsed table has key v"),
        // An array, table or quoted string that does not parse is a mistake, not a string.
        Err(e) if value_text.trim_start().starts_with(['[', '{', '"', '\'']) => {
            let msg = e.to_string();
            let reason = msg
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("");
            return Err(ScenarioError::new(
                origin,
                format!(
                    "the value `{}` is not valid TOML ({}): write arrays as [1, 2], tables as \
                     {{ a = 1 }} and strings in quotes",
                    shorten(value_text.trim()),
                    shorten(reason.trim())
                ),
            ));
        }
        Err(_) => toml::Value::String(value_text.trim().to_string()),
    };
    let segments = parse_path(path).map_err(|m| ScenarioError::new(&origin, m))?;
    if segments.is_empty() {
        return Err(ScenarioError::new(origin, "empty key path".to_string()));
    }
    if segments.len() > MAX_KEY_DEPTH {
        return Err(ScenarioError::new(
            origin,
            format!(
                "the key path has {} segments; scenario keys are at most {MAX_KEY_DEPTH} deep \
                 (e.g. `species.u.diffusivity_um2_s` has 3)",
                segments.len()
            ),
        ));
    }
    let mut cur = toml::Value::Table(std::mem::take(table));
    let result = set_path(&mut cur, &segments, value, path);
    if let toml::Value::Table(t) = cur {
        *table = t;
    }
    result.map_err(|m| ScenarioError::new(origin, m))
}

/// The deepest `--set` key path accepted (the deepest real key has 4 segments).
const MAX_KEY_DEPTH: usize = 16;

/// `text`, cut to its first 80 characters with "…" when longer (for messages about user input).
fn shorten(text: &str) -> String {
    match text.char_indices().nth(80) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_string(),
    }
}

#[derive(Debug, Clone)]
enum Seg {
    Key(String),
    Index(usize),
}

fn parse_path(path: &str) -> Result<Vec<Seg>, String> {
    let mut out = Vec::new();
    for part in path.split('.') {
        let (key, mut rest) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if key.is_empty() && rest.is_empty() {
            return Err(format!("empty segment in key path `{}`", shorten(path)));
        }
        if !key.is_empty() {
            out.push(Seg::Key(key.to_string()));
        }
        while !rest.is_empty() {
            if !rest.starts_with('[') {
                return Err(format!(
                    "unexpected `{}` after an index in key path `{}`: write indices as key[0]",
                    shorten(rest),
                    shorten(path)
                ));
            }
            let close = rest
                .find(']')
                .ok_or_else(|| format!("unclosed `[` in key path `{}`", shorten(path)))?;
            let idx: usize = rest[1..close].parse().map_err(|_| {
                format!(
                    "`{}` is not an index in key path `{}`",
                    shorten(&rest[1..close]),
                    shorten(path)
                )
            })?;
            out.push(Seg::Index(idx));
            rest = &rest[close + 1..];
        }
    }
    Ok(out)
}

fn set_path(
    cur: &mut toml::Value,
    segs: &[Seg],
    value: toml::Value,
    path: &str,
) -> Result<(), String> {
    let (first, rest) = segs.split_first().expect("non-empty path");
    match (cur, first) {
        (toml::Value::Table(t), Seg::Key(k)) => {
            if rest.is_empty() {
                t.insert(k.clone(), value);
                return Ok(());
            }
            let next = t.entry(k.clone()).or_insert_with(|| match rest[0] {
                Seg::Index(_) => toml::Value::Array(Vec::new()),
                Seg::Key(_) => toml::Value::Table(toml::Table::new()),
            });
            set_path(next, rest, value, path)
        }
        (toml::Value::Array(a), Seg::Index(i)) => {
            let len = a.len();
            let slot = a.get_mut(*i).ok_or_else(|| {
                format!("index [{i}] in `{path}` is out of range: the array has {len} entries")
            })?;
            if rest.is_empty() {
                *slot = value;
                Ok(())
            } else {
                set_path(slot, rest, value, path)
            }
        }
        (toml::Value::Array(a), Seg::Key(name)) => {
            let names: Vec<String> = a
                .iter()
                .filter_map(|e| e.get("name").and_then(|n| n.as_str()).map(str::to_string))
                .collect();
            let slot = a
                .iter_mut()
                .find(|e| e.get("name").and_then(|n| n.as_str()) == Some(name.as_str()))
                .ok_or_else(|| {
                    format!(
                        "no entry named `{name}` in `{path}` (names: {}); use a name or an \
                         index like [0]",
                        names.join(", ")
                    )
                })?;
            if rest.is_empty() {
                *slot = value;
                Ok(())
            } else {
                set_path(slot, rest, value, path)
            }
        }
        (other, seg) => Err(format!(
            "cannot apply `{}` in `{path}`: the value there is a {}, not a {}",
            match seg {
                Seg::Key(k) => k.clone(),
                Seg::Index(i) => format!("[{i}]"),
            },
            other.type_str(),
            match seg {
                Seg::Key(_) => "table",
                Seg::Index(_) => "array",
            }
        )),
    }
}

// ------------------------------------------------------------------------------------------
// Resolution
