"""Independent check: dorsalhorn's Gray-Scott output against the NumPy peer (float64).

Runs bench/peers/gray_scott_numpy.py and `dorsalhorn run gray_scott` on the same problem, loads
dorsalhorn's NPY output with numpy.load (so it also checks the files are valid NPY), and fails if
the fields differ by more than the tolerance. Used by .ci/run.

    python3 scripts/compare_numpy.py [N] [STEPS] [TOL]
"""
import os, subprocess, sys, tempfile
import numpy as np

N = int(sys.argv[1]) if len(sys.argv) > 1 else 128
STEPS = int(sys.argv[2]) if len(sys.argv) > 2 else 3000
TOL = float(sys.argv[3]) if len(sys.argv) > 3 else 1e-4
root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
exe = os.path.join(root, "target", "release", "dorsalhorn")

with tempfile.TemporaryDirectory() as tmp:
    ref = os.path.join(tmp, "ref.npz")
    subprocess.run([sys.executable, os.path.join(root, "bench/peers/gray_scott_numpy.py"),
                    str(N), str(STEPS), ref, "f64"], check=True)
    out = os.path.join(tmp, "run")
    subprocess.run([exe, "run", "gray_scott", "--quiet", "--out", out,
                    "--set", f"grid.size=[{N},{N}]", "--set", f"time.steps={STEPS}",
                    "--set", f"output.every_steps={STEPS}"], check=True)
    r = np.load(ref)
    worst = 0.0
    for s in ["u", "v"]:
        got = np.load(os.path.join(out, "fields", f"{s}_{STEPS:08d}.npy"))
        assert got.dtype == np.float32 and got.shape == (N, N), (got.dtype, got.shape)
        d = float(np.abs(got.astype(np.float64) - r[s]).max())
        print(f"{s}: max |dorsalhorn - numpy f64| = {d:.3e} (N={N}, {STEPS} steps, v max {r['v'].max():.3f})")
        worst = max(worst, d)
    if worst > TOL:
        sys.exit(f"FAILED: difference {worst:.3e} exceeds {TOL:.1e}")
    print(f"ok: within {TOL:.1e}")
