//! Averages over the grey matter: the Gaussian that turns the injured afferents' terminal maps into the
//! injury signal a microglial cell senses (MODEL.md §11.1 decision, issue 19), and the afferent
//! maps into the synaptic glutamate an astrocyte senses over its domain (§4.7 decision).

use super::Tissue;

impl Tissue {
    /// The grey-matter weight of cell i (the sum of its laminae's weights).
    pub fn grey_weight(&self, i: usize) -> f32 {
        super::Region::ALL
            .iter()
            .filter(|r| r.is_grey())
            .map(|r| self.weight(i, *r))
            .sum()
    }

    /// The afferent terminal maps (T_Cp, T_Cn, T_Aδ, T_Aβ) as an astrocyte senses them: each
    /// averaged over the grey matter by a Gaussian of `sigma_um` (`astro_sense_um`) and kept to
    /// the grey matter (× the cell's grey weight), not renormalised, since the astrocyte reads its
    /// domain's mean glutamate. σ = 0 returns the maps unchanged, bit for bit.
    pub fn astrocyte_maps(&self, maps: &super::maps::Maps, sigma_um: f64) -> [Vec<f32>; 4] {
        let local = [&maps.t_cp, &maps.t_cn, &maps.t_ad, &maps.t_ab];
        local.map(|t| self.average_in_grey(t, sigma_um))
    }

    /// A cell-average map (0 in white matter, × the lamina weights of a partly grey cell)
    /// averaged over the grey matter by a Gaussian of `sigma_um`, as a cell average again: the
    /// average of its grey density × the cell's grey weight, so a partly grey cell's weight
    /// counts once and σ → 0 returns the map; σ ≤ 0 returns it unchanged (the Gaussian of
    /// [`Tissue::smooth_in_grey`] needs σ > 0).
    pub fn average_in_grey(&self, v: &[f32], sigma_um: f64) -> Vec<f32> {
        if sigma_um <= 0.0 {
            return v.to_vec();
        }
        let avg = self.smooth_in_grey(&self.grey_density(v), sigma_um);
        avg.iter()
            .enumerate()
            .map(|(i, x)| x * self.grey_weight(i))
            .collect()
    }

    /// The largest change of `f` between neighbouring cells that are both wholly grey.
    #[cfg(test)]
    pub(super) fn largest_grey_step(&self, f: &[f32]) -> f32 {
        let n = self.nx * self.ny;
        let grey = |i: usize| self.grey_weight(i) > 0.999;
        let mut worst = 0.0f32;
        for i in 0..n {
            for j in [i + 1, i + self.nx] {
                if j < n && grey(i) && grey(j) {
                    worst = worst.max((f[i] - f[j]).abs());
                }
            }
        }
        worst
    }

    /// A cell-average map (0 in white matter, × the lamina weights of a partly grey cell) as a
    /// density in the grey matter: v / grey weight where the cell has grey matter, else 0 (the
    /// input [`Tissue::smooth_in_grey`] expects).
    fn grey_density(&self, v: &[f32]) -> Vec<f32> {
        v.iter()
            .enumerate()
            .map(|(i, x)| {
                let g = self.grey_weight(i);
                if g > 0.0 { x / g } else { 0.0 }
            })
            .collect()
    }

    /// `v` averaged over the grey matter by a Gaussian of standard deviation `sigma_um`
    /// (truncated at 3σ): each cell's value is Σ G·w·v / Σ G·w over its neighbours, w their
    /// grey-matter weight (a normalised convolution), so the grey border neither dims nor leaks
    /// the field; cells without grey matter get the average of the grey around them.
    pub fn smooth_in_grey(&self, v: &[f32], sigma_um: f64) -> Vec<f32> {
        let (nx, ny) = (self.nx, self.ny);
        let s = sigma_um / self.h;
        let r = (3.0 * s).ceil() as isize;
        let kernel: Vec<f64> = (-r..=r)
            .map(|k| (-((k * k) as f64) / (2.0 * s * s)).exp())
            .collect();
        let grey: Vec<f64> = (0..nx * ny).map(|i| self.grey_weight(i) as f64).collect();
        let pass = |f: &[f64], along_x: bool| -> Vec<f64> {
            let mut out = vec![0.0; nx * ny];
            for (i, o) in out.iter_mut().enumerate() {
                let (x, y) = ((i % nx) as isize, (i / nx) as isize);
                for (k, w) in kernel.iter().enumerate() {
                    let d = k as isize - r;
                    let (xx, yy) = if along_x { (x + d, y) } else { (x, y + d) };
                    if xx >= 0 && yy >= 0 && (xx as usize) < nx && (yy as usize) < ny {
                        *o += w * f[yy as usize * nx + xx as usize];
                    }
                }
            }
            out
        };
        let masked: Vec<f64> = (0..nx * ny).map(|i| v[i] as f64 * grey[i]).collect();
        let num = pass(&pass(&masked, true), false);
        let den = pass(&pass(&grey, true), false);
        (0..nx * ny)
            .map(|i| {
                if den[i] > 1e-12 {
                    (num[i] / den[i]) as f32
                } else {
                    0.0
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use crate::model::anatomy::{Animal, Outline, Tissue};
    use crate::params::ParamTable;

    /// The grey-matter Gaussian average: a uniform field stays uniform wherever there is grey
    /// matter (the grey border neither dims nor leaks it), and a step across the grey matter
    /// rises from 10 % to 90 % over 2·1.2816·σ, the width of a Gaussian-smoothed step.
    #[test]
    fn smoothing_in_the_grey_keeps_a_uniform_field_and_spreads_a_step_by_sigma() {
        let table = ParamTable::builtin();
        let t = Tissue::rasterise(Outline::new(&table, Animal::Rat), 5.0);
        let n = t.nx * t.ny;
        let s = t.smooth_in_grey(&vec![1.0; n], 25.0);
        for i in (0..n).filter(|&i| t.grey_weight(i) > 0.0) {
            assert!((s[i] - 1.0).abs() < 1e-5, "grey cell {i}: {}", s[i]);
        }
        // A step at x0 on the row through the cap's centre, well inside the cord.
        let o = &t.outline;
        let row = ((o.yc - 0.5 * o.b) / t.h) as usize;
        let x0 = o.xc;
        let step: Vec<f32> = (0..n)
            .map(|i| {
                let x = ((i % t.nx) as f64 + 0.5) * t.h;
                if t.active(i) && x < x0 { 1.0 } else { 0.0 }
            })
            .collect();
        let sigma = 25.0;
        let sm = t.smooth_in_grey(&step, sigma);
        let line = &sm[row * t.nx..(row + 1) * t.nx];
        let cross = |level: f32| {
            let k = (1..t.nx)
                .find(|&k| line[k - 1] >= level && line[k] < level)
                .unwrap();
            let (x0, x1) = ((k as f64 - 0.5) * t.h, (k as f64 + 0.5) * t.h);
            x0 + (line[k - 1] - level) as f64 / (line[k - 1] - line[k]) as f64 * (x1 - x0)
        };
        let width = cross(0.1) - cross(0.9);
        let want = 2.0 * 1.2816 * sigma;
        assert!(
            (width - want).abs() < 0.1 * want,
            "10–90 % width {width} µm, want {want}"
        );
        assert!((cross(0.5) - x0).abs() < t.h, "the step's middle moved");
    }

    /// The astrocytes' glutamate maps (§4.7 decision): σ = 0 gives the terminal maps bit for
    /// bit; at 25 µm the Aβ map has no one-cell step at the lamina IV/V border (T_Aβ 1 → 0.6
    /// there), keeps its mean over the grey matter within 5 % (an average, not a gain) and
    /// stays 0 in white matter.
    #[test]
    fn the_astrocytes_sense_their_domains_mean_terminals() {
        let table = ParamTable::builtin();
        let t = Tissue::rasterise(Outline::new(&table, Animal::Rat), 5.0);
        let maps = t.maps(&table);
        let off = t.astrocyte_maps(&maps, 0.0);
        assert!(
            off[3] == maps.t_ab && off[0] == maps.t_cp,
            "σ = 0 changes nothing"
        );
        let on = t.astrocyte_maps(&maps, 25.0);
        let (j0, j25) = (t.largest_grey_step(&maps.t_ab), t.largest_grey_step(&on[3]));
        assert!(j0 > 0.3, "T_Aβ's lamina borders: {j0}");
        assert!(j25 < 0.1, "sensed over 25 µm: largest step {j25}");
        let mean = |f: &[f32]| {
            let (num, den) = (0..t.nx * t.ny).fold((0.0f64, 0.0f64), |(a, b), i| {
                let w = f64::from(t.grey_weight(i));
                (a + w * f64::from(f[i]), b + w)
            });
            num / den
        };
        for k in 0..4 {
            let (m0, m1) = (
                mean(&[&maps.t_cp, &maps.t_cn, &maps.t_ad, &maps.t_ab][k][..]),
                mean(&on[k]),
            );
            assert!((m1 / m0 - 1.0).abs() < 0.05, "map {k}: mean {m0} -> {m1}");
        }
        for i in (0..t.nx * t.ny).filter(|&i| t.grey_weight(i) == 0.0) {
            assert!(on.iter().all(|m| m[i] == 0.0), "white matter cell {i}");
        }
    }
}
