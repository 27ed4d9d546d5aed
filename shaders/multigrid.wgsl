// Geometric multigrid for the backward-Euler transport step (src/cpu/multigrid.rs, whose
// `MgReference` is the plain-Rust twin of these kernels): per species s and unit area,
//
//   (m_s·w + p·F + D_s·S)·x_i − D_s·Σ_f G_f·x_nb(f) = b_i
//
// on one level of the hierarchy. Every species shares the level's geometry texture `geom`
// (layers: 0 east-face conductance G_x, 1 south-face conductance G_y, 2 mass weight w, 3 Robin
// weight F, 4 conductance sum S), so an invocation loads it once and applies it to all NS
// species (unrolled by the template blocks of src/gpu/shader.rs; `{s}` is the species). Cells pack
// four to an rgba32float texel along x, one layer per species. Cells with w = 0 are outside the
// domain: their row is empty and their value is left as it is.
//
// Kernels (one dispatch each; the host records the V-cycle, src/gpu/multigrid.rs):
//   mg_smooth    red–black Gauss–Seidel half-sweep of colour `L.colour` (ta = x, tb = b → out1)
//   mg_restrict  the coarse right-hand side: the residual r = b − A·x averaged over 2 × 2 cells
//                (ta = the fine x, tb = the fine b → out1 = coarse b, out2 = coarse x = 0),
//                dispatched over the coarse level's texels
//   mg_coarse    the coarsest level solved exactly, x = A⁻¹·b (tb = b → out1 = x)
//   mg_prolong   x += P·e, piecewise constant (ta = x, tb = the coarse correction e → out1)
//   mg_rhs_tr    the right-hand side of the TR-BDF2 step's first stage (ta = Cⁿ, tb = history →
//                out1 = b, out2 = its initial guess): 2·(R/c)·w·Cⁿ + 2·f − A_c·Cⁿ;
//                Cⁿ + θ·(Cⁿ − Cⁿ⁻¹)
//   mg_rhs_bdf2  that of its second stage (ta = C*, tb = history → out1 = b, out2 = its initial
//                guess): (R/c)·w·(a1·C* − a0·Cⁿ) + f; C* + ((1 − γ)/γ)·(C* − Cⁿ)
// where the history texture holds Cⁿ in layers 0..NS, the source f = w·k·goal in layers
// NS..2NS and the previous step's Cⁿ⁻¹ in layers 2NS..3NS (src/cpu/multigrid.rs documents the
// scheme). A generated header gives NS and WG_X.
//
// Ensembles: every kernel is dispatched with one z per member of an ensemble (grids side by
// side, src/tissue/mod.rs); member z's species are the layers z·NS + s of every x and b
// texture, and the history's three kinds are blocks of L.nsm = NS·members layers (Cⁿ of member
// z at z·NS + s, its source at L.nsm + z·NS + s, its Cⁿ⁻¹ at 2·L.nsm + z·NS + s). The geometry
// and the coarsest inverses are shared.

struct Lvl {
    // This level's cells and texels per row.
    nx: u32,
    ny: u32,
    ntx: u32,
    // 0: red (x + y even), 1: black.
    colour: u32,
    // The next coarser level's rows and texels per row (restrict).
    cny: u32,
    cntx: u32,
    // The history's layers of one kind: NS × the ensemble's members.
    nsm: u32,
    _pad1: u32,
}

struct Coef {
    // Per species: (D*, m = R/c + k, R/c, unused) with c the solve's time constant.
    sp: array<vec4<f32>, NS>,
    // x: the pial permeability P_pia; y, z: the TR-BDF2 weights a1, a0 of the second stage; w:
    // the extrapolation weight (1 − γ)/γ of its initial guess from Cⁿ through C* to tⁿ⁺¹.
    p: vec4<f32>,
    // x: the extrapolation weight θ of the first stage's initial guess Cⁿ + θ·(Cⁿ − Cⁿ⁻¹).
    q: vec4<f32>,
}

@group(0) @binding(0) var<uniform> L: Lvl;
@group(0) @binding(1) var<uniform> C: Coef;
@group(0) @binding(2) var geom: texture_2d_array<f32>;
@group(0) @binding(3) var ta: texture_2d_array<f32>;
@group(0) @binding(4) var tb: texture_2d_array<f32>;
@group(0) @binding(5) var out1: texture_storage_2d_array<rgba32float, write>;
@group(0) @binding(6) var out2: texture_storage_2d_array<rgba32float, write>;
// The coarsest level's inverse matrices, computed by the host for the current coefficients:
// layer s, texel (t, j) holds the entries A⁻¹(i, j) of the four cells i of the level's texel
// t = y·ntx + X (0 for pad cells), j running over the level's cells in row-major order.
@group(0) @binding(8) var inverse: texture_2d_array<f32>;

// The geometry one texel's stencil needs, and where its neighbours are.
struct Stencil {
    // Conductances of the east, west, south and north faces of the four cells.
    ge: vec4<f32>,
    gw: vec4<f32>,
    gs: vec4<f32>,
    gn: vec4<f32>,
    w: vec4<f32>,
    robin: vec4<f32>,
    sum: vec4<f32>,
    xm: u32,
    xp: u32,
    ym: u32,
    yp: u32,
}

fn stencil(X: u32, y: u32) -> Stencil {
    var st: Stencil;
    let at = vec2<u32>(X, y);
    // Clamped neighbours; the faces across the grid's edge are zero (west of x = 0 and north of
    // y = 0 by the selects, east of the last cell and south of the last row by construction).
    st.xm = select(X - 1u, 0u, X == 0u);
    st.xp = min(X + 1u, L.ntx - 1u);
    st.ym = select(y - 1u, 0u, y == 0u);
    st.yp = min(y + 1u, L.ny - 1u);
    st.ge = textureLoad(geom, at, 0, 0);
    let left = textureLoad(geom, vec2<u32>(st.xm, y), 0, 0);
    st.gw = vec4<f32>(select(left.w, 0.0, X == 0u), st.ge.xyz);
    st.gs = textureLoad(geom, at, 1, 0);
    st.gn = select(textureLoad(geom, vec2<u32>(X, st.ym), 1, 0), vec4<f32>(0.0), y == 0u);
    st.w = textureLoad(geom, at, 2, 0);
    st.robin = textureLoad(geom, at, 3, 0);
    st.sum = textureLoad(geom, at, 4, 0);
    return st;
}

// D_s·Σ G·x over the neighbours of the texel's cells, and the cells' own x, for species s in
// layer k.
fn neighbours(st: Stencil, s: u32, k: u32, X: u32, y: u32, c: vec4<f32>) -> vec4<f32> {
    let l = textureLoad(ta, vec2<u32>(st.xm, y), k, 0);
    let r = textureLoad(ta, vec2<u32>(st.xp, y), k, 0);
    let up = textureLoad(ta, vec2<u32>(X, st.ym), k, 0);
    let down = textureLoad(ta, vec2<u32>(X, st.yp), k, 0);
    let west = vec4<f32>(l.w, c.xyz);
    let east = vec4<f32>(c.yzw, r.x);
    return C.sp[s].x * ((st.ge * east + st.gw * west) + (st.gs * down + st.gn * up));
}

fn diagonal(st: Stencil, s: u32) -> vec4<f32> {
    return (C.sp[s].y * st.w + C.p.x * st.robin) + C.sp[s].x * st.sum;
}

// r = b − A·x of species s in layer k at fine texel `at` (0 outside the domain).
fn residual_of(st: Stencil, s: u32, k: u32, at: vec2<u32>) -> vec4<f32> {
    let c = textureLoad(ta, at, k, 0);
    let r = (textureLoad(tb, at, k, 0) + neighbours(st, s, k, at.x, at.y, c)) - diagonal(st, s) * c;
    return select(vec4<f32>(0.0), r, st.w > vec4<f32>(0.0));
}

// Component i of v without dynamic indexing (a select chain).
fn pick(v: vec4<f32>, i: u32) -> f32 {
    return select(select(select(v.x, v.y, i == 1u), v.z, i == 2u), v.w, i == 3u);
}

@compute @workgroup_size(WG_X, 1, 1)
fn mg_smooth(@builtin(global_invocation_id) gid: vec3<u32>) {
    let X = gid.x;
    let y = gid.y;
    if X >= L.ntx || y >= L.ny {
        return;
    }
    let st = stencil(X, y);
    let at = vec2<u32>(X, y);
    // Lane j of row y has colour (j + y) mod 2 (texels start at even x).
    let lanes = (vec4<u32>(0u, 1u, 2u, 3u) + vec4<u32>(y)) % vec4<u32>(2u);
    let update = (lanes == vec4<u32>(L.colour)) & (st.w > vec4<f32>(0.0));
    let o = gid.z * NS;
    // @each_species
    let c{s} = textureLoad(ta, at, o + {s}u, 0);
    let new{s} = (textureLoad(tb, at, o + {s}u, 0) + neighbours(st, {s}u, o + {s}u, X, y, c{s})) / diagonal(st, {s}u);
    textureStore(out1, at, o + {s}u, select(c{s}, new{s}, update));
    // @end
}

// Whether fine texel (X, y) lies on the fine grid.
fn on_fine(p: vec2<u32>) -> bool {
    return p.x < L.ntx && p.y < L.ny;
}

// The stencil of fine texel p, clamped onto the grid (the caller masks what lies beyond).
fn clamped_stencil(p: vec2<u32>) -> Stencil {
    return stencil(min(p.x, L.ntx - 1u), min(p.y, L.ny - 1u));
}

// Dispatched over the coarse level's texels; L describes the fine level. The residuals of the
// four fine texels a (2X, 2y), b (2X + 1, 2y), c (2X, 2y + 1), d (2X + 1, 2y + 1) are formed
// here rather than stored by a pass of their own.
@compute @workgroup_size(WG_X, 1, 1)
fn mg_restrict(@builtin(global_invocation_id) gid: vec3<u32>) {
    let X = gid.x;
    let y = gid.y;
    if X >= L.cntx || y >= L.cny {
        return;
    }
    let at = vec2<u32>(X, y);
    let pa = vec2<u32>(2u * X, 2u * y);
    let pb = vec2<u32>(2u * X + 1u, 2u * y);
    let pc = vec2<u32>(2u * X, 2u * y + 1u);
    let pd = vec2<u32>(2u * X + 1u, 2u * y + 1u);
    let sa = clamped_stencil(pa);
    let sb = clamped_stencil(pb);
    let sc = clamped_stencil(pc);
    let sd = clamped_stencil(pd);
    let o = gid.z * NS;
    // @each_species
    let a{s} = select(vec4<f32>(0.0), residual_of(sa, {s}u, o + {s}u, pa), on_fine(pa));
    let b{s} = select(vec4<f32>(0.0), residual_of(sb, {s}u, o + {s}u, pb), on_fine(pb));
    let c{s} = select(vec4<f32>(0.0), residual_of(sc, {s}u, o + {s}u, pc), on_fine(pc));
    let d{s} = select(vec4<f32>(0.0), residual_of(sd, {s}u, o + {s}u, pd), on_fine(pd));
    textureStore(out1, at, o + {s}u, 0.25 * vec4<f32>(
        (a{s}.x + a{s}.y) + (c{s}.x + c{s}.y),
        (a{s}.z + a{s}.w) + (c{s}.z + c{s}.w),
        (b{s}.x + b{s}.y) + (d{s}.x + d{s}.y),
        (b{s}.z + b{s}.w) + (d{s}.z + d{s}.w)));
    textureStore(out2, at, o + {s}u, vec4<f32>(0.0));
    // @end
}

// The coarsest level: each texel's four cells x_i = Σ_j A⁻¹_ij·b_j over the level's cells, in
// the order of j (as the twin sums); one load of A⁻¹ gives the four cells' entries.
@compute @workgroup_size(WG_X, 1, 1)
fn mg_coarse(@builtin(global_invocation_id) gid: vec3<u32>) {
    let X = gid.x;
    let y = gid.y;
    if X >= L.ntx || y >= L.ny {
        return;
    }
    let nc = L.nx * L.ny;
    let t = y * L.ntx + X;
    let o = gid.z * NS;
    // @each_species
    var x{s} = vec4<f32>(0.0);
    // @end
    for (var j = 0u; j < nc; j++) {
        let jt = vec2<u32>((j % L.nx) / 4u, j / L.nx);
        let lane = (j % L.nx) % 4u;
        // @each_species
        x{s} += textureLoad(inverse, vec2<u32>(t, j), {s}u, 0) * pick(textureLoad(tb, jt, o + {s}u, 0), lane);
        // @end
    }
    let at = vec2<u32>(X, y);
    // @each_species
    textureStore(out1, at, o + {s}u, x{s});
    // @end
}

// Dispatched over this (fine) level's texels; tb is the coarse level's correction.
@compute @workgroup_size(WG_X, 1, 1)
fn mg_prolong(@builtin(global_invocation_id) gid: vec3<u32>) {
    let X = gid.x;
    let y = gid.y;
    if X >= L.ntx || y >= L.ny {
        return;
    }
    let at = vec2<u32>(X, y);
    let inside = textureLoad(geom, at, 2, 0) > vec4<f32>(0.0);
    let odd = (X % 2u) == 1u;
    let coarse = vec2<u32>(X / 2u, y / 2u);
    let o = gid.z * NS;
    // @each_species
    let e{s} = textureLoad(tb, coarse, o + {s}u, 0);
    let p{s} = select(vec4<f32>(e{s}.x, e{s}.x, e{s}.y, e{s}.y), vec4<f32>(e{s}.z, e{s}.z, e{s}.w, e{s}.w), odd);
    textureStore(out1, at, o + {s}u, textureLoad(ta, at, o + {s}u, 0) + select(vec4<f32>(0.0), p{s}, inside));
    // @end
}

@compute @workgroup_size(WG_X, 1, 1)
fn mg_rhs_tr(@builtin(global_invocation_id) gid: vec3<u32>) {
    let X = gid.x;
    let y = gid.y;
    if X >= L.ntx || y >= L.ny {
        return;
    }
    let st = stencil(X, y);
    let at = vec2<u32>(X, y);
    let inside = st.w > vec4<f32>(0.0);
    let o = gid.z * NS;
    // @each_species
    let c{s} = textureLoad(ta, at, o + {s}u, 0);
    let own{s} = 2.0 * (C.sp[{s}].z * st.w * c{s} + textureLoad(tb, at, L.nsm + o + {s}u, 0));
    let b{s} = (own{s} + neighbours(st, {s}u, o + {s}u, X, y, c{s})) - diagonal(st, {s}u) * c{s};
    textureStore(out1, at, o + {s}u, select(vec4<f32>(0.0), b{s}, inside));
    textureStore(out2, at, o + {s}u, c{s} + C.q.x * (c{s} - textureLoad(tb, at, 2u * L.nsm + o + {s}u, 0)));
    // @end
}

@compute @workgroup_size(WG_X, 1, 1)
fn mg_rhs_bdf2(@builtin(global_invocation_id) gid: vec3<u32>) {
    let X = gid.x;
    let y = gid.y;
    if X >= L.ntx || y >= L.ny {
        return;
    }
    let at = vec2<u32>(X, y);
    let w = textureLoad(geom, at, 2, 0);
    let o = gid.z * NS;
    // @each_species
    let star{s} = textureLoad(ta, at, o + {s}u, 0);
    let old{s} = textureLoad(tb, at, o + {s}u, 0);
    let b{s} = C.sp[{s}].z * w * (C.p.y * star{s} - C.p.z * old{s}) + textureLoad(tb, at, L.nsm + o + {s}u, 0);
    textureStore(out1, at, o + {s}u, select(vec4<f32>(0.0), b{s}, w > vec4<f32>(0.0)));
    textureStore(out2, at, o + {s}u, star{s} + C.p.w * (star{s} - old{s}));
    // @end
}
