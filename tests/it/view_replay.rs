//! The viewer's promise: a viewing replays exactly in batch. The viewer drives the same
//! `Stepper` as `dorsalhorn run`, a few steps per frame, reads fields, rates and pain indices
//! between steps, adds interventions at the next whole minute by editing the scenario's TOML,
//! and resets by writing the baseline states back. These tests check, bit for bit, that none of
//! that changes the states: a stepper driven like the viewer ends where a plain run of the
//! exported scenario ends.

use crate::common::gpu;
use dorsalhorn::gpu::reaction::STATE_STRIDE;
use dorsalhorn::run::stepper::Stepper;
use dorsalhorn::scenario::dorsal_horn::TissueScenario;

fn fixture(extra: &[&str]) -> TissueScenario {
    let (origin, text) = dorsalhorn::scenario::read_spec("tests/data/view_cfa_40um.toml").unwrap();
    let set: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
    dorsalhorn::scenario::dorsal_horn::from_str(&origin, &text, &set).unwrap()
}

/// Steps to the end, taking no extra reads.
fn plain(gpu: &dorsalhorn::gpu::Gpu, st: &mut Stepper) {
    while !st.finished() {
        st.step(gpu).unwrap();
    }
}

/// What the viewer does between frames: fields, rates and the pain indices.
fn look(gpu: &dorsalhorn::gpu::Gpu, st: &Stepper) {
    let states = st.sim.read_states(gpu).unwrap();
    let input = st.model().protocol_input(&st.sc.protocol, st.time_s()).0;
    let rates = st.sim.rates(gpu, &input).unwrap();
    let _ = dorsalhorn::tissue::observe::field_values(&st.sim, &states, Some(&rates), &input, 35);
    let _ = dorsalhorn::tissue::observe::pain_indices(gpu, &st.sim, &st.sc, &st.naive).unwrap();
}

#[test]
fn a_viewing_with_interventions_and_a_reset_replays_exactly_in_batch() {
    let gpu = gpu();
    let sc = fixture(&[]);
    let sim = dorsalhorn::tissue::baseline::baseline(gpu, &sc).unwrap();
    let base = sim.read_states(gpu).unwrap();
    let mut view = Stepper::from_baseline(gpu, sc.clone(), sim).unwrap();

    // Frames of 1, 3 and 2 steps with reads in between, up to about 1 h 20 min.
    for n in [1, 3, 2, 2] {
        for _ in 0..n {
            view.step(gpu).unwrap();
        }
        look(gpu, &view);
    }
    let now = view.time_s();
    assert!(now > 3600.0, "the viewing reached {now} s");
    // An EA session and an i.p. minocycline dose at the next whole minute, as the window adds
    // them (days + start_h for EA, at_h for doses).
    let at = ((now + 1.0) / 60.0).floor() * 60.0 + 60.0;
    let mut table = view.sc.resolved_toml.clone();
    let ea: toml::Table = toml::from_str(&format!(
        "mode = \"single\"\nfrequency_hz = 2.0\nintensity_ma = 1.0\nduration_min = 20.0\n\
         days = [0.0]\nstart_h = {}",
        at / 3600.0
    ))
    .unwrap();
    table.insert(
        "ea".into(),
        toml::Value::Array(vec![toml::Value::Table(ea)]),
    );
    let dose: toml::Table = toml::from_str(&format!(
        "drug = \"minocycline\"\nroute = \"ip\"\nu_max = 0.8\nat_h = {}",
        (at + 600.0) / 3600.0
    ))
    .unwrap();
    table.insert(
        "dose".into(),
        toml::Value::Array(vec![toml::Value::Table(dose)]),
    );
    let edited = dorsalhorn::scenario::dorsal_horn::from_table(&sc.origin, table.clone()).unwrap();
    assert!(edited.protocol.sessions[0].start_s > now);
    view.set_scenario(gpu, edited);
    while !view.finished() {
        for _ in 0..5 {
            view.step(gpu).unwrap();
        }
        look(gpu, &view);
    }
    let viewed = view.sim.read_states(gpu).unwrap();

    // The exported scenario, run plainly from the same baseline.
    let exported = toml::to_string(&table).unwrap();
    let replay_sc =
        dorsalhorn::scenario::dorsal_horn::from_str(&sc.origin, &exported, &[]).unwrap();
    let sim = dorsalhorn::tissue::baseline::baseline(gpu, &replay_sc).unwrap();
    assert_eq!(
        sim.read_states(gpu).unwrap(),
        base,
        "the baseline is deterministic"
    );
    let mut replay = Stepper::from_baseline(gpu, replay_sc, sim).unwrap();
    plain(gpu, &mut replay);
    assert_eq!(replay.time_s(), view.time_s());
    let replayed = replay.sim.read_states(gpu).unwrap();
    let differing = viewed
        .iter()
        .zip(&replayed)
        .filter(|(a, b)| a.to_bits() != b.to_bits())
        .count();
    assert_eq!(
        differing, 0,
        "{differing} state values differ between viewing and replay"
    );
    // The interventions did something: EA and minocycline lower microglial activation.
    let mut untreated = Stepper::from_baseline(
        gpu,
        sc.clone(),
        dorsalhorn::tissue::baseline::baseline(gpu, &sc).unwrap(),
    )
    .unwrap();
    plain(gpu, &mut untreated);
    let m = 22; // microglial activation M
    let mean_m = |s: &[f32]| {
        let v: Vec<f32> = s.chunks_exact(STATE_STRIDE).map(|c| c[m]).collect();
        v.iter().map(|&x| x as f64).sum::<f64>() / v.len() as f64
    };
    let (treated_m, untreated_m) = (
        mean_m(&viewed),
        mean_m(&untreated.sim.read_states(gpu).unwrap()),
    );
    assert!(
        treated_m < untreated_m,
        "EA + minocycline should lower microglial activation: {treated_m} vs {untreated_m}"
    );

    // Reset as the window does it: baseline states back, t = 0, the original scenario.
    let mut sim = view.into_sim();
    let rows: &[[f32; STATE_STRIDE]] = bytemuck::cast_slice(&base);
    sim.write_states(gpu, rows);
    sim.rewind_clock(0.0);
    let mut again = Stepper::from_baseline(gpu, sc, sim).unwrap();
    plain(gpu, &mut again);
    assert_eq!(
        again.sim.read_states(gpu).unwrap(),
        untreated.sim.read_states(gpu).unwrap(),
        "after a reset the scenario replays exactly"
    );
}

/// The viewer keeps the settled baseline on disk; a cached baseline must be the fresh one, bit
/// for bit, and step identically.
#[test]
fn a_cached_baseline_is_the_settled_baseline() {
    let gpu = gpu();
    let sc = fixture(&[]);
    let dir = std::env::temp_dir().join(format!("dorsalhorn-cache-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let cache = dorsalhorn::tissue::baseline::BaselineCache::at(&dir);
    let (fresh, from_cache) =
        dorsalhorn::tissue::baseline::cached_baseline(gpu, &sc, Some(&cache), &mut |_| true)
            .unwrap();
    assert!(!from_cache, "an empty cache settles");
    let (cached, from_cache) =
        dorsalhorn::tissue::baseline::cached_baseline(gpu, &sc, Some(&cache), &mut |_| true)
            .unwrap();
    assert!(from_cache, "the second start reads the cache");
    assert_eq!(
        fresh.read_states(gpu).unwrap(),
        cached.read_states(gpu).unwrap()
    );
    assert_eq!(fresh.thetas(), cached.thetas());
    let mut a = Stepper::from_baseline(gpu, sc.clone(), fresh).unwrap();
    let mut b = Stepper::from_baseline(gpu, sc.clone(), cached).unwrap();
    for _ in 0..6 {
        a.step(gpu).unwrap();
        b.step(gpu).unwrap();
    }
    assert_eq!(
        a.sim.read_states(gpu).unwrap(),
        b.sim.read_states(gpu).unwrap()
    );
    // Another tissue (a different spacing) does not hit this entry.
    let other = fixture(&["tissue.spacing_um=50"]);
    let (_, from_cache) =
        dorsalhorn::tissue::baseline::cached_baseline(gpu, &other, Some(&cache), &mut |_| true)
            .unwrap();
    assert!(
        !from_cache,
        "a different grid must not reuse the cached baseline"
    );
    // A damaged file is ignored (settles again), never trusted.
    for entry in std::fs::read_dir(&dir).unwrap() {
        let p = entry.unwrap().path();
        let mut bytes = std::fs::read(&p).unwrap();
        bytes.truncate(bytes.len() / 2);
        std::fs::write(&p, bytes).unwrap();
    }
    let (_, from_cache) =
        dorsalhorn::tissue::baseline::cached_baseline(gpu, &sc, Some(&cache), &mut |_| true)
            .unwrap();
    assert!(!from_cache, "a truncated cache file must not be used");
    // One flipped bit in a state, at the right length, is caught by the checksum (the settling
    // above stored a good file again).
    for entry in std::fs::read_dir(&dir).unwrap() {
        let p = entry.unwrap().path();
        let mut bytes = std::fs::read(&p).unwrap();
        let mid = bytes.len() / 2;
        bytes[mid] ^= 0x01;
        std::fs::write(&p, bytes).unwrap();
    }
    let (_, from_cache) =
        dorsalhorn::tissue::baseline::cached_baseline(gpu, &sc, Some(&cache), &mut |_| true)
            .unwrap();
    assert!(
        !from_cache,
        "a cache file with a flipped bit must not be used"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
