// One explicit reaction–diffusion step on a packed field (see src/gpu/rd_step.rs and src/gpu/texture.rs for the layout).
//
// Storage: every species is one layer of an rgba32float 2D texture array; texel (X, y) holds the
// four cells x = 4X .. 4X+3 of row y, so one texture fetch brings four cells (the fastest layout
// on lavapipe, and coalesced 16-byte loads on real GPUs). Each invocation owns one texel column
// and walks ROWS consecutive rows, reusing the rows above and below it from registers.
//
// This file is completed at pipeline build time (src/gpu/rd_step.rs, `step_shader_source`): a
// generated header defines the constants NS (species), ROWS, WG_X, VARIABLE_D, the grid size
// NX, NY, NTX (texels per row) and the boundary kinds BC_X_MIN, BC_X_MAX, BC_Y_MIN, BC_Y_MAX
// (BC_NO_FLUX, BC_PERIODIC or BC_FIXED), so that the compiler folds away the boundary rules
// that do not apply; the boundary values stay in the uniform block. Lines between
// `// @each_species` and `// @end` are repeated once per species with `{s}` replaced by its
// index, and `/*LIST*/expr/*END*/` becomes `expr` for every species, comma-separated. Likewise
// the row walk between `// @each_row` and `// @end_row` is repeated ROWS times with `{r}`
// replaced by the row offset. Species and rows are unrolled this way, not looped: on lavapipe a
// loop with a per-invocation exit runs under lane masks and measured 2x slower than the same
// code straight-line (BENCHMARKS.md). The model's reaction function `react`
// (shaders/models/*.wgsl) is appended.
//
// The stencil helpers (boundary handling, face conductances) are in shaders/stencil.wgsl.
//
// Boundaries act on neighbour *values*: no-flux clamps to the cell itself, periodic wraps, and a
// fixed value v on a face uses the ghost 2v - c (the face holds v). In the variable-diffusivity
// path the face conductance is the harmonic mean of the two cells' D (flux form, conservative);
// with clamped neighbours the boundary face of a fixed side gets D of the cell.

struct StepParams {
    dt: f32,
    inv_dx2: f32,
    _pad0: f32,
    _pad1: f32,
    model: array<vec4<f32>, 2>,
    diffusivity: array<vec4<f32>, 4>,
    decay: array<vec4<f32>, 4>,
    bc_value: array<vec4<f32>, 16>,
}

@group(0) @binding(0) var<uniform> P: StepParams;
@group(0) @binding(1) var src: texture_2d_array<f32>;
@group(0) @binding(2) var dst: texture_storage_2d_array<rgba32float, write>;
// Variable-diffusivity path only: layers 0..NS hold D, layers NS..2NS the capacity (alpha * R).
@group(0) @binding(3) var coef: texture_2d_array<f32>;

@compute @workgroup_size(WG_X, 1, 1)
fn step(@builtin(global_invocation_id) gid: vec3<u32>) {
    let X = gid.x;
    let y0 = gid.y * ROWS;
    if X >= NTX || y0 >= NY {
        return;
    }
    let xs = vec4<u32>(4u * X) + vec4<u32>(0u, 1u, 2u, 3u);
    let real = xs < vec4<u32>(NX);

    // Rows walked by this invocation reuse the row above and the centre row from registers.
    let q0 = reach(X, y0);
    // @each_species
    var mid{s} = load_c({s}u, X, y0);
    var up{s} = select(load_c({s}u, X, q0.ym), 2.0 * bc_val(Y_MIN, {s}u) - mid{s}, q0.top_fixed);
    // @end

    // @each_row
    if y0 + {r}u < NY {
        let y = y0 + {r}u;
        let q = reach(X, y);
        // @each_species
        let c{s} = mid{s};
        let down{s} = select(load_c({s}u, X, q.yp), 2.0 * bc_val(Y_MAX, {s}u) - c{s}, q.bottom_fixed);
        let h{s} = sides(q, {s}u, X, y, c{s});
        var diff{s}: vec4<f32>;
        if VARIABLE_D {
            let k{s} = load_k({s}u, X, y);
            let kn{s} = k_neighbours(q, {s}u, X, y, k{s});
            let flux{s} = face(k{s}, kn{s}[0]) * (up{s} - c{s}) + face(k{s}, kn{s}[1]) * (down{s} - c{s})
                + face(k{s}, kn{s}[2]) * (h{s}[0] - c{s}) + face(k{s}, kn{s}[3]) * (h{s}[1] - c{s});
            diff{s} = flux{s} * P.inv_dx2 / load_k(NS + {s}u, X, y);
        } else {
            // Same association as the NumPy peer: ((up + down) + west) + east - 4c.
            let lap{s} = up{s} + down{s} + h{s}[0] + h{s}[1] - 4.0 * c{s};
            diff{s} = P.diffusivity[{s}u / 4u][{s}u % 4u] * P.inv_dx2 * lap{s};
        }
        // @end
        let rates = react(array<vec4<f32>, NS>(/*LIST*/c{s}/*END*/));
        // @each_species
        let next{s} = c{s} + P.dt * (diff{s} + (rates[{s}] - P.decay[{s}u / 4u][{s}u % 4u] * c{s}));
        textureStore(dst, vec2<u32>(X, y), {s}u, select(vec4<f32>(0.0), next{s}, real));
        up{s} = c{s};
        mid{s} = down{s};
        // @end
    }
    // @end_row
}
