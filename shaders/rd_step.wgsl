// One explicit reaction–diffusion step on a packed field (see src/engine.rs for the layout).
//
// Storage: every species is one layer of an rgba32float 2D texture array; texel (X, y) holds the
// four cells x = 4X .. 4X+3 of row y, so one texture fetch brings four cells (the fastest layout
// on lavapipe, and coalesced 16-byte loads on real GPUs). Each invocation owns one texel column
// and walks ROWS consecutive rows, reusing the rows above and below it from registers.
//
// This file is completed at pipeline build time by a generated header (constants NS, ROWS,
// WG_X, VARIABLE_D) and by the model's reaction function `react` (shaders/models/*.wgsl).
//
// Boundaries act on neighbour *values*: no-flux clamps to the cell itself, periodic wraps, and a
// fixed value v on a face uses the ghost 2v - c (the face holds v). In the variable-diffusivity
// path the face conductance is the harmonic mean of the two cells' D (flux form, conservative);
// with clamped neighbours the boundary face of a fixed side gets D of the cell.

struct StepParams {
    nx: u32,
    ny: u32,
    ntx: u32,
    last_texel: u32,
    bc_x_min: u32,
    bc_x_max: u32,
    bc_y_min: u32,
    bc_y_max: u32,
    dt: f32,
    inv_dx2: f32,
    _pad0: f32,
    _pad1: f32,
    model: array<vec4<f32>, 2>,
    diffusivity: array<vec4<f32>, 4>,
    decay: array<vec4<f32>, 4>,
    bc_value: array<vec4<f32>, 16>,
}

const BC_NO_FLUX: u32 = 0u;
const BC_PERIODIC: u32 = 1u;
const BC_FIXED: u32 = 2u;

// side indices into bc_value
const X_MIN: u32 = 0u;
const X_MAX: u32 = 1u;
const Y_MIN: u32 = 2u;
const Y_MAX: u32 = 3u;

@group(0) @binding(0) var<uniform> P: StepParams;
@group(0) @binding(1) var src: texture_2d_array<f32>;
@group(0) @binding(2) var dst: texture_storage_2d_array<rgba32float, write>;
// Variable-diffusivity path only: layers 0..NS hold D, layers NS..2NS the capacity (alpha * R).
@group(0) @binding(3) var coef: texture_2d_array<f32>;

fn species_param(a: array<vec4<f32>, 4>, s: u32) -> f32 {
    return a[s / 4u][s % 4u];
}

fn bc_val(side: u32, s: u32) -> f32 {
    return P.bc_value[side * 4u + s / 4u][s % 4u];
}

fn load_c(s: u32, X: u32, y: u32) -> vec4<f32> {
    return textureLoad(src, vec2<u32>(X, y), s, 0);
}

fn load_k(layer: u32, X: u32, y: u32) -> vec4<f32> {
    return textureLoad(coef, vec2<u32>(X, y), layer, 0);
}

// Row yy = y - 1 (up = true) or y + 1 of species s at texel X, given the centre row value c.
fn vertical_neighbour(s: u32, X: u32, y: u32, up: bool, c: vec4<f32>) -> vec4<f32> {
    if up {
        if y > 0u {
            return load_c(s, X, y - 1u);
        }
        switch P.bc_y_min {
            case BC_PERIODIC: { return load_c(s, X, P.ny - 1u); }
            case BC_FIXED: { return 2.0 * bc_val(Y_MIN, s) - c; }
            default: { return c; }
        }
    }
    if y + 1u < P.ny {
        return load_c(s, X, y + 1u);
    }
    switch P.bc_y_max {
        case BC_PERIODIC: { return load_c(s, X, 0u); }
        case BC_FIXED: { return 2.0 * bc_val(Y_MAX, s) - c; }
        default: { return c; }
    }
}

// Diffusivity row next to row y: clamped (no-flux and fixed) or wrapped (periodic).
fn vertical_neighbour_k(layer: u32, X: u32, y: u32, up: bool, k: vec4<f32>) -> vec4<f32> {
    if up {
        if y > 0u {
            return load_k(layer, X, y - 1u);
        }
        if P.bc_y_min == BC_PERIODIC {
            return load_k(layer, X, P.ny - 1u);
        }
        return k;
    }
    if y + 1u < P.ny {
        return load_k(layer, X, y + 1u);
    }
    if P.bc_y_max == BC_PERIODIC {
        return load_k(layer, X, 0u);
    }
    return k;
}

// Value of the last real cell of row y (x = nx - 1), for periodic wrapping at x = 0.
fn last_cell(s: u32, y: u32) -> f32 {
    let t = load_c(s, P.last_texel, y);
    return t[(P.nx - 1u) % 4u];
}

// West and east neighbours of the four cells of texel X in row y (lanes = cells).
fn horizontal_neighbours(s: u32, X: u32, y: u32, c: vec4<f32>) -> array<vec4<f32>, 2> {
    let l = load_c(s, select(X - 1u, 0u, X == 0u), y);
    let r = load_c(s, min(X + 1u, P.ntx - 1u), y);
    var west = vec4<f32>(l.w, c.x, c.y, c.z);
    var east = vec4<f32>(c.y, c.z, c.w, r.x);
    if X == 0u {
        switch P.bc_x_min {
            case BC_PERIODIC: { west.x = last_cell(s, y); }
            case BC_FIXED: { west.x = 2.0 * bc_val(X_MIN, s) - c.x; }
            default: { west.x = c.x; }
        }
    }
    if X == P.last_texel {
        let lane = (P.nx - 1u) % 4u;
        var e: f32;
        switch P.bc_x_max {
            case BC_PERIODIC: { e = load_c(s, 0u, y).x; }
            case BC_FIXED: { e = 2.0 * bc_val(X_MAX, s) - c[lane]; }
            default: { e = c[lane]; }
        }
        east[lane] = e;
    }
    return array<vec4<f32>, 2>(west, east);
}

fn horizontal_neighbours_k(layer: u32, X: u32, y: u32, k: vec4<f32>) -> array<vec4<f32>, 2> {
    let l = load_k(layer, select(X - 1u, 0u, X == 0u), y);
    let r = load_k(layer, min(X + 1u, P.ntx - 1u), y);
    var west = vec4<f32>(l.w, k.x, k.y, k.z);
    var east = vec4<f32>(k.y, k.z, k.w, r.x);
    if X == 0u {
        if P.bc_x_min == BC_PERIODIC {
            let t = load_k(layer, P.last_texel, y);
            west.x = t[(P.nx - 1u) % 4u];
        } else {
            west.x = k.x;
        }
    }
    if X == P.last_texel {
        let lane = (P.nx - 1u) % 4u;
        if P.bc_x_max == BC_PERIODIC {
            east[lane] = load_k(layer, 0u, y).x;
        } else {
            east[lane] = k[lane];
        }
    }
    return array<vec4<f32>, 2>(west, east);
}

// Harmonic mean of two diffusivities, 0 where both are 0 (inactive cells).
fn face(a: vec4<f32>, b: vec4<f32>) -> vec4<f32> {
    let s = a + b;
    return select(vec4<f32>(0.0), 2.0 * a * b / s, s > vec4<f32>(0.0));
}

@compute @workgroup_size(WG_X, 1, 1)
fn step(@builtin(global_invocation_id) gid: vec3<u32>) {
    let X = gid.x;
    if X >= P.ntx {
        return;
    }
    let y0 = gid.y * ROWS;
    if y0 >= P.ny {
        return;
    }
    let xs = vec4<u32>(4u * X) + vec4<u32>(0u, 1u, 2u, 3u);
    let real = xs < vec4<u32>(P.nx);

    var up: array<vec4<f32>, NS>;
    var mid: array<vec4<f32>, NS>;
    var kup: array<vec4<f32>, NS>;
    var kmid: array<vec4<f32>, NS>;
    for (var s = 0u; s < NS; s++) {
        mid[s] = load_c(s, X, y0);
        up[s] = vertical_neighbour(s, X, y0, true, mid[s]);
        if VARIABLE_D {
            kmid[s] = load_k(s, X, y0);
            kup[s] = vertical_neighbour_k(s, X, y0, true, kmid[s]);
        }
    }

    for (var r = 0u; r < ROWS; r++) {
        let y = y0 + r;
        if y >= P.ny {
            break;
        }
        var diff: array<vec4<f32>, NS>;
        var down: array<vec4<f32>, NS>;
        var kdown: array<vec4<f32>, NS>;
        for (var s = 0u; s < NS; s++) {
            let c = mid[s];
            down[s] = vertical_neighbour(s, X, y, false, c);
            let h = horizontal_neighbours(s, X, y, c);
            if VARIABLE_D {
                let k = kmid[s];
                kdown[s] = vertical_neighbour_k(s, X, y, false, k);
                let kh = horizontal_neighbours_k(s, X, y, k);
                let flux = face(k, kup[s]) * (up[s] - c) + face(k, kdown[s]) * (down[s] - c)
                    + face(k, kh[0]) * (h[0] - c) + face(k, kh[1]) * (h[1] - c);
                let cap = load_k(NS + s, X, y);
                diff[s] = flux * P.inv_dx2 / cap;
            } else {
                // Same association as the NumPy peer: ((up + down) + west) + east - 4c.
                let lap = up[s] + down[s] + h[0] + h[1] - 4.0 * c;
                diff[s] = species_param(P.diffusivity, s) * P.inv_dx2 * lap;
            }
        }
        let rates = react(mid);
        for (var s = 0u; s < NS; s++) {
            let c = mid[s];
            let rate = rates[s] - species_param(P.decay, s) * c;
            let next = c + P.dt * (diff[s] + rate);
            textureStore(dst, vec2<u32>(X, y), s, select(vec4<f32>(0.0), next, real));
            up[s] = c;
            mid[s] = down[s];
            if VARIABLE_D {
                kup[s] = kmid[s];
                kmid[s] = kdown[s];
            }
        }
    }
}
