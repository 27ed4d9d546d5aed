//! The shape of the source tree, checked (docs/architecture.md, "Rules"): layers import only
//! downward and folders form no import loop; only `gpu/` requests adapters and devices, and
//! `wgpu` is named only where the document allows; every kernel has a driver of its stem and a
//! CPU twin with a test; no state or drug name is written as a string outside the module that
//! declares it; every source file says what it owns, files over 600 lines say why, and the
//! README's code map names every source file.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The layer of each top-level module (docs/architecture.md). A module may import from its own
/// layer's other folders only where that creates no loop, and never from a higher layer.
const LAYERS: &[(&str, u32)] = &[
    ("error", 0),
    ("grid", 0),
    ("colormap", 0),
    ("params", 0),
    ("output", 0),
    ("interrupt", 0),
    ("model", 1),
    ("gpu", 2),
    ("cpu", 2),
    ("scenario", 2),
    ("tissue", 3),
    ("figure", 3),
    ("run", 4),
    ("view", 5),
    ("validate", 5),
];

/// Files that may name `wgpu`, with the reason.
const WGPU_ALLOWED: &[(&str, &str)] = &[
    ("src/gpu/", "the GPU wing"),
    (
        "src/tissue/mod.rs",
        "TissueSim is the device-resident model: it owns its textures, buffers and the transfer \
         and reaction bind groups it dispatches",
    ),
    ("src/view/gfx.rs", "the window's surface and egui renderer"),
    (
        "src/figure/offscreen.rs",
        "the composed figures' egui renderer, drawing into a texture on the run's device",
    ),
];

/// Every Rust source file under src/, as (path from the repository root, text).
fn sources() -> Vec<(String, String)> {
    fn walk(dir: &Path, out: &mut Vec<(String, String)>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().flatten().collect();
        entries.sort_by_key(|e| e.path());
        for e in entries {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let rel = p.strip_prefix(env!("CARGO_MANIFEST_DIR")).unwrap();
                out.push((
                    rel.display().to_string(),
                    std::fs::read_to_string(&p).unwrap(),
                ));
            }
        }
    }
    let mut out = Vec::new();
    walk(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut out);
    out
}

/// The text without comments and without `#[cfg(test)]` modules (tests may reach anywhere).
fn code(text: &str) -> String {
    let text = text.split("#[cfg(test)]").next().unwrap_or("");
    text.lines()
        .map(|l| match l.find("//") {
            Some(i) if !l[..i].contains('"') => &l[..i],
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The top-level module of a library file (None for the binary and lib.rs).
fn top(path: &str) -> Option<&str> {
    let rel = path.strip_prefix("src/")?;
    if rel == "main.rs" || rel == "lib.rs" || rel.starts_with("cli/") {
        return None;
    }
    Some(rel.split('/').next()?.trim_end_matches(".rs"))
}

fn layer(module: &str) -> Option<u32> {
    LAYERS.iter().find(|(m, _)| *m == module).map(|(_, l)| *l)
}

/// Top-level modules named after `crate::` in `code`.
fn imports(code: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (i, _) in code.match_indices("crate::") {
        let rest = &code[i + 7..];
        let name: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if !name.is_empty() {
            out.insert(name);
        }
    }
    out
}

#[test]
fn every_module_has_a_layer() {
    for (path, _) in sources() {
        if let Some(t) = top(&path) {
            assert!(
                layer(t).is_some(),
                "{path}: module `{t}` has no layer in LAYERS"
            );
        }
    }
}

#[test]
fn layers_import_only_downward_and_folders_form_no_loop() {
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (path, text) in sources() {
        let Some(from) = top(&path) else { continue };
        let lf = layer(from).unwrap();
        for to in imports(&code(&text)) {
            let Some(lt) = layer(&to) else { continue };
            assert!(
                lt <= lf,
                "{path} (layer {lf}, `{from}`) imports `crate::{to}` (layer {lt}): layers import \
                 only downward (docs/architecture.md)"
            );
            if to != from {
                edges.entry(from.to_string()).or_default().insert(to);
            }
        }
    }
    // No loop between folders: depth-first search for a back edge.
    fn visit(
        n: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        stack: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) {
        if done.contains(n) {
            return;
        }
        if let Some(i) = stack.iter().position(|s| s == n) {
            panic!("import loop: {} -> {n}", stack[i..].join(" -> "));
        }
        stack.push(n.to_string());
        for m in edges.get(n).into_iter().flatten() {
            visit(m, edges, stack, done);
        }
        stack.pop();
        done.insert(n.to_string());
    }
    let mut done = BTreeSet::new();
    for n in edges.keys() {
        visit(n, &edges, &mut Vec::new(), &mut done);
    }
}

#[test]
fn only_gpu_requests_devices_and_names_wgpu() {
    for (path, text) in sources() {
        let code = code(&text);
        for call in ["request_adapter", "request_device", "Instance::new"] {
            if code.contains(call) {
                let allowed = path == "src/gpu/mod.rs"
                    || (call == "Instance::new" && path == "src/view/gfx.rs");
                assert!(
                    allowed,
                    "{path} calls {call}: only src/gpu/mod.rs opens devices"
                );
            }
        }
        if code.contains("wgpu::") {
            assert!(
                WGPU_ALLOWED.iter().any(|(p, _)| path.starts_with(p)),
                "{path} names wgpu: only {:?} may",
                WGPU_ALLOWED.iter().map(|(p, _)| *p).collect::<Vec<_>>()
            );
        }
    }
}

#[test]
fn every_kernel_has_a_driver_of_its_stem_and_a_twin_with_a_test() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut stems = Vec::new();
    for e in std::fs::read_dir(root.join("shaders")).unwrap().flatten() {
        let p = e.path();
        if p.extension().is_some_and(|x| x == "wgsl")
            && std::fs::read_to_string(&p).unwrap().contains("@compute")
        {
            stems.push(p.file_stem().unwrap().to_string_lossy().to_string());
        }
    }
    assert!(stems.len() >= 5, "kernels found: {stems:?}");
    for stem in &stems {
        let driver = root.join("src/gpu").join(format!("{stem}.rs"));
        assert!(
            driver.is_file(),
            "shaders/{stem}.wgsl has no driver src/gpu/{stem}.rs"
        );
        let twin = dorsalhorn::cpu::TWINS
            .iter()
            .find(|t| t.stem == stem)
            .unwrap_or_else(|| panic!("shaders/{stem}.wgsl has no twin in cpu::TWINS"));
        let twin_src = std::fs::read_to_string(root.join(twin.file)).unwrap();
        assert!(
            twin_src.contains(&format!("struct {}", twin.item))
                || twin_src.contains(&format!("fn {}", twin.item)),
            "{stem}: {} does not declare {}",
            twin.file,
            twin.item
        );
        let test = std::fs::read_to_string(root.join(twin.test))
            .unwrap_or_else(|_| panic!("{stem}: no test file {}", twin.test));
        assert!(
            test.contains(twin.item),
            "{stem}: {} does not use the twin {}",
            twin.test,
            twin.item
        );
        assert!(!twin.tolerance.is_empty(), "{stem}: no stated tolerance");
    }
    for t in dorsalhorn::cpu::TWINS {
        assert!(
            stems.iter().any(|s| s == t.stem),
            "twin for a missing kernel {}",
            t.stem
        );
    }
}

/// A string literal that is a state, rate or drug name names that quantity: it belongs in the
/// module that declares the names (model/network/), which exports a constant for other modules.
/// One-letter names (N, M, A, J, K, Y) are skipped: they are too common to tell apart.
#[test]
fn no_state_or_drug_name_as_a_literal_outside_its_declaration() {
    use dorsalhorn::model::network::protocol::DRUG_KEYS;
    use dorsalhorn::model::network::state::{RATE_NAMES, STATE_NAMES};
    let names: BTreeSet<&str> = STATE_NAMES
        .iter()
        .chain(RATE_NAMES.iter())
        .chain(DRUG_KEYS.iter())
        .copied()
        .filter(|n| n.len() > 1)
        .collect();
    for (path, text) in sources() {
        if path.starts_with("src/model/network/") {
            continue;
        }
        for (i, line) in code(&text).lines().enumerate() {
            let mut parts = line.split('"');
            parts.next();
            // Every other part is inside a literal.
            for lit in parts.step_by(2) {
                assert!(
                    !names.contains(lit),
                    "{path}:{}: the name \"{lit}\" is written out; use the constant from \
                     model/network/ (state.rs or protocol.rs)",
                    i + 1
                );
            }
        }
    }
}

#[test]
fn every_source_file_says_what_it_owns_and_long_files_say_why() {
    for (path, text) in sources() {
        assert!(
            text.starts_with("//!"),
            "{path}: starts without a //! line saying what it owns"
        );
        let lines = text.lines().count();
        if lines > 600 {
            let doc: String = text
                .lines()
                .take_while(|l| l.starts_with("//!"))
                .collect::<Vec<_>>()
                .join("\n");
            assert!(
                doc.contains("Longer than 600 lines"),
                "{path}: {lines} lines; split it, or say why in its //! (\"Longer than 600 lines: …\")"
            );
        }
    }
}

#[test]
fn the_readme_code_map_names_every_source_file() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let map = readme
        .split("## Layout of the code")
        .nth(1)
        .expect("README.md has a \"## Layout of the code\" section")
        .split("\n## ")
        .next()
        .unwrap();
    for (path, _) in sources() {
        assert!(
            map.contains(&path),
            "README.md's code map does not name {path}"
        );
    }
}

/// Every `§N.M` the code or a kernel cites has a heading `### §N.M …` in docs/model.md, which
/// carries the equations as implemented under MODEL.md's section numbers.
#[test]
fn every_section_reference_resolves_in_docs_model() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let doc = std::fs::read_to_string(root.join("docs/model.md")).unwrap();
    let headings: BTreeSet<String> = doc
        .lines()
        .filter_map(|l| l.strip_prefix("### §"))
        .filter_map(|l| l.split_whitespace().next())
        .map(|n| n.to_string())
        .collect();
    let mut texts: Vec<(String, String)> = sources();
    for e in std::fs::read_dir(root.join("shaders")).unwrap().flatten() {
        let p = e.path();
        if p.extension().is_some_and(|x| x == "wgsl") {
            texts.push((
                p.display().to_string(),
                std::fs::read_to_string(&p).unwrap(),
            ));
        }
    }
    let mut cited = 0;
    for (path, text) in texts {
        for (i, _) in text.match_indices('§') {
            let num: String = text[i + '§'.len_utf8()..]
                .chars()
                .take_while(|c| c.is_ascii_digit() || *c == '.')
                .collect();
            let num = num.trim_end_matches('.');
            if num.is_empty() {
                continue;
            }
            cited += 1;
            assert!(
                headings.contains(num),
                "{path} cites §{num}, which has no heading \"### §{num} …\" in docs/model.md"
            );
        }
    }
    assert!(cited > 100, "only {cited} § references found");
}

/// The workgroup width is `gpu::WORKGROUP`, handed to every kernel as `WG_X` in its generated
/// header: no kernel writes a number in `@workgroup_size`, and no dispatch divides by a literal.
#[test]
fn the_workgroup_width_is_one_constant() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<std::path::PathBuf> = Vec::new();
    for e in std::fs::read_dir(root.join("shaders")).unwrap().flatten() {
        if e.path().is_dir() {
            files.extend(
                std::fs::read_dir(e.path())
                    .unwrap()
                    .flatten()
                    .map(|f| f.path()),
            );
        } else {
            files.push(e.path());
        }
    }
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        for (i, line) in text.lines().enumerate() {
            if let Some(rest) = line.split("@workgroup_size(").nth(1) {
                assert!(
                    rest.starts_with("WG_X"),
                    "{}:{}: @workgroup_size takes WG_X (gpu::WORKGROUP), not a number",
                    path.display(),
                    i + 1
                );
            }
        }
    }
    for (path, text) in sources() {
        let code = code(&text);
        for literal in ["div_ceil(64)", "workgroup_x: 64"] {
            assert!(
                !code.contains(literal),
                "{path}: `{literal}`: use gpu::WORKGROUP"
            );
        }
    }
}
