// The local reaction system of the dorsal-horn model (MODEL.md §4) on the GPU, one invocation per
// cell: the T0/T1 fast solve and the derivatives of every local state, advanced by one classical
// RK4 step per dispatch. A port of src/wellmixed.rs (`Model::fast`, `Model::rhs`, `Model::step`)
// in f32, compared against that f64 reference in tests/reaction_gpu.rs.
//
// A generated header (src/reaction_gpu.rs) defines `struct Params` with one f32 field per key of
// the parameter table that the model uses (SI units), in the order of `wellmixed::PARAM_KEYS`.
// Per cell: state (36 floats, the 33 states of `State::as_array` then r_I, r_E warm starts, pad)
// and input (20 floats, the fields of `wellmixed::Input`).

struct Globals {
    theta_i: f32,
    theta_e: f32,
    theta_p: f32,
    theta_w: f32,
    sigma_sex: f32,
    retardation: f32,
    dt: f32,
    n_cells: u32,
}

struct Drugs {
    nmda: f32, mek: f32, trkb: f32, p2x4: f32, x4_antisense: f32, minocycline: f32, p38: f32,
    cats: f32, cx3cr1: f32, fluorocitrate: f32, laa: f32, jnk: f32, carbenoxolone: f32,
    cxcr4: f32, ccr2: f32, cxcr2: f32, il1r: f32, tnf: f32, cck: f32, naloxone_nm: f32,
}

struct Input {
    r_cp: f32, r_cn: f32, r_ad: f32, r_ab: f32, ea_on: f32, ea_f: f32, ea_rho: f32,
    pep_enk: f32, pep_dyn: f32, ea_hg: f32, i_inj: f32, mmp9: f32,
    gain0: f32, gain1: f32, gain2: f32, gain3: f32, naloxone_nm: f32, u_nmda: f32, il1_gain: f32,
    _pad: f32,
}

struct S {
    n: f32, perk: f32, s_c: f32, sp: f32, enk: f32, dyn_: f32, em: f32, e_seg: f32, e_sup: f32,
    c_end: f32, tol: f32, tnf: f32, il1b: f32, il6: f32, il10: f32, bdnf: f32, cats: f32,
    sfkn: f32, ccl2: f32, cxcl1: f32, cxcl12: f32, mfkn: f32, m: f32, rho_m: f32, p: f32,
    x4: f32, y: f32, a: f32, j: f32, cx: f32, k: f32, cox: f32, g_ea: f32, r_i: f32, r_e: f32,
}

struct Fast {
    r_i: f32, r_e: f32, r_p: f32, r_w: f32, glu: f32, glu_c: f32, atp: f32, o_md: f32,
    o_raw: f32, o_k: f32, r_pre: f32,
}

const NSTATE: u32 = 33u;
const STRIDE: u32 = 36u;

@group(0) @binding(0) var<storage, read> P: Params;
@group(0) @binding(1) var<storage, read> G: Globals;
@group(0) @binding(2) var<storage, read> D: Drugs;
@group(0) @binding(3) var<storage, read> inputs: array<Input>;
@group(0) @binding(4) var<storage, read_write> state: array<f32>;

fn hill(c: f32, k: f32, n: f32) -> f32 {
    if c <= 0.0 {
        return 0.0;
    }
    let a = pow(c, n);
    return a / (a + pow(k, n));
}

fn h1(c: f32) -> f32 {
    return hill(c, 1.0, 1.0);
}

fn logistic(rmax: f32, u: f32) -> f32 {
    return rmax / (1.0 + exp(-u));
}

fn nu(f: f32) -> f32 {
    if f <= 5.0 {
        return 1.0;
    }
    return 1.0 - 0.8 * log(min(f, 100.0) / 5.0) / log(20.0);
}

fn unpack(v: array<f32, 35>) -> S {
    return S(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11], v[12], v[13],
        v[14], v[15], v[16], v[17], v[18], v[19], v[20], v[21], v[22], v[23], v[24], v[25], v[26],
        v[27], v[28], v[29], v[30], v[31], v[32], v[33], v[34]);
}

fn fast(s: S, inp: Input) -> Fast {
    let x = s.enk + s.em + s.c_end;
    let nlx = D.naloxone_nm + inp.naloxone_nm;
    let o_raw = x / (x + 1.0 + nlx / P.Ki_mudelta);
    let o_md = (1.0 - s.tol) * o_raw;
    let o_k = s.dyn_ / (s.dyn_ + 1.0 + nlx / P.Ki_kappa);
    let drive = 1.0 + P.descending_gain * s.e_sup;
    let ht5 = P.c_5HT * drive;
    let ne = P.c_NE * drive;
    let o_5ht1 = h1(ht5);
    let o_a2 = h1(ne);
    let o_a1 = hill(ne, P.K_a1, 1.0);
    let e_cl = P.E_Cl_K0 + P.E_Cl_slope * s.k;
    let phi = (P.V_rest - e_cl) / (P.V_rest - (P.E_Cl_K0 + P.E_Cl_slope));
    let h_il1 = h1(s.il1b) * (1.0 - D.il1r);
    let h_tnf = h1(s.tnf) * (1.0 - D.tnf);
    let g_hat = (1.0 - 0.3 * h_il1 - 0.2 * h1(s.il6)) * (1.0 - P.e_COX * s.cox);
    let n_g = 1.0 + 1.5 * s.n;
    let a_nk1 = h1(s.sp);
    let g_cyt = P.c_TNF * h_tnf + P.c_IL1 * h_il1;
    let g_chem = P.c_CCR2 * h1(s.ccl2) * (1.0 - D.ccr2) + P.c_CXCR2 * h1(s.cxcl1) * (1.0 - D.cxcr2)
        + P.c_CXCR4 * h1(s.cxcl12) * (1.0 - D.cxcr4);
    let rr = P.r_ref;
    let rc = (inp.r_cp + inp.r_cn) / rr;
    let rad = inp.r_ad / rr;
    let rab = inp.r_ab / rr;
    let rea = select(0.0, min(inp.ea_f, P.EA_f_max) * inp.ea_rho, inp.ea_on > 0.5) / rr;
    // 1. r_I by damped Picard.
    let u_i_fixed = P.w_Ib * (rab + rea) + P.w_IC * rc + P.w_INE * o_a1;
    let inh_i = P.g_II * phi * g_hat / P.rmax_I;
    var r_i = s.r_i;
    for (var it = 0; it < 200; it++) {
        let next = logistic(P.rmax_I, u_i_fixed - inh_i * r_i - G.theta_i) * (1.0 - P.chi_loss);
        let done = abs(next - r_i) < 1e-6;
        r_i = r_i + 0.6 * (next - r_i);
        if done {
            break;
        }
    }
    // 2. Transmitters.
    let gi = P.q_I * r_i;
    let o_gb = hill(gi, 2.0, 1.0);
    let r_pre = (1.0 - P.e_mudelta * o_md) * (1.0 - P.e_kappa * o_k) * (1.0 - P.e_a2 * o_a2)
        * (1.0 - P.e_5HT1 * o_5ht1) * (1.0 - P.e_GB * o_gb);
    let r_pre_a = (1.0 - P.e_a2 * o_a2) * (1.0 - P.e_GB * o_gb);
    let kappa = (1.0 - 0.4 * s.a * s.j) * (1.0 + 0.3 * s.g_ea);
    let glu_c = P.q_glu * (inp.r_cp + inp.r_cn) * r_pre / kappa;
    let glu = glu_c + P.q_glu * (inp.r_ad * r_pre + inp.r_ab * 0.3 * r_pre_a) / kappa;
    let atp = P.a_n * (inp.r_cp + inp.r_cn + inp.r_ad + 0.3 * inp.r_ab) + P.a_inj * inp.i_inj
        + P.a_A * s.a * s.cx * (1.0 - D.fluorocitrate) * (1.0 - D.carbenoxolone);
    // 3. r_E by damped Picard.
    let inhib = phi * g_hat * r_i / P.rmax_I;
    let post_common = P.g_mu * o_md + P.g_a2 * o_a2 + P.g_5HT * o_5ht1;
    let u_e_fixed = ((P.w_EC * s.s_c * rc + P.w_EAd * rad) * r_pre + P.w_EAb * rab * r_pre_a) * n_g
        + P.w_EAb * rea + P.w_EAd * rea - P.g_I * inhib - post_common + g_cyt + g_chem;
    var r_e = s.r_e;
    for (var it = 0; it < 200; it++) {
        let next = logistic(P.rmax_E, u_e_fixed + P.w_EE * r_e / P.rmax_E - G.theta_e);
        let done = abs(next - r_e) < 1e-6;
        r_e = r_e + 0.6 * (next - r_e);
        if done {
            break;
        }
    }
    // 4. r_P and r_W.
    let re_hat = r_e / P.rmax_E;
    let u_p0 = (P.w_PC * s.s_c * rc + P.w_PAd * rad) * r_pre * n_g + P.w_PAd * rea + P.w_PE * re_hat
        + P.w_NK1 * a_nk1 - P.g_PI * inhib - post_common - P.g_kappa * o_k + g_cyt + P.w_pERK * s.perk;
    let u_w0 = ((P.w_WC * s.s_c * rc * 0.15 + P.w_WAd * rad * 0.8) * r_pre + P.w_WAb * rab * 0.6 * r_pre_a) * n_g
        + (P.w_WAb * rea * 0.6 + P.w_WAd * rea * 0.8) + P.w_WE * re_hat - P.g_WI * inhib - post_common
        - P.g_kappa * o_k + g_cyt + P.w_pERK * s.perk;
    return Fast(r_i, r_e, logistic(P.rmax_P, u_p0 - G.theta_p), logistic(P.rmax_W, u_w0 - G.theta_w),
        glu, glu_c, atp, o_md, o_raw, o_k, r_pre);
}

fn relax(k: f32, goal: f32, x: f32) -> f32 {
    return k * (goal - x);
}

// Derivatives of the 33 states (slots 0..33) and the converged r_I, r_E (slots 33, 34).
fn rhs(v: array<f32, 35>, inp: Input) -> array<f32, 35> {
    let s = unpack(v);
    let f = fast(s, inp);
    let e_on = select(0.0, 1.0, inp.ea_on > 0.5);
    let h_tnf = h1(s.tnf) * (1.0 - D.tnf);
    let h_il1 = h1(s.il1b) * (1.0 - D.il1r);
    let h_ccl2 = h1(s.ccl2) * (1.0 - D.ccr2);
    let h_cxcl1 = h1(s.cxcl1) * (1.0 - D.cxcr2);
    let h_bdnf = h1(s.bdnf) * (1.0 - D.trkb);
    let n_g = 1.0 + 1.5 * s.n;
    let a_nk1 = h1(s.sp);
    let gains = vec4<f32>(inp.gain0, inp.gain1, inp.gain2, inp.gain3);
    let gain = max(vec4<f32>(0.0), vec4<f32>(1.0) + gains * s.g_ea);
    var o: array<f32, 35>;
    // §4.4
    let open_nmda = (1.0 - D.nmda) * (1.0 - inp.u_nmda);
    let n_target = hill(f.glu_c, 1.0, 2.0) * (1.0 + h1(s.sp)) / 2.0 * open_nmda;
    let tau_n = select(P.tau_N_decay, P.tau_N_rise, n_target > s.n);
    o[0] = (n_target - s.n) / tau_n;
    let d_e = hill(f.glu_c * n_g, 1.0, 2.0) * open_nmda + 0.5 * h1(s.sp) + 0.5 * h_bdnf + 0.5 * h_ccl2
        + 0.5 * h_cxcl1 + 0.3 * h_il1;
    o[1] = P.k_E_plus * hill(d_e, P.K_DE, 4.0) * (1.0 - s.perk) * (1.0 - D.mek) - P.k_E_minus * s.perk;
    let theta_ltp = P.theta0_LTP * (1.0 - 0.4 * s.perk);
    let th_ltp = hill(f.glu_c * n_g, theta_ltp, 4.0) * (0.5 + 0.5 * a_nk1) * (1.0 + 0.5 * h_tnf + 0.5 * h_il1)
        * open_nmda;
    let r_ad_ea = select(0.0, min(inp.ea_f, P.EA_f_max) * inp.ea_rho, inp.ea_on > 0.5);
    let th_ltd = hill(r_ad_ea, P.theta_LTD, 2.0) * nu(inp.ea_f) * hill(f.o_md, 0.3, 1.0) * open_nmda;
    o[2] = P.k_LTP * th_ltp * (P.S_max - s.s_c) - P.k_LTD * th_ltd * (s.s_c - P.S_min) - (s.s_c - 1.0) / P.tau_S;
    // §4.5
    let r_c = inp.r_cp + inp.r_cn;
    o[3] = relax(P.k_SP, P.a_SP * inp.r_cp * f.r_pre, s.sp);
    o[4] = relax(P.k_ENK, P.L_ENK * (P.eps0 + inp.pep_enk * s.e_seg + 0.3 * hill(s.e_sup, 0.5, 1.0)), s.enk);
    o[5] = relax(P.k_DYN, P.L_DYN * (P.eps0 + inp.pep_dyn * s.e_seg + 0.2 * r_c / (r_c + 2.0)), s.dyn_);
    o[6] = relax(P.k_EM, P.L_EM * inp.pep_enk * s.e_seg, s.em);
    let tau_e = select(P.tau_E_off, P.tau_E_on, inp.ea_on > 0.5);
    o[7] = (e_on * inp.ea_rho - s.e_seg) / tau_e;
    o[8] = (e_on * inp.ea_rho - s.e_sup) / tau_e;
    o[9] = (P.a_END * inp.pep_enk * s.e_sup - s.c_end) / P.tau_END;
    o[10] = P.k_tol * f.o_raw * e_on * (1.0 - D.cck) - s.tol / P.tau_tol;
    // §4.6
    let h_fkn = h1(s.sfkn) * (1.0 - D.cx3cr1) * gain.x;
    let d_m = h_fkn + 0.8 * hill(f.atp, P.K_P2Y12, 1.0) + 1.0 * inp.i_inj + 0.5 * h_tnf + 0.5 * h_il1 + 0.3 * h_ccl2;
    let dm = P.k_M_plus * hill(d_m, P.K_DM, 4.0) * (1.0 - s.m) * (1.0 - 0.8 * D.minocycline) * (1.0 - 0.5 * s.g_ea)
        - P.k_M_minus * (1.0 + 2.0 * h1(s.il10) + P.g_off * s.g_ea) * s.m;
    let drho = P.k_pro * max(s.m - P.M_pro, 0.0) * s.rho_m * (1.0 - s.rho_m / P.rho_max) - P.k_apo * (s.rho_m - 1.0);
    let h_p2x4 = hill(f.atp, P.K_P2X4, 1.0) * (1.0 - D.p2x4);
    let d_p = (s.m * (h_fkn + h_p2x4 * s.x4 + 0.5 * h_tnf + 0.5 * h_il1) + 0.3 * h1(s.sp)) * (1.0 - 0.8 * D.minocycline);
    let dp = P.k_p_plus * d_p * (1.0 - s.p) * (1.0 - D.p38) - P.k_p_minus * (1.0 + 3.0 * h1(s.il10)) * s.p;
    let dx4 = P.k_X4 * s.m * (1.0 + h_ccl2) * (1.0 - s.x4) * (1.0 - D.x4_antisense) - s.x4 / P.tau_X4;
    let dy = (s.m - s.y) / P.tau_Y;
    let psi = 1.0 / (1.0 + 2.0 * h1(s.il10)) / (1.0 + 0.5 * f.o_md);
    let mp = G.sigma_sex * s.rho_m * s.p;
    let il1_gain = select(1.0, inp.il1_gain, inp.il1_gain > 0.0);
    o[11] = relax(P.k_TNF, P.L_TNF * (mp + 0.1 * s.a) * psi, s.tnf);
    o[12] = relax(P.k_IL1b, il1_gain * P.L_IL1 * (mp * (1.0 + inp.mmp9) + 0.3 * s.a * s.a) * psi, s.il1b);
    o[13] = relax(P.k_IL6, P.L_IL6 * (mp + 0.5 * s.a) * psi, s.il6);
    o[14] = relax(P.k_IL10, P.L_IL10 * s.rho_m * s.m * (1.0 - 0.5 * s.p) * hill(s.y, 0.5, 1.0) + P.L_IL10_EA * s.g_ea, s.il10);
    o[15] = relax(P.k_BDNF_clear, P.L_BDNF * G.sigma_sex * s.rho_m * s.x4 * h_p2x4 * s.p, s.bdnf);
    o[16] = relax(P.k_CatS, P.L_CatS * s.rho_m * s.m * hill(f.atp, P.K_P2X7, 2.0) * (1.0 - D.cats), s.cats);
    o[17] = P.k_cat * s.cats * s.mfkn - P.k_sFKN * s.sfkn;
    // §4.7
    let a_fc = 1.0 - D.fluorocitrate;
    let d_a = 1.0 * h_tnf + 0.7 * h_il1 + 0.3 * hill(f.glu, P.K_A_glu, 1.0) + 0.3 * h1(f.atp)
        + 0.3 * h1(s.cxcl12) * (1.0 - D.cxcr4);
    let r_ccl2 = select(1.0, P.R_CCL2, G.retardation > 0.5);
    let r_cxcl1 = select(1.0, P.R_CXCL1, G.retardation > 0.5);
    let r_cxcl12 = select(1.0, P.R_CXCL12, G.retardation > 0.5);
    o[18] = relax(P.k_CCL2, P.L_CCL2 * s.a * s.j * a_fc * gain.y, s.ccl2) / r_ccl2;
    o[19] = relax(P.k_CXCL1, P.L_CXCL1 * (s.a * s.j * (0.3 + 0.7 * s.cx * (1.0 - D.carbenoxolone)) + 0.2 * h_tnf)
        * a_fc * gain.z, s.cxcl1) / r_cxcl1;
    o[20] = relax(P.k_CXCL12, (P.L_X12_0 + P.L_X12_A * s.a * a_fc) * gain.w, s.cxcl12) / r_cxcl12;
    o[21] = P.m0 * (1.0 + inp.i_inj) / P.tau_mFKN - P.k_cat * s.cats * s.mfkn - s.mfkn / P.tau_mFKN;
    o[22] = dm;
    o[23] = drho;
    o[24] = dp;
    o[25] = dx4;
    o[26] = dy;
    o[27] = P.k_A_plus * hill(d_a, P.K_DA, 4.0) * (1.0 - s.a) * (1.0 - 0.9 * D.fluorocitrate) * (1.0 - 0.5 * s.g_ea)
        - P.k_A_minus * (1.0 + P.g_off * s.g_ea) * s.a - P.k_LAA * D.laa * s.a;
    o[28] = P.k_J_plus * s.a * h_tnf * (1.0 - s.j) * (1.0 - D.jnk) - P.k_J_minus * s.j;
    o[29] = P.k_Cx * h_tnf * s.a * (1.0 - s.cx) - s.cx / P.tau_Cx;
    // §4.8, §4.9
    o[30] = (1.0 - s.k) / P.tau_K_rec - P.k_BDNF * h_bdnf * s.k;
    o[31] = (s.perk * (1.0 + h_cxcl1) - s.cox) / P.tau_COX;
    o[32] = P.k_G * e_on * inp.ea_rho * inp.ea_hg - s.g_ea / P.tau_G;
    o[33] = f.r_i;
    o[34] = f.r_e;
    return o;
}

fn stage_point(y: array<f32, 35>, k: array<f32, 35>, c: f32, warm: array<f32, 35>) -> array<f32, 35> {
    var out: array<f32, 35>;
    for (var i = 0u; i < NSTATE; i++) {
        out[i] = y[i] + c * k[i];
    }
    out[33] = warm[33];
    out[34] = warm[34];
    return out;
}

@compute @workgroup_size(64, 1, 1)
fn rk4_step(@builtin(global_invocation_id) gid: vec3<u32>) {
    let cell = gid.x;
    if cell >= G.n_cells {
        return;
    }
    let base = cell * STRIDE;
    var y: array<f32, 35>;
    for (var i = 0u; i < 35u; i++) {
        y[i] = state[base + i];
    }
    let inp = inputs[cell];
    let dt = G.dt;
    let k1 = rhs(y, inp);
    // Later stages start their fixed-point solves from the first stage's rates.
    var warm = y;
    warm[33] = k1[33];
    warm[34] = k1[34];
    let k2 = rhs(stage_point(y, k1, 0.5 * dt, warm), inp);
    let k3 = rhs(stage_point(y, k2, 0.5 * dt, warm), inp);
    let k4 = rhs(stage_point(y, k3, dt, warm), inp);
    for (var i = 0u; i < NSTATE; i++) {
        state[base + i] = y[i] + dt / 6.0 * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i]);
    }
    state[base + 31u] = clamp(state[base + 31u], 0.0, 2.0);
    state[base + 33u] = warm[33];
    state[base + 34u] = warm[34];
}
