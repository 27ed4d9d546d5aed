//! Every shipped scenario parses, resolves and runs a few steps; built-in scenarios match their
//! files; overrides and the scenario rules behave as documented.

use crate::common::gpu;
use dorsalhorn::run::generic::{RunOptions, run};
use dorsalhorn::scenario::overrides::apply_override;
use dorsalhorn::scenario::{self, BUILTIN};

fn scenario_files() -> Vec<std::path::PathBuf> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/scenarios");
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    v.sort();
    assert!(!v.is_empty(), "no scenarios found");
    v
}

/// Engine scenarios run a few steps here; dorsal-horn scenarios (a `[tissue]` table) are
/// validated here, and each one is run by tests/it/tissue.rs (a file added to examples/scenarios
/// must be added there too: this test checks the list).
#[test]
fn every_example_scenario_runs() {
    for f in scenario_files() {
        let spec = f.to_str().unwrap();
        let text = std::fs::read_to_string(&f).unwrap();
        let table: toml::Table = toml::from_str(&text).unwrap();
        if dorsalhorn::scenario::dorsal_horn::is_tissue(&table) {
            let sc = dorsalhorn::scenario::dorsal_horn::from_str(spec, &text, &[])
                .unwrap_or_else(|e| panic!("{spec}: {e}"));
            let tested = include_str!("tissue.rs");
            assert!(
                tested.contains(&format!("\"{}\"", sc.name)),
                "{spec}: no test in tests/it/tissue.rs runs `{}`",
                sc.name
            );
            continue;
        }
        let sc = scenario::generic::load(
            spec,
            &["time.steps=6".into(), "output.every_steps=3".into()],
        )
        .unwrap_or_else(|e| panic!("{spec}: {e}"));
        sc.check_stability().unwrap();
        let out =
            std::env::temp_dir().join(format!("dh-example-{}-{}", std::process::id(), sc.name));
        let _ = std::fs::remove_dir_all(&out);
        let opts = RunOptions {
            out_dir: out.clone(),
            overwrite: false,
            progress: false,
        };
        let summary = run(gpu(), &sc, &opts).unwrap_or_else(|e| panic!("{spec}: {e}"));
        assert_eq!(summary.output_steps, vec![0, 3, 6]);
        assert!(out.join("summary.json").exists());
        std::fs::remove_dir_all(&out).unwrap();
    }
}

#[test]
fn builtins_are_the_example_files() {
    for (name, text) in BUILTIN {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join(format!("examples/scenarios/{name}.toml"));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), *text, "{name}");
    }
    assert!(
        BUILTIN
            .iter()
            .any(|(n, _)| *n == scenario::DEFAULT_SCENARIO)
    );
}

#[test]
fn gray_scott_seed_is_the_peer_seed() {
    // h = round(N/8) = 32 cells from N/2 − h/2 = 112 to 143 (inclusive), as in bench/peers/.
    let sc = scenario::generic::load("gray_scott", &[]).unwrap();
    let v = &sc.initial[1];
    let n = 256;
    for y in 0..n {
        for x in 0..n {
            let inside = (112..=143).contains(&x) && (112..=143).contains(&y);
            assert_eq!(v[y * n + x], if inside { 0.25 } else { 0.0 }, "({x}, {y})");
        }
    }
}

#[test]
fn overrides_win_over_the_file() {
    let sc = scenario::generic::load(
        "gray_scott",
        &[
            "grid.size=[200,136]".into(),
            "species.v.diffusivity_um2_s=0.05".into(),
            "species[0].initial=0.9".into(),
            "model.kind=gray_scott".into(),
        ],
    )
    .unwrap();
    assert_eq!((sc.problem.grid.nx, sc.problem.grid.ny), (200, 136));
    assert_eq!(sc.problem.species[1].diffusivity.max(), 0.05);
    assert_eq!(sc.initial[0][0], 0.9);
}

#[test]
fn override_paths() {
    let mut t: toml::Table =
        toml::from_str("a = 1\n[[s]]\nname = \"x\"\nv = 1\n[[s]]\nname = \"y\"\nv = 2\n").unwrap();
    apply_override(&mut t, "s.y.v=5").unwrap();
    apply_override(&mut t, "s[0].v=[1, 2]").unwrap();
    apply_override(&mut t, "b.c=hello").unwrap();
    assert_eq!(t["s"][1]["v"].as_integer(), Some(5));
    assert_eq!(t["s"][0]["v"].as_array().unwrap().len(), 2);
    assert_eq!(t["b"]["c"].as_str(), Some("hello"));
    assert!(
        apply_override(&mut t, "s[7].v=1")
            .unwrap_err()
            .message
            .contains("out of range")
    );
    assert!(
        apply_override(&mut t, "a.b=1")
            .unwrap_err()
            .message
            .contains("not a table")
    );
}

#[test]
fn patches_and_regions_rasterise() {
    let text = r#"
format_version = 1
[grid]
size = [20, 10]
spacing_um = 2.0
[time]
dt_s = 1.0
steps = 1
[model]
kind = "diffusion"
[[species]]
name = "c"
diffusivity_um2_s = 0.5
patches = [
  { shape = "rect", x = [2, 4], y = [0, 1], value = 3.0 },
  { shape = "disk", center_um = [30.0, 10.0], radius_um = 3.0, value = 7.0 },
  { shape = "gaussian", center_um = [0.0, 0.0], sigma_um = 1.0, amplitude = 1.0 },
]
diffusivity_regions = [{ shape = "rect", x = [10, 19], y = [0, 9], value = 0.1 }]
"#;
    let sc = scenario::generic::from_str("inline", text, &[]).unwrap();
    let f = &sc.initial[0];
    let at = |x: usize, y: usize| f[y * 20 + x];
    assert_eq!(at(3, 0), 3.0);
    assert_eq!(at(4, 1), 3.0);
    assert!(at(3, 2) < 1e-10); // outside the rect: only the far Gaussian tail
    assert_eq!(at(14, 4), 7.0); // centre (29, 9) µm is inside the disk around (30, 10)
    assert!((f[0] - (-1.0f64).exp() as f32).abs() < 1e-6); // cell (0,0) centre (1,1) µm: r² = 2
    assert!(sc.problem.variable_diffusivity());
    let d = match &sc.problem.species[0].diffusivity {
        dorsalhorn::model::Diffusivity::Field(d) => d.clone(),
        _ => unreachable!(),
    };
    assert_eq!((d[9], d[10]), (0.5, 0.1));
    // A shape key that the shape does not use is refused.
    let bad = text.replace("value = 3.0 }", "value = 3.0, sigma_um = 2.0 }");
    let e = scenario::generic::from_str("inline", &bad, &[]).unwrap_err();
    assert!(e.message.contains("patches[0].sigma_um"), "{}", e.message);
}
