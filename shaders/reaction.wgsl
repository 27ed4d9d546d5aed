// The local reaction system of the dorsal-horn model (MODEL.md §4) on the GPU, one invocation per
// cell: the T0/T1 fast solve and the derivatives of every local state, advanced by classical RK4
// (one step per dispatch) or by runs of exponential-midpoint sub-steps (one run per dispatch,
// the spatial model's scheme). A port of src/model/network/mod.rs (`Model::fast`, `Model::rhs`, `Model::step`)
// in f32, compared against that f64 reference in tests/reaction_gpu.rs.
//
// A generated header (src/gpu/reaction.rs) defines `struct Params` with one f32 field per key of
// the parameter table that the model uses (SI units), in the order of `model::network::coefficients::PARAM_KEYS`.
// Per cell: state (36 floats, the 34 states of `State::to_array` then the r_I, r_E warm starts),
// a map (36 floats, `CellMap`: the afferent, peptide and varicosity maps the cell sees, its
// α_grey/α and its calibrated thresholds θ) and an input (21 floats, the fields of
// `model::network::state::Input`: per cell, or one broadcast input per sub-step in the spatial model).
// A well-mixed compartment is the special case of the §8.2 conventions (`CellMap::well_mixed`).
//
// The generated header also sets BROADCAST (every cell reads the sub-step's input, else its own)
// and TRANSPORT (src/gpu/reaction.rs, `CellMode`).
// Spatial model (src/tissue/mod.rs): with TRANSPORT the 14 diffusing mediators are frozen in
// the reaction step (the transport step relaxes them toward the goals `exp_step` writes after the
// first half of a Strang step, with diffusion); the projection populations P and W, which feed no state,
// are evaluated by `evaluate_rates` with the columnar averages of r_E and r_I (§4.3).

struct Globals {
    sigma_sex: f32,
    retardation: f32,
    n_cells: u32,
    // Descending drive multipliers r_RVM, r_A7 (1 intact, 0 lesioned).
    rvm: f32,
    a7: f32,
    // The female adaptive-immune route of MODEL.md §11.2 (1 on, 0 off).
    t_route: f32,
    // n_mode: the descending-facilitation mode of §4.2/§4.3 (1 on, 0 off).
    facilitation: f32,
    _pad2: u32,
}

// A run of `count` sub-steps of length `dt` (dynamic-offset uniform): sub-step k reads broadcast
// input `input + k`; `exp_step_goals` then writes the goals at input `input + count`. One
// dispatch advances a whole run, keeping the state in registers.
struct Step {
    dt: f32,
    input: u32,
    count: u32,
    _pad: u32,
}

// What one cell sees of the tissue (§1.4–1.6, §4.2, §4.3). The well-mixed compartment of §8.2
// has glu_ab = atp_ab = 0.3, W maps (0.15, 0.15, 0.8, 0.6, 0.6, 0.8) and 1 elsewhere.
struct CellMap {
    glu_cp: f32, glu_cn: f32, glu_ad: f32, glu_ab: f32,
    ei_cp: f32, ei_cn: f32, ei_ad: f32, ei_ab: f32,
    atp_cp: f32, atp_cn: f32, atp_ad: f32, atp_ab: f32,
    ea_ab: f32, ea_ad: f32,
    p_cp: f32, p_cn: f32, p_ad: f32, p_ea_ad: f32,
    w_cp: f32, w_cn: f32, w_ad: f32, w_ab: f32, w_ea_ab: f32, w_ea_ad: f32,
    rho_enk: f32, rho_dyn: f32, rho_em: f32,
    v_5ht: f32, v_ne: f32,
    inj: f32, inj_atp: f32, alpha_ratio: f32,
    theta_i: f32, theta_e: f32, theta_p: f32, theta_w: f32,
    end_w: f32, pia_it: f32, pia_ab: f32, p_ab: f32,
    ast_cp: f32, ast_cn: f32, ast_ad: f32, ast_ab: f32,
}

struct Drugs {
    nmda: f32, mek: f32, trkb: f32, p2x4: f32, x4_antisense: f32, minocycline: f32, p38: f32,
    cats: f32, cx3cr1: f32, fluorocitrate: f32, laa: f32, jnk: f32, carbenoxolone: f32,
    cxcr4: f32, ccr2: f32, cxcr2: f32, il1r: f32, tnf: f32, cck: f32, naloxone_nm: f32,
    il10_block: f32, il10_exo: f32, mu_delta: f32, kappa: f32, gaba_gly: f32, ht1: f32, a2: f32,
    mu_agonist: f32, a2_agonist: f32, clp257: f32, nep: f32, afferent_block: f32, ea_block: f32,
    ht3: f32, _pad0: f32,
}

struct Input {
    r_cp: f32, r_cn: f32, r_ad: f32, r_ab: f32, ea_on: f32, ea_f: f32, ea_rho: f32,
    pep_enk: f32, pep_dyn: f32, ea_hg: f32, i_inj: f32, mmp9: f32,
    gain0: f32, gain1: f32, gain2: f32, gain3: f32, naloxone_nm: f32, u_nmda: f32, il1_gain: f32,
    t_cell: f32, i_infl: f32,
}

struct S {
    n: f32, perk: f32, s_c: f32, sp: f32, enk: f32, dyn_: f32, em: f32, e_seg: f32, e_sup: f32,
    c_end: f32, tol: f32, tnf: f32, il1b: f32, il6: f32, il10: f32, bdnf: f32, cats: f32,
    sfkn: f32, ccl2: f32, cxcl1: f32, cxcl12: f32, mfkn: f32, m: f32, rho_m: f32, p: f32,
    x4: f32, y: f32, a: f32, j: f32, cx: f32, k: f32, cox: f32, g_ea: f32, perk_x: f32, r_i: f32, r_e: f32,
}

struct Fast {
    r_i: f32, r_e: f32, glu: f32, glu_c: f32, atp: f32, o_md: f32, o_raw: f32, o_k: f32,
    r_pre: f32, r_pre_a: f32, inhib_gain: f32, n_g: f32, a_nk1: f32, post_common: f32, g_cyt: f32,
    u_i0: f32, u_e0: f32,
    // g_5HT3·O_5HT3·n_mode, the 5-HT3 facilitation of P and W (0 outside the mode).
    fac: f32,
}

const NSTATE: u32 = 34u;
// vec4s per cell of state (MAP_QUADS, the vec4s of a map, comes from src/gpu/reaction.rs).
const QUADS: u32 = 9u;
// The diffusing mediators' state slots (SP, ENK, DYN, EM, TNF, IL-1β, IL-6, IL-10, BDNF, CatS,
// sFKN, CCL2, CXCL1, CXCL12), in the order of the targets and of the transport layers.
const NMED: u32 = 14u;
const MEDIATORS = array<u32, 14>(3u, 4u, 5u, 6u, 11u, 12u, 13u, 14u, 15u, 16u, 17u, 18u, 19u, 20u);
// Per cell in `aux` (4 vec4): the 14 mediator goals and two unused slots.
const AUX_QUADS: u32 = 4u;

@group(0) @binding(0) var<storage, read> P: Params;
// `G`, `D`, and `enter_member`/`member_inputs`/`enter_drugs` (src/gpu/reaction.rs,
// `member_prelude`): one set of globals and three drug sets for all cells, or in an ensemble
// (members side by side, each `n_cells` cells with its own globals, drugs and broadcast inputs)
// the cell's member's. `D`, the cell's drugs, is private: `enter_drugs` forms it from the drug
// sets and the cell's pial profiles (intrathecal doses, §2.5) before anything reads it.
// @member_bindings
@group(0) @binding(3) var<storage, read> inputs: array<Input>;
// State, maps and aux are read and written as vec4: on lavapipe every storage access whose
// address differs per invocation is a loop over the SIMD lanes, so four floats per access cost
// about what one does (BENCHMARKS.md).
@group(0) @binding(4) var<storage, read_write> state: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read> maps: array<vec4<f32>>;
@group(0) @binding(6) var<storage, read_write> aux: array<vec4<f32>>;
// Per cell: r_I, r_E, r_P, r_W (`evaluate_rates`) or θ_I, θ_E, θ_P, θ_W (`calibrate_thresholds`),
// a compact buffer so that the host reads 16 bytes a cell back.
@group(0) @binding(8) var<storage, read_write> rates: array<vec4<f32>>;
// Per cell: columnar averages (r_E, r_I) seen by P, then by W (§4.3).
@group(0) @binding(7) var<storage, read> columns: array<vec4<f32>>;
@group(1) @binding(0) var<uniform> T: Step;

// Branch-free, as every helper of the sub-step (see `exponential`).
fn hill(c: f32, k: f32, n: f32) -> f32 {
    let a = pow(max(c, 0.0), n);
    return select(a / (a + pow(k, n)), 0.0, c <= 0.0);
}

fn h1(c: f32) -> f32 {
    return hill(c, 1.0, 1.0);
}

fn logistic(rmax: f32, u: f32) -> f32 {
    return rmax / (1.0 + exp(-u));
}

fn nu(f: f32) -> f32 {
    return select(1.0 - 0.8 * log(min(max(f, 5.0), 100.0) / 5.0) / log(20.0), 1.0, f <= 5.0);
}

fn unpack(v: array<f32, 36>) -> S {
    return S(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11], v[12], v[13],
        v[14], v[15], v[16], v[17], v[18], v[19], v[20], v[21], v[22], v[23], v[24], v[25], v[26],
        v[27], v[28], v[29], v[30], v[31], v[32], v[33], v[34], v[35]);
}

// open_NMDA of §4.4: the constant NMDA block and the input's bolus, independent blocks
// (`Drugs::open_nmda` on the host).
fn open_nmda(inp: Input) -> f32 {
    return (1.0 - D.nmda) * (1.0 - inp.u_nmda);
}

fn agonist_level(u: f32) -> f32 {
    let v = clamp(u, 0.0, 0.99);
    return v / (1.0 - v);
}

// The glutamate pool of §4.2 released by the afferents whose terminal maps are t = (T_Cp, T_Cn,
// T_Aδ, T_Aβ): x its C-fibre part, y the whole pool.
fn glutamate(t: vec4<f32>, inp: Input, r_pre: f32, r_pre_a: f32, kappa: f32) -> vec2<f32> {
    let c = P.q_glu * (inp.r_cp * t.x + inp.r_cn * t.y) * r_pre / kappa;
    return vec2<f32>(c, c + P.q_glu * (inp.r_ad * t.z * r_pre + inp.r_ab * t.w * r_pre_a) / kappa);
}

fn fast(s: S, inp: Input, m: CellMap) -> Fast {
    // Agonists (§6) add their level u/(1 − u) EC50 (u ≤ 0.99) to the receptor's ligand.
    // β-endorphin reaches the cell from the CSF through the pia (end_w, §2.5).
    let x = s.enk + s.em + s.c_end * m.end_w + agonist_level(D.mu_agonist);
    let nlx = D.naloxone_nm + inp.naloxone_nm;
    // Selective antagonists (§6) scale their receptor's occupancy by (1 − u).
    let o_raw = x / (x + 1.0 + nlx / P.Ki_mudelta) * (1.0 - D.mu_delta);
    let o_md = (1.0 - s.tol) * o_raw;
    let o_k = s.dyn_ / (s.dyn_ + 1.0 + nlx / P.Ki_kappa) * (1.0 - D.kappa);
    // Φ_sup: the supraspinal opioid step of the EA drive under systemic naloxone (w_PAG = 0: none).
    let phi_sup = select(
        1.0 - P.w_PAG * inp.pep_enk * nlx / (nlx + P.Ki_mudelta * (1.0 + P.x_PAG)), 1.0, nlx <= 0.0);
    let drive = 1.0 + P.descending_gain * s.e_sup * phi_sup;
    let ht5 = P.c_5HT * m.v_5ht * drive * G.rvm;
    let ne = P.c_NE * m.v_ne * drive * G.a7;
    let o_5ht1 = h1(ht5) * (1.0 - D.ht1);
    // 5-HT3 (facilitatory), only in the descending-facilitation mode; ondansetron (1 − u).
    let o_5ht3 = hill(ht5, P.K_5HT3, 1.0) * (1.0 - D.ht3) * G.facilitation;
    let o_a2 = h1(ne + agonist_level(D.a2_agonist)) * (1.0 - D.a2);
    let o_a1 = hill(ne, P.K_a1, 1.0);
    let e_cl = P.E_Cl_K0 + P.E_Cl_slope * s.k;
    let phi = (P.V_rest - e_cl) / (P.V_rest - (P.E_Cl_K0 + P.E_Cl_slope));
    let h_il1 = h1(s.il1b) * (1.0 - D.il1r);
    let h_tnf = h1(s.tnf) * (1.0 - D.tnf);
    // GABA_A/glycine antagonists scale every inhibitory gain (g_I, g_II, g_PI, g_WI).
    let g_hat = (1.0 - 0.3 * h_il1 - 0.2 * h1(s.il6)) * (1.0 - P.e_COX * s.cox) * (1.0 - D.gaba_gly)
        * (1.0 + 0.5 * D.clp257);
    let n_g = 1.0 + 1.5 * s.n;
    let a_nk1 = h1(s.sp);
    let g_cyt = P.c_TNF * h_tnf + P.c_IL1 * h_il1;
    let g_chem = P.c_CCR2 * h1(s.ccl2) * (1.0 - D.ccr2) + P.c_CXCR2 * h1(s.cxcl1) * (1.0 - D.cxcr2)
        + P.c_CXCR4 * h1(s.cxcl12) * (1.0 - D.cxcr4);
    let rr = P.r_ref;
    // Normalised afferent rates as the E and I populations of this cell see them.
    let rc = (inp.r_cp * m.ei_cp + inp.r_cn * m.ei_cn) / rr;
    let rad = inp.r_ad * m.ei_ad / rr;
    let rab = inp.r_ab * m.ei_ab / rr;
    let rea = select(0.0, min(inp.ea_f, P.EA_f_max) * inp.ea_rho, inp.ea_on > 0.5) / rr;
    // 1. r_I by damped Picard.
    let u_i_fixed = P.w_Ib * (rab + rea * m.ea_ab) + P.w_IC * rc + P.w_INE * o_a1;
    let inh_i = P.g_II * phi * g_hat / P.rmax_I;
    var r_i = s.r_i;
    for (var it = 0; it < 200; it++) {
        let next = logistic(P.rmax_I, u_i_fixed - inh_i * r_i - m.theta_i) * (1.0 - P.chi_loss);
        let done = abs(next - r_i) < 1e-6 * max(1.0, r_i);
        r_i = r_i + 0.6 * (next - r_i);
        if done {
            break;
        }
    }
    // 2. Transmitters (the neurons' glutamate pool sees the local terminals; ATP the smoothed ones).
    let gi = P.q_I * r_i;
    let o_gb = hill(gi, 2.0, 1.0);
    let r_pre = (1.0 - P.e_mudelta * o_md) * (1.0 - P.e_kappa * o_k) * (1.0 - P.e_a2 * o_a2)
        * (1.0 - P.e_5HT1 * o_5ht1) * (1.0 - P.e_GB * o_gb) * (1.0 + 0.3 * o_5ht3);
    let r_pre_a = (1.0 - P.e_a2 * o_a2) * (1.0 - P.e_GB * o_gb);
    let kappa = (1.0 - 0.4 * s.a * s.j) * (1.0 + 0.3 * s.g_ea);
    // The neurons' C-fibre glutamate (N, D_E, LTP) from the local terminals; the glutamate the
    // astrocytes sense (H(Glu) in D_A, §4.7), the whole pool over their domain's terminals
    // (m.ast_*, the local ones when astro_sense_um = 0).
    let glu_c = glutamate(vec4<f32>(m.glu_cp, m.glu_cn, m.glu_ad, m.glu_ab), inp, r_pre, r_pre_a, kappa).x;
    let glu = glutamate(vec4<f32>(m.ast_cp, m.ast_cn, m.ast_ad, m.ast_ab), inp, r_pre, r_pre_a, kappa).y;
    let atp = P.a_n * (inp.r_cp * m.atp_cp + inp.r_cn * m.atp_cn + inp.r_ad * m.atp_ad + inp.r_ab * m.atp_ab)
        + P.a_inj * inp.i_inj * m.inj_atp
        + P.a_A * s.a * s.cx * (1.0 - D.fluorocitrate) * (1.0 - D.carbenoxolone);
    // 3. r_E by damped Picard.
    let inhib = phi * g_hat * r_i / P.rmax_I;
    let post_common = P.g_mu * o_md + P.g_a2 * o_a2 + P.g_5HT * o_5ht1;
    let u_e_fixed = ((P.w_EC * s.s_c * rc + P.w_EAd * rad) * r_pre + P.w_EAb * rab * r_pre_a) * n_g
        + P.w_EAb * rea * m.ea_ab + P.w_EAd * rea * m.ea_ad - P.g_I * inhib - post_common + g_cyt + g_chem;
    var r_e = s.r_e;
    for (var it = 0; it < 200; it++) {
        let next = logistic(P.rmax_E, u_e_fixed + P.w_EE * r_e / P.rmax_E - m.theta_e);
        let done = abs(next - r_e) < 1e-6 * max(1.0, r_e);
        r_e = r_e + 0.6 * (next - r_e);
        if done {
            break;
        }
    }
    let u_i0 = u_i_fixed - inh_i * r_i;
    let u_e0 = u_e_fixed + P.w_EE * r_e / P.rmax_E;
    return Fast(r_i, r_e, glu, glu_c, atp, o_md, o_raw, o_k, r_pre, r_pre_a, phi * g_hat, n_g, a_nk1,
        post_common, g_cyt, u_i0, u_e0, P.g_5HT3 * o_5ht3);
}

// u_P and u_W without θ, given the (r_E, r_I) their columnar kernels see (§4.3).
fn projection_drives(s: S, inp: Input, m: CellMap, f: Fast, re_p: f32, ri_p: f32, re_w: f32, ri_w: f32)
    -> vec2<f32> {
    let rr = P.r_ref;
    let rea = select(0.0, min(inp.ea_f, P.EA_f_max) * inp.ea_rho, inp.ea_on > 0.5) / rr;
    let rc_p = (inp.r_cp * m.p_cp + inp.r_cn * m.p_cn) / rr;
    let rc_w = (inp.r_cp * m.w_cp + inp.r_cn * m.w_cn) / rr;
    let u_p0 = (P.w_PC * s.s_c * rc_p + P.w_PAd * inp.r_ad * m.p_ad / rr) * f.r_pre * f.n_g
        + P.w_PAd * rea * m.p_ea_ad + P.w_PE * re_p / P.rmax_E + P.w_NK1 * f.a_nk1
        - P.g_PI * f.inhib_gain * ri_p / P.rmax_I - f.post_common - P.g_kappa * f.o_k + f.g_cyt
        + P.w_pERK * s.perk_x + f.fac
        + P.w_PAb_relay * inp.r_ab * m.p_ab / rr * f.r_pre_a * max(0.0, 1.0 - f.inhib_gain)
            * open_nmda(inp);
    let u_w0 = ((P.w_WC * s.s_c * rc_w + P.w_WAd * inp.r_ad * m.w_ad / rr) * f.r_pre
        + P.w_WAb * inp.r_ab * m.w_ab / rr * f.r_pre_a) * f.n_g
        + (P.w_WAb * rea * m.w_ea_ab + P.w_WAd * rea * m.w_ea_ad) + P.w_WE * re_w / P.rmax_E
        - P.g_WI * f.inhib_gain * ri_w / P.rmax_I - f.post_common - P.g_kappa * f.o_k + f.g_cyt
        + P.w_pERK * s.perk_x + f.fac;
    return vec2<f32>(u_p0, u_w0);
}

fn relax(k: f32, goal: f32, x: f32) -> f32 {
    return k * (goal - x);
}

// Production goals of the 14 mediators (the value each relaxes to, per §4.0's L convention,
// with the source divided by α: × α_grey/α), in the order of MEDIATORS.
fn goals(s: S, inp: Input, m: CellMap, f: Fast) -> array<f32, 14> {
    let h_tnf = h1(s.tnf) * (1.0 - D.tnf);
    let h_il1 = h1(s.il1b) * (1.0 - D.il1r);
    let gains = vec4<f32>(inp.gain0, inp.gain1, inp.gain2, inp.gain3);
    let gain = max(vec4<f32>(0.0), vec4<f32>(1.0) + gains * s.g_ea);
    let r_c = inp.r_cp + inp.r_cn;
    let psi = 1.0 / (1.0 + 2.0 * h1(s.il10) * (1.0 - D.il10_block)) / (1.0 + 0.5 * f.o_md);
    // §11.2: the cytokine sources are the same in both sexes; σ_sex scales the BDNF route.
    let mp = s.rho_m * s.p;
    let il1_gain = select(1.0, inp.il1_gain, inp.il1_gain > 0.0);
    let h_p2x4 = hill(f.atp, P.K_P2X4, 1.0) * (1.0 - D.p2x4);
    let a_fc = 1.0 - D.fluorocitrate;
    var g: array<f32, 14>;
    g[0] = P.a_SP * inp.r_cp * m.glu_cp * f.r_pre;
    // NEP inhibition (§6, k_ENK × (1 − 0.9·u) on the loss): the spared loss 0.9·u·ENK returns
    // as production, so the transport step's clearance k_ENK stays one constant.
    g[1] = P.L_ENK * m.rho_enk * (P.eps0 + inp.pep_enk * s.e_seg + 0.3 * hill(s.e_sup, 0.5, 1.0))
        + 0.9 * D.nep * s.enk;
    g[2] = P.L_DYN * m.rho_dyn * (P.eps0 + inp.pep_dyn * s.e_seg + 0.2 * r_c / (r_c + 2.0));
    g[3] = P.L_EM * m.rho_em * inp.pep_enk * s.e_seg;
    g[4] = P.L_TNF * (mp + 0.1 * s.a) * psi;
    g[5] = il1_gain * P.L_IL1 * (mp * (1.0 + inp.mmp9 * m.inj) + 0.3 * s.a * s.a) * psi;
    g[6] = P.L_IL6 * (mp + 0.5 * s.a) * psi;
    g[7] = P.L_IL10 * s.rho_m * s.m * (1.0 - 0.5 * s.p) * hill(s.y, 0.5, 1.0) + P.L_IL10_EA * s.g_ea + D.il10_exo;
    g[8] = P.L_BDNF * G.sigma_sex * s.rho_m * s.x4 * h_p2x4 * s.p;
    g[9] = P.L_CatS * s.rho_m * s.m * hill(f.atp, P.K_P2X7, 2.0) * (1.0 - D.cats);
    g[10] = P.k_cat * s.cats * s.mfkn / P.k_sFKN;
    g[11] = P.L_CCL2 * s.a * s.j * a_fc * gain.y;
    g[12] = P.L_CXCL1 * (s.a * s.j * (0.3 + 0.7 * s.cx * (1.0 - D.carbenoxolone)) + 0.2 * h_tnf) * a_fc * gain.z;
    g[13] = (P.L_X12_0 + P.L_X12_A * s.a * a_fc) * gain.w;
    // @each_mediator
    g[{i}] = g[{i}] * m.alpha_ratio;
    // @end_mediator
    return g;
}

// Clearance rates of the mediators (1/s), in the order of MEDIATORS.
fn clearance() -> array<f32, 14> {
    return array<f32, 14>(P.k_SP, P.k_ENK, P.k_DYN, P.k_EM, P.k_TNF, P.k_IL1b, P.k_IL6, P.k_IL10,
        P.k_BDNF_clear, P.k_CatS, P.k_sFKN, P.k_CCL2, P.k_CXCL1, P.k_CXCL12);
}

// GAG retardation R of the mediators (§2.2), in the order of MEDIATORS.
fn retardation() -> array<f32, 14> {
    let on = G.retardation > 0.5;
    return array<f32, 14>(1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0,
        select(1.0, P.R_CCL2, on), select(1.0, P.R_CXCL1, on), select(1.0, P.R_CXCL12, on));
}

// Every local state's derivative in production–loss form, dx/dt = a − b·x (a ≥ 0; b ≥ 0 except
// the proliferation term of ρ_M), and the converged r_I, r_E in a[34], a[35]. The RK4 step uses
// a − b·x; the exponential step uses the form itself (positive and stable for any step).
struct AB {
    a: array<f32, 36>,
    b: array<f32, 36>,
}

fn production_loss(v: array<f32, 36>, inp: Input, m: CellMap) -> AB {
    let s = unpack(v);
    let f = fast(s, inp, m);
    let e_on = select(0.0, 1.0, inp.ea_on > 0.5);
    let h_tnf = h1(s.tnf) * (1.0 - D.tnf);
    let h_il1 = h1(s.il1b) * (1.0 - D.il1r);
    let h_ccl2 = h1(s.ccl2) * (1.0 - D.ccr2);
    let h_cxcl1 = h1(s.cxcl1) * (1.0 - D.cxcr2);
    let h_bdnf = h1(s.bdnf) * (1.0 - D.trkb);
    let h_il10 = h1(s.il10) * (1.0 - D.il10_block);
    let h_x12 = h1(s.cxcl12) * (1.0 - D.cxcr4);
    let n_g = f.n_g;
    let a_nk1 = f.a_nk1;
    let gains = vec4<f32>(inp.gain0, inp.gain1, inp.gain2, inp.gain3);
    let gain = max(vec4<f32>(0.0), vec4<f32>(1.0) + gains * s.g_ea);
    // §11.1: the injury signal acts in the footprint S_inj, the terminal fields of the
    // injured (or, for CFA, sensitised) afferents.
    let i_inj = inp.i_inj * m.inj;
    // §11.2: the female adaptive-immune level T, in the same footprint (0 off the route).
    let t_cell = G.t_route * inp.t_cell * m.inj;
    // §11.1 decision: a paw inflammation's drive of the astrocytes, in the same footprint.
    let i_infl = inp.i_infl * m.inj;
    var o: AB;
    // §4.4
    let nmda_open = open_nmda(inp);
    let n_target = hill(f.glu_c, 1.0, 2.0) * (1.0 + a_nk1) / 2.0 * nmda_open;
    let tau_n = select(P.tau_N_decay, P.tau_N_rise, n_target > s.n);
    o.a[0] = n_target / tau_n;
    o.b[0] = 1.0 / tau_n;
    let d_e = P.w_DE_glu * hill(f.glu_c * n_g, 1.0, 2.0) * nmda_open + 0.5 * a_nk1 + 0.5 * h_bdnf + 0.5 * h_ccl2
        + 0.5 * h_cxcl1 + 0.3 * h_il1 + P.w_DE_x12 * h_x12 + P.w_T_DE * t_cell;
    let up_e = P.k_E_plus * hill(d_e, P.K_DE, 4.0) * (1.0 - D.mek);
    o.a[1] = up_e;
    o.b[1] = up_e + P.k_E_minus;
    let theta_ltp = P.theta0_LTP * (1.0 - 0.4 * s.perk);
    let th_ltp = hill(f.glu_c * n_g, theta_ltp, 4.0) * (0.5 + 0.5 * a_nk1) * (1.0 + 0.5 * h_tnf + 0.5 * h_il1)
        * nmda_open;
    let r_ad_ea = select(0.0, min(inp.ea_f, P.EA_f_max) * inp.ea_rho, inp.ea_on > 0.5) * m.ea_ad;
    let th_ltd = hill(r_ad_ea, P.theta_LTD, 2.0) * nu(inp.ea_f) * hill(f.o_md, 0.3, 1.0) * nmda_open;
    let ltp = P.k_LTP * th_ltp;
    let ltd = P.k_LTD * th_ltd;
    o.a[2] = ltp * P.S_max + ltd * P.S_min + 1.0 / P.tau_S;
    o.b[2] = ltp + ltd + 1.0 / P.tau_S;
    // §4.5–4.7: the mediators relax to their goals (divided by R for the chemokines); frozen
    // when the transport step moves them.
    if !TRANSPORT {
        let g = goals(s, inp, m, f);
        let k = clearance();
        let r = retardation();
        o.a[3] = k[0] * g[0];
        o.b[3] = k[0];
        o.a[4] = k[1] * g[1];
        o.b[4] = k[1];
        o.a[5] = k[2] * g[2];
        o.b[5] = k[2];
        o.a[6] = k[3] * g[3];
        o.b[6] = k[3];
        o.a[11] = k[4] * g[4];
        o.b[11] = k[4];
        o.a[12] = k[5] * g[5];
        o.b[12] = k[5];
        o.a[13] = k[6] * g[6];
        o.b[13] = k[6];
        o.a[14] = k[7] * g[7];
        o.b[14] = k[7];
        o.a[15] = k[8] * g[8];
        o.b[15] = k[8];
        o.a[16] = k[9] * g[9];
        o.b[16] = k[9];
        o.a[17] = k[10] * g[10];
        o.b[17] = k[10];
        o.a[18] = k[11] * g[11] / r[11];
        o.b[18] = k[11] / r[11];
        o.a[19] = k[12] * g[12] / r[12];
        o.b[19] = k[12] / r[12];
        o.a[20] = k[13] * g[13] / r[13];
        o.b[20] = k[13] / r[13];
    }
    let tau_e = select(P.tau_E_off, P.tau_E_on, inp.ea_on > 0.5);
    o.a[7] = e_on * inp.ea_rho / tau_e;
    o.b[7] = 1.0 / tau_e;
    o.a[8] = e_on * inp.ea_rho / tau_e;
    o.b[8] = 1.0 / tau_e;
    o.a[9] = P.a_END * inp.pep_enk * s.e_sup / P.tau_END;
    o.b[9] = 1.0 / P.tau_END;
    o.a[10] = P.k_tol * f.o_raw * e_on * (1.0 - D.cck);
    o.b[10] = 1.0 / P.tau_tol;
    // §4.6
    let h_fkn = h1(s.sfkn) * (1.0 - D.cx3cr1) * gain.x;
    let d_m = h_fkn + 0.8 * hill(f.atp, P.K_P2Y12, 1.0) + 1.0 * i_inj + 0.5 * h_tnf + 0.5 * h_il1 + 0.3 * h_ccl2;
    let up_m = P.k_M_plus * hill(d_m, P.K_DM, P.n_DM) * (1.0 - 0.8 * D.minocycline) * (1.0 - 0.5 * s.g_ea);
    o.a[22] = up_m;
    o.b[22] = up_m + P.k_M_minus * (1.0 + 2.0 * h_il10 + P.g_off * s.g_ea);
    // ρ_M: apoptosis toward 1 against logistic proliferation (b < 0 while it grows).
    o.a[23] = P.k_apo;
    // Proliferation needs the CSF-1-like injury signal of the footprint (§11.1 decision).
    let csf1 = select(1.0, i_inj / (i_inj + P.K_CSF1), P.K_CSF1 > 0.0);
    o.b[23] = P.k_apo - P.k_pro * csf1 * max(s.m - P.M_pro, 0.0) * (1.0 - s.rho_m / P.rho_max);
    let h_p2x4 = hill(f.atp, P.K_P2X4, 1.0) * (1.0 - D.p2x4);
    let d_p = (s.m * (h_fkn + h_p2x4 * s.x4 + 0.5 * h_tnf + 0.5 * h_il1 + P.w_Dp_x12 * h_x12) + 0.3 * a_nk1)
        * (1.0 - 0.8 * D.minocycline);
    let up_p = P.k_p_plus * d_p * (1.0 - D.p38);
    o.a[24] = up_p;
    o.b[24] = up_p + P.k_p_minus * (1.0 + 3.0 * h_il10 + P.w_MKP * pow(max(s.y, 0.0), P.n_MKP));
    let up_x4 = P.k_X4 * s.m * (1.0 + h_ccl2) * (1.0 - D.x4_antisense);
    o.a[25] = up_x4;
    o.b[25] = up_x4 + 1.0 / P.tau_X4;
    o.a[26] = s.m / P.tau_Y;
    o.b[26] = 1.0 / P.tau_Y;
    // §4.7
    let d_a = 1.0 * h_tnf + 0.7 * h_il1 + 0.3 * hill(f.glu, P.K_A_glu, 1.0) + 0.3 * h1(f.atp)
        + 0.3 * h_x12 + P.w_DA_Cx * s.a * s.cx * (1.0 - D.carbenoxolone) + P.w_DA_infl * i_infl;
    o.a[21] = P.m0 * (1.0 + i_inj) / P.tau_mFKN;
    o.b[21] = P.k_cat * s.cats + 1.0 / P.tau_mFKN;
    let up_a = P.k_A_plus * hill(d_a, P.K_DA, 4.0) * (1.0 - 0.9 * D.fluorocitrate) * (1.0 - 0.5 * s.g_ea);
    o.a[27] = up_a;
    o.b[27] = up_a + P.k_A_minus * (1.0 + P.g_off * s.g_ea) + P.k_LAA * D.laa;
    let up_j = P.k_J_plus * s.a * (h_tnf + P.w_J_x12 * h_x12) * (1.0 - D.jnk);
    o.a[28] = up_j;
    o.b[28] = up_j + P.k_J_minus;
    let up_cx = P.k_Cx * (h_tnf + P.w_Cx_A) * s.a;
    o.a[29] = up_cx;
    o.b[29] = up_cx + 1.0 / P.tau_Cx;
    // §4.8, §4.9
    o.a[30] = 1.0 / P.tau_K_rec;
    o.b[30] = 1.0 / P.tau_K_rec + P.k_BDNF * (h_bdnf + P.w_T_K * t_cell);
    o.a[31] = s.perk * (1.0 + h_cxcl1) / P.tau_COX;
    o.b[31] = 1.0 / P.tau_COX;
    // Φ_op: the opioid gate on the build-up (K_G_op = 0: no gate).
    let phi_op = select(hill(f.o_md + f.o_k, P.K_G_op, 2.0), 1.0, P.K_G_op <= 0.0);
    o.a[32] = P.k_G * e_on * inp.ea_rho * inp.ea_hg * phi_op;
    o.b[32] = 1.0 / P.tau_G;
    // §4.3: the ERK-dependent excitability follows pERK with lag τ_ERK,exc.
    o.a[33] = s.perk / P.tau_ERK_exc;
    o.b[33] = 1.0 / P.tau_ERK_exc;
    o.a[34] = f.r_i;
    o.a[35] = f.r_e;
    return o;
}

// Derivatives of the 34 states (slots 0..34) and the converged r_I, r_E (slots 34, 35).
fn rhs(v: array<f32, 36>, inp: Input, m: CellMap) -> array<f32, 36> {
    let ab = production_loss(v, inp, m);
    var o: array<f32, 36>;
    // @each_state
    o[{i}] = ab.a[{i}] - ab.b[{i}] * v[{i}];
    // @end_state
    o[34] = ab.a[34];
    o[35] = ab.a[35];
    return o;
}

// x(dt) of dx/dt = a − b·x with a, b frozen: x·e^{−b·dt} + a·dt·φ(b·dt), φ(z) = (1 − e^{−z})/z.
// Branch-free: both forms are evaluated and one selected (on lavapipe every `if` in the
// inlined sub-step costs a fixed amount per invocation, taken or not; BENCHMARKS.md).
fn exponential(x: f32, a: f32, b: f32, dt: f32) -> f32 {
    let z = b * dt;
    let series = x * (1.0 - z + 0.5 * z * z) + a * dt * (1.0 - 0.5 * z + z * z / 6.0);
    let e = exp(-z);
    let closed = x * e + a * (1.0 - e) / b;
    return select(closed, series, abs(z) < 1e-3);
}

// Exponential midpoint step (second order, positivity-preserving, stable for any dt): the
// production–loss form is evaluated at the start, used for a half step, re-evaluated there and
// used for the whole step. `y` holds the 34 states and the r_I, r_E warm starts.
fn exp_midpoint(y: array<f32, 36>, inp: Input, m: CellMap, dt: f32) -> array<f32, 36> {
    let ab0 = production_loss(y, inp, m);
    var mid = y;
    // @each_state
    mid[{i}] = exponential(y[{i}], ab0.a[{i}], ab0.b[{i}], 0.5 * dt);
    // @end_state
    mid[34] = ab0.a[34];
    mid[35] = ab0.a[35];
    let ab1 = production_loss(mid, inp, m);
    var out: array<f32, 36>;
    // @each_state
    out[{i}] = exponential(y[{i}], ab1.a[{i}], ab1.b[{i}], dt);
    // @end_state
    out[31] = clamp(out[31], 0.0, 2.0);
    out[34] = ab1.a[34];
    out[35] = ab1.a[35];
    return out;
}

// `T.count` exponential-midpoint sub-steps of `T.dt` in one dispatch (the spatial model's
// reaction stage, src/tissue/mod.rs): the state stays in registers between sub-steps, so it is read
// and written once per run instead of once per sub-step. With `goals`, the run ends by writing
// the mediators' goals at the next input (`exp_step_goals`). Every array index is a constant
// after the template expansion (src/gpu/reaction.rs), and the code is branch-free where it can
// be: a dynamically indexed private array lives in scratch memory, and on lavapipe each `if`
// costs its body whether taken or not (BENCHMARKS.md).
// `local` is the cell within its member (the maps are shared by an ensemble's members); the
// member is the workgroup's z, uniform across the workgroup, so that its globals and drugs are
// scalar loads (lavapipe keeps per-lane copies in registers otherwise).
fn exp_run(local: u32, member: u32, goals: bool) {
    let cell = enter_member(local, member);
    if inactive(local) {
        return;
    }
    let m = load_map(local);
    enter_drugs(m);
    var y = load_state(cell);
    for (var k = 0u; k < T.count; k++) {
        y = exp_midpoint(y, input_at(cell, k), m, T.dt);
    }
    store_state(cell, y);
    if goals {
        write_goals(cell, y, input_at(cell, T.count), m);
    }
}

@compute @workgroup_size(WG_X, 1, 1)
fn exp_step(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
    exp_run(gid.x, wid.z, false);
}

@compute @workgroup_size(WG_X, 1, 1)
fn exp_step_goals(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
    exp_run(gid.x, wid.z, true);
}

fn stage_point(y: array<f32, 36>, k: array<f32, 36>, c: f32, warm: array<f32, 36>) -> array<f32, 36> {
    var out: array<f32, 36>;
    // @each_state
    out[{i}] = y[{i}] + c * k[{i}];
    // @end_state
    out[34] = warm[34];
    out[35] = warm[35];
    return out;
}

fn load_state(cell: u32) -> array<f32, 36> {
    let base = cell * QUADS;
    var y: array<f32, 36>;
    // @each_quad
    let q{i} = state[base + {i}u];
    y[4u * {i}u] = q{i}.x;
    y[4u * {i}u + 1u] = q{i}.y;
    y[4u * {i}u + 2u] = q{i}.z;
    y[4u * {i}u + 3u] = q{i}.w;
    // @end_quad
    return y;
}

fn store_state(cell: u32, y: array<f32, 36>) {
    let base = cell * QUADS;
    // @each_quad
    state[base + {i}u] = vec4<f32>(y[4u * {i}u], y[4u * {i}u + 1u], y[4u * {i}u + 2u], y[4u * {i}u + 3u]);
    // @end_quad
}

// The cell's map (10 vec4, the field order of `CellMap`).
fn load_map(cell: u32) -> CellMap {
    let base = cell * MAP_QUADS;
    // @each_map_quad
    let q{i} = maps[base + {i}u];
    // @end_map_quad
    return CellMap(q0.x, q0.y, q0.z, q0.w, q1.x, q1.y, q1.z, q1.w, q2.x, q2.y, q2.z, q2.w,
        q3.x, q3.y, q3.z, q3.w, q4.x, q4.y, q4.z, q4.w, q5.x, q5.y, q5.z, q5.w,
        q6.x, q6.y, q6.z, q6.w, q7.x, q7.y, q7.z, q7.w, q8.x, q8.y, q8.z, q8.w,
        q9.x, q9.y, q9.z, q9.w, q10.x, q10.y, q10.z, q10.w);
}

// Writes the mediators' goals at the state `y` and input `inp` into aux slots 0..14.
fn write_goals(cell: u32, y: array<f32, 36>, inp: Input, m: CellMap) {
    let s = unpack(y);
    let g = goals(s, inp, m, fast(s, inp, m));
    let base = cell * AUX_QUADS;
    aux[base] = vec4<f32>(g[0], g[1], g[2], g[3]);
    aux[base + 1u] = vec4<f32>(g[4], g[5], g[6], g[7]);
    aux[base + 2u] = vec4<f32>(g[8], g[9], g[10], g[11]);
    aux[base + 3u] = vec4<f32>(g[12], g[13], 0.0, 0.0);
}

// The input of sub-step k of the run: the broadcast input `T.input + k`, or the cell's own.
fn input_at(cell: u32, k: u32) -> Input {
    if BROADCAST {
        return reaching_cord(inputs[member_inputs() + T.input + k]);
    }
    return reaching_cord(inputs[cell]);
}

// The input under the conduction blocks (§6): the paw's afferents and their inflammatory drive
// × (1 − u_afferent_block), the EA pool × (1 − u_ea_block); `Drugs::reaching_cord` on the host.
fn reaching_cord(i: Input) -> Input {
    var o = i;
    let a = 1.0 - D.afferent_block;
    o.r_cp = o.r_cp * a;
    o.r_cn = o.r_cn * a;
    o.r_ad = o.r_ad * a;
    o.r_ab = o.r_ab * a;
    o.i_infl = o.i_infl * a;
    o.ea_rho = o.ea_rho * (1.0 - D.ea_block);
    return o;
}

fn input_of(cell: u32) -> Input {
    return input_at(cell, 0u);
}

// Inactive cells (outside the cord) carry α_grey/α = 0 and are skipped.
fn inactive(cell: u32) -> bool {
    // alpha_ratio is field 31 of `CellMap`: quad 7, component w.
    return cell >= G.n_cells || maps[cell * MAP_QUADS + 7u].w <= 0.0;
}

@compute @workgroup_size(WG_X, 1, 1)
fn rk4_step(@builtin(global_invocation_id) gid: vec3<u32>) {
    let cell = gid.x;
    if inactive(cell) {
        return;
    }
    let m = load_map(cell);
    enter_drugs(m);
    let y = load_state(cell);
    let inp = input_of(cell);
    let dt = T.dt;
    let k1 = rhs(y, inp, m);
    // Later stages start their fixed-point solves from the first stage's rates.
    var warm = y;
    warm[34] = k1[34];
    warm[35] = k1[35];
    let k2 = rhs(stage_point(y, k1, 0.5 * dt, warm), inp, m);
    let k3 = rhs(stage_point(y, k2, 0.5 * dt, warm), inp, m);
    let k4 = rhs(stage_point(y, k3, dt, warm), inp, m);
    var out: array<f32, 36>;
    // @each_state
    out[{i}] = y[{i}] + dt / 6.0 * (k1[{i}] + 2.0 * k2[{i}] + 2.0 * k3[{i}] + k4[{i}]);
    // @end_state
    out[31] = clamp(out[31], 0.0, 2.0);
    out[34] = warm[34];
    out[35] = warm[35];
    store_state(cell, out);
}

// The fast rates at the current state and input, into `rates`: r_I, r_E, and r_P, r_W
// from the columnar averages in `columns` (computed by the host from a previous call's r_E, r_I).
// The state is not changed (behavioural probes run on a frozen copy, §4.11).
@compute @workgroup_size(WG_X, 1, 1)
fn evaluate_rates(@builtin(global_invocation_id) gid: vec3<u32>) {
    let cell = gid.x;
    if inactive(cell) {
        return;
    }
    let m = load_map(cell);
    enter_drugs(m);
    let s = unpack(load_state(cell));
    let inp = input_of(cell);
    let f = fast(s, inp, m);
    let c = columns[cell];
    let u = projection_drives(s, inp, m, f, c.x, c.y, c.z, c.w);
    rates[cell] = vec4<f32>(f.r_i, f.r_e, logistic(P.rmax_P, u.x - m.theta_p),
        logistic(P.rmax_W, u.y - m.theta_w));
}

fn inverse_logistic(r: f32, rmax: f32) -> f32 {
    return -log(rmax / r - 1.0);
}

// Calibrated thresholds θ_I, θ_E, θ_P, θ_W of this cell at the current state and input (§4.3:
// the rates equal the targets; P and W see the targets of E and I through their columns), into
// `rates`. The same fixed-point pinning as `model::network::Model::calibrate`.
@compute @workgroup_size(WG_X, 1, 1)
fn calibrate_thresholds(@builtin(global_invocation_id) gid: vec3<u32>) {
    let cell = gid.x;
    if inactive(cell) {
        return;
    }
    var m = load_map(cell);
    enter_drugs(m);
    var s = unpack(load_state(cell));
    s.r_i = P.target_rI;
    s.r_e = P.target_rE;
    let inp = input_of(cell);
    for (var it = 0; it < 50; it++) {
        let f = fast(s, inp, m);
        let u = projection_drives(s, inp, m, f, f.r_e, f.r_i, f.r_e, f.r_i);
        m.theta_i = f.u_i0 - inverse_logistic(P.target_rI, P.rmax_I);
        m.theta_e = f.u_e0 - inverse_logistic(P.target_rE, P.rmax_E);
        m.theta_p = u.x - inverse_logistic(P.target_rP, P.rmax_P);
        m.theta_w = u.y - inverse_logistic(P.target_rW, P.rmax_W);
    }
    rates[cell] = vec4<f32>(m.theta_i, m.theta_e, m.theta_p, m.theta_w);
}
