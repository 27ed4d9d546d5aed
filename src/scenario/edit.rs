//! Edits of a running dorsal-horn scenario's TOML (layer 2): the window's interventions (start
//! and stop EA) written as scenario entries at the next whole minute, so a saved scenario
//! replays the viewing in batch.

/// Adds an EA session at ST36 + SP6 starting at the next whole minute after `now` (s).
pub fn add_ea(t: &mut toml::Table, now: f64, mode: &str, freq: f64, ma: f64, minutes: f64) {
    let at = next_minute(now);
    let day = (at / 86400.0).floor();
    let mut e = toml::Table::new();
    e.insert(
        "points".into(),
        toml::Value::Array(vec!["ST36".into(), "SP6".into()]),
    );
    e.insert("mode".into(), mode.into());
    if mode != "manual" {
        e.insert("frequency_hz".into(), freq.into());
    }
    e.insert("intensity_ma".into(), ma.into());
    e.insert("duration_min".into(), minutes.round().max(1.0).into());
    e.insert("days".into(), toml::Value::Array(vec![day.into()]));
    e.insert("start_h".into(), ((at - day * 86400.0) / 3600.0).into());
    push_array(t, "ea", e);
}

/// Ends session `index` of the `ea` array at its first whole minute after `now` (s), or
/// removes it if it has not begun.
pub fn stop_ea(t: &mut toml::Table, index: usize, now: f64) -> Result<(), String> {
    let sessions = t
        .get_mut("ea")
        .and_then(|v| v.as_array_mut())
        .ok_or("the session is no longer in the scenario")?;
    let e = sessions
        .get_mut(index)
        .and_then(|v| v.as_table_mut())
        .ok_or("the session is no longer in the scenario")?;
    // TOML numbers may be written as integers (days = [1]) or floats.
    let number = |v: &toml::Value| v.as_float().or_else(|| v.as_integer().map(|i| i as f64));
    let num = |k: &str| e.get(k).and_then(number);
    let day = e
        .get("days")
        .and_then(|d| d.as_array())
        .and_then(|d| d.first())
        .and_then(number)
        .unwrap_or(0.0);
    let start = day * 86400.0 + num("start_h").unwrap_or(0.0) * 3600.0;
    let planned = num("duration_min").unwrap_or(30.0);
    if now < start {
        // Not begun yet: cancel it.
        sessions.remove(index);
        return Ok(());
    }
    // End at the first whole minute of the session after now.
    let minutes = ((now - start) / 60.0).floor() + 1.0;
    if minutes < planned {
        e.insert("duration_min".into(), minutes.into());
    }
    Ok(())
}

pub fn push_array(t: &mut toml::Table, key: &str, item: toml::Table) {
    let entry = t
        .entry(key.to_string())
        .or_insert_with(|| toml::Value::Array(Vec::new()));
    if let Some(a) = entry.as_array_mut() {
        a.push(toml::Value::Table(item));
    }
}

/// The first whole minute of model time strictly after `now` (s): interventions start there,
/// so they lie ahead of the simulation and at a time a scenario file can state.
pub fn next_minute(now: f64) -> f64 {
    ((now + 1.0) / 60.0).floor() * 60.0 + 60.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interventions_start_at_the_next_whole_minute() {
        assert_eq!(next_minute(0.0), 60.0);
        assert_eq!(next_minute(600.0), 660.0);
        assert_eq!(next_minute(659.5), 720.0);
        assert!(next_minute(12345.6) > 12345.6);
    }

    #[test]
    fn a_session_started_then_stopped_in_the_window_is_a_valid_scenario_entry() {
        let (origin, text) = crate::scenario::read_spec("cfa_sham").unwrap();
        let base: toml::Table = toml::from_str(&text).unwrap();
        let n0 = base
            .get("ea")
            .and_then(|v| v.as_array())
            .map_or(0, |a| a.len());
        let sessions =
            |t: &toml::Table| crate::scenario::dorsal_horn::from_table(&origin, t.clone()).unwrap();
        // Started at t = 50 min 30 s: it begins at 51 min; stopped at 58 min 20 s it ends at 59.
        let mut t = base.clone();
        add_ea(&mut t, 3030.0, "single", 2.0, 1.0, 30.0);
        let s = sessions(&t).protocol.sessions;
        let new = s
            .iter()
            .find(|s| (s.start_s - 3060.0).abs() < 1e-6)
            .unwrap();
        assert_eq!(new.duration_s, 1800.0);
        stop_ea(&mut t, n0, 3500.0).unwrap();
        let s = sessions(&t).protocol.sessions;
        let new = s
            .iter()
            .find(|s| (s.start_s - 3060.0).abs() < 1e-6)
            .unwrap();
        assert_eq!(new.duration_s, 480.0);
        assert!(new.start_s + new.duration_s > 3500.0, "it ends after now");
        // Stopped before it began: removed.
        let mut t = base.clone();
        add_ea(&mut t, 3030.0, "single", 2.0, 1.0, 30.0);
        stop_ea(&mut t, n0, 3040.0).unwrap();
        assert_eq!(
            sessions(&t).protocol.sessions.len(),
            sessions(&base).protocol.sessions.len()
        );
        // A session a day later is stated with its day.
        let mut t = base.clone();
        add_ea(&mut t, 86400.0 + 600.0, "alternating", 2.0, 1.0, 20.0);
        let s = sessions(&t).protocol.sessions;
        assert!(s.iter().any(|s| (s.start_s - 87060.0).abs() < 1e-6));
    }
}
