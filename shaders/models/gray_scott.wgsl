// Gray–Scott reaction (the engine's reference workload), two species u = c[0], v = c[1]:
//   du/dt = -u v^2 + F (1 - u),   dv/dt = u v^2 - (F + k) v
// Parameters from the step uniform: P.model[0].x = F (feed), P.model[0].y = k (kill).
// CPU twin: `Model::react` in src/model/mod.rs.
fn react(c: array<vec4<f32>, NS>) -> array<vec4<f32>, NS> {
    let u = c[0];
    let v = c[1];
    let f = P.model[0].x;
    let k = P.model[0].y;
    let uvv = u * v * v;
    var r: array<vec4<f32>, NS>;
    r[0] = -uvv + f * (1.0 - u);
    r[1] = uvv - (f + k) * v;
    return r;
}
