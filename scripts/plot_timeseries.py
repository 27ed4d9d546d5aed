#!/usr/bin/env python3
"""Plot dorsal-horn time series (timeseries.csv of `dorsalhorn run`) of several runs side by side.

    python3 scripts/plot_timeseries.py OUT.png RUN_DIR_OR_CSV[=LABEL] ... [--region I-II]

Panels: the pain indices (P_mech, P_heat), IL-1β, TNF-α, IL-10, microglial (M) and astrocytic (A)
activation and O_μδ, each the lamina-weighted mean over `--region` (default laminae I-II).
Needs matplotlib (not a dependency of dorsalhorn itself).
"""
import csv
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def load(path):
    if os.path.isdir(path):
        path = os.path.join(path, "timeseries.csv")
    with open(path) as f:
        rows = list(csv.DictReader(f))
    return {k: [float(r[k]) for r in rows] for k in rows[0]}


def main(argv):
    region = "I-II"
    if "--region" in argv:
        i = argv.index("--region")
        region = argv[i + 1]
        del argv[i : i + 2]
    if len(argv) < 3:
        sys.exit(__doc__)
    out, runs = argv[1], argv[2:]
    panels = [
        ("P_mech", "P_mech (mechanical pain index)"),
        ("P_heat", "P_heat (heat pain index)"),
        (f"IL1b@{region}", f"IL-1β, laminae {region} (EC50)"),
        (f"TNF@{region}", f"TNF-α, laminae {region} (EC50)"),
        (f"IL10@{region}", f"IL-10, laminae {region} (EC50)"),
        (f"M@{region}", f"microglial activation M, {region}"),
        (f"A@{region}", f"astrocyte activation A, {region}"),
        (f"O_mudelta@{region}", f"μ/δ-opioid occupancy, {region}"),
    ]
    fig, axes = plt.subplots(2, 4, figsize=(16, 7), constrained_layout=True)
    for spec in runs:
        path, _, label = spec.partition("=")
        data = load(path)
        label = label or os.path.basename(os.path.normpath(path))
        for ax, (key, title) in zip(axes.flat, panels):
            ax.plot(data["day"], data[key], label=label, lw=1.5)
            ax.set_title(title, fontsize=10)
            ax.set_xlabel("day")
    axes.flat[0].legend()
    fig.savefig(out, dpi=110)
    print(f"wrote {out}")


if __name__ == "__main__":
    main(sys.argv)
