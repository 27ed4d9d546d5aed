#!/usr/bin/env bash
# Frame rate and time to first frame of `dorsalhorn view` (issue 5), in one invocation:
# for each grid spacing, (a) the default scenario from a cold start (window, then the baseline
# settled, then playing), and (b) the same window started again, paused (the baseline now comes
# from the viewer's cache; drawing only: the reference that shows what the running simulation
# costs the display).
# Usage: bench/view_bench.sh [SPACINGS...]   (default: 10 5; runs under Xvfb if no DISPLAY)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=target/release/dorsalhorn
[ -x "$BIN" ] || cargo build --release
SPACINGS=("${@:-10 5}")
[ $# -eq 0 ] && SPACINGS=(10 5)
OUT=$(mktemp -d)
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp/xdg-runtime}"
export DORSALHORN_CACHE_DIR="$OUT/cache"   # cold at the start of each grid
mkdir -p -m 700 "$XDG_RUNTIME_DIR"
XPID=""
if [ -z "${DISPLAY:-}" ]; then
    exec 3< <(Xvfb -displayfd 1 -screen 0 1600x1000x24 -nolisten tcp 2>/dev/null)
    XPID=$!
    read -r N <&3
    export DISPLAY=":$N"
fi
trap '[ -n "$XPID" ] && kill $XPID 2>/dev/null; rm -rf "$OUT"' EXIT
echo "adapter: $($BIN info 2>/dev/null | grep -m1 'adapter:' || true)"
printf "| grid | case | first frame (s) | first frame with fields (s) | frames/s | UI build ms/frame (CPU) | draw ms/frame (submit + present) |\n|---|---|---|---|---|---|---|\n"
for h in "${SPACINGS[@]}"; do
    rm -rf "$DORSALHORN_CACHE_DIR"
    for mode in playing paused; do
        extra=()
        [ "$mode" = paused ] && extra=(--paused)
        $BIN view --set tissue.spacing_um="$h" "${extra[@]}" --frames 120 --steps-per-frame 0 \
            --size 1400x900 --screenshot "$OUT/$h-$mode.png" --out "$OUT" >/dev/null 2>&1
        python3 - "$OUT/$h-$mode.json" "$h" "$mode" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
g = r["grid"]
print(f"| {sys.argv[2]} µm ({g[0]}×{g[1]}) | {sys.argv[3]} | {r['first_frame_s']:.2f} | "
      f"{r['first_field_frame_s']:.1f} | {r['frames_per_s']:.1f} | "
      f"{r['ui_cpu_ms_per_frame']:.1f} | {r['draw_ms_per_frame']:.1f} |")
PY
    done
done
