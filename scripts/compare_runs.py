#!/usr/bin/env python3
"""Compares two `dorsalhorn run` outputs read-out by read-out.

    python3 scripts/compare_runs.py REFERENCE_DIR OTHER_DIR [--tolerance 0.01] [--worst 15]

For every column of `timeseries.csv` (pain indices, PWT/PWL and every state, rate and occupancy
mean per region) it takes the largest difference over the output times and divides it by the
reference run's range of that column (max − min over the run). A column whose range is below
1e-3 of its largest magnitude is judged against 1e-3 of that magnitude instead (a read-out that
barely moves has no range to speak of). Exits 1 when a column exceeds the tolerance (default
1 %), 2 on unusable input. Standard library only.
"""
import csv
import sys


def read(path):
    try:
        with open(f"{path}/timeseries.csv", newline="") as f:
            rows = list(csv.reader(f))
    except OSError as e:
        sys.exit(f"error: cannot read {path}/timeseries.csv: {e}")
    if len(rows) < 2:
        sys.exit(f"error: {path}/timeseries.csv has no data rows")
    return rows[0], [[float(v) for v in r] for r in rows[1:]]


def main():
    args = sys.argv[1:]
    tol, worst_n = 0.01, 15
    for flag in ("--tolerance", "--worst"):
        if flag in args:
            i = args.index(flag)
            try:
                value = float(args[i + 1])
            except (IndexError, ValueError):
                print(f"error: {flag} needs a number", file=sys.stderr)
                sys.exit(2)
            if flag == "--tolerance":
                tol = value
            else:
                worst_n = int(value)
            del args[i : i + 2]
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    head_a, a = read(args[0])
    head_b, b = read(args[1])
    if head_a != head_b:
        sys.exit("error: the two runs have different columns")
    if [r[0] for r in a] != [r[0] for r in b]:
        sys.exit("error: the two runs have different output times")
    results = []
    for j, name in enumerate(head_a):
        if name in ("time_h", "day"):
            continue
        ref = [r[j] for r in a]
        other = [r[j] for r in b]
        span = max(ref) - min(ref)
        magnitude = max(abs(v) for v in ref)
        scale = max(span, 1e-3 * magnitude)
        diffs = [abs(x - y) for x, y in zip(ref, other)]
        k = max(range(len(diffs)), key=lambda i: diffs[i])
        rel = diffs[k] / scale if scale > 0 else (0.0 if diffs[k] == 0 else float("inf"))
        results.append((rel, name, diffs[k], span, a[k][0]))
    results.sort(reverse=True)
    failing = [r for r in results if r[0] > tol]
    print(f"{len(results)} read-outs, {len(a)} output times; tolerance {tol:.2%} of each range")
    print(f"{'read-out':24} {'worst/range':>12} {'|diff|':>11} {'range':>11} {'at h':>8}")
    for rel, name, d, span, t in results[:worst_n]:
        print(f"{name:24} {rel:12.3%} {d:11.3e} {span:11.3e} {t:8.1f}")
    if failing:
        print(f"{len(failing)} read-out(s) differ by more than {tol:.2%} of their range")
        sys.exit(1)
    print(f"all within {tol:.2%} (largest {results[0][0]:.3%}: {results[0][1]})")


if __name__ == "__main__":
    main()
