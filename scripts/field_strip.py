#!/usr/bin/env python3
"""One PNG strip per field from a `dorsalhorn run` folder: the field at the given days side by
side, on one colour scale per field (0 to the field's largest value over those days), so that a
rise or a spread between days is visible. NumPy only (no matplotlib); the PNG is written with zlib.

    python3 scripts/field_strip.py out/default docs/images/fields --fields M A IL1b pERK ENK \
        --days 0 1 3 7 --scale 3

writes docs/images/fields/M.png, A.png, … and prints each field's scale. Cells outside the cord
are white; the colour map runs dark blue (0) → green → yellow (the largest value).
"""

import argparse
import glob
import os
import struct
import sys
import zlib

import numpy as np

STOPS = np.array(
    [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]], dtype=float
)


def colour(v):
    v = np.clip(v, 0.0, 1.0) * (len(STOPS) - 1)
    i = np.minimum(v.astype(int), len(STOPS) - 2)
    f = (v - i)[..., None]
    return STOPS[i] * (1 - f) + STOPS[i + 1] * f


def write_png(path, rgb):
    h, w, _ = rgb.shape
    raw = b"".join(b"\x00" + rgb[y].astype(np.uint8).tobytes() for y in range(h))

    def chunk(kind, data):
        c = struct.pack(">I", len(data)) + kind + data
        return c + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
    png += chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")
    tmp = path + ".part"
    with open(tmp, "wb") as f:
        f.write(png)
    os.replace(tmp, path)


def field_at(run, name, day):
    minutes = int(round(day * 1440))
    path = os.path.join(run, "fields", f"{name}_t{minutes:06d}min.npy")
    if not os.path.exists(path):
        have = sorted(glob.glob(os.path.join(run, "fields", f"{name}_t*min.npy")))
        sys.exit(f"error: {path} does not exist ({len(have)} files of {name} in that run; "
                 "add the field to output.fields or pick days that are output times)")
    return np.load(path).astype(float)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("run")
    ap.add_argument("out_dir")
    ap.add_argument("--fields", nargs="+", required=True)
    ap.add_argument("--days", nargs="+", type=float, required=True)
    ap.add_argument("--scale", type=int, default=3, help="pixels per cell (default 3)")
    a = ap.parse_args()
    os.makedirs(a.out_dir, exist_ok=True)
    for name in a.fields:
        frames = [field_at(a.run, name, d) for d in a.days]
        top = max(np.nanmax(f) for f in frames)
        top = top if top > 0 else 1.0
        tiles = []
        for f in frames:
            rgb = colour(np.nan_to_num(f / top, nan=0.0))
            rgb[np.isnan(f)] = 255.0
            rgb = np.repeat(np.repeat(rgb, a.scale, 0), a.scale, 1)
            tiles += [rgb, np.full((rgb.shape[0], 8, 3), 255.0)]
        write_png(os.path.join(a.out_dir, f"{name}.png"), np.concatenate(tiles[:-1], 1))
        print(f"{name}: 0 … {top:.3g}")


if __name__ == "__main__":
    main()
