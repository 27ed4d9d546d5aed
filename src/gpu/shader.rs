//! WGSL composition shared by the kernels: the stencil library and the templating of per-row
//! and per-species blocks (`@each_*`, LIST) that the drivers expand before compiling.

/// Stencil helpers shared by the step and RKL2 kernels.
pub const STENCIL_WGSL: &str = include_str!("../../shaders/stencil.wgsl");

/// Unrolls the row walk of rd_step.wgsl: lines between `// @each_row` and `// @end_row` repeat
/// `rows` times with `{r}` replaced by the row offset.
pub fn expand_rows(src: &str, rows: u32) -> String {
    expand_blocks(src, "// @each_row", "// @end_row", "{r}", rows as usize)
}

/// Repeats the lines between `open` and `close` `n` times with `token` replaced by the index.
pub fn expand_blocks(src: &str, open: &str, close: &str, token: &str, n: usize) -> String {
    let mut out = String::with_capacity(src.len() * 2);
    let mut block: Option<Vec<&str>> = None;
    for line in src.lines() {
        let t = line.trim();
        if t == open {
            assert!(block.is_none(), "nested `{open}`");
            block = Some(Vec::new());
        } else if t == close {
            let lines = block
                .take()
                .unwrap_or_else(|| panic!("`{close}` without `{open}`"));
            for i in 0..n {
                for l in &lines {
                    out.push_str(&l.replace(token, &i.to_string()));
                    out.push('\n');
                }
            }
        } else if let Some(b) = block.as_mut() {
            b.push(line);
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    assert!(block.is_none(), "`{open}` without `{close}`");
    out
}

/// Unrolls the per-species template of rd_step.wgsl: lines between `// @each_species` and
/// `// @end` repeat once per species with `{s}` replaced by the index, and
/// `/*LIST*/expr/*END*/` becomes the comma-separated list of `expr` over all species.
pub fn expand_species(src: &str, ns: usize) -> String {
    let unrolled = expand_blocks(src, "// @each_species", "// @end", "{s}", ns);
    let mut out = String::with_capacity(unrolled.len());
    for line in unrolled.lines() {
        out.push_str(&expand_lists(line, ns));
        out.push('\n');
    }
    out
}

fn expand_lists(line: &str, ns: usize) -> String {
    let mut rest = line;
    let mut out = String::new();
    while let Some(a) = rest.find("/*LIST*/") {
        let b = rest[a..]
            .find("/*END*/")
            .expect("`/*LIST*/` without `/*END*/`")
            + a;
        let expr = &rest[a + 8..b];
        out.push_str(&rest[..a]);
        let items: Vec<String> = (0..ns)
            .map(|s| expr.replace("{s}", &s.to_string()))
            .collect();
        out.push_str(&items.join(", "));
        rest = &rest[b + 7..];
    }
    out.push_str(rest);
    out
}
