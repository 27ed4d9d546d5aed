//! The held-out split of the suite (docs/validation-format.md, "The held-out split"): which
//! part a finding belongs to, by its ID alone, and the calibration history kept beside the
//! finding files (`history.toml`) that records both parts' scores per calibration.

use crate::error::Error;
use crate::validate::finding::ferr;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The two parts of the suite (docs/validation-format.md, "The held-out split"): findings a
/// calibration may be tuned on, and findings that only judge it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Split {
    Calibration,
    HeldOut,
}

impl Split {
    /// Both parts, in report order.
    pub const ALL: [Split; 2] = [Split::Calibration, Split::HeldOut];

    /// The rule, fixed before any calibration was judged by it: a finding is held out when the
    /// 32-bit FNV-1a hash of its ID (the bytes of e.g. `V12`) is divisible by 3. It depends on
    /// nothing but the ID, so no one can move a finding between the parts after seeing a score.
    pub fn of(id: &str) -> Split {
        let mut h: u32 = 0x811c_9dc5;
        for b in id.bytes() {
            h ^= u32::from(b);
            h = h.wrapping_mul(0x0100_0193);
        }
        if h.is_multiple_of(3) {
            Split::HeldOut
        } else {
            Split::Calibration
        }
    }

    /// The name `--only` and the reports use.
    pub fn name(self) -> &'static str {
        match self {
            Split::Calibration => "calibration",
            Split::HeldOut => "held-out",
        }
    }
}

/// One row of `history.toml`: a calibration (or any change of the model) and the scores of both
/// parts of the suite on the full run that judged it.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct HistoryEntry {
    /// `YYYY-MM-DD`.
    pub date: String,
    /// The source revision that was run.
    pub revision: String,
    /// What changed, and for a calibration which parameters and why.
    pub change: String,
    /// `classroom`, `default` or the spacing.
    pub grid: String,
    /// Findings of the calibration part reproduced, and how many were run.
    pub calibration: [usize; 2],
    /// Findings of the held-out part reproduced, and how many were run.
    pub held_out: [usize; 2],
    /// Whether the change was kept, reverted, or anything a reader needs.
    #[serde(default)]
    pub verdict: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHistory {
    #[serde(default)]
    calibration: Vec<HistoryEntry>,
}

/// The calibration history kept beside the finding files (`DIR/history.toml`, optional).
pub fn load_history(dir: &Path) -> Result<Vec<HistoryEntry>, Error> {
    let file = dir.join("history.toml");
    if !file.exists() {
        return Ok(Vec::new());
    }
    let text = std::fs::read_to_string(&file).map_err(|e| Error::io("cannot read", &file, e))?;
    let table: toml::Table =
        toml::from_str(&text).map_err(|e| ferr(&file, format!("not valid TOML: {e}")))?;
    let raw: RawHistory = crate::scenario::deserialize(&file.display().to_string(), &table)?;
    for (i, h) in raw.calibration.iter().enumerate() {
        for (key, [k, n]) in [("calibration", h.calibration), ("held_out", h.held_out)] {
            if k > n {
                return Err(ferr(
                    &file,
                    format!(
                        "key `calibration[{i}].{key}`: [{k}, {n}] reproduces more findings than \
                         were run; write [reproduced, run]"
                    ),
                ));
            }
        }
    }
    Ok(raw.calibration)
}

#[cfg(test)]
mod tests {
    use super::Split;

    /// The rule is a fixed function of the ID. The expected list was computed from the rule's
    /// definition (FNV-1a, 32 bit, divisible by 3) by an independent Python implementation when
    /// the rule was fixed; a change of the hash, its constants or the modulus fails here.
    #[test]
    fn split_rule_is_fnv1a_mod_3() {
        let held: Vec<String> = (1..=44)
            .map(|i| format!("V{i}"))
            .filter(|id| Split::of(id) == Split::HeldOut)
            .collect();
        let expected = [
            "V1", "V2", "V7", "V12", "V15", "V19", "V23", "V24", "V29", "V30", "V35", "V36", "V41",
            "V44",
        ];
        assert_eq!(held, expected);
    }
}
