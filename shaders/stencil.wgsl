// Stencil helpers shared by the step kernel (rd_step.wgsl) and the RKL2 diffusion kernels
// (rkl2.wgsl): packed-texel loads, boundary handling and harmonic-mean face conductances.
//
// The including kernel provides: the constants NX, NY, NTX and BC_X_MIN … BC_Y_MAX (generated
// header), a uniform `P` with a field `bc_value: array<vec4<f32>, 16>` (fixed boundary values,
// side-major), the state texture `src` and the coefficient texture `coef` (layers 0..NS: D,
// NS..2NS: capacity).

const BC_NO_FLUX: u32 = 0u;
const BC_PERIODIC: u32 = 1u;
const BC_FIXED: u32 = 2u;

// side indices into bc_value
const X_MIN: u32 = 0u;
const X_MAX: u32 = 1u;
const Y_MIN: u32 = 2u;
const Y_MAX: u32 = 3u;

fn bc_val(side: u32, s: u32) -> f32 {
    return P.bc_value[side * 4u + s / 4u][s % 4u];
}

fn load_c(s: u32, X: u32, y: u32) -> vec4<f32> {
    return textureLoad(src, vec2<u32>(X, y), s, 0);
}

fn load_k(layer: u32, X: u32, y: u32) -> vec4<f32> {
    return textureLoad(coef, vec2<u32>(X, y), layer, 0);
}

// Component i of v without dynamic indexing (a select chain).
fn pick(v: vec4<f32>, i: u32) -> f32 {
    return select(select(select(v.x, v.y, i == 1u), v.z, i == 2u), v.w, i == 3u);
}

// Where the stencil of texel X in row y reaches past the grid, and what to do there. Computed
// once per row and shared by every species. Boundary handling is branch-free on purpose: a
// CPU rasteriser (lavapipe) runs both sides of every `if` under lane masks, so selects are
// cheaper than branches there, and on GPUs they avoid divergence.
struct Reach {
    // Rows and texels read for the up/down/west/east neighbours (wrapped at periodic sides,
    // clamped elsewhere; the clamped values are then replaced below).
    ym: u32,
    yp: u32,
    xm: u32,
    xp: u32,
    // Ghost rules at the sides this texel touches.
    top_fixed: bool,
    bottom_fixed: bool,
    left_edge: bool,
    left_periodic: bool,
    left_fixed: bool,
    right_lane: vec4<bool>,
    right_periodic: bool,
    right_fixed: bool,
    last_lane: u32,
}

fn reach(X: u32, y: u32) -> Reach {
    var q: Reach;
    let last = NTX - 1u;
    let top = y == 0u;
    let bottom = y + 1u >= NY;
    q.ym = select(y - 1u, select(0u, NY - 1u, BC_Y_MIN == BC_PERIODIC), top);
    q.yp = select(y + 1u, select(y, 0u, BC_Y_MAX == BC_PERIODIC), bottom);
    q.xm = select(X - 1u, select(0u, last, BC_X_MIN == BC_PERIODIC), X == 0u);
    q.xp = select(X + 1u, select(last, 0u, BC_X_MAX == BC_PERIODIC), X == last);
    q.top_fixed = top && BC_Y_MIN == BC_FIXED;
    q.bottom_fixed = bottom && BC_Y_MAX == BC_FIXED;
    q.left_edge = X == 0u;
    q.left_periodic = BC_X_MIN == BC_PERIODIC;
    q.left_fixed = BC_X_MIN == BC_FIXED;
    let xs = vec4<u32>(4u * X) + vec4<u32>(0u, 1u, 2u, 3u);
    q.right_lane = xs == vec4<u32>(NX - 1u);
    q.right_periodic = BC_X_MAX == BC_PERIODIC;
    q.right_fixed = BC_X_MAX == BC_FIXED;
    q.last_lane = (NX - 1u) % 4u;
    return q;
}

// West and east neighbours of the cells of texel X, row y, species s: a no-flux side repeats
// the cell, a periodic side wraps, a fixed side gives the ghost 2v - c.
fn sides(q: Reach, s: u32, X: u32, y: u32, c: vec4<f32>) -> array<vec4<f32>, 2> {
    let l = load_c(s, q.xm, y);
    let r = load_c(s, q.xp, y);
    let wx = select(select(c.x, 2.0 * bc_val(X_MIN, s) - c.x, q.left_fixed), pick(l, q.last_lane), q.left_periodic);
    let cl = pick(c, q.last_lane);
    let ex = select(select(cl, 2.0 * bc_val(X_MAX, s) - cl, q.right_fixed), r.x, q.right_periodic);
    let west = vec4<f32>(select(l.w, wx, q.left_edge), c.xyz);
    let east = select(vec4<f32>(c.yzw, r.x), vec4<f32>(ex), q.right_lane);
    return array<vec4<f32>, 2>(west, east);
}

// The same for diffusivity (layer `layer` of the coefficient texture): neighbours are clamped
// at no-flux and fixed sides (so a boundary face gets the cell's own D) and wrapped at periodic
// ones.
fn k_neighbours(q: Reach, layer: u32, X: u32, y: u32, k: vec4<f32>) -> array<vec4<f32>, 4> {
    let up = load_k(layer, X, q.ym);
    let down = load_k(layer, X, q.yp);
    let l = load_k(layer, q.xm, y);
    let r = load_k(layer, q.xp, y);
    let wx = select(k.x, pick(l, q.last_lane), q.left_periodic);
    let ex = select(pick(k, q.last_lane), r.x, q.right_periodic);
    let west = vec4<f32>(select(l.w, wx, q.left_edge), k.xyz);
    let east = select(vec4<f32>(k.yzw, r.x), vec4<f32>(ex), q.right_lane);
    return array<vec4<f32>, 4>(up, down, west, east);
}

// Harmonic mean of two diffusivities, 0 where both are 0 (inactive cells).
fn face(a: vec4<f32>, b: vec4<f32>) -> vec4<f32> {
    let s = a + b;
    return select(vec4<f32>(0.0), 2.0 * a * b / s, s > vec4<f32>(0.0));
}

