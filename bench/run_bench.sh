#!/usr/bin/env bash
# Wall time of the main job, `dorsalhorn run` on the default scenario, from a cold baseline
# cache, in one invocation: the default configuration (implicit transport, steady baseline)
# and, as the reference, the configuration before the speed work (RKL2 transport, 7 days of
# integrated settling), each with its --profile split, then the ratio.
# Usage: bench/run_bench.sh [SPACING_UM] [EXTRA --set ...]   (default 10)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=target/release/dorsalhorn
[ -x "$BIN" ] || cargo build --release
H="${1:-10}"
shift || true
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp/xdg-runtime}"
mkdir -p -m 700 "$XDG_RUNTIME_DIR"
export DORSALHORN_CACHE_DIR=off
echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; vector flags: $(grep -o -w 'avx2\|avx512f' /proc/cpuinfo | sort -u | tr '\n' ' ')"
echo "adapter: $($BIN info 2>/dev/null | grep -m1 'adapter:' || true)"
declare -A WALL
for config in implicit reference; do
    sets=(--set "tissue.spacing_um=$H" "$@")
    if [ "$config" = reference ]; then
        sets+=(--set 'time.transport="rkl2"' --set 'time.settle="integrate"')
    fi
    echo "== $config: $BIN run ${sets[*]} --profile"
    $BIN run "${sets[@]}" --out "$OUT/$config" --overwrite --profile -q
    WALL[$config]=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['wall_time_s'])" "$OUT/$config/summary.json")
done
python3 - "${WALL[implicit]}" "${WALL[reference]}" <<'PY'
import sys
a, b = float(sys.argv[1]), float(sys.argv[2])
print(f"default {a:.1f} s, reference (RKL2 + 7-day settling) {b:.1f} s: ratio {b / a:.2f}x")
PY
