//! The checks every scenario key goes through (layer 2), shared by both scenario kinds: each error
//! names the origin, the key, the value and what is allowed.

use crate::error::ScenarioError;

/// An error about `key` of the scenario from `origin`.
pub(crate) fn err(origin: &str, key: &str, msg: impl std::fmt::Display) -> ScenarioError {
    ScenarioError::new(origin, format!("key `{key}`: {msg}"))
}

/// `v` if it is finite and in [lo, hi] (`unit` for the message).
pub(crate) fn range(
    origin: &str,
    key: &str,
    v: f64,
    lo: f64,
    hi: f64,
    unit: &str,
) -> Result<f64, ScenarioError> {
    if v.is_finite() && v >= lo && v <= hi {
        Ok(v)
    } else {
        Err(err(
            origin,
            key,
            format!("{v} is out of range: allowed {lo} ≤ {key} ≤ {hi} {unit}"),
        ))
    }
}

/// `v` if it is finite and positive.
pub(crate) fn positive(origin: &str, key: &str, v: f64, unit: &str) -> Result<f64, ScenarioError> {
    if v.is_finite() && v > 0.0 {
        Ok(v)
    } else {
        Err(err(
            origin,
            key,
            format!("{v} is not allowed: must be a finite number > 0 {unit}"),
        ))
    }
}

/// `v` if it is in lo..=hi.
pub(crate) fn int_range(
    origin: &str,
    key: &str,
    v: i64,
    lo: i64,
    hi: i64,
) -> Result<i64, ScenarioError> {
    if (lo..=hi).contains(&v) {
        Ok(v)
    } else {
        Err(err(
            origin,
            key,
            format!("{v} is out of range: allowed {lo} ≤ {key} ≤ {hi}"),
        ))
    }
}

/// `v` if it is one of `allowed`.
pub(crate) fn choice<'a>(
    origin: &str,
    key: &str,
    v: &str,
    allowed: &[&'a str],
) -> Result<&'a str, ScenarioError> {
    allowed.iter().copied().find(|a| *a == v).ok_or_else(|| {
        err(
            origin,
            key,
            format!("`{v}` is not allowed: use one of {}", allowed.join(", ")),
        )
    })
}
