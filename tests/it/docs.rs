//! Generated documentation stays equal to its source. Set DORSALHORN_BLESS=1 to regenerate.

use dorsalhorn::params::ParamTable;

#[test]
fn parameter_page_matches_the_table() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/model-parameters.md");
    let want = ParamTable::builtin().markdown();
    if std::env::var_os("DORSALHORN_BLESS").is_some() {
        std::fs::write(&path, &want).unwrap();
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "docs/model-parameters.md is out of date: run `DORSALHORN_BLESS=1 cargo test --release --test it docs::` \
         (or `dorsalhorn params --markdown > docs/model-parameters.md`)"
    );
}
