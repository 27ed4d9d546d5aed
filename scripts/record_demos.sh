#!/bin/sh
# Records every built-in demo headless and copies the step figures docs/teaching.md shows into
# docs/images/demos/ (the guide's images come from the current code: rerun this after a change
# to the model, the figures or a demo). Usage: scripts/record_demos.sh [OUT_DIR] (default
# out/demos); needs a release build (cargo build --release). About 5 minutes on the software
# driver with 2 cores.
set -eu
out=${1:-out/demos}
bin=./target/release/dorsalhorn
mkdir -p docs/images/demos
# demo:the steps the guide shows
for spec in gate:3,5 inflammation:2,5 nerve_injury:3,5 ea_frequency:3,5 naloxone:3,5 \
            ltd:3,4 astrocytes:3,5 repeated_ea:3,5; do
    name=${spec%%:*}
    steps=${spec#*:}
    "$bin" demo "$name" --record "$out/$name" --overwrite --size 1280x720 -q
    for k in $(echo "$steps" | tr ',' ' '); do
        cp "$out/$name/steps/step_0$k.png" "docs/images/demos/${name}_step$k.png"
    done
    echo "$name: $(grep -c '"holds": true' "$out/$name/claims.json") of $(grep -c '"holds"' "$out/$name/claims.json") claims hold"
done
