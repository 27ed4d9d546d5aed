// Moves the 14 diffusing mediators between the reaction stage's cell-major state buffer
// (STRIDE floats per cell) and the transport step's packed texture array (one layer per
// mediator, 4 cells per texel). For the RKL2 transport `gather` builds the linear term
// (src/tissue.rs)
//
//   σ_s = k_s·goal_s / R_s,   κ_s = (k_s + P_pia·g_pia) / R_s
//
// and for the implicit transport `gather_implicit` the initial guess and history of the TR-BDF2
// step of src/multigrid.rs: Cⁿ and the source f_s = α·k_s·goal_s (α per cell, 0 outside the
// cord),
// with goal_s the production goal the reaction stage wrote into aux, k_s the clearance, R_s the
// GAG retardation and g_pia = (pial faces)/(α·h) the Robin exchange of a pial cell with a CSF at
// zero concentration (§2.5). A generated header gives NX, NY, NTX, NS (the group's size), STRIDE,
// AUX, SLOTS (the group's state slots) and MEMBERS (their indices among the 14 mediators).

// Per species: (k, R, P_pia, unused).
struct Species {
    k: f32,
    r: f32,
    p_pia: f32,
    _pad: f32,
}

@group(0) @binding(0) var<storage, read> state_in: array<f32>;
@group(0) @binding(1) var<storage, read> aux: array<f32>;
@group(0) @binding(2) var<storage, read> pia: array<f32>;
@group(0) @binding(3) var<storage, read> species: array<Species>;
@group(0) @binding(4) var fields_out: texture_storage_2d_array<rgba32float, write>;
@group(0) @binding(5) var linear_out: texture_storage_2d_array<rgba32float, write>;

@compute @workgroup_size(64, 1, 1)
fn gather(@builtin(global_invocation_id) gid: vec3<u32>) {
    let X = gid.x;
    let y = gid.y;
    if X >= NTX || y >= NY {
        return;
    }
    for (var s = 0u; s < NS; s++) {
        let sp = species[s];
        var v = vec4<f32>(0.0);
        var sigma = vec4<f32>(0.0);
        var kappa = vec4<f32>(0.0);
        for (var q = 0u; q < 4u; q++) {
            let x = 4u * X + q;
            if x < NX {
                let cell = y * NX + x;
                v[q] = state_in[cell * STRIDE + SLOTS[s]];
                sigma[q] = sp.k * aux[cell * AUX + MEMBERS[s]] / sp.r;
                kappa[q] = (sp.k + sp.p_pia * pia[cell]) / sp.r;
            }
        }
        textureStore(fields_out, vec2<u32>(X, y), s, v);
        textureStore(linear_out, vec2<u32>(X, y), s, sigma);
        textureStore(linear_out, vec2<u32>(X, y), NS + s, kappa);
    }
}

@group(0) @binding(6) var<storage, read_write> state_out: array<f32>;
@group(0) @binding(7) var fields_in: texture_2d_array<f32>;
// Per cell: 1 inside the domain, 0 outside (outside cells keep their state).
@group(0) @binding(8) var<storage, read> in_domain: array<f32>;

// Writes the transported mediators back; small negative undershoots of the explicit stages are
// clipped to 0 (positivity, §3.2).
@compute @workgroup_size(64, 1, 1)
fn scatter(@builtin(global_invocation_id) gid: vec3<u32>) {
    let cell = gid.x;
    if cell >= NX * NY || in_domain[cell] < 0.5 {
        return;
    }
    let x = cell % NX;
    let y = cell / NX;
    for (var s = 0u; s < NS; s++) {
        let v = textureLoad(fields_in, vec2<u32>(x / 4u, y), s, 0)[x % 4u];
        state_out[cell * STRIDE + SLOTS[s]] = max(v, 0.0);
    }
}

@group(0) @binding(9) var<storage, read> mass: array<f32>;
// Layers 0..NS: Cⁿ; layers NS..2NS: the source α·k·goal.
@group(0) @binding(10) var history_out: texture_storage_2d_array<rgba32float, write>;

@compute @workgroup_size(64, 1, 1)
fn gather_implicit(@builtin(global_invocation_id) gid: vec3<u32>) {
    let X = gid.x;
    let y = gid.y;
    if X >= NTX || y >= NY {
        return;
    }
    for (var s = 0u; s < NS; s++) {
        let sp = species[s];
        var v = vec4<f32>(0.0);
        var f = vec4<f32>(0.0);
        for (var q = 0u; q < 4u; q++) {
            let x = 4u * X + q;
            if x < NX {
                let cell = y * NX + x;
                v[q] = state_in[cell * STRIDE + SLOTS[s]];
                f[q] = mass[cell] * sp.k * aux[cell * AUX + MEMBERS[s]];
            }
        }
        textureStore(fields_out, vec2<u32>(X, y), s, v);
        textureStore(history_out, vec2<u32>(X, y), s, v);
        textureStore(history_out, vec2<u32>(X, y), NS + s, f);
    }
}
