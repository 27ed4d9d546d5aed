//! Evaluating checks on the arms' time series (pure functions, unit-tested): series,
//! interpolation, window statistics, relief, comparisons and their wording.

use crate::tissue::observe::Readout;
use crate::validate::finding::{Check, Kind, Measure, Stat, When};
use crate::validate::quantity::{PhiCl, Quantity};
use serde::Serialize;
use std::collections::BTreeMap;

/// The time series of every arm (by arm name), for one finding.
pub struct Runs<'a> {
    pub arms: BTreeMap<String, &'a [Readout]>,
    pub phi: PhiCl,
}

/// (t in hours, value) of a quantity in an arm.
pub(crate) fn series(runs: &Runs, arm: &str, q: &Quantity) -> Vec<(f64, f64)> {
    runs.arms[arm]
        .iter()
        .map(|r| (r.time_s / 3600.0, q.of(r, &runs.phi)))
        .collect()
}

fn interp(s: &[(f64, f64)], t: f64) -> f64 {
    if s.is_empty() || t < s[0].0 - 1e-9 || t > s[s.len() - 1].0 + 1e-9 {
        return f64::NAN;
    }
    for w in s.windows(2) {
        let ((t0, v0), (t1, v1)) = (w[0], w[1]);
        if t <= t1 + 1e-9 {
            if t1 - t0 < 1e-12 {
                return v1;
            }
            return v0 + (v1 - v0) * ((t - t0) / (t1 - t0)).clamp(0.0, 1.0);
        }
    }
    s[s.len() - 1].1
}

/// The samples in [a, b], with interpolated end points.
fn clip(s: &[(f64, f64)], a: f64, b: f64) -> Vec<(f64, f64)> {
    let mut out = vec![(a, interp(s, a))];
    out.extend(
        s.iter()
            .copied()
            .filter(|&(t, _)| t > a + 1e-9 && t < b - 1e-9),
    );
    out.push((b, interp(s, b)));
    out
}

fn stat_of(s: &[(f64, f64)], when: When, stat: Stat) -> f64 {
    let (a, b) = match when {
        When::At(t) => return interp(s, t),
        When::Window(a, b) => (a, b),
    };
    let w = clip(s, a, b);
    if w.iter().any(|p| p.1.is_nan()) {
        return f64::NAN;
    }
    let arg = |better: fn(f64, f64) -> bool| {
        let mut best = w[0];
        for &p in &w[1..] {
            if better(p.1, best.1) {
                best = p;
            }
        }
        best
    };
    match stat {
        Stat::Value => {
            let area: f64 = w
                .windows(2)
                .map(|p| 0.5 * (p[0].1 + p[1].1) * (p[1].0 - p[0].0))
                .sum();
            area / (b - a)
        }
        Stat::Peak => arg(|x, y| x > y).1,
        Stat::Trough => arg(|x, y| x < y).1,
        Stat::PeakH => arg(|x, y| x > y).0,
        Stat::TroughH => arg(|x, y| x < y).0,
        Stat::HalfRiseH => {
            let v0 = w[0].1;
            let peak = arg(|x, y| x > y).1;
            let half = v0 + 0.5 * (peak - v0);
            if peak - v0 <= 0.0 {
                return f64::NAN;
            }
            for p in w.windows(2) {
                if p[1].1 >= half {
                    let f = if p[1].1 > p[0].1 {
                        (half - p[0].1) / (p[1].1 - p[0].1)
                    } else {
                        1.0
                    };
                    return p[0].0 + f.clamp(0.0, 1.0) * (p[1].0 - p[0].0);
                }
            }
            f64::NAN
        }
    }
}

fn plain(runs: &Runs, m: &Measure, arm: &str) -> f64 {
    let s = series(runs, arm, &m.quantity);
    let mut v = stat_of(&s, m.when, m.stat);
    if m.excess && matches!(m.stat, Stat::Value | Stat::Peak | Stat::Trough) {
        v -= interp(&s, 0.0);
    }
    v
}

pub(crate) fn relief(runs: &Runs, m: &Measure, arm: &str, control: &str) -> f64 {
    let a = plain(runs, m, arm);
    let c = plain(runs, m, control);
    let c0 = interp(&series(runs, control, &m.quantity), 0.0);
    let change = c - c0;
    if change.abs() < 1e-9 * c0.abs().max(1e-6) {
        return f64::NAN;
    }
    (c - a) / change
}

fn eval(runs: &Runs, m: &Measure) -> f64 {
    let v = match (&m.control, &m.blocked) {
        (Some(c), Some(b)) => 1.0 - relief(runs, m, b, c) / relief(runs, m, &m.arm, c),
        (Some(c), None) => relief(runs, m, &m.arm, c),
        _ => match &m.minus {
            Some(b) => plain(runs, m, &m.arm) - plain(runs, m, b),
            None => plain(runs, m, &m.arm),
        },
    };
    match &m.per {
        Some(p) => v / eval(runs, p),
        None => v,
    }
}

pub(crate) fn when_text(w: When) -> String {
    let t = |h: f64| {
        if h >= 48.0 && (h / 24.0).fract().abs() < 1e-9 {
            format!("d{}", h / 24.0)
        } else if h < 1.0 && h > 0.0 {
            format!("{} min", (h * 60.0 * 10.0).round() / 10.0)
        } else {
            format!("{h} h")
        }
    };
    match w {
        When::At(h) => t(h),
        When::Window(a, b) => format!("{}–{}", t(a), t(b)),
    }
}

fn num(v: f64) -> String {
    if !v.is_finite() {
        return "n/a".into();
    }
    let a = v.abs();
    if a == 0.0 {
        "0".into()
    } else if a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 0.01 {
        format!("{:.3}", v)
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_string()
    } else {
        format!("{v:.2e}")
    }
}

fn compare_text(w: When, a: f64, b: f64) -> String {
    let change = if b > 0.0 && a >= 0.0 {
        format!("×{}", num(a / b))
    } else {
        format!("{:+.0} % of |b|", 100.0 * (a - b) / b.abs())
    };
    format!("{}: {} vs {} ({change})", when_text(w), num(a), num(b))
}

/// What one check measured.
#[derive(Debug, Clone, Serialize)]
pub struct CheckResult {
    pub what: String,
    pub criterion: String,
    pub measured: Vec<String>,
    pub pass: bool,
}

pub(crate) fn evaluate(runs: &Runs, c: &Check) -> CheckResult {
    let mut measured = Vec::new();
    let mut pass = true;
    for (a, b) in &c.pairs {
        let va = eval(runs, a);
        let vb = b.as_ref().map(|b| eval(runs, b));
        let (ok, text) = match (c.kind, vb) {
            // The change relative to |b|: for positive b this is the ratio minus one, and it
            // keeps its meaning for signed quantities (φ_Cl < 0).
            (Kind::Higher(by), Some(vb)) => {
                let d = (va - vb) / vb.abs();
                (d >= by, compare_text(a.when, va, vb))
            }
            (Kind::Lower(by), Some(vb)) => {
                let d = (va - vb) / vb.abs();
                (d <= -by, compare_text(a.when, va, vb))
            }
            (Kind::Similar(tol), Some(vb)) => {
                let d = (va - vb) / vb.abs();
                (d.abs() <= tol, compare_text(a.when, va, vb))
            }
            (Kind::Range(lo, hi), _) => (
                va >= lo && va <= hi,
                format!("{}: {}", when_text(a.when), num(va)),
            ),
            (Kind::Order(by), Some(vb)) => (va > vb + by, format!("{} vs {}", num(va), num(vb))),
            _ => (false, "n/a".into()),
        };
        pass &= ok && va.is_finite() && vb.is_none_or(f64::is_finite);
        measured.push(text);
    }
    let (a, b) = &c.pairs[0];
    let mut a = a.clone();
    if c.pairs.len() > 1 {
        // One criterion for every time point: "at 6 h, 24 h, d4".
        let times: Vec<String> = c.pairs.iter().map(|p| when_text(p.0.when)).collect();
        a.times = Some(times.join(", "));
    }
    let a = &a;
    let criterion = match c.kind {
        Kind::Higher(by) => format!(
            "{} exceeds {} by ≥ {} % of the latter's magnitude",
            a.describe(),
            b.as_ref().map(|b| b.arm.as_str()).unwrap_or(""),
            num(by * 100.0)
        ),
        Kind::Lower(by) => format!(
            "{} is below {} by ≥ {} % of the latter's magnitude",
            a.describe(),
            b.as_ref().map(|b| b.arm.as_str()).unwrap_or(""),
            num(by * 100.0)
        ),
        Kind::Similar(tol) => format!(
            "{} within ±{} % of {}",
            a.describe(),
            num(tol * 100.0),
            b.as_ref().map(|b| b.arm.as_str()).unwrap_or("")
        ),
        Kind::Range(lo, hi) => {
            let mut s = a.describe();
            if lo.is_finite() {
                s = format!("{} ≤ {s}", num(lo));
            }
            if hi.is_finite() {
                s = format!("{s} ≤ {}", num(hi));
            }
            s
        }
        Kind::Order(by) => format!(
            "{} > {}{}",
            a.describe(),
            b.as_ref().map(|b| b.describe()).unwrap_or_default(),
            if by > 0.0 {
                format!(" + {by}")
            } else {
                String::new()
            }
        ),
    };
    CheckResult {
        what: c.what.clone(),
        criterion,
        measured,
        pass,
    }
}

// ------------------------------------------------------------------------------------------
// Running the suite
// ------------------------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::network::state::{RATE_NAMES, STATE_NAMES};
    use crate::tissue::section::REPORT_REGIONS;
    use crate::validate::finding::merge;

    fn readouts(values: &[(f64, f64)]) -> Vec<Readout> {
        let width = STATE_NAMES.len() + RATE_NAMES.len();
        values
            .iter()
            .map(|&(h, v)| Readout {
                time_s: h * 3600.0,
                p_mech: v,
                p_heat: 1.0,
                p_spont: 1.0,
                pwt_g: 15.0,
                pwl_s: 10.0,
                means: vec![vec![v; width]; REPORT_REGIONS.len()],
                spatial: Vec::new(),
            })
            .collect()
    }

    /// The runs of named arms, with the §4.3 chloride constants of a typical table.
    fn runs_of<'a>(arms: &[(&str, &'a [Readout])]) -> Runs<'a> {
        Runs {
            arms: arms.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
            phi: PhiCl {
                v_rest: -65.0,
                e0: -40.0,
                slope: -30.0,
            },
        }
    }

    #[test]
    fn statistics_of_a_series() {
        let s = [(0.0, 1.0), (1.0, 3.0), (2.0, 5.0), (3.0, 4.0), (4.0, 4.0)];
        assert_eq!(interp(&s, 0.5), 2.0);
        assert!(interp(&s, 5.0).is_nan());
        // Mean over [0, 2] by the trapezoid rule: (2 + 4)/2 = 3.
        assert!((stat_of(&s, When::Window(0.0, 2.0), Stat::Value) - 3.0).abs() < 1e-12);
        assert_eq!(stat_of(&s, When::Window(0.0, 4.0), Stat::Peak), 5.0);
        assert_eq!(stat_of(&s, When::Window(0.0, 4.0), Stat::PeakH), 2.0);
        assert_eq!(stat_of(&s, When::Window(1.5, 4.0), Stat::TroughH), 1.5);
        // Half of the rise 1 → 5 is 3, reached at 1 h.
        assert!((stat_of(&s, When::Window(0.0, 4.0), Stat::HalfRiseH) - 1.0).abs() < 1e-12);
        // A flat series has no rise.
        assert!(
            stat_of(
                &[(0.0, 1.0), (1.0, 1.0)],
                When::Window(0.0, 1.0),
                Stat::HalfRiseH
            )
            .is_nan()
        );
    }

    #[test]
    fn relief_and_blocked_fractions() {
        // Control rises 1 → 3; the treated arm to 2 (half the rise removed); the blocked arm
        // to 2.5 (relief 0.25, so half of the treatment's relief is blocked).
        let c = readouts(&[(0.0, 1.0), (10.0, 3.0)]);
        let t = readouts(&[(0.0, 1.0), (10.0, 2.0)]);
        let b = readouts(&[(0.0, 1.0), (10.0, 2.5)]);
        let runs = runs_of(&[("c", &c), ("t", &t), ("b", &b)]);
        let m = Measure {
            arm: "t".into(),
            control: Some("c".into()),
            blocked: None,
            minus: None,
            quantity: Quantity::parse("P_mech").unwrap(),
            quantity_name: "P_mech".into(),
            when: When::At(10.0),
            stat: Stat::Value,
            excess: false,
            per: None,
            times: None,
        };
        assert!((eval(&runs, &m) - 0.5).abs() < 1e-12);
        let mb = Measure {
            blocked: Some("b".into()),
            ..m.clone()
        };
        assert!((eval(&runs, &mb) - 0.5).abs() < 1e-12);
        // With no change in the control the relief is undefined, and a check on it fails.
        let flat = readouts(&[(0.0, 1.0), (10.0, 1.0)]);
        let runs2 = runs_of(&[("c", &flat), ("t", &t)]);
        assert!(eval(&runs2, &m).is_nan());
        let check = Check {
            what: "x".into(),
            kind: Kind::Range(0.1, f64::INFINITY),
            pairs: vec![(m, None)],
        };
        assert!(!evaluate(&runs2, &check).pass);
        // φ_Cl is 1 at K = 1.
        assert!((runs.phi.at(1.0) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn minus_is_the_difference_of_two_arms_at_the_same_time() {
        // A drug alone lowers the index 1 → 0.8; drug + EA to 0.5; EA alone to 0.9; naive 1.
        let drug = readouts(&[(0.0, 1.0), (10.0, 0.8)]);
        let both = readouts(&[(0.0, 1.0), (10.0, 0.5)]);
        let ea = readouts(&[(0.0, 1.0), (10.0, 0.9)]);
        let naive = readouts(&[(0.0, 1.0), (10.0, 1.0)]);
        let runs = runs_of(&[("d", &drug), ("b", &both), ("e", &ea), ("n", &naive)]);
        let m = |arm: &str, minus: &str| Measure {
            arm: arm.into(),
            control: None,
            blocked: None,
            minus: Some(minus.into()),
            quantity: Quantity::parse("P_mech").unwrap(),
            quantity_name: "P_mech".into(),
            when: When::At(10.0),
            stat: Stat::Value,
            excess: false,
            per: None,
            times: None,
        };
        // EA over the drug alone: −0.3; EA alone over naive: −0.1; their ratio 3.
        assert!((eval(&runs, &m("b", "d")) + 0.3).abs() < 1e-12);
        let ratio = Measure {
            per: Some(Box::new(m("e", "n"))),
            ..m("b", "d")
        };
        assert!((eval(&runs, &ratio) - 3.0).abs() < 1e-9);
        assert_eq!(
            ratio.describe(),
            "P_mech in b minus d at 10 h / P_mech in e minus n at 10 h"
        );
    }

    #[test]
    fn comparisons_keep_their_meaning_for_signed_quantities() {
        // φ_Cl-like values: −0.204 is higher than −0.266 by 23 % of 0.266.
        let a = readouts(&[(0.0, 1.0), (10.0, -0.204)]);
        let b = readouts(&[(0.0, 1.0), (10.0, -0.266)]);
        let runs = runs_of(&[("a", &a), ("b", &b)]);
        let m = |arm: &str| Measure {
            arm: arm.into(),
            control: None,
            blocked: None,
            minus: None,
            quantity: Quantity::parse("K@I").unwrap(),
            quantity_name: "K@I".into(),
            when: When::At(10.0),
            stat: Stat::Value,
            excess: false,
            per: None,
            times: None,
        };
        let check = |kind| Check {
            what: "x".into(),
            kind,
            pairs: vec![(m("a"), Some(m("b")))],
        };
        assert!(evaluate(&runs, &check(Kind::Higher(0.2))).pass);
        assert!(!evaluate(&runs, &check(Kind::Higher(0.3))).pass);
        assert!(!evaluate(&runs, &check(Kind::Lower(0.1))).pass);
        assert!(!evaluate(&runs, &check(Kind::Similar(0.1))).pass);
    }

    #[test]
    fn quantities_parse_or_explain() {
        assert_eq!(Quantity::parse("P_heat").unwrap(), Quantity::Pain(1));
        assert!(matches!(
            Quantity::parse("IL1b@I-II").unwrap(),
            Quantity::Mean { region: 0, .. }
        ));
        assert!(matches!(
            Quantity::parse("phi_Cl@I").unwrap(),
            Quantity::PhiCl { region: 1 }
        ));
        assert!(
            Quantity::parse("IL1b@X")
                .unwrap_err()
                .contains("not a region")
        );
        assert!(
            Quantity::parse("IL99@I")
                .unwrap_err()
                .contains("not a state")
        );
        assert!(Quantity::parse("pain").unwrap_err().contains("NAME@REGION"));
        // Spatial quantities: NAME@GROUP/STAT.
        use crate::tissue::spatial::{SPATIAL_REGIONS, SpatialStat};
        let Quantity::Spatial(q) = Quantity::parse("M@III-IV/in").unwrap() else {
            panic!("M@III-IV/in is spatial");
        };
        assert_eq!(SPATIAL_REGIONS[q.region].0, "III-IV");
        assert_eq!(q.stat, SpatialStat::In);
        assert!(matches!(
            Quantity::parse("pERK@grey/peak_depth_um").unwrap(),
            Quantity::Spatial(_)
        ));
        let e = Quantity::parse("M@II-III/in").unwrap_err();
        assert!(
            e.contains("not a lamina group") && e.contains("III-IV"),
            "{e}"
        );
        let e = Quantity::parse("M@I-II/mean").unwrap_err();
        assert!(
            e.contains("not a spatial statistic") && e.contains("edge_um"),
            "{e}"
        );
        assert!(
            Quantity::parse("XX@I-II/in")
                .unwrap_err()
                .contains("not a state")
        );
        // A read-out without the spatial value (not asked of the run) is NaN, never a number.
        let r = &readouts(&[(0.0, 1.0)])[0];
        let phi = PhiCl {
            v_rest: -60.0,
            e0: -70.0,
            slope: 10.0,
        };
        assert!(Quantity::Spatial(q).of(r, &phi).is_nan());
    }

    #[test]
    fn merge_appends_arrays_of_tables_and_replaces_values() {
        let mut base: toml::Table =
            toml::from_str("[time]\ndays = 7.0\nstep_min = 10.0\n[[ea]]\ndays = [1]\n").unwrap();
        let with: toml::Table = toml::from_str("[time]\ndays = 3.0\n[[ea]]\ndays = [2]\n").unwrap();
        merge(&mut base, &with);
        assert_eq!(base["time"]["days"].as_float(), Some(3.0));
        assert_eq!(base["time"]["step_min"].as_float(), Some(10.0));
        assert_eq!(base["ea"].as_array().unwrap().len(), 2);
    }
}
