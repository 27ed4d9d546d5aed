//! Spatial read-outs of a field (layer 3): where in the section a quantity is, as the validation
//! suite's spatial findings read it (docs/validation-format.md, "Spatial quantities"): a lamina
//! group's mean inside or outside the paw band, the mediolateral extent at half maximum and the
//! width of its lateral edge, and the depth of the peak below the dorsal grey border.

use crate::model::anatomy::Region;
use crate::tissue::TissueSim;
use crate::tissue::observe::{Observation, field_values};

/// Lamina groups a spatial quantity can read (`NAME@GROUP/STAT`).
pub const SPATIAL_REGIONS: [(&str, &[Region]); 15] = {
    use Region::*;
    [
        ("I-II", &[I, IIo, IIi]),
        ("I", &[I]),
        ("IIo", &[IIo]),
        ("IIi", &[IIi]),
        ("III", &[III]),
        ("IV", &[IV]),
        ("V", &[V]),
        ("VI", &[VI]),
        ("VII", &[VII]),
        ("I-IV", &[I, IIo, IIi, III, IV]),
        ("III-IV", &[III, IV]),
        ("V-VI", &[V, VI]),
        ("VI-VII", &[VI, VII]),
        ("grey", &[I, IIo, IIi, III, IV, V, VI, VII]),
        ("white", &[Lissauer, Dlf, DorsalColumns, LateralFuniculus]),
    ]
};

/// What a spatial quantity reads of its lamina group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpatialStat {
    /// `/in`: the mean inside the paw band (cells weighted by lamina weight × b̃).
    In,
    /// `/out`: the mean outside it (lamina weight × (1 − b̃)).
    Out,
    /// `/extent_um`: mediolateral width (µm) of the column profile above half its maximum.
    ExtentUm,
    /// `/edge_um`: lateral of the profile's maximum, the distance (µm) over which it falls from
    /// 90 % to 10 % of the way between its maximum and its lateral minimum.
    EdgeUm,
    /// `/peak_depth_um`: depth (µm below the dorsal grey border) of the maximum of the in-band
    /// depth profile, in bins of one cell.
    PeakDepthUm,
}

impl SpatialStat {
    pub const ALL: [(&'static str, SpatialStat); 5] = [
        ("in", SpatialStat::In),
        ("out", SpatialStat::Out),
        ("extent_um", SpatialStat::ExtentUm),
        ("edge_um", SpatialStat::EdgeUm),
        ("peak_depth_um", SpatialStat::PeakDepthUm),
    ];
}

/// The laminae of a profile across the dorsal horn (the spatial findings' figures), in depth
/// order.
pub const PROFILE: [&str; 9] = ["I", "IIo", "IIi", "III", "IV", "V", "VI", "VII", "white"];

/// The read-outs of field `field`'s lamina profile: each lamina of [`PROFILE`] inside, then
/// outside the paw band.
pub fn profile_quantities(field: usize) -> Vec<SpatialQuantity> {
    [SpatialStat::In, SpatialStat::Out]
        .into_iter()
        .flat_map(|stat| {
            PROFILE.iter().map(move |name| SpatialQuantity {
                field,
                region: SPATIAL_REGIONS
                    .iter()
                    .position(|(n, _)| n == name)
                    .expect("profile laminae are spatial regions"),
                stat,
            })
        })
        .collect()
}

/// One spatial read-out: field `field` (STATE_NAMES then RATE_NAMES order) in the lamina group
/// `region` (index into [`SPATIAL_REGIONS`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpatialQuantity {
    pub field: usize,
    pub region: usize,
    pub stat: SpatialStat,
}

/// The values of `quantities` in an observation, in their order; NaN where a quantity cannot
/// be formed (no cell of the group holds the field, a profile without a maximum).
pub fn measure(sim: &TissueSim, obs: &Observation, quantities: &[SpatialQuantity]) -> Vec<f64> {
    let mut fields: Vec<(usize, Vec<f32>)> = Vec::new();
    quantities
        .iter()
        .map(|q| {
            if !fields.iter().any(|(f, _)| *f == q.field) {
                let v = field_values(sim, &obs.states, Some(&obs.rates), &obs.input, q.field);
                fields.push((q.field, v));
            }
            let v = &fields.iter().find(|(f, _)| *f == q.field).expect("added").1;
            one(sim, v, q)
        })
        .collect()
}

fn one(sim: &TissueSim, v: &[f32], q: &SpatialQuantity) -> f64 {
    let layout = &sim.layout;
    let t = &layout.tissue;
    let band = &layout.maps.band_paw;
    let regions = SPATIAL_REGIONS[q.region].1;
    let w = |i: usize| -> f64 {
        if v[i].is_finite() {
            t.weight_of(i, regions) as f64
        } else {
            0.0
        }
    };
    let mean_by = |f: &dyn Fn(usize) -> f64| {
        let (mut num, mut den) = (0.0f64, 0.0f64);
        for i in 0..v.len() {
            let wi = w(i) * f(i);
            if wi > 0.0 {
                num += wi * v[i] as f64;
                den += wi;
            }
        }
        if den > 0.0 { num / den } else { f64::NAN }
    };
    match q.stat {
        SpatialStat::In => mean_by(&|i| band[i] as f64),
        SpatialStat::Out => mean_by(&|i| 1.0 - band[i] as f64),
        SpatialStat::ExtentUm | SpatialStat::EdgeUm => {
            let (nx, ny) = (t.nx, t.ny);
            let profile: Vec<Option<f64>> = (0..nx)
                .map(|x| {
                    let (mut num, mut den) = (0.0f64, 0.0f64);
                    for y in 0..ny {
                        let i = y * nx + x;
                        let wi = w(i);
                        if wi > 0.0 {
                            num += wi * v[i] as f64;
                            den += wi;
                        }
                    }
                    (den > 0.0).then(|| num / den)
                })
                .collect();
            if q.stat == SpatialStat::ExtentUm {
                extent_at_half(&profile, t.h)
            } else {
                lateral_edge(&profile, t.h)
            }
        }
        SpatialStat::PeakDepthUm => {
            let o = &t.outline;
            let mut bins: Vec<(f64, f64)> = Vec::new();
            for i in 0..v.len() {
                let wi = w(i) * band[i] as f64;
                if wi <= 0.0 {
                    continue;
                }
                let (x, y) = t.cell_centre(i);
                let depth = if y <= o.yc {
                    match o.cap_depth(x, y) {
                        Some(d) => d,
                        None => continue,
                    }
                } else {
                    o.a.min(o.b) + (y - o.yc)
                };
                let k = (depth / t.h) as usize;
                if bins.len() <= k {
                    bins.resize(k + 1, (0.0, 0.0));
                }
                bins[k].0 += wi * v[i] as f64;
                bins[k].1 += wi;
            }
            bins.iter()
                .enumerate()
                .filter(|(_, b)| b.1 > 0.0)
                .map(|(k, b)| (k, b.0 / b.1))
                .max_by(|a, b| a.1.total_cmp(&b.1))
                .map_or(f64::NAN, |(k, _)| (k as f64 + 0.5) * t.h)
        }
    }
}

/// Position (µm, column centres) where the profile crosses `level` between columns a and b.
fn crossing(profile: &[Option<f64>], a: usize, b: usize, level: f64, h: f64) -> f64 {
    let (pa, pb) = (profile[a].unwrap_or(0.0), profile[b].unwrap_or(0.0));
    let s = if (pa - pb).abs() > 0.0 {
        (pa - level) / (pa - pb)
    } else {
        0.5
    };
    ((a as f64 + 0.5) + s * (b as f64 - a as f64)) * h
}

/// The column and value of the profile's maximum (the last one of equal maxima).
fn maximum(profile: &[Option<f64>]) -> Option<(usize, f64)> {
    profile
        .iter()
        .enumerate()
        .filter_map(|(x, p)| p.map(|p| (x, p)))
        .max_by(|a, b| a.1.total_cmp(&b.1))
}

/// Width (µm) of the profile above half its maximum, around the maximum; a side that never
/// falls to half ends at the last column the group covers.
fn extent_at_half(profile: &[Option<f64>], h: f64) -> f64 {
    let Some((peak_x, peak)) = maximum(profile) else {
        return f64::NAN;
    };
    if peak <= 0.0 {
        return f64::NAN;
    }
    let half = 0.5 * peak;
    let side = |step: isize| -> f64 {
        let mut x = peak_x;
        loop {
            let next = x as isize + step;
            if next < 0 || next as usize >= profile.len() || profile[next as usize].is_none() {
                return (x as f64 + 0.5 + 0.5 * step as f64) * h;
            }
            let n = next as usize;
            if profile[n].unwrap_or(0.0) < half {
                return crossing(profile, x, n, half, h);
            }
            x = n;
        }
    };
    side(1) - side(-1)
}

/// Lateral of the maximum: the distance (µm) between the 90 % and 10 % crossings of the way
/// from the profile's lateral minimum to its maximum. NaN without a fall.
fn lateral_edge(profile: &[Option<f64>], h: f64) -> f64 {
    let Some((peak_x, peak)) = maximum(profile) else {
        return f64::NAN;
    };
    let low = profile[peak_x..]
        .iter()
        .filter_map(|p| *p)
        .fold(f64::INFINITY, f64::min);
    let fall = peak - low;
    if fall.is_nan() || fall <= 1e-12 * peak.abs().max(1e-30) {
        return f64::NAN;
    }
    let first_below = |level: f64| -> Option<f64> {
        (peak_x..profile.len() - 1).find_map(|x| {
            let n = x + 1;
            match profile[n] {
                Some(p) if p < level => Some(crossing(profile, x, n, level, h)),
                _ => None,
            }
        })
    };
    let hi = low + 0.9 * (peak - low);
    let lo = low + 0.1 * (peak - low);
    match (first_below(hi), first_below(lo)) {
        (Some(a), Some(b)) => b - a,
        _ => f64::NAN,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_statistics_of_known_shapes() {
        let h = 10.0;
        // A step from 1 to 0 between columns 4 and 5: the 90 % and 10 % crossings lie in the
        // same cell gap, 0.8 cells apart; half maximum at the gap's middle.
        let step: Vec<Option<f64>> = (0..10)
            .map(|x| Some(if x < 5 { 1.0 } else { 0.0 }))
            .collect();
        assert!((lateral_edge(&step, h) - 8.0).abs() < 1e-9);
        assert!(
            (extent_at_half(&step, h) - 50.0).abs() < 1e-9,
            "{}",
            extent_at_half(&step, h)
        );
        // A linear ramp from 1 at column 2 to 0 at column 12: 90 % → 10 % spans 8 columns.
        let ramp: Vec<Option<f64>> = (0..16)
            .map(|x| Some((1.0 - (x as f64 - 2.0) / 10.0).clamp(0.0, 1.0)))
            .collect();
        assert!((lateral_edge(&ramp, h) - 80.0).abs() < 1e-9);
        // Columns outside the group end the extent at the last covered column.
        let mut part = ramp.clone();
        part[0] = None;
        assert!((extent_at_half(&part, h) - (7.5 * h - 1.0 * h)).abs() < 1e-9);
        // Flat: no edge.
        assert!(lateral_edge(&[Some(1.0); 5], h).is_nan());
        assert!(extent_at_half(&[None, None], h).is_nan());
    }
}
