//! The tissue section on the grid (layer 3): per-cell maps (afferent terminals, densities,
//! bands, α), the pia, the transported species' coefficients, report regions and their
//! weights, probe kernels and columns ([`Layout`]).

use crate::cpu::multigrid::{Geometry, TransportCoef, steady_penetration};
use crate::gpu::reaction::CellMap;
use crate::grid::{Boundary, Grid, Side};
use crate::model::anatomy::maps::{Maps, Populations};
use crate::model::anatomy::{Animal, Outline, Region, Territory, Tissue};
use crate::model::network::state::MEDIATORS;
use crate::model::{Diffusivity, Model as EngineModel, Problem, Species};
use crate::params::ParamTable;

/// Parameter-table keys (D_free, λ, clearance, R) of each mediator.
const SPECIES_KEYS: [(&str, &str, &str, Option<&str>); 14] = [
    ("D_SP", "lambda_SP", "k_SP", None),
    ("D_ENK", "lambda_ENK", "k_ENK", None),
    ("D_DYN", "lambda_DYN", "k_DYN", None),
    ("D_EM", "lambda_EM", "k_EM", None),
    ("D_TNF", "lambda_TNF", "k_TNF", None),
    ("D_IL1b", "lambda_IL1b", "k_IL1b", None),
    ("D_IL6", "lambda_IL6", "k_IL6", None),
    ("D_IL10", "lambda_IL10", "k_IL10", None),
    ("D_BDNF", "lambda_BDNF", "k_BDNF_clear", None),
    ("D_CatS", "lambda_CatS", "k_CatS", None),
    ("D_sFKN", "lambda_sFKN", "k_sFKN", None),
    ("D_CCL2", "lambda_CCL2", "k_CCL2", Some("R_CCL2")),
    ("D_CXCL1", "lambda_CXCL1", "k_CXCL1", Some("R_CXCL1")),
    ("D_CXCL12", "lambda_CXCL12", "k_CXCL12", Some("R_CXCL12")),
];

/// How a report region weights its cells.
#[derive(Debug, Clone, Copy)]
pub enum RegionWeight {
    /// The cell's area fraction in these laminae (or white-matter tracts).
    Laminae(&'static [Region]),
    /// The cell's C-fibre terminal density T_Cp + T_Cn, so that a mean of S_C reads like a
    /// C-fibre-evoked field potential.
    CFibres,
}

/// The regions whose means the time series reports: the laminae, the white matter and the
/// C-fibre field.
pub const REPORT_REGIONS: [(&str, RegionWeight); 10] = [
    (
        "I-II",
        RegionWeight::Laminae(&[Region::I, Region::IIo, Region::IIi]),
    ),
    ("I", RegionWeight::Laminae(&[Region::I])),
    ("IIo", RegionWeight::Laminae(&[Region::IIo])),
    ("IIi", RegionWeight::Laminae(&[Region::IIi])),
    ("III", RegionWeight::Laminae(&[Region::III])),
    ("IV", RegionWeight::Laminae(&[Region::IV])),
    ("V", RegionWeight::Laminae(&[Region::V])),
    ("VI", RegionWeight::Laminae(&[Region::VI])),
    (
        "white",
        RegionWeight::Laminae(&[
            Region::Lissauer,
            Region::Dlf,
            Region::DorsalColumns,
            Region::LateralFuniculus,
        ]),
    ),
    (C_FIELD, RegionWeight::CFibres),
];

/// Name of the report region weighted by C-fibre terminal density (see [`REPORT_REGIONS`]).
pub const C_FIELD: &str = "C-field";

/// Everything static about a section on a grid: tissue, maps, per-cell maps, the transport
/// problem and the probe weights.
pub struct Layout {
    pub tissue: Tissue,
    pub maps: Maps,
    pub pops: Populations,
    /// Per cell; θ is filled in by [`TissueSim::calibrate`](crate::tissue::TissueSim::calibrate).
    pub cell_maps: Vec<CellMap>,
    pub active: Vec<bool>,
    /// Per cell: pial faces / (α·h) (1/µm), 0 away from the pia.
    pub pia: Vec<f32>,
    /// The 14 mediators on the grid: D = α·D*, capacity α·R (inactive cells: D = 0, a = 1).
    pub problem: Problem,
    /// Transport groups (indices into MEDIATORS): the fast peptides and the slow cytokines and
    /// chemokines, so that each takes only the RKL2 stages its own largest D*/R needs.
    pub groups: Vec<Vec<usize>>,
    /// Per mediator: (clearance k in 1/s, R).
    pub clearance: Vec<(f32, f32)>,
    pub p_pia: f32,
    /// Per cell: w_I inside the tested band where P is present (§4.11 probe weights).
    pub probe_weight: Vec<f32>,
    /// Per mediator: D* = D_free/λ_X² (µm²/s).
    pub(super) d_star: Vec<f32>,
    pub(super) lambda_grey: f32,
    /// [`Layout::region_weights`], computed once.
    pub report_weights: Vec<Vec<f32>>,
    /// What enters through the pia (§2.5): β-endorphin, an intrathecal small molecule, an
    /// intrathecal antibody ([`Layout::penetration`]).
    pial_entries: [PialEntry; 3],
}

/// A species held in the CSF that enters the section through the pia (§2.5).
#[derive(Debug, Clone, Copy)]
struct PialEntry {
    /// D* (µm²/s) and tissue clearance k (1/s).
    species: TransportCoef,
    /// Its own pial permeability (µm/s; antibodies), or `None`: the section's P_pia.
    own_p_pia: Option<f32>,
    /// Share of the depth profile (0: uniform).
    w: f32,
}

/// 3 × 3 smoothing of §2.4 (1/4 centre, 1/8 edges, 1/16 corners), restricted to active cells
/// and renormalised.
pub fn smooth3(field: &[f32], active: &[bool], nx: usize, ny: usize) -> Vec<f32> {
    let mut out = vec![0.0f32; nx * ny];
    for y in 0..ny {
        for x in 0..nx {
            let i = y * nx + x;
            if !active[i] {
                continue;
            }
            let (mut num, mut den) = (0.0f32, 0.0f32);
            for dy in -1i64..=1 {
                for dx in -1i64..=1 {
                    let (xx, yy) = (x as i64 + dx, y as i64 + dy);
                    if xx < 0 || yy < 0 || xx >= nx as i64 || yy >= ny as i64 {
                        continue;
                    }
                    let j = yy as usize * nx + xx as usize;
                    if !active[j] {
                        continue;
                    }
                    let w = match (dx.abs(), dy.abs()) {
                        (0, 0) => 0.25,
                        (1, 1) => 1.0 / 16.0,
                        _ => 0.125,
                    };
                    num += w * field[j];
                    den += w;
                }
            }
            out[i] = num / den;
        }
    }
    out
}

impl Layout {
    /// Rasterises the section of `animal` at `spacing_um` and derives every map, with the whole
    /// sciatic band injured and tested.
    pub fn new(
        table: &ParamTable,
        animal: Animal,
        spacing_um: f64,
        ventral_absorbing: bool,
    ) -> Layout {
        Layout::for_territory(
            table,
            animal,
            spacing_um,
            ventral_absorbing,
            Territory::Sciatic,
        )
    }

    /// [`Layout::new`] for a pain model's territories (MODEL.md §11.4): the injury footprint
    /// and the probed lamina-I cells follow `territory`.
    #[expect(
        clippy::too_many_lines,
        reason = "one map or coefficient per paragraph of MODEL.md §1–§2, in the spec's order"
    )]
    pub fn for_territory(
        table: &ParamTable,
        animal: Animal,
        spacing_um: f64,
        ventral_absorbing: bool,
        territory: Territory,
    ) -> Layout {
        let tissue = Tissue::rasterise(Outline::new(table, animal), spacing_um);
        let maps = tissue.maps_for(table, territory);
        let pops = tissue.populations(&maps, table);
        let (nx, ny, h) = (tissue.nx, tissue.ny, tissue.h);
        let n = nx * ny;
        let get = |k: &str| {
            table
                .get(k)
                .unwrap_or_else(|| panic!("parameter table lacks `{k}`")) as f32
        };
        let active: Vec<bool> = (0..n).map(|i| tissue.active(i)).collect();
        let alpha_grey = get("alpha_grey");
        let lambda_grey = get("lambda_grey");
        let smooth = |f: &[f32]| smooth3(f, &active, nx, ny);
        let atp = [
            smooth(&maps.t_cp),
            smooth(&maps.t_cn),
            smooth(&maps.t_ad),
            smooth(&maps.t_ab),
        ];
        let (v_5ht, v_ne, inj_atp) = (smooth(&maps.v_5ht), smooth(&maps.v_ne), smooth(&maps.s_inj));
        let ast = tissue.astrocyte_maps(&maps, f64::from(get("astro_sense_um")));
        let cell_maps: Vec<CellMap> = (0..n)
            .map(|i| {
                let local = [maps.t_cp[i], maps.t_cn[i], maps.t_ad[i], maps.t_ab[i]];
                let tp = |k: usize| pops.t_for_p[k][i];
                let tw = |k: usize| pops.t_for_w[k][i];
                CellMap {
                    glu: local,
                    ast: [ast[0][i], ast[1][i], ast[2][i], ast[3][i]],
                    ei: local,
                    atp: [atp[0][i], atp[1][i], atp[2][i], atp[3][i]],
                    ea_ab: maps.t_ab[i],
                    ea_ad: maps.t_ad[i],
                    p: [tp(0), tp(1), tp(2), tp(2)],
                    w: [tw(0), tw(1), tw(2), tw(3), tw(3), tw(2)],
                    rho_enk: maps.rho_enk[i],
                    rho_dyn: maps.rho_dyn[i],
                    rho_em: maps.rho_em[i],
                    v_5ht: v_5ht[i],
                    v_ne: v_ne[i],
                    inj: maps.s_inj[i],
                    inj_atp: inj_atp[i],
                    alpha_ratio: if active[i] && maps.alpha[i] > 0.0 {
                        alpha_grey / maps.alpha[i]
                    } else {
                        0.0
                    },
                    theta: [0.0; 4],
                    // Set once the transport geometry exists (`set_pial_entries`).
                    end_w: 1.0,
                    pia_it: 1.0,
                    pia_ab: 1.0,
                    p_ab: tp(3),
                }
            })
            .collect();
        // Pial faces: an active cell's neighbour outside the cord, or the grid's dorsal and
        // lateral edges (the midline x = 0 is no-flux, the ventral edge is its own boundary).
        let pia: Vec<f32> = (0..n)
            .map(|i| {
                if !active[i] {
                    return 0.0;
                }
                let (x, y) = (i % nx, i / nx);
                let mut faces = 0;
                if y == 0 || !active[i - nx] {
                    faces += 1;
                }
                if x + 1 == nx || !active[i + 1] {
                    faces += 1;
                }
                if x > 0 && !active[i - 1] {
                    faces += 1;
                }
                if y + 1 < ny && !active[i + nx] {
                    faces += 1;
                }
                faces as f32 / (maps.alpha[i] * h as f32)
            })
            .collect();
        let mut clearance = Vec::new();
        let mut d_stars = Vec::new();
        let species: Vec<Species> = MEDIATORS
            .iter()
            .zip(SPECIES_KEYS)
            .map(|(name, (d, lam, k, r))| {
                let r = r.map_or(1.0, get);
                clearance.push((get(k), r));
                let d_star = get(d) / (get(lam) * get(lam));
                d_stars.push(d_star);
                let dfield: Vec<f32> = (0..n)
                    .map(|i| {
                        if active[i] {
                            let scale = lambda_grey / maps.lambda[i];
                            maps.alpha[i] * d_star * scale * scale
                        } else {
                            0.0
                        }
                    })
                    .collect();
                let capacity: Vec<f32> = (0..n)
                    .map(|i| if active[i] { maps.alpha[i] * r } else { 1.0 })
                    .collect();
                Species {
                    name: name.to_string(),
                    diffusivity: Diffusivity::Field(dfield),
                    decay_per_s: 0.0,
                    capacity: Some(capacity),
                }
            })
            .collect();
        let ventral = if ventral_absorbing {
            Boundary::Fixed {
                values: vec![0.0; MEDIATORS.len()],
            }
        } else {
            Boundary::NoFlux
        };
        let grid = Grid::new(nx, ny, h).with_boundary(Side::YMax, ventral);
        let problem = Problem {
            grid,
            species,
            model: EngineModel::Diffusion,
            dt_s: 1.0,
        };
        let probe_weight = (0..n)
            .map(|i| tissue.weight(i, Region::I) * maps.band_probe[i] * pops.present_p[i])
            .collect();
        let mut layout = Layout {
            tissue,
            maps,
            pops,
            cell_maps,
            active,
            pia,
            problem,
            groups: vec![(0..4).collect(), (4..MEDIATORS.len()).collect()],
            clearance,
            p_pia: get("P_pia"),
            probe_weight,
            d_star: d_stars,
            lambda_grey,
            report_weights: Vec::new(),
            pial_entries: [
                // β-endorphin (§4.5) at the section's P_pia.
                PialEntry {
                    species: TransportCoef {
                        d: get("D_END") / (get("lambda_END") * get("lambda_END")),
                        r: 1.0,
                        k: get("k_END"),
                    },
                    own_p_pia: None,
                    w: get("w_END_pia"),
                },
                // An intrathecal small molecule (§2.5): k_clear = D*/L².
                PialEntry {
                    species: TransportCoef {
                        d: get("D_it_small"),
                        r: 1.0,
                        k: get("D_it_small") / (get("L_it_small") * get("L_it_small")),
                    },
                    own_p_pia: None,
                    w: get("w_it_pia"),
                },
                // An intrathecal antibody (§2.5): its own P_pia and target-binding clearance.
                PialEntry {
                    species: TransportCoef {
                        d: get("D_it_antibody"),
                        r: 1.0,
                        k: get("k_antibody"),
                    },
                    own_p_pia: Some(get("P_pia_antibody")),
                    w: get("w_it_pia"),
                },
            ],
        };
        layout.report_weights = layout.region_weights();
        layout.set_pial_entries();
        layout
    }

    /// Sets the pial permeability P_pia (µm/s; the scenario's `tissue.pial_permeability_um_s`)
    /// and with it what enters through the pia at that permeability (`Layout::penetration`).
    pub fn set_pial_permeability(&mut self, p_pia: f32) {
        self.p_pia = p_pia;
        self.set_pial_entries();
    }

    /// end_w, pia_it and pia_ab of every cell map ([`Layout::penetration`]).
    fn set_pial_entries(&mut self) {
        let [end, small, antibody] = self.pial_entries.map(|e| self.penetration(e));
        for (i, m) in self.cell_maps.iter_mut().enumerate() {
            (m.end_w, m.pia_it, m.pia_ab) = (end[i], small[i], antibody[i]);
        }
    }

    /// What reaches each cell of a species held in the CSF, relative to its level there (MODEL.md
    /// §2.5): the steady penetration Π through the pia (Robin, the entry's P_pia or the
    /// section's) with the species' D* and tissue clearance, normalised to mean 1 over laminae
    /// I–II and blended with a uniform field by the entry's w (1 − w + w·Π/mean_I–II Π).
    /// Normalised so that a level calibrated in the well-mixed compartment (β-endorphin's a_END,
    /// §4.5) or read as the dose's occupancy (the ED50s of §11.3) stays the superficial one and
    /// deeper laminae get less. The ventral cut is no-flux here (the section's ventral edge is not
    /// pia). The shape is the steady one although it takes about 1/k to form (58 min for
    /// β-endorphin, 6 min for a small molecule, 30 min for an antibody): an entry followed in time
    /// would be steeper early on, so the depth contrast is if anything understated
    /// (docs/model.md §2.5). With no pial permeability nothing crosses the pia and the field stays
    /// uniform.
    fn penetration(&self, e: PialEntry) -> Vec<f32> {
        let n = self.cells();
        let p = e.own_p_pia.unwrap_or(self.p_pia);
        if e.w == 0.0 || p <= 0.0 {
            return vec![1.0; n];
        }
        let geo = Geometry {
            absorbing_bottom: false,
            ..self.transport_geometry()
        };
        let (pi, _) = steady_penetration(&geo, e.species, p, 1e-5)
            .expect("the V-cycle converges on the section (tests/it/multigrid.rs)");
        let lam = &self.report_weights[0];
        let (num, den) = (0..n).fold((0.0f64, 0.0f64), |(a, b), i| {
            (a + (lam[i] * pi[i]) as f64, b + lam[i] as f64)
        });
        let mean = (num / den.max(1e-30)) as f32;
        (0..n)
            .map(|i| {
                if self.active[i] {
                    1.0 - e.w + e.w * pi[i] / mean
                } else {
                    0.0
                }
            })
            .collect()
    }

    pub fn cells(&self) -> usize {
        self.tissue.nx * self.tissue.ny
    }

    /// Largest D*/R (µm²/s) over the mediators `members` and the cells of the cord.
    pub fn max_d_over_a(&self, members: &[usize]) -> f64 {
        members
            .iter()
            .map(|&m| {
                self.problem.species[m].max_effective_diffusivity(self.problem.grid.cells()) as f64
            })
            .fold(0.0, f64::max)
    }

    /// Largest κ of the transport's linear term (1/s) over the mediators `members`.
    pub fn kappa_max(&self, members: &[usize]) -> f64 {
        let g = self.pia.iter().copied().fold(0.0f32, f32::max);
        members
            .iter()
            .map(|&m| {
                let (k, r) = self.clearance[m];
                ((k + self.p_pia * g) / r) as f64
            })
            .fold(0.0, f64::max)
    }

    /// The transport geometry every mediator shares (src/cpu/multigrid.rs): g = α·(λ_grey/λ)²,
    /// w = α and F = pial faces/h in the cord, 0 outside.
    pub fn transport_geometry(&self) -> Geometry {
        let n = self.cells();
        let lambda_grey = self.lambda_grey;
        let inside = |i: usize, v: f32| if self.active[i] { v } else { 0.0 };
        let maps = &self.maps;
        Geometry {
            nx: self.tissue.nx,
            ny: self.tissue.ny,
            h: self.tissue.h,
            g: (0..n)
                .map(|i| {
                    let scale = lambda_grey / maps.lambda[i];
                    inside(i, maps.alpha[i] * scale * scale)
                })
                .collect(),
            w: (0..n).map(|i| inside(i, maps.alpha[i])).collect(),
            robin: (0..n)
                .map(|i| inside(i, self.pia[i] * maps.alpha[i]))
                .collect(),
            absorbing_bottom: matches!(
                self.problem.grid.boundary(Side::YMax),
                Boundary::Fixed { .. }
            ),
        }
    }

    /// Per mediator: D* (µm²/s), the free diffusivity over its tortuosity squared.
    pub fn d_star(&self, m: usize) -> f32 {
        self.d_star[m]
    }

    /// The transport problem of the mediators `members`.
    pub fn group_problem(&self, members: &[usize]) -> Problem {
        Problem {
            grid: self.problem.grid.clone(),
            species: members
                .iter()
                .map(|&m| self.problem.species[m].clone())
                .collect(),
            model: EngineModel::Diffusion,
            dt_s: 1.0,
        }
    }

    /// Per-column averages seen by P (laminae I–III) and W (III–V) of the rates r_E, r_I, each
    /// weighted by its population's presence and the lamina weight (§4.3).
    pub fn columns(&self, r_e: &[f32], r_i: &[f32]) -> Vec<[f32; 4]> {
        use Region::*;
        let t = &self.tissue;
        let (nx, ny) = (t.nx, t.ny);
        let reach = (50.0 / t.h).floor() as usize;
        let avg = |laminae: &[Region], rate: &[f32], present: &[f32]| -> Vec<f32> {
            let mut num = vec![0.0f64; nx];
            let mut den = vec![0.0f64; nx];
            for i in 0..nx * ny {
                let w = (t.weight_of(i, laminae) * present[i]) as f64;
                num[i % nx] += w * rate[i] as f64;
                den[i % nx] += w;
            }
            (0..nx)
                .map(|x| {
                    let (lo, hi) = (x.saturating_sub(reach), (x + reach).min(nx - 1));
                    let (a, b) = (lo..=hi).fold((0.0, 0.0), |(a, b), k| (a + num[k], b + den[k]));
                    if b > 0.0 { (a / b) as f32 } else { 0.0 }
                })
                .collect()
        };
        let p_lam = [I, IIo, IIi, III];
        let w_lam = [III, IV, V];
        let (pe, pi) = (&self.pops.present_e, &self.pops.present_i);
        let cols = [
            avg(&p_lam, r_e, pe),
            avg(&p_lam, r_i, pi),
            avg(&w_lam, r_e, pe),
            avg(&w_lam, r_i, pi),
        ];
        (0..nx * ny)
            .map(|i| {
                let x = i % nx;
                [cols[0][x], cols[1][x], cols[2][x], cols[3][x]]
            })
            .collect()
    }

    /// Per report region: the cells' weights (lamina weight; 0 outside the domain).
    pub fn region_weights(&self) -> Vec<Vec<f32>> {
        REPORT_REGIONS
            .iter()
            .map(|(_, weight)| {
                (0..self.cells())
                    .map(|i| match weight {
                        _ if !self.active[i] => 0.0,
                        RegionWeight::Laminae(regions) => self.tissue.weight_of(i, regions),
                        RegionWeight::CFibres => self.maps.t_cp[i] + self.maps.t_cn[i],
                    })
                    .collect()
            })
            .collect()
    }
}
