//! Perceptual colormaps: the single colour mapping used by every image the program writes.
//!
//! Tables are 33 control points sampled from matplotlib's `viridis`, `magma` and `RdBu_r`
//! (both perceptually uniform sequential maps, and a diverging map for signed quantities),
//! linearly interpolated in sRGB. Values below the range clamp to the first colour, above to the
//! last; NaN maps to mid grey so it stands out from every map.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Colormap {
    Viridis,
    Magma,
    /// Blue (low) – white (centre) – red (high), for signed quantities.
    Diverging,
}

/// Colour shown for NaN cells.
pub const NAN_COLOUR: [u8; 3] = [128, 128, 128];

impl Colormap {
    pub const NAMES: &'static [&'static str] = &["viridis", "magma", "diverging"];

    pub fn from_name(name: &str) -> Option<Colormap> {
        match name {
            "viridis" => Some(Colormap::Viridis),
            "magma" => Some(Colormap::Magma),
            "diverging" => Some(Colormap::Diverging),
            _ => None,
        }
    }

    /// The name `from_name` reads.
    pub fn name(self) -> &'static str {
        match self {
            Colormap::Viridis => "viridis",
            Colormap::Magma => "magma",
            Colormap::Diverging => "diverging",
        }
    }

    fn table(self) -> &'static [[u8; 3]; 33] {
        match self {
            Colormap::Viridis => &VIRIDIS,
            Colormap::Magma => &MAGMA,
            Colormap::Diverging => &RDBU,
        }
    }

    /// Colour of `t` in [0, 1] (clamped).
    pub fn at(self, t: f32) -> [u8; 3] {
        if t.is_nan() {
            return NAN_COLOUR;
        }
        let table = self.table();
        let x = t.clamp(0.0, 1.0) * 32.0;
        let i = (x.floor() as usize).min(31);
        let f = x - i as f32;
        let (a, b) = (table[i], table[i + 1]);
        std::array::from_fn(|c| (a[c] as f32 + f * (b[c] as f32 - a[c] as f32)).round() as u8)
    }

    /// The automatic display range of `field` in this map: the finite min and max
    /// ([`auto_range`]), made symmetric about 0 for the diverging map so that white is zero.
    /// Both the PNG frames and the live window use it.
    pub fn auto_range(self, field: &[f32]) -> (f32, f32) {
        let (lo, hi) = auto_range(field);
        match self {
            Colormap::Diverging => {
                let m = lo.abs().max(hi.abs());
                (-m, m)
            }
            _ => (lo, hi),
        }
    }

    /// RGB pixels (row-major, 3 bytes each) of `field` mapped over `range` = (low, high).
    pub fn colorize(self, field: &[f32], range: (f32, f32)) -> Vec<u8> {
        let (lo, hi) = range;
        let scale = if hi > lo { 1.0 / (hi - lo) } else { 0.0 };
        field
            .iter()
            .flat_map(|&v| self.at((v - lo) * scale))
            .collect()
    }
}

/// The finite min and max of a field (0, 1 if it has no finite value); widened to a non-empty
/// range for a constant field.
pub fn auto_range(field: &[f32]) -> (f32, f32) {
    let (lo, hi) = field
        .iter()
        .filter(|v| v.is_finite())
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        });
    if !lo.is_finite() {
        (0.0, 1.0)
    } else if hi > lo {
        (lo, hi)
    } else {
        (lo - 0.5, lo + 0.5)
    }
}

const VIRIDIS: [[u8; 3]; 33] = [
    [68, 1, 84],
    [71, 13, 96],
    [72, 24, 106],
    [72, 35, 116],
    [71, 45, 123],
    [69, 55, 129],
    [66, 64, 134],
    [62, 73, 137],
    [59, 82, 139],
    [55, 91, 141],
    [51, 99, 141],
    [47, 107, 142],
    [44, 114, 142],
    [41, 122, 142],
    [38, 130, 142],
    [35, 137, 142],
    [33, 145, 140],
    [31, 152, 139],
    [31, 160, 136],
    [34, 167, 133],
    [40, 174, 128],
    [50, 182, 122],
    [63, 188, 115],
    [78, 195, 107],
    [94, 201, 98],
    [112, 207, 87],
    [132, 212, 75],
    [152, 216, 62],
    [173, 220, 48],
    [194, 223, 35],
    [216, 226, 25],
    [236, 229, 27],
    [253, 231, 37],
];

const MAGMA: [[u8; 3]; 33] = [
    [0, 0, 4],
    [3, 3, 18],
    [10, 8, 34],
    [19, 13, 52],
    [29, 17, 71],
    [41, 17, 90],
    [54, 16, 107],
    [68, 15, 118],
    [81, 18, 124],
    [93, 23, 127],
    [106, 28, 129],
    [118, 33, 129],
    [131, 38, 129],
    [144, 42, 129],
    [156, 46, 127],
    [170, 51, 125],
    [183, 55, 121],
    [196, 60, 117],
    [208, 65, 111],
    [220, 72, 105],
    [231, 82, 99],
    [239, 93, 94],
    [245, 107, 92],
    [249, 121, 93],
    [252, 137, 97],
    [253, 152, 105],
    [254, 167, 114],
    [254, 182, 124],
    [254, 196, 136],
    [254, 211, 149],
    [253, 226, 163],
    [252, 240, 178],
    [252, 253, 191],
];

const RDBU: [[u8; 3]; 33] = [
    [5, 48, 97],
    [14, 65, 121],
    [23, 82, 144],
    [31, 99, 168],
    [42, 113, 178],
    [52, 128, 185],
    [63, 142, 192],
    [82, 157, 200],
    [107, 172, 209],
    [132, 188, 217],
    [155, 201, 224],
    [174, 211, 230],
    [194, 221, 236],
    [212, 230, 241],
    [224, 236, 243],
    [236, 242, 245],
    [247, 246, 246],
    [249, 238, 231],
    [251, 229, 216],
    [253, 220, 201],
    [251, 204, 180],
    [248, 187, 158],
    [245, 170, 137],
    [238, 150, 119],
    [228, 128, 102],
    [219, 107, 85],
    [208, 85, 72],
    [197, 62, 61],
    [186, 40, 50],
    [171, 22, 42],
    [147, 14, 38],
    [124, 7, 34],
    [103, 0, 31],
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_match_matplotlib() {
        assert_eq!(Colormap::Viridis.at(0.0), [68, 1, 84]);
        assert_eq!(Colormap::Viridis.at(1.0), [253, 231, 37]);
        assert_eq!(Colormap::Viridis.at(-3.0), [68, 1, 84]);
        assert_eq!(Colormap::Viridis.at(f32::NAN), NAN_COLOUR);
    }

    #[test]
    fn viridis_lightness_increases() {
        // Perceptual sequential map: luma rises monotonically along the map.
        let luma = |c: [u8; 3]| 0.2126 * c[0] as f32 + 0.7152 * c[1] as f32 + 0.0722 * c[2] as f32;
        let mut prev = -1.0;
        for i in 0..=100 {
            let l = luma(Colormap::Viridis.at(i as f32 / 100.0));
            assert!(l >= prev, "luma fell at {i}");
            prev = l;
        }
    }

    #[test]
    fn names_round_trip() {
        for name in Colormap::NAMES {
            assert_eq!(Colormap::from_name(name).unwrap().name(), *name);
        }
    }

    #[test]
    fn diverging_range_is_centred_on_zero() {
        assert_eq!(Colormap::Diverging.auto_range(&[-1.0, 3.0]), (-3.0, 3.0));
        assert_eq!(Colormap::Viridis.auto_range(&[-1.0, 3.0]), (-1.0, 3.0));
    }

    #[test]
    fn auto_range_handles_constant_and_nan() {
        assert_eq!(auto_range(&[2.0, 2.0]), (1.5, 2.5));
        assert_eq!(auto_range(&[f32::NAN]), (0.0, 1.0));
        assert_eq!(auto_range(&[1.0, f32::NAN, 3.0]), (1.0, 3.0));
    }
}
