//! The spatial maps of the section (MODEL.md §1.4–1.7, §2.2): afferent terminals, peptide and
//! varicosity densities, bands, α and λ per cell, the populations and their column averages.

use super::{Outline, Region, Territory, Tissue};
use crate::model::anatomy::Animal;
use crate::params::ParamTable;

/// Spatial maps of §1.4–1.7 and §2.2 on a tissue grid, each row-major nx × ny.
#[derive(Debug, Clone)]
pub struct Maps {
    /// Afferent termination maps T_k (§1.4), peak 1, × the paw (sciatic) band.
    pub t_cp: Vec<f32>,
    pub t_cn: Vec<f32>,
    pub t_ad: Vec<f32>,
    pub t_ab: Vec<f32>,
    /// The paw / sciatic somatotopic band b̃ (medial ⅔ of the grey mediolateral extent), with
    /// a graded lateral edge (§11.1: a logistic whose 10–90 % rise spans `band_edge_um`).
    pub band_paw: Vec<f32>,
    /// The tested (probed) part of the band (§11.4): b̃ itself, or for SNI its spared sural part
    /// (b̃ × the lateral sub-band of `Territory::Sni`).
    pub band_probe: Vec<f32>,
    /// Footprint of the injury signal S_inj (§11.1): the terminal maps of the injured (for
    /// [`Territory::Inflamed`], the sensitised) afferents, w_C·T_C + w_Aδ·T_Aδ + w_Aβ·T_Aβ
    /// (each × b̃), averaged over the microglial sensing range `inj_sense_um` (a Gaussian,
    /// [`Tissue::smooth_in_grey`]) and kept to the grey matter, peak 1, plus `inj_white` × the
    /// Lissauer's-tract weight × b̃; zero in the rest of the white matter. For SNI both terms
    /// carry the injured (tibial and peroneal) sub-band (§11.4).
    pub s_inj: Vec<f32>,
    /// Peptide source densities (§1.5) and grey-matter neuronal density ρ_N.
    pub rho_enk: Vec<f32>,
    pub rho_dyn: Vec<f32>,
    pub rho_em: Vec<f32>,
    pub rho_n: Vec<f32>,
    /// Descending varicosity densities (§1.6), peak 1.
    pub v_5ht: Vec<f32>,
    pub v_ne: Vec<f32>,
    /// ECS volume fraction α and small-molecule tortuosity λ (§2.2), weighted by region.
    pub alpha: Vec<f32>,
    pub lambda: Vec<f32>,
}

impl Maps {
    /// Names of the maps, in the order of [`Maps::all`].
    pub const NAMES: [&'static str; 15] = [
        "T_Cp",
        "T_Cn",
        "T_Ad",
        "T_Ab",
        "band_paw",
        "band_probe",
        "S_inj",
        "rho_ENK",
        "rho_DYN",
        "rho_EM",
        "rho_N",
        "V_5HT",
        "V_NE",
        "alpha",
        "lambda",
    ];

    pub fn all(&self) -> [&Vec<f32>; 15] {
        [
            &self.t_cp,
            &self.t_cn,
            &self.t_ad,
            &self.t_ab,
            &self.band_paw,
            &self.band_probe,
            &self.s_inj,
            &self.rho_enk,
            &self.rho_dyn,
            &self.rho_em,
            &self.rho_n,
            &self.v_5ht,
            &self.v_ne,
            &self.alpha,
            &self.lambda,
        ]
    }
}

fn normalise_peak(v: &mut [f32]) {
    let m = v.iter().copied().fold(0.0f32, f32::max);
    if m > 0.0 {
        v.iter_mut().for_each(|x| *x /= m);
    }
}

impl Outline {
    /// Depth below the dorsal grey border in the cap: the d with (x, y) on the ellipse of
    /// semi-axes (A − d, B − d) (the nested-ellipse depth of §1.3); None outside the cap.
    pub fn cap_depth(&self, x: f64, y: f64) -> Option<f64> {
        if y > self.yc || !self.in_ellipse(x, y, self.a, self.b) {
            return None;
        }
        let (mut lo, mut hi) = (0.0, self.a.min(self.b));
        for _ in 0..60 {
            let mid = 0.5 * (lo + hi);
            if self.in_ellipse(x, y, self.a - mid, self.b - mid) {
                lo = mid
            } else {
                hi = mid
            }
        }
        Some(0.5 * (lo + hi))
    }
}

impl Tissue {
    /// The maps of §1.4–1.7 and §2.2 for this grid with the whole sciatic band injured and
    /// tested (decisions in docs/model.md).
    pub fn maps(&self, table: &ParamTable) -> Maps {
        self.maps_for(table, Territory::Sciatic)
    }

    /// The maps for a pain model's territories (§11.4): [`Territory::Sni`] confines the injury
    /// footprint to the tibial and peroneal part of the band and the probe to its sural part.
    #[expect(
        clippy::too_many_lines,
        reason = "one map per paragraph of MODEL.md §1.4–§2.2, in the spec's order"
    )]
    pub fn maps_for(&self, table: &ParamTable, territory: Territory) -> Maps {
        let n = self.nx * self.ny;
        let o = &self.outline;
        let g = |k: &str| {
            table
                .get(k)
                .unwrap_or_else(|| panic!("parameter table lacks `{k}`")) as f32
        };
        let (d_c, width) = match o.animal {
            Animal::Rat => (g("Cn_depth_rat"), g("Cn_width")),
            Animal::Mouse => (g("Cn_depth_mouse"), g("Cn_width")),
        };
        let w = |i: usize, r: Region| self.weights[i][r as usize];
        let grey_w = |i: usize| self.grey_weight(i);
        let white_w = |i: usize| {
            Region::ALL
                .iter()
                .filter(|r| r.is_white())
                .map(|r| w(i, *r))
                .sum::<f32>()
        };
        // The band is the medial ⅔ of the grey mediolateral extent [xc − A, xc + A]; its
        // lateral edge is a logistic with a 10–90 % width of `band_edge_um` (§11.1). The
        // medial side is the grey border, where the terminal maps end by their lamina weights.
        let lateral_edge = o.xc - o.a + 2.0 / 3.0 * 2.0 * o.a;
        let edge_scale = g("band_edge_um") as f64 / (2.0 * 9f64.ln());
        // 1 medial of `edge`, 0 lateral of it, a logistic of the band's edge width between.
        let medial_of = |edge: f64| -> Vec<f32> {
            (0..n)
                .map(|i| {
                    let x = ((i % self.nx) as f64 + 0.5) * self.h;
                    (1.0 / (1.0 + ((x - edge) / edge_scale).exp())) as f32
                })
                .collect()
        };
        let band_paw = medial_of(lateral_edge);
        // §11.4: the injured and the tested part of the band. SNI spares the sural nerve, whose
        // terminals lie lateral to the tibial and peroneal fields (Swett & Woolf 1985): the
        // sural sub-band is the lateral `SNI_sural_fraction` of the band, split from the rest by
        // a logistic of the same edge width.
        let injured: Vec<f32> = match territory {
            Territory::Sciatic | Territory::Inflamed => vec![1.0; n],
            Territory::Sni => {
                let medial_edge = o.xc - o.a;
                let split =
                    lateral_edge - g("SNI_sural_fraction") as f64 * (lateral_edge - medial_edge);
                medial_of(split)
            }
        };
        let band_probe: Vec<f32> = match territory {
            Territory::Sciatic | Territory::Inflamed => band_paw.clone(),
            Territory::Sni => (0..n).map(|i| band_paw[i] * (1.0 - injured[i])).collect(),
        };
        let mut t_cp: Vec<f32> = (0..n)
            .map(|i| {
                (w(i, Region::I)
                    + w(i, Region::IIo)
                    + 0.4 * w(i, Region::IIi)
                    + 0.15 * w(i, Region::V))
                    * band_paw[i]
            })
            .collect();
        let mut t_cn: Vec<f32> = (0..n)
            .map(|i| {
                let (x, y) = self.cell_centre(i);
                let d = o.cap_depth(x, y).map_or(0.0, |d| {
                    (-((d as f32 - d_c).powi(2)) / (2.0 * width * width)).exp()
                });
                d * grey_w(i) * band_paw[i]
            })
            .collect();
        let mut t_ad: Vec<f32> = (0..n)
            .map(|i| {
                (w(i, Region::I) + 0.3 * w(i, Region::IIo) + 0.8 * w(i, Region::V)) * band_paw[i]
            })
            .collect();
        let mut t_ab: Vec<f32> = (0..n)
            .map(|i| {
                (0.3 * w(i, Region::IIi)
                    + w(i, Region::III)
                    + w(i, Region::IV)
                    + 0.6 * w(i, Region::V))
                    * band_paw[i]
            })
            .collect();
        for v in [&mut t_cp, &mut t_cn, &mut t_ad, &mut t_ab] {
            normalise_peak(v);
        }
        // T_C, the C-fibre map: T_Cp + T_Cn renormalised to peak 1.
        let mut t_c: Vec<f32> = (0..n).map(|i| t_cp[i] + t_cn[i]).collect();
        normalise_peak(&mut t_c);
        // Injured afferents of every class drive the glia after nerve injury; after
        // inflammation the sensitised nociceptors do (§11.1 decision).
        let (w_c, w_ad, w_ab) = match territory {
            Territory::Inflamed => (g("cfa_w_C"), g("cfa_w_Ad"), g("cfa_w_Ab")),
            Territory::Sciatic | Territory::Sni => (g("inj_w_C"), g("inj_w_Ad"), g("inj_w_Ab")),
        };
        let mut s_inj: Vec<f32> = (0..n)
            .map(|i| (w_c * t_c[i] + w_ad * t_ad[i] + w_ab * t_ab[i]) * injured[i])
            .collect();
        normalise_peak(&mut s_inj);
        // What a microglial cell senses is the injury signal its processes meet and that the
        // released mediators carry: S_inj averaged by a Gaussian of `inj_sense_um` over the
        // grey matter (§11.1 decision, issue 19), kept to it (§11.1: no drive in white matter
        // but Lissauer's tract, added below) and renormalised to peak 1. 0 keeps the terminal
        // maps (the peak is already 1). The maps are cell averages, so the average is taken of
        // their grey density and multiplied back by the grey weight once.
        s_inj = self.average_in_grey(&s_inj, g("inj_sense_um") as f64);
        normalise_peak(&mut s_inj);
        let white = g("inj_white");
        for (i, s) in s_inj.iter_mut().enumerate() {
            *s = (*s + white * w(i, Region::Lissauer) * band_paw[i] * injured[i]).min(1.0);
        }
        let rho_enk = (0..n)
            .map(|i| {
                w(i, Region::I) + w(i, Region::IIo) + w(i, Region::IIi) + 0.5 * w(i, Region::V)
            })
            .collect();
        let rho_dyn = (0..n)
            .map(|i| w(i, Region::I) + w(i, Region::IIo) + 0.5 * w(i, Region::V))
            .collect();
        let rho_em = t_cp.clone();
        let rho_n = (0..n).map(grey_w).collect();
        let mut v_5ht: Vec<f32> = (0..n)
            .map(|i| {
                w(i, Region::I)
                    + w(i, Region::IIo)
                    + 0.5 * w(i, Region::IIi)
                    + 0.3 * (w(i, Region::V) + w(i, Region::VI))
            })
            .collect();
        let mut v_ne: Vec<f32> = (0..n)
            .map(|i| {
                w(i, Region::I)
                    + w(i, Region::IIo)
                    + w(i, Region::IIi)
                    + w(i, Region::III)
                    + w(i, Region::IV)
            })
            .collect();
        normalise_peak(&mut v_5ht);
        normalise_peak(&mut v_ne);
        let (ag, aw, lg, lw) = (
            g("alpha_grey"),
            g("alpha_white"),
            g("lambda_grey"),
            g("lambda_white"),
        );
        let mix = |i: usize, grey: f32, white: f32| {
            let (a, b) = (grey_w(i), white_w(i));
            if a + b > 0.0 {
                (a * grey + b * white) / (a + b)
            } else {
                0.0
            }
        };
        let alpha = (0..n).map(|i| mix(i, ag, aw)).collect();
        let lambda = (0..n).map(|i| mix(i, lg, lw)).collect();
        Maps {
            t_cp,
            t_cn,
            t_ad,
            t_ab,
            band_paw,
            band_probe,
            s_inj,
            rho_enk,
            rho_dyn,
            rho_em,
            rho_n,
            v_5ht,
            v_ne,
            alpha,
            lambda,
        }
    }

    /// Centre of cell i in µm.
    pub fn cell_centre(&self, i: usize) -> (f64, f64) {
        (
            ((i % self.nx) as f64 + 0.5) * self.h,
            ((i / self.nx) as f64 + 0.5) * self.h,
        )
    }
}

/// Population presence masks (§4.3: weight ≥ 0.05 of the listed laminae) and the afferent maps
/// seen by the columnar kernels of P and W (§4.3 "Presynaptic averaging").
#[derive(Debug, Clone)]
pub struct Populations {
    /// 1 where the population is present, else 0: E (IIo–III), I (I–III), P (I), W (V).
    pub present_e: Vec<f32>,
    pub present_i: Vec<f32>,
    pub present_p: Vec<f32>,
    pub present_w: Vec<f32>,
    /// Kernel averages of T_Cp, T_Cn, T_Aδ, T_Aβ for P (laminae I–III) and W (III–V).
    pub t_for_p: [Vec<f32>; 4],
    pub t_for_w: [Vec<f32>; 4],
}

impl Tissue {
    /// Sum of the weights of `regions` in cell i.
    pub fn weight_of(&self, i: usize, regions: &[Region]) -> f32 {
        regions.iter().map(|r| self.weights[i][*r as usize]).sum()
    }

    /// The columnar average of `field` for a postsynaptic cell: uniform over cells within
    /// `half_width_um` mediolaterally, weighted by the weight of `laminae` there, normalised
    /// (§4.3). Cells whose column holds none of the laminae get 0.
    pub fn column_average(
        &self,
        field: &[f32],
        laminae: &[Region],
        half_width_um: f64,
    ) -> Vec<f32> {
        let (nx, ny) = (self.nx, self.ny);
        let reach = (half_width_um / self.h).floor() as usize;
        // Per column x′: Σ_y w(x′, y)·f(x′, y) and Σ_y w(x′, y); the kernel spans all rows of the
        // laminae, so the 2-D average reduces to a 1-D window over these column sums.
        let mut num = vec![0.0f64; nx];
        let mut den = vec![0.0f64; nx];
        for y in 0..ny {
            for x in 0..nx {
                let i = y * nx + x;
                let w = self.weight_of(i, laminae) as f64;
                num[x] += w * field[i] as f64;
                den[x] += w;
            }
        }
        let mut out = vec![0.0f32; nx * ny];
        for x in 0..nx {
            let (lo, hi) = (x.saturating_sub(reach), (x + reach).min(nx - 1));
            let (n, d): (f64, f64) =
                (lo..=hi).fold((0.0, 0.0), |(a, b), k| (a + num[k], b + den[k]));
            let v = if d > 0.0 { (n / d) as f32 } else { 0.0 };
            for y in 0..ny {
                out[y * nx + x] = v;
            }
        }
        out
    }

    /// Presence masks and kernel-averaged afferent maps for the populations of §4.3.
    pub fn populations(&self, maps: &Maps, table: &ParamTable) -> Populations {
        let n = self.nx * self.ny;
        let w_min = table.get("presence_weight").unwrap_or(0.05) as f32;
        let half = table.get("column_half_width").unwrap_or(50.0);
        let mask = |laminae: &[Region]| -> Vec<f32> {
            (0..n)
                .map(|i| {
                    if self.weight_of(i, laminae) >= w_min {
                        1.0
                    } else {
                        0.0
                    }
                })
                .collect()
        };
        use Region::*;
        let (p_lam, w_lam) = ([I, IIo, IIi, III], [III, IV, V]);
        let ts = [&maps.t_cp, &maps.t_cn, &maps.t_ad, &maps.t_ab];
        Populations {
            present_e: mask(&[IIo, IIi, III]),
            present_i: mask(&[I, IIo, IIi, III]),
            present_p: mask(&[I]),
            present_w: mask(&[V]),
            t_for_p: ts.map(|t| self.column_average(t, &p_lam, half)),
            t_for_w: ts.map(|t| self.column_average(t, &w_lam, half)),
        }
    }
}

/// The mean of the injury footprint S_inj over region `r` inside the paw band (tests).
#[cfg(test)]
pub(crate) fn footprint_in_band(t: &Tissue, m: &Maps, r: Region) -> f64 {
    let (mut num, mut den) = (0.0f64, 0.0f64);
    for i in 0..t.nx * t.ny {
        let w = (t.weight(i, r) * m.band_paw[i]) as f64;
        num += w * m.s_inj[i] as f64;
        den += w;
    }
    num / den
}

#[cfg(test)]
mod tests {
    use super::*;

    /// §11.4: SNI injures the tibial and peroneal fields and is tested in the spared sural
    /// field, the lateral `SNI_sural_fraction` of the paw band; every other model injures and
    /// tests the whole band.
    #[test]
    fn sni_injures_the_medial_fields_and_tests_the_sural_one() {
        let table = ParamTable::builtin();
        let o = Outline::new(&table, Animal::Rat);
        let t = Tissue::rasterise(o.clone(), 5.0);
        let (whole, sni) = (t.maps(&table), t.maps_for(&table, Territory::Sni));
        assert_eq!(whole.band_probe, whole.band_paw);
        let lateral_edge = o.xc - o.a + 4.0 / 3.0 * o.a;
        let split = lateral_edge - table.get("SNI_sural_fraction").unwrap() * (4.0 / 3.0 * o.a);
        let x_of = |i: usize| ((i % t.nx) as f64 + 0.5) * t.h;
        // Lamina I–III means of a map over cells whose x lies in [lo, hi).
        let mean = |v: &[f32], lo: f64, hi: f64| {
            let (mut num, mut den) = (0.0f64, 0.0f64);
            for i in 0..t.nx * t.ny {
                if (lo..hi).contains(&x_of(i)) {
                    let w = [Region::I, Region::IIo, Region::IIi, Region::III]
                        .iter()
                        .map(|&r| t.weight(i, r) as f64)
                        .sum::<f64>();
                    num += w * v[i] as f64;
                    den += w;
                }
            }
            num / den
        };
        let medial = (o.xc - o.a + 50.0, split - 100.0);
        let sural = (split + 50.0, lateral_edge - 25.0);
        let (inj_med, inj_sur) = (
            mean(&sni.s_inj, medial.0, medial.1),
            mean(&sni.s_inj, sural.0, sural.1),
        );
        assert!(
            inj_med > 0.3 && inj_sur < 0.05 * inj_med,
            "SNI S_inj: medial {inj_med}, sural {inj_sur}"
        );
        let same = (mean(&whole.s_inj, medial.0, medial.1) - inj_med).abs();
        assert!(
            same < 1e-3 * inj_med,
            "the injured fields as in SNL ({same})"
        );
        assert!(mean(&whole.s_inj, sural.0, sural.1) > 0.5 * inj_med);
        let (probe_med, probe_sur) = (
            mean(&sni.band_probe, medial.0, medial.1),
            mean(&sni.band_probe, sural.0, sural.1),
        );
        assert!(
            probe_med < 0.01 && probe_sur > 0.8,
            "SNI probe band: medial {probe_med}, sural {probe_sur}"
        );
    }

    /// The sensing range is continuous at 0: a range far below the grid spacing returns the
    /// terminal footprint, on a coarse grid whose lamina I cells are all partly white matter
    /// too (the grey weight of a partly grey cell counts once).
    #[test]
    fn a_vanishing_sensing_range_gives_the_terminal_footprint() {
        let maps = |set: &str| {
            let table = ParamTable::edited(set).unwrap();
            let tissue = Tissue::rasterise(Outline::new(&table, Animal::Rat), 40.0);
            tissue.maps_for(&table, Territory::Inflamed).s_inj
        };
        let (sharp, tiny) = (maps("inj_sense_um=0"), maps("inj_sense_um=2"));
        let worst = sharp
            .iter()
            .zip(&tiny)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(worst < 1e-5, "largest change {worst}");
    }

    /// §11.1 decision (issue 19): with the microglial sensing range the injury footprint has no
    /// step of one cell inside the grey matter (the lamina borders of the terminal maps are
    /// averaged over σ), keeps to the grey matter and Lissauer's tract, and with the range set
    /// to 0 the lamina borders are steps again.
    #[test]
    fn the_sensed_footprint_has_no_lamina_steps() {
        let t = |set: &str| {
            let table = ParamTable::edited(set).unwrap();
            let tissue = Tissue::rasterise(Outline::new(&table, Animal::Rat), 5.0);
            let m = tissue.maps_for(&table, Territory::Inflamed);
            (tissue, m)
        };
        let jump = |(t, m): &(Tissue, Maps)| t.largest_grey_step(&m.s_inj);
        let (sharp, sensed) = (t("inj_sense_um=0"), t("inj_sense_um=25"));
        let (j0, j25) = (jump(&sharp), jump(&sensed));
        assert!(j0 > 0.2, "the terminal maps' lamina borders: {j0}");
        assert!(j25 < 0.1, "sensed over 25 µm: largest step {j25}");
        let (tissue, m) = &sensed;
        for i in 0..tissue.nx * tissue.ny {
            let w = |r: Region| tissue.weight(i, r);
            if w(Region::DorsalColumns) > 0.999 || w(Region::Dlf) > 0.999 {
                assert_eq!(m.s_inj[i], 0.0, "white matter cell {i}");
            }
            if w(Region::Lissauer) > 0.999 {
                assert!(m.s_inj[i] <= 0.2 + 1e-6, "Lissauer cell {i}");
            }
        }
        let peak = m.s_inj.iter().copied().fold(0.0f32, f32::max);
        assert!((peak - 1.0).abs() < 1e-6, "peak {peak}");
    }

    /// §11.1 decision: CFA's footprint is the sensitised nociceptors' terminal fields, densest
    /// in laminae I–IIo, with a quarter-weight Aδ share in lamina V and no Aβ share in III–IV,
    /// where the nerve-injury footprint is large.
    #[test]
    fn cfas_footprint_lies_where_the_nociceptors_end() {
        let table = ParamTable::builtin();
        let t = Tissue::rasterise(Outline::new(&table, Animal::Rat), 5.0);
        let (inj, cfa) = (t.maps(&table), t.maps_for(&table, Territory::Inflamed));
        let lam = [Region::I, Region::IIo, Region::III, Region::IV, Region::V];
        let c: Vec<f64> = lam
            .iter()
            .map(|&r| footprint_in_band(&t, &cfa, r))
            .collect();
        let n: Vec<f64> = lam
            .iter()
            .map(|&r| footprint_in_band(&t, &inj, r))
            .collect();
        assert!(c[0] > 0.8 && c[1] > 0.5, "CFA footprint in I, IIo: {c:?}");
        assert!(
            c[2] < 0.1 * c[0] && c[3] < 0.1 * c[0],
            "CFA in III, IV: {c:?}"
        );
        assert!(c[4] > 0.1 && c[4] < 0.4, "CFA in V (the Aδ share): {c:?}");
        assert!(
            n[2] > 5.0 * c[2],
            "nerve injury reaches III: {n:?} vs {c:?}"
        );
        // The band and the probe are the whole band's, as for nerve injury.
        assert_eq!(cfa.band_probe, inj.band_probe);
    }
}
