// Pure diffusion: no reaction term (first-order decay, if any, is applied by the step kernel
// from each species' `decay` parameter). Used by the analytic verification cases.
// CPU twin: `Model::react` in src/model/mod.rs.
fn react(c: array<vec4<f32>, NS>) -> array<vec4<f32>, NS> {
    var r: array<vec4<f32>, NS>;
    return r;
}
