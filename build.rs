//! Records the source revision the binary is built from, for the provenance in every
//! `summary.json` (`DORSALHORN_GIT_REV`: the commit, `-modified` when the sources differ from
//! it; `unknown` outside a git checkout).

use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn main() {
    for path in [
        ".git/HEAD",
        ".git/refs",
        "src",
        "shaders",
        "params",
        "Cargo.toml",
    ] {
        println!("cargo:rerun-if-changed={path}");
    }
    let rev = match git(&["rev-parse", "--short=12", "HEAD"]) {
        Some(rev) => {
            let changed = git(&[
                "status",
                "--porcelain",
                "--untracked-files=no",
                "--",
                "src",
                "shaders",
                "params",
                "Cargo.toml",
            ])
            .is_some_and(|s| !s.is_empty());
            if changed {
                format!("{rev}-modified")
            } else {
                rev
            }
        }
        None => "unknown".to_string(),
    };
    println!("cargo:rustc-env=DORSALHORN_GIT_REV={rev}");
}
