// RKL2 super-time-stepping diffusion (Meyer, Balsara & Aslam 2014), MODEL.md §3.2: one large
// step τ is s explicit stages, each a stencil pass, stable for τ ≤ Δt_expl·(s² + s − 2)/4.
//
//   L(c)  = (1/a) Σ_faces K_f (c_nb − c) / dx² + σ − κ·c
//           (flux form; K_f harmonic mean of D; a capacity; σ ≥ 0 and κ ≥ 0 a linear source and
//           sink per cell, frozen over the step: the spatial model's lagged production, clearance
//           and Robin pial exchange; 0 for pure diffusion)
//   Y_1   = Y_0 + μ̃_1 τ L(Y_0)
//   Y_j   = μ_j Y_{j−1} + ν_j Y_{j−2} + (1 − μ_j − ν_j) Y_0 + μ̃_j τ L(Y_{j−1}) + γ̃_j τ L(Y_0)
//
// Two entry points: `apply_operator` writes L(src) (used once per step for L(Y_0)); `stage` writes
// Y_j from src = Y_{j−1}, prev2 = Y_{j−2}, y0 = Y_0 and ly0 = L(Y_0), with the stage's
// coefficients from `S` (a dynamic-offset uniform, one entry per stage). Species are unrolled
// by the template blocks of src/gpu/shader.rs; the generated header provides NS, WG_X, NX, NY, NTX
// and the boundary kinds. Stencil helpers: shaders/stencil.wgsl. CPU twin: src/cpu/rkl2.rs.

struct DiffParams {
    inv_dx2: f32,
    _pad0: f32,
    _pad1: f32,
    _pad2: f32,
    bc_value: array<vec4<f32>, 16>,
}

struct Stage {
    mu: f32,
    nu: f32,
    // μ̃_j·τ and γ̃_j·τ
    mu_tau: f32,
    gamma_tau: f32,
}

@group(0) @binding(0) var<uniform> P: DiffParams;
@group(0) @binding(1) var src: texture_2d_array<f32>;
@group(0) @binding(2) var dst: texture_storage_2d_array<rgba32float, write>;
// Layers 0..NS: D (µm²/s, 0 in inactive cells); layers NS..2NS: capacity (α·R).
@group(0) @binding(3) var coef: texture_2d_array<f32>;
@group(0) @binding(4) var y0: texture_2d_array<f32>;
@group(0) @binding(5) var ly0: texture_2d_array<f32>;
@group(0) @binding(6) var prev2: texture_2d_array<f32>;
// Layers 0..NS: σ; layers NS..2NS: κ.
@group(0) @binding(7) var linear: texture_2d_array<f32>;
@group(1) @binding(0) var<uniform> S: Stage;

// L(src) of species s at texel X, row y.
fn diffusion_operator(q: Reach, s: u32, X: u32, y: u32) -> vec4<f32> {
    let c = load_c(s, X, y);
    let up = select(load_c(s, X, q.ym), 2.0 * bc_val(Y_MIN, s) - c, q.top_fixed);
    let down = select(load_c(s, X, q.yp), 2.0 * bc_val(Y_MAX, s) - c, q.bottom_fixed);
    let h = sides(q, s, X, y, c);
    let k = load_k(s, X, y);
    let kn = k_neighbours(q, s, X, y, k);
    let flux = face(k, kn[0]) * (up - c) + face(k, kn[1]) * (down - c) + face(k, kn[2]) * (h[0] - c)
        + face(k, kn[3]) * (h[1] - c);
    let at = vec2<u32>(X, y);
    return flux * P.inv_dx2 / load_k(NS + s, X, y) + textureLoad(linear, at, s, 0)
        - textureLoad(linear, at, NS + s, 0) * c;
}

@compute @workgroup_size(WG_X, 1, 1)
fn apply_operator(@builtin(global_invocation_id) gid: vec3<u32>) {
    let X = gid.x;
    let y = gid.y;
    if X >= NTX || y >= NY {
        return;
    }
    let real = (vec4<u32>(4u * X) + vec4<u32>(0u, 1u, 2u, 3u)) < vec4<u32>(NX);
    let q = reach(X, y);
    // @each_species
    textureStore(dst, vec2<u32>(X, y), {s}u, select(vec4<f32>(0.0), diffusion_operator(q, {s}u, X, y), real));
    // @end
}

@compute @workgroup_size(WG_X, 1, 1)
fn stage(@builtin(global_invocation_id) gid: vec3<u32>) {
    let X = gid.x;
    let y = gid.y;
    if X >= NTX || y >= NY {
        return;
    }
    let real = (vec4<u32>(4u * X) + vec4<u32>(0u, 1u, 2u, 3u)) < vec4<u32>(NX);
    let q = reach(X, y);
    let at = vec2<u32>(X, y);
    // @each_species
    let yj{s} = S.mu * load_c({s}u, X, y) + S.nu * textureLoad(prev2, at, {s}u, 0)
        + (1.0 - S.mu - S.nu) * textureLoad(y0, at, {s}u, 0)
        + S.mu_tau * diffusion_operator(q, {s}u, X, y) + S.gamma_tau * textureLoad(ly0, at, {s}u, 0);
    textureStore(dst, at, {s}u, select(vec4<f32>(0.0), yj{s}, real));
    // @end
}
