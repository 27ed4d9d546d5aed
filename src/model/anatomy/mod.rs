//! The tissue: the parametric transverse section of the lumbar dorsal horn (MODEL.md §1.3),
//! its region labels and the soft lamina weights of each grid cell, and the labelled anatomy
//! figure (`dorsalhorn anatomy`).
//!
//! Coordinates are µm with the origin at the dorsal midline on the pia, +x lateral, +y ventral;
//! the domain is one hemicord, x ∈ [0, Ac], y ∈ [0, yc + depth below yc]. All numbers come from
//! the parameter table (params/dorsal_horn.toml, §1.3).

mod figure;
pub mod maps;
mod smooth;

use crate::params::ParamTable;

/// Which part of the paw (sciatic) band a pain model injures and which part the probes test
/// (MODEL.md §11.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Territory {
    /// The whole band is injured and tested (SNL, CCI, bone cancer and the others).
    #[default]
    Sciatic,
    /// Spared nerve injury: the tibial and peroneal part injured, the sural part tested.
    Sni,
    /// Peripheral inflammation (CFA): the whole band is tested, and the injury footprint is the
    /// terminal fields of the sensitised nociceptors (weights `cfa_w_*`), not of every injured
    /// afferent class (§11.1 decision, docs/model.md).
    Inflamed,
}

/// Which animal's outline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Animal {
    Rat,
    Mouse,
}

impl Animal {
    pub fn name(self) -> &'static str {
        match self {
            Animal::Rat => "rat",
            Animal::Mouse => "mouse",
        }
    }

    pub fn from_name(s: &str) -> Option<Animal> {
        match s {
            "rat" => Some(Animal::Rat),
            "mouse" => Some(Animal::Mouse),
            _ => None,
        }
    }
}

/// Region classes of §1.3: grey-matter laminae and white-matter tracts. Every grid cell gets a
/// weight for each (the fraction of its 8 × 8 sub-samples in the class).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Region {
    Inactive = 0,
    I,
    IIo,
    IIi,
    III,
    IV,
    V,
    VI,
    VII,
    Lissauer,
    Dlf,
    DorsalColumns,
    LateralFuniculus,
}

pub const REGIONS: usize = 13;

impl Region {
    pub const ALL: [Region; REGIONS] = [
        Region::Inactive,
        Region::I,
        Region::IIo,
        Region::IIi,
        Region::III,
        Region::IV,
        Region::V,
        Region::VI,
        Region::VII,
        Region::Lissauer,
        Region::Dlf,
        Region::DorsalColumns,
        Region::LateralFuniculus,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Region::Inactive => "outside the cord",
            Region::I => "I",
            Region::IIo => "IIo",
            Region::IIi => "IIi",
            Region::III => "III",
            Region::IV => "IV",
            Region::V => "V",
            Region::VI => "VI",
            Region::VII => "VII",
            Region::Lissauer => "LT",
            Region::Dlf => "DLF",
            Region::DorsalColumns => "DC",
            Region::LateralFuniculus => "LF",
        }
    }

    pub fn long_name(self) -> &'static str {
        match self {
            Region::Inactive => "outside the cord",
            Region::I => "lamina I",
            Region::IIo => "lamina II outer",
            Region::IIi => "lamina II inner",
            Region::III => "lamina III",
            Region::IV => "lamina IV",
            Region::V => "lamina V",
            Region::VI => "lamina VI",
            Region::VII => "lamina VII",
            Region::Lissauer => "Lissauer's tract",
            Region::Dlf => "dorsolateral funiculus",
            Region::DorsalColumns => "dorsal columns",
            Region::LateralFuniculus => "lateral funiculus",
        }
    }

    pub fn is_grey(self) -> bool {
        matches!(
            self,
            Region::I
                | Region::IIo
                | Region::IIi
                | Region::III
                | Region::IV
                | Region::V
                | Region::VI
                | Region::VII
        )
    }

    pub fn is_white(self) -> bool {
        matches!(
            self,
            Region::Lissauer | Region::Dlf | Region::DorsalColumns | Region::LateralFuniculus
        )
    }

    /// Display colour (grey laminae in warm tones, white matter in cool greys).
    pub fn colour(self) -> [u8; 3] {
        match self {
            Region::Inactive => [255, 255, 255],
            Region::I => [165, 15, 21],
            Region::IIo => [222, 45, 38],
            Region::IIi => [251, 106, 74],
            Region::III => [252, 146, 114],
            Region::IV => [252, 187, 161],
            Region::V => [254, 224, 144],
            Region::VI => [255, 237, 190],
            Region::VII => [255, 247, 225],
            Region::Lissauer => [150, 180, 200],
            Region::Dlf => [120, 150, 190],
            Region::DorsalColumns => [190, 205, 220],
            Region::LateralFuniculus => [210, 218, 228],
        }
    }
}

/// The parametric outline of §1.3 for one animal.
#[derive(Debug, Clone)]
pub struct Outline {
    pub animal: Animal,
    /// Cord ellipse: centre (0, yc_cord), semi-axes (ac, bc).
    pub ac: f64,
    pub bc: f64,
    pub yc_cord: f64,
    /// Dorsal-horn cap ellipse E0: centre (xc, yc), semi-axes (a, b).
    pub xc: f64,
    pub yc: f64,
    pub a: f64,
    pub b: f64,
    /// Cumulative depths of the I/IIo, IIo/IIi, IIi/III and III/IV borders from the grey border.
    pub depth: [f64; 4],
    pub l_neck: f64,
    /// Depths below yc of the V/VI and VI/VII borders.
    pub v_end: f64,
    pub vi_end: f64,
    /// Ventral edge of the domain.
    pub y_max: f64,
}

impl Outline {
    pub fn new(table: &ParamTable, animal: Animal) -> Outline {
        let p = |k: &str| {
            let key = format!("{}_{k}", animal.name());
            table
                .get(&key)
                .unwrap_or_else(|| panic!("parameter table lacks `{key}`"))
        };
        let yc = p("yc");
        Outline {
            animal,
            ac: p("Ac"),
            bc: p("Bc"),
            yc_cord: p("Yc"),
            xc: p("xc"),
            yc,
            a: p("A"),
            b: p("B"),
            depth: [p("d_I"), p("d_IIo"), p("d_IIi"), p("d_III")],
            l_neck: p("L_neck"),
            v_end: p("V_depth"),
            vi_end: p("VI_depth"),
            y_max: yc + p("domain_below_yc"),
        }
    }

    fn in_ellipse(&self, x: f64, y: f64, a: f64, b: f64) -> bool {
        let (u, v) = ((x - self.xc) / a, (y - self.yc) / b);
        u * u + v * v <= 1.0
    }

    /// Half-width of the grey neck at depth y > yc.
    pub fn neck_half_width(&self, y: f64) -> f64 {
        self.a * (1.0 - 0.2 * ((y - self.yc) / self.l_neck).min(1.0))
    }

    /// Depth of the cap's dorsal surface (the grey border) at x, if the cap spans x.
    pub fn cap_top(&self, x: f64) -> Option<f64> {
        let u = (x - self.xc) / self.a;
        (u.abs() <= 1.0).then(|| self.yc - self.b * (1.0 - u * u).sqrt())
    }

    /// Medial and lateral grey edges at depth y (§1.3: above the cap top, xc and xc + A).
    pub fn grey_edges(&self, y: f64) -> (f64, f64) {
        if y > self.yc {
            let w = self.neck_half_width(y);
            (self.xc - w, self.xc + w)
        } else if y < self.yc - self.b {
            (self.xc, self.xc + self.a)
        } else {
            let v = (y - self.yc) / self.b;
            let w = self.a * (1.0 - v * v).max(0.0).sqrt();
            (self.xc - w, self.xc + w)
        }
    }

    /// The region at a point, by the first-match rules of §1.3.
    pub fn classify(&self, x: f64, y: f64) -> Region {
        let (u, v) = (x / self.ac, (y - self.yc_cord) / self.bc);
        if u * u + v * v > 1.0 {
            return Region::Inactive;
        }
        if y <= self.yc {
            if self.in_ellipse(x, y, self.a, self.b) {
                let d = &self.depth;
                let inside = |k: usize| self.in_ellipse(x, y, self.a - d[k], self.b - d[k]);
                return if !inside(0) {
                    Region::I
                } else if !inside(1) {
                    Region::IIo
                } else if !inside(2) {
                    Region::IIi
                } else if !inside(3) {
                    Region::III
                } else {
                    Region::IV
                };
            }
        } else if (x - self.xc).abs() < self.neck_half_width(y) {
            let below = y - self.yc;
            return if below < self.v_end {
                Region::V
            } else if below < self.vi_end {
                Region::VI
            } else {
                Region::VII
            };
        }
        if x >= self.xc && x <= self.xc + self.a && self.cap_top(x).is_some_and(|t| y < t) {
            return Region::Lissauer;
        }
        let (med, lat) = self.grey_edges(y);
        if x > lat && (y - self.yc).abs() <= 350.0 {
            Region::Dlf
        } else if x < med {
            Region::DorsalColumns
        } else {
            Region::LateralFuniculus
        }
    }

    /// Whether a pial face at lateral position x belongs to the dorsal root entry zone.
    pub fn is_drez(&self, x: f64) -> bool {
        x >= self.xc + 0.2 * self.a && x <= self.xc + 0.8 * self.a
    }

    /// Depth of the pia (the cord outline's dorsal surface) at x.
    pub fn pia(&self, x: f64) -> f64 {
        let u = (x / self.ac).min(1.0);
        self.yc_cord - self.bc * (1.0 - u * u).sqrt()
    }
}

/// Sub-samples per cell side for the soft weights (§1.3).
pub const SUBSAMPLES: usize = 8;

/// The outline rasterised on a grid of spacing h: per cell, the weight of every region.
#[derive(Debug, Clone)]
pub struct Tissue {
    pub outline: Outline,
    pub nx: usize,
    pub ny: usize,
    pub h: f64,
    /// Per cell (row-major), the fraction of its sub-samples in each region (sums to 1).
    pub weights: Vec<[f32; REGIONS]>,
}

impl Tissue {
    pub fn rasterise(outline: Outline, h: f64) -> Tissue {
        let nx = (outline.ac / h).ceil() as usize;
        let ny = (outline.y_max / h).ceil() as usize;
        let n = SUBSAMPLES;
        let w = 1.0 / (n * n) as f32;
        let mut weights = vec![[0.0f32; REGIONS]; nx * ny];
        for (i, cell) in weights.iter_mut().enumerate() {
            let (cx, cy) = ((i % nx) as f64 * h, (i / nx) as f64 * h);
            for sy in 0..n {
                for sx in 0..n {
                    let x = cx + (sx as f64 + 0.5) * h / n as f64;
                    let y = cy + (sy as f64 + 0.5) * h / n as f64;
                    cell[outline.classify(x, y) as usize] += w;
                }
            }
        }
        Tissue {
            outline,
            nx,
            ny,
            h,
            weights,
        }
    }

    pub fn weight(&self, i: usize, r: Region) -> f32 {
        self.weights[i][r as usize]
    }

    /// The region with the largest weight in cell i.
    pub fn dominant(&self, i: usize) -> Region {
        let w = &self.weights[i];
        let k = (0..REGIONS)
            .max_by(|&a, &b| w[a].total_cmp(&w[b]))
            .unwrap_or(0);
        Region::ALL[k]
    }

    /// The dominant region of every cell (`Region as u8`, 0 outside), row-major: the lamina map
    /// the window, the figures and `regions.npy` show.
    pub fn dominant_map(&self) -> Vec<u8> {
        (0..self.weights.len())
            .map(|i| self.dominant(i) as u8)
            .collect()
    }

    /// A cell is part of the domain when most of it lies inside the cord.
    pub fn active(&self, i: usize) -> bool {
        self.weight(i, Region::Inactive) < 0.5
    }

    /// Area (µm²) carried by region r: Σ weight × h².
    pub fn area(&self, r: Region) -> f64 {
        self.weights
            .iter()
            .map(|w| w[r as usize] as f64)
            .sum::<f64>()
            * self.h
            * self.h
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::anatomy::maps::Maps;

    fn rat() -> Outline {
        Outline::new(&ParamTable::builtin(), Animal::Rat)
    }

    #[test]
    fn maps_follow_sections_1_4_to_1_7() {
        let table = ParamTable::builtin();
        let t = Tissue::rasterise(rat(), 5.0);
        let m = t.maps(&table);
        let peak = |v: &[f32]| v.iter().copied().fold(0.0f32, f32::max);
        for (name, v) in Maps::NAMES.iter().zip(m.all()) {
            assert_eq!(v.len(), t.nx * t.ny, "{name}");
            assert!(v.iter().all(|x| x.is_finite() && *x >= 0.0), "{name}");
        }
        for v in [&m.t_cp, &m.t_cn, &m.t_ad, &m.t_ab, &m.v_5ht, &m.v_ne] {
            assert!((peak(v) - 1.0).abs() < 1e-6);
        }
        // Termination laminae along the cap's axis (x = xc): Cp superficial, Aβ deep, none in
        // the white matter above the cap.
        let col = |y_um: f64| (y_um / 5.0) as usize * t.nx + (750.0 / 5.0) as usize;
        assert!(
            m.t_cp[col(300.0)] > 0.9,
            "T_Cp in lamina I: {}",
            m.t_cp[col(300.0)]
        );
        assert_eq!(m.t_ab[col(300.0)], 0.0, "no Aβ terminals in lamina I");
        assert!(m.t_ab[col(500.0)] > 0.9, "T_Aβ in lamina III");
        assert_eq!(m.t_cp[col(250.0)], 0.0, "no terminals in Lissauer's tract");
        // Non-peptidergic C peaks 80 µm below the grey border (y = 290 µm at x = xc).
        let best = (0..t.ny)
            .max_by(|&a, &b| m.t_cn[a * t.nx + 150].total_cmp(&m.t_cn[b * t.nx + 150]))
            .unwrap();
        let depth = (best as f64 + 0.5) * 5.0 - 290.0;
        assert!((depth - 80.0).abs() <= 5.0, "T_Cn peak depth {depth} µm");
        // The paw band is the medial ⅔ of the grey extent: next to nothing in the lateral third.
        let lateral = ((750.0 + 575.0 * 0.5) / 5.0) as usize;
        assert!((0..t.ny).all(|y| m.t_cp[y * t.nx + lateral] < 1e-3));
        // α between white (0.20) and grey (0.21) values in the cord, 0 outside it.
        for i in 0..t.nx * t.ny {
            if t.active(i) {
                assert!((0.199..=0.2101).contains(&m.alpha[i]), "α = {}", m.alpha[i]);
            }
        }
        assert_eq!(m.alpha[t.nx - 1], 0.0, "outside the cord");
    }

    /// §11.1: the band's lateral edge rises from 10 % to 90 % over `band_edge_um`, and the
    /// injury footprint follows the injured afferents' terminals: laminae I–IV, not the deep
    /// grey or the white matter (except Lissauer's tract, ≤ 0.2).
    #[test]
    fn the_injury_footprint_follows_the_terminals_with_a_graded_edge() {
        let table = ParamTable::builtin();
        let o = rat();
        let t = Tissue::rasterise(o.clone(), 5.0);
        let m = t.maps(&table);
        let row = &m.band_paw[..t.nx];
        let cross = |level: f32| {
            let k = row.iter().position(|&b| b < level).unwrap();
            let (x0, x1) = ((k as f64 - 0.5) * t.h, (k as f64 + 0.5) * t.h);
            x0 + (row[k - 1] - level) as f64 / (row[k - 1] - row[k]) as f64 * (x1 - x0)
        };
        let width = cross(0.1) - cross(0.9);
        let want = table.get("band_edge_um").unwrap();
        assert!(
            (width - want).abs() < 2.0,
            "10–90 % edge {width} µm, want {want}"
        );
        let mean_in = |r: Region| maps::footprint_in_band(&t, &m, r);
        let peak = m.s_inj.iter().copied().fold(0.0f32, f32::max);
        assert!((peak - 1.0).abs() < 1e-6, "S_inj peak {peak}");
        let (sup, deep) = (mean_in(Region::IIo), mean_in(Region::III));
        assert!(sup > 0.2 && deep > 0.4, "S_inj in IIo {sup}, in III {deep}");
        assert!(mean_in(Region::VII) < 1e-6, "no injury drive in lamina VII");
        for i in 0..t.nx * t.ny {
            if t.weight(i, Region::DorsalColumns) > 0.999 || t.weight(i, Region::Dlf) > 0.999 {
                assert_eq!(m.s_inj[i], 0.0, "white matter cell {i}");
            }
            if t.weight(i, Region::Lissauer) > 0.999 {
                assert!(
                    m.s_inj[i] <= 0.2 + 1e-6,
                    "Lissauer cell {i}: {}",
                    m.s_inj[i]
                );
            }
        }
    }

    #[test]
    fn populations_and_columnar_kernels() {
        let table = ParamTable::builtin();
        let t = Tissue::rasterise(rat(), 5.0);
        let maps = t.maps(&table);
        let pops = t.populations(&maps, &table);
        let at = |x_um: f64, y_um: f64| (y_um / 5.0) as usize * t.nx + (x_um / 5.0) as usize;
        // P only in lamina I, W only in lamina V, E not in lamina I.
        assert_eq!(pops.present_p[at(750.0, 298.0)], 1.0);
        assert_eq!(pops.present_p[at(750.0, 500.0)], 0.0);
        assert_eq!(pops.present_w[at(750.0, 900.0)], 1.0);
        assert_eq!(pops.present_e[at(750.0, 293.0)], 0.0);
        assert_eq!(pops.present_i[at(750.0, 400.0)], 1.0);
        // The average of a constant is that constant wherever the column holds the laminae.
        let ones = vec![1.0f32; t.nx * t.ny];
        let avg = t.column_average(&ones, &[Region::I, Region::IIo], 50.0);
        assert!((avg[at(750.0, 300.0)] - 1.0).abs() < 1e-6);
        assert_eq!(
            avg[at(30.0, 300.0)],
            0.0,
            "no grey under the dorsal columns' medial edge"
        );
        // A lamina I projection neuron sees the deeper Aβ terminals through its columnar kernel
        // (the allodynia circuit of §4.3), although T_Aβ is 0 in lamina I itself.
        let i = at(750.0, 298.0);
        assert_eq!(maps.t_ab[i], 0.0);
        assert!(
            pops.t_for_p[3][i] > 0.2,
            "kernel-averaged T_Aβ for P: {}",
            pops.t_for_p[3][i]
        );
        assert!(
            pops.t_for_w[3][i] > pops.t_for_p[3][i],
            "W's kernel (III–V) sees more Aβ than P's"
        );
    }

    #[test]
    fn regions_follow_the_spec_rules() {
        let o = rat();
        // Grey border at x = xc is at y = yc − B = 290 µm (§1.3).
        assert_eq!(o.classify(750.0, 295.0), Region::I);
        assert_eq!(o.classify(750.0, 285.0), Region::Lissauer);
        assert_eq!(o.classify(750.0, 290.0 + 30.0), Region::IIo);
        assert_eq!(o.classify(750.0, 290.0 + 100.0), Region::IIi);
        assert_eq!(o.classify(750.0, 290.0 + 200.0), Region::III);
        assert_eq!(o.classify(750.0, 700.0), Region::IV);
        assert_eq!(o.classify(750.0, 830.0 + 100.0), Region::V);
        assert_eq!(o.classify(750.0, 830.0 + 300.0), Region::VI);
        assert_eq!(o.classify(750.0, 830.0 + 400.0), Region::VII);
        assert_eq!(o.classify(100.0, 300.0), Region::DorsalColumns);
        assert_eq!(o.classify(1500.0, 830.0), Region::Dlf);
        assert_eq!(o.classify(1700.0, 50.0), Region::Inactive);
    }

    /// §1.3 check: the minimum normal distance from the cap to the pia is ≈ 104 µm (rat) and
    /// ≈ 66 µm (mouse); no part of the cap lies outside the cord.
    #[test]
    fn cap_clears_the_pia() {
        for (animal, want) in [(Animal::Rat, 104.0), (Animal::Mouse, 66.0)] {
            let o = Outline::new(&ParamTable::builtin(), animal);
            let mut min_d = f64::INFINITY;
            for i in 0..=2000 {
                let t = std::f64::consts::PI * (1.0 + i as f64 / 2000.0); // upper half of E0
                let (x, y) = (o.xc + o.a * t.cos(), o.yc + o.b * t.sin());
                for j in 0..=4000 {
                    let s = std::f64::consts::PI * (1.0 + j as f64 / 4000.0);
                    let (px, py) = (o.ac * s.cos().abs(), o.yc_cord + o.bc * s.sin());
                    min_d = min_d.min(((x - px).powi(2) + (y - py).powi(2)).sqrt());
                }
            }
            assert!(
                (min_d - want).abs() < 3.0,
                "{animal:?}: min distance {min_d:.1} µm, spec {want}"
            );
        }
    }

    #[test]
    fn weights_are_a_partition_of_unity_and_lamina_i_is_resolved() {
        let t = Tissue::rasterise(rat(), 5.0);
        assert_eq!((t.nx, t.ny), (350, 260), "§1.8: 350 × 260 cells at 5 µm");
        for w in &t.weights {
            let s: f32 = w.iter().sum();
            assert!((s - 1.0).abs() < 1e-5);
        }
        // Lamina I (20 µm) spans ≥ 3 cells with weight ≥ 0.05 along the midline of the cap.
        let x = (750.0 / 5.0) as usize;
        let n = (0..t.ny)
            .filter(|&y| t.weight(y * t.nx + x, Region::I) >= 0.05)
            .count();
        assert!(n >= 3, "lamina I present in {n} cells at x = xc");
        // Areas match the analytic areas of the elliptic bands (upper half-ellipse rings).
        let o = &t.outline;
        let half = |d: f64| std::f64::consts::PI * (o.a - d) * (o.b - d) / 2.0;
        let ring_i = half(0.0) - half(o.depth[0]);
        let rel = (t.area(Region::I) - ring_i).abs() / ring_i;
        assert!(
            rel < 0.02,
            "lamina I area {} vs {ring_i} ({rel:.3})",
            t.area(Region::I)
        );
        let rel = (t.area(Region::IV) - half(o.depth[3])).abs() / half(o.depth[3]);
        assert!(rel < 0.02, "lamina IV area off by {rel:.3}");
    }
}
