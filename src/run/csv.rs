//! `timeseries.csv` of a dorsal-horn run (layer 4): its columns (the pain indices, PWT and PWL,
//! then every state and rate averaged over each reported region), their units and meanings
//! (`timeseries_units.csv`) and the formatting of a read-out as a row.

use crate::model::network::state::{RATE_NAMES, STATE_NAMES};
use crate::output;
use crate::tissue::observe::Readout;
use crate::tissue::section::REPORT_REGIONS;

/// `timeseries_units.csv`: one row per column of timeseries.csv with its unit and meaning.
pub fn csv_units() -> String {
    let mut s = String::from("column,unit,meaning\n");
    for (c, u, m) in [
        ("time_h", "h", "model time since the start of the protocol"),
        ("day", "d", "the same in days"),
        (
            "P_mech",
            "1",
            "mechanical pain index, relative to the naive tissue (§4.11)",
        ),
        (
            "P_heat",
            "1",
            "heat pain index, relative to the naive tissue (§4.11)",
        ),
        (
            "P_spont",
            "1",
            "spontaneous pain index, relative to the naive tissue (§4.11)",
        ),
        ("PWT_g", "g", "paw-withdrawal threshold (von Frey)"),
        ("PWL_s", "s", "paw-withdrawal latency (Hargreaves)"),
    ] {
        s.push_str(&format!(
            "{c},{},{}\n",
            output::csv_field(u),
            output::csv_field(m)
        ));
    }
    for (region, _) in REPORT_REGIONS {
        for (f, name) in STATE_NAMES.iter().chain(RATE_NAMES.iter()).enumerate() {
            let (meaning, unit) = crate::model::network::state::field_info(f);
            s.push_str(&format!(
                "{name}@{region},{},{}\n",
                output::csv_field(unit),
                output::csv_field(&format!("{meaning}, mean over {region}"))
            ));
        }
    }
    s
}

/// The header row of `timeseries.csv`.
pub fn csv_header() -> String {
    let mut h = String::from("time_h,day,P_mech,P_heat,P_spont,PWT_g,PWL_s");
    for (region, _) in REPORT_REGIONS {
        for name in STATE_NAMES.iter().chain(RATE_NAMES.iter()) {
            h.push_str(&format!(",{name}@{region}"));
        }
    }
    h.push('\n');
    h
}

/// One read-out as a row of `timeseries.csv`.
pub fn csv_row(r: &Readout) -> String {
    let mut s = format!(
        "{:.4},{:.4},{:.6},{:.6},{:.6},{:.4},{:.4}",
        r.time_s / 3600.0,
        r.time_s / 86400.0,
        r.p_mech,
        r.p_heat,
        r.p_spont,
        r.pwt_g,
        r.pwl_s
    );
    for region in &r.means {
        for v in region {
            s.push_str(&format!(",{v:.6e}"));
        }
    }
    s.push('\n');
    s
}
