//! `dorsalhorn validate`: the published findings of MODEL.md §5 as an executable suite.
//!
//! Each finding is a TOML file under `validation/` (format: `docs/validation-format.md`): arms
//! (dorsal-horn scenarios, each a base file under `validation/arms/` plus the keys it changes),
//! and checks that compare read-outs of the arms (a lamina mean, a pain index, a behavioural
//! threshold) at times or over windows. The suite runs every distinct arm once on one grid,
//! evaluates the checks, prints a table and writes `validation.md`, `validation.json`, one
//! SVG figure per finding and each arm's time series.
//!
//! Besides the findings, two groups check the machinery itself: `analytic` (heat kernel, K0
//! profile, conservation, on the user's GPU) and `baseline` (MODEL.md §8.1).

pub mod eval;
pub mod finding;
pub mod groups;
pub mod quantity;
pub mod report;
pub mod runner;
pub mod split;
mod svg;

/// The grids of `--grid`: the classroom grid is coarse enough for a laptop without a GPU
/// (all 67 findings in about 40 min on a 2-core software driver); the
/// default grid is the one `dorsalhorn run` uses.
pub const GRIDS: [(&str, f64); 2] = [("classroom", 40.0), ("default", 10.0)];
