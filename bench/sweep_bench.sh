#!/usr/bin/env bash
# Batched vs sequential sweep (issue 22, item 8), in one invocation: the same sweep of the
# default scenario over EA frequency × intensity (16 members by default) run twice, first with
# the members one after another (`--batch 1`, the reference), then side by side as one GPU
# ensemble (`--batch N`). The baseline is settled once before either is timed (both read it from
# the cache). Prints the walls, the ratio, and checks that every member's timeseries.csv and
# snapshots are byte-identical between the two.
# Usage: bench/sweep_bench.sh [SPACING_UM=20] [DAYS=2] [FREQUENCIES=2,15,50,100] [INTENSITIES=0.5,1,1.5,2]
# One EA session, on day 1 at 10:00 (DAYS > 1.45). Figures and movies are off: this times the
# stepping and the read-outs, not the drawing.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=target/release/dorsalhorn
[ -x "$BIN" ] || cargo build --release
H=${1:-20}
DAYS=${2:-2}
FREQ=${3:-2,15,50,100}
AMP=${4:-0.5,1,1.5,2}
N=$(( $(tr ',' '\n' <<<"$FREQ" | wc -l) * $(tr ',' '\n' <<<"$AMP" | wc -l) ))
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
export DORSALHORN_CACHE_DIR="$OUT/cache"
SETS=(--set "tissue.spacing_um=$H" --set "time.days=$DAYS" --set output.figures=false
      --set 'output.movie="none"')
echo "adapter: $($BIN info 2>/dev/null | grep -m1 'adapter:' | sed 's/adapter: //')"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "sweep: cfa_ea_2hz at $H µm for $DAYS d (EA on day 1), ea[0].frequency_hz=$FREQ × ea[0].intensity_ma=$AMP ($N members)"
# The baseline, settled once into the cache (not timed).
$BIN run cfa_ea_2hz "${SETS[@]}" --set time.days=0.01 --set "ea=[]" --out "$OUT/warm" --quiet
declare -A WALL
for b in 1 "$N"; do
    t0=$(date +%s.%N)
    $BIN sweep cfa_ea_2hz --vary "ea[0].frequency_hz=$FREQ" --vary "ea[0].intensity_ma=$AMP" \
        "${SETS[@]}" --set "ea[0].days=[1]" --batch "$b" --out "$OUT/batch$b" --quiet
    WALL[$b]=$(echo "$(date +%s.%N) - $t0" | bc)
done
same=0
for m in "$OUT/batch1"/members/m*; do
    k=$(basename "$m")
    if cmp -s "$m/timeseries.csv" "$OUT/batch$N/members/$k/timeseries.csv" \
        && diff -rq "$m/fields" "$OUT/batch$N/members/$k/fields" >/dev/null; then
        same=$((same + 1))
    fi
done
printf "| members | --batch 1 (reference) | --batch %s | speed-up | members byte-identical |\n|---|---|---|---|---|\n" "$N"
printf "| %s | %.1f s | %.1f s | **%.2f×** | %s of %s |\n" "$N" "${WALL[1]}" "${WALL[$N]}" \
    "$(echo "${WALL[1]} / ${WALL[$N]}" | bc -l)" "$same" "$N"
