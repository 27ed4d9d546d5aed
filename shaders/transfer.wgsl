// Moves the 14 diffusing mediators between the reaction stage's cell-major state buffer
// (STRIDE floats per cell) and the transport step's packed texture array (one layer per
// mediator, 4 cells per texel). For the RKL2 transport `gather` builds the linear term
// (src/tissue/mod.rs; driver src/gpu/transfer.rs)
//
//   σ_s = k_s·goal_s / R_s,   κ_s = (k_s + P_pia·g_pia) / R_s
//
// and for the implicit transport `gather_implicit` the initial guess and history of the TR-BDF2
// step of src/gpu/multigrid.rs: Cⁿ and the source f_s = α·k_s·goal_s (α per cell, 0 outside the
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

@compute @workgroup_size(WG_X, 1, 1)
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
// In an ensemble (ENS members) `cell` runs over the members' cells one member after another,
// and member z's species are layers z·NS..(z + 1)·NS.
@compute @workgroup_size(WG_X, 1, 1)
fn scatter(@builtin(global_invocation_id) gid: vec3<u32>) {
    let cell = gid.x;
    let z = min(cell / (NX * NY), ENS - 1u);
    let local = cell - z * NX * NY;
    if local >= NX * NY || in_domain[local] < 0.5 {
        return;
    }
    let x = local % NX;
    let y = local / NX;
    for (var s = 0u; s < NS; s++) {
        let v = textureLoad(fields_in, vec2<u32>(x / 4u, y), z * NS + s, 0)[x % 4u];
        state_out[cell * STRIDE + SLOTS[s]] = max(v, 0.0);
    }
}

@group(0) @binding(9) var<storage, read> mass: array<f32>;
// Layers 0..NS: Cⁿ; layers NS..2NS: the source α·k·goal (in an ensemble, member z's are layers
// z·NS + s and ENS·NS + z·NS + s).
@group(0) @binding(10) var history_out: texture_storage_2d_array<rgba32float, write>;

// The four cells of texel X in row y, clamped onto the row (the caller masks the pad cells).
fn texel_cells(X: u32, y: u32) -> vec4<u32> {
    return vec4<u32>(y * NX) + min(vec4<u32>(4u * X) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(NX - 1u));
}

// The implicit transport moves all 14 mediators (SLOTS = the state slots 3..6 and 11..20, in
// quads 0..5 of a cell's state; their goals in aux quads 0..3), read as vec4: on lavapipe each
// storage access whose address differs per invocation is a loop over the SIMD lanes, so a
// cell's six state quads and four goal quads cost what 10 scalars do, against 28 one by one.
// Lanes and species are unrolled (`@each_species`, src/gpu/shader.rs).
@group(0) @binding(11) var<storage, read> state_quads: array<vec4<f32>>;
@group(0) @binding(12) var<storage, read> aux_quads: array<vec4<f32>>;

struct Cell {
    s0: vec4<f32>,
    s1: vec4<f32>,
    s2: vec4<f32>,
    s3: vec4<f32>,
    s4: vec4<f32>,
    s5: vec4<f32>,
    g0: vec4<f32>,
    g1: vec4<f32>,
    g2: vec4<f32>,
    g3: vec4<f32>,
}

fn load_cell(cell: u32) -> Cell {
    let s = cell * (STRIDE / 4u);
    let a = cell * (AUX / 4u);
    return Cell(state_quads[s], state_quads[s + 1u], state_quads[s + 2u], state_quads[s + 3u],
        state_quads[s + 4u], state_quads[s + 5u], aux_quads[a], aux_quads[a + 1u],
        aux_quads[a + 2u], aux_quads[a + 3u]);
}

// The 14 mediators (MEDIATORS order) and their goals of one cell.
fn mediators(c: Cell) -> array<f32, 14> {
    return array<f32, 14>(c.s0.w, c.s1.x, c.s1.y, c.s1.z, c.s2.w, c.s3.x, c.s3.y, c.s3.z, c.s3.w,
        c.s4.x, c.s4.y, c.s4.z, c.s4.w, c.s5.x);
}

fn goals(c: Cell) -> array<f32, 14> {
    return array<f32, 14>(c.g0.x, c.g0.y, c.g0.z, c.g0.w, c.g1.x, c.g1.y, c.g1.z, c.g1.w, c.g2.x,
        c.g2.y, c.g2.z, c.g2.w, c.g3.x, c.g3.y);
}

// Dispatched over (texel, row, member).
@compute @workgroup_size(WG_X, 1, 1)
fn gather_implicit(@builtin(global_invocation_id) gid: vec3<u32>) {
    let X = gid.x;
    let y = gid.y;
    let z = gid.z;
    if X >= NTX || y >= NY {
        return;
    }
    let at = vec2<u32>(X, y);
    let lane = vec4<u32>(4u * X) + vec4<u32>(0u, 1u, 2u, 3u);
    let real = lane < vec4<u32>(NX);
    let cells = vec4<u32>(y * NX) + min(lane, vec4<u32>(NX - 1u));
    let w = select(vec4<f32>(0.0), vec4<f32>(mass[cells.x], mass[cells.y], mass[cells.z], mass[cells.w]), real);
    // Member z's cells follow the z members before it in the state and aux buffers.
    let base = z * NX * NY;
    let c0 = load_cell(base + cells.x);
    let c1 = load_cell(base + cells.y);
    let c2 = load_cell(base + cells.z);
    let c3 = load_cell(base + cells.w);
    let o = z * NS;
    let m0 = mediators(c0);
    let m1 = mediators(c1);
    let m2 = mediators(c2);
    let m3 = mediators(c3);
    let g0 = goals(c0);
    let g1 = goals(c1);
    let g2 = goals(c2);
    let g3 = goals(c3);
    // @each_species
    let v{s} = select(vec4<f32>(0.0), vec4<f32>(m0[{s}], m1[{s}], m2[{s}], m3[{s}]), real);
    textureStore(fields_out, at, o + {s}u, v{s});
    textureStore(history_out, at, o + {s}u, v{s});
    textureStore(history_out, at, ENS * NS + o + {s}u, w * species[{s}].k * vec4<f32>(g0[{s}], g1[{s}], g2[{s}], g3[{s}]));
    // @end
}
