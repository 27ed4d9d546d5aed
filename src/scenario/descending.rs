//! The scenario's descending control (layer 2, MODEL.md §4.2, §4.5; issue 20): lesions of the
//! brainstem nuclei from t = 0 (`[descending]`) and timed stimulation or silencing of them
//! (`[[stimulation]]`), resolved into the RVM and A7 drives r_RVM, r_A7 the model multiplies its
//! spinal 5-HT and NE by.

use crate::error::ScenarioError;
use crate::scenario::keys::{choice, err, range};
use serde::{Deserialize, Serialize};

/// One `[[stimulation]]` entry as written.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawStimulation {
    pub nucleus: String,
    pub at_h: f64,
    pub duration_h: f64,
    pub drive: f64,
}

/// The brainstem nuclei whose spinal release the model carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nucleus {
    /// Rostral ventromedial medulla: spinal 5-HT.
    Rvm,
    /// A7 (and locus coeruleus) noradrenergic cell groups: spinal NE.
    A7,
}

/// A stimulation (drive > 1) or silencing (drive < 1) of a nucleus over a window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stimulation {
    pub nucleus: Nucleus,
    pub start_s: f64,
    pub duration_s: f64,
    /// The nucleus's spinal release while it lasts, × its tonic release.
    pub drive: f64,
}

/// The largest drive a stimulation may ask for (× tonic release).
pub const MAX_DRIVE: f64 = 10.0;

/// Resolves `[[stimulation]]` (times within the run of `days` days).
pub fn resolve_stimulations(
    o: &str,
    raw: &[RawStimulation],
    days: f64,
) -> Result<Vec<Stimulation>, ScenarioError> {
    let mut out = Vec::new();
    for (k, s) in raw.iter().enumerate() {
        let key = |f: &str| format!("stimulation[{k}].{f}");
        let nucleus = match choice(o, &key("nucleus"), &s.nucleus, &["rvm", "a7"])? {
            "rvm" => Nucleus::Rvm,
            _ => Nucleus::A7,
        };
        let at_h = range(o, &key("at_h"), s.at_h, 0.0, days * 24.0, "h")?;
        if at_h >= days * 24.0 {
            return Err(err(
                o,
                &key("at_h"),
                format!(
                    "{at_h} h is not before the end of the run ({} h)",
                    days * 24.0
                ),
            ));
        }
        let duration_h = range(
            o,
            &key("duration_h"),
            s.duration_h,
            1.0 / 60.0,
            days * 24.0,
            "h",
        )?;
        let drive = range(o, &key("drive"), s.drive, 0.0, MAX_DRIVE, "× tonic release")?;
        out.push(Stimulation {
            nucleus,
            start_s: at_h * 3600.0,
            duration_s: duration_h * 3600.0,
            drive,
        });
    }
    Ok(out)
}

/// (r_RVM, r_A7) at time t: 0 for a lesioned nucleus, else the product of the drives of the
/// stimulations on at t (1 when none is).
pub fn drives_at(
    rvm_lesion: bool,
    a7_lesion: bool,
    stimulations: &[Stimulation],
    t: f64,
) -> (f64, f64) {
    let of = |n: Nucleus, lesion: bool| {
        if lesion {
            return 0.0;
        }
        stimulations
            .iter()
            .filter(|s| s.nucleus == n && t >= s.start_s && t < s.start_s + s.duration_s)
            .map(|s| s.drive)
            .product::<f64>()
    };
    (of(Nucleus::Rvm, rvm_lesion), of(Nucleus::A7, a7_lesion))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drives_follow_lesions_and_windows() {
        let s = [
            Stimulation {
                nucleus: Nucleus::Rvm,
                start_s: 3600.0,
                duration_s: 1800.0,
                drive: 3.0,
            },
            Stimulation {
                nucleus: Nucleus::A7,
                start_s: 0.0,
                duration_s: 7200.0,
                drive: 0.0,
            },
        ];
        assert_eq!(drives_at(false, false, &s, 100.0), (1.0, 0.0));
        assert_eq!(drives_at(false, false, &s, 4000.0), (3.0, 0.0));
        assert_eq!(drives_at(false, false, &s, 5400.0), (1.0, 0.0));
        assert_eq!(drives_at(false, false, &s, 7200.0), (1.0, 1.0));
        assert_eq!(drives_at(true, false, &s, 4000.0), (0.0, 0.0));
    }
}
