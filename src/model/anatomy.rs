//! The tissue: the parametric transverse section of the lumbar dorsal horn (MODEL.md §1.3),
//! its region labels and the soft lamina weights of each grid cell, and the labelled anatomy
//! figure (`dorsalhorn anatomy`).
//!
//! Coordinates are µm with the origin at the dorsal midline on the pia, +x lateral, +y ventral;
//! the domain is one hemicord, x ∈ [0, Ac], y ∈ [0, yc + depth below yc]. All numbers come from
//! the parameter table (params/dorsal_horn.toml, §1.3).

use crate::output::canvas::Canvas;
use crate::params::ParamTable;

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

    /// The labelled anatomy figure: regions blended by their soft weights, lamina and tract
    /// labels, the DREZ on the pia, a legend and a 100 µm scale bar.
    pub fn figure(&self) -> Canvas {
        let scale = ((900.0 / self.nx as f64).floor() as usize).max(1);
        let (mw, mh) = (self.nx * scale, self.ny * scale);
        let margin = 16;
        let legend_w = 250;
        let title_h = 34;
        let title = format!(
            "{} L4-L5 HEMICORD, DORSAL HORN: SPACING {} µm, {} X {} CELLS",
            self.outline.animal.name().to_uppercase(),
            self.h,
            self.nx,
            self.ny
        );
        let width = (mw + legend_w + 3 * margin).max(Canvas::text_width(&title, 2) + 2 * margin);
        let mut c = Canvas::new(
            width,
            mh.max(13 * 22 + 40) + title_h + 2 * margin,
            [255, 255, 255],
        );
        let (ox, oy) = (margin, margin + title_h);
        for y in 0..self.ny {
            for x in 0..self.nx {
                let w = &self.weights[y * self.nx + x];
                let mut rgb = [0.0f32; 3];
                for (k, r) in Region::ALL.iter().enumerate() {
                    for ch in 0..3 {
                        rgb[ch] += w[k] * r.colour()[ch] as f32;
                    }
                }
                let col = rgb.map(|v| v.round().clamp(0.0, 255.0) as u8);
                c.fill_rect(ox + x * scale, oy + y * scale, scale, scale, col);
            }
        }
        // Dorsal root entry zone: a dark band just outside the pia.
        let o = &self.outline;
        for px in 0..mw {
            let x = (px as f64 + 0.5) / scale as f64 * self.h;
            if o.is_drez(x) {
                let py = (o.pia(x) / self.h * scale as f64) as usize;
                c.fill_rect(ox + px, (oy + py).saturating_sub(4), 1, 3, [40, 40, 40]);
            }
        }
        // Labels at each region's centroid.
        for r in Region::ALL.iter().skip(1) {
            let (mut sx, mut sy, mut sw) = (0.0, 0.0, 0.0);
            for i in 0..self.weights.len() {
                if self.dominant(i) == *r {
                    sx += (i % self.nx) as f64;
                    sy += (i / self.nx) as f64;
                    sw += 1.0;
                }
            }
            if sw < 1.0 {
                continue;
            }
            let (mut lx, mut ly) = (sx / sw, sy / sw);
            // Thin laminae: put the label at their lateral edge, where the bands are widest apart.
            if matches!(r, Region::I | Region::IIo | Region::IIi) {
                let (y_r, x_r) = self.label_anchor(*r);
                lx = x_r;
                ly = y_r;
            }
            let text = r.label();
            let ts = 2;
            let px = (ox as f64 + lx * scale as f64) as usize;
            let py = (oy as f64 + ly * scale as f64) as usize;
            c.text_halo(
                px.saturating_sub(Canvas::text_width(text, ts) / 2),
                py.saturating_sub(7),
                text,
                ts,
                [0, 0, 0],
                [255, 255, 255],
            );
        }
        // Title and scale bar.
        c.text(margin, margin, &title, 2, [0, 0, 0]);
        let bar = (100.0 / self.h * scale as f64).round() as usize;
        let by = oy + mh - 20;
        c.fill_rect(ox + 10, by, bar, 4, [0, 0, 0]);
        c.text(ox + 10, by - 18, "100 µm", 2, [0, 0, 0]);
        // Legend.
        let lx = ox + mw + margin;
        for (k, r) in Region::ALL.iter().skip(1).enumerate() {
            let y = oy + k * 22;
            c.fill_rect(lx, y, 18, 16, r.colour());
            c.text(lx + 26, y + 2, r.label(), 1, [0, 0, 0]);
            c.text(lx + 56, y + 2, &r.long_name().to_uppercase(), 1, [0, 0, 0]);
        }
        c.fill_rect(lx, oy + 12 * 22 + 12, 18, 3, [40, 40, 40]);
        c.text(lx + 26, oy + 12 * 22 + 8, "DREZ", 1, [0, 0, 0]);
        c.text(
            lx + 56,
            oy + 12 * 22 + 8,
            "DORSAL ROOT ENTRY ZONE",
            1,
            [0, 0, 0],
        );
        c
    }

    /// (y, x) in cells of a point inside thin lamina r near the lateral side of the cap.
    fn label_anchor(&self, r: Region) -> (f64, f64) {
        let o = &self.outline;
        // Walk the cap's lateral-dorsal diagonal and take the middle of the band of r.
        let (mut first, mut last) = (None, None);
        for k in 0..2000 {
            let t = k as f64 / 2000.0;
            let x = o.xc + (0.55 + 0.1 * t) * o.a;
            let y = o.yc - o.b + t * 0.6 * o.b;
            if o.classify(x, y) == r {
                first.get_or_insert((x, y));
                last = Some((x, y));
            }
        }
        let offset = match r {
            Region::I => 0.0,
            Region::IIo => 0.08,
            _ => 0.16,
        } * o.a;
        match (first, last) {
            (Some(a), Some(b)) => (
                (a.1 + b.1) / 2.0 / self.h,
                ((a.0 + b.0) / 2.0 + offset) / self.h,
            ),
            _ => (o.yc / self.h, o.xc / self.h),
        }
    }
}

/// Spatial maps of §1.4–1.7 and §2.2 on a tissue grid, each row-major nx × ny.
#[derive(Debug, Clone)]
pub struct Maps {
    /// Afferent termination maps T_k (§1.4), peak 1, restricted to the paw (sciatic) band.
    pub t_cp: Vec<f32>,
    pub t_cn: Vec<f32>,
    pub t_ad: Vec<f32>,
    pub t_ab: Vec<f32>,
    /// The paw / sciatic somatotopic band (medial ⅔ of the grey mediolateral extent), 0 or 1.
    pub band_paw: Vec<f32>,
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
    pub const NAMES: [&'static str; 13] = [
        "T_Cp", "T_Cn", "T_Ad", "T_Ab", "band_paw", "rho_ENK", "rho_DYN", "rho_EM", "rho_N",
        "V_5HT", "V_NE", "alpha", "lambda",
    ];

    pub fn all(&self) -> [&Vec<f32>; 13] {
        [
            &self.t_cp,
            &self.t_cn,
            &self.t_ad,
            &self.t_ab,
            &self.band_paw,
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
    /// The maps of §1.4–1.7 and §2.2 for this grid (decisions in docs/model.md).
    pub fn maps(&self, table: &ParamTable) -> Maps {
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
        let grey_w = |i: usize| {
            Region::ALL
                .iter()
                .filter(|r| r.is_grey())
                .map(|r| w(i, *r))
                .sum::<f32>()
        };
        let white_w = |i: usize| {
            Region::ALL
                .iter()
                .filter(|r| r.is_white())
                .map(|r| w(i, *r))
                .sum::<f32>()
        };
        let medial_edge = o.xc - o.a;
        let band_paw: Vec<f32> = (0..n)
            .map(|i| {
                let x = ((i % self.nx) as f64 + 0.5) * self.h;
                if x >= medial_edge && x <= medial_edge + 2.0 / 3.0 * 2.0 * o.a {
                    1.0
                } else {
                    0.0
                }
            })
            .collect();
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

#[cfg(test)]
mod tests {
    use super::*;

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
        // The paw band is the medial ⅔ of the grey extent: nothing in the lateral third.
        let lateral = ((750.0 + 575.0 * 0.5) / 5.0) as usize;
        assert!((0..t.ny).all(|y| m.t_cp[y * t.nx + lateral] == 0.0));
        // α between white (0.20) and grey (0.21) values in the cord, 0 outside it.
        for i in 0..t.nx * t.ny {
            if t.active(i) {
                assert!((0.199..=0.2101).contains(&m.alpha[i]), "α = {}", m.alpha[i]);
            }
        }
        assert_eq!(m.alpha[t.nx - 1], 0.0, "outside the cord");
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
