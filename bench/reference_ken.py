#!/usr/bin/python3
"""Our Python port of the KEN reference semantics, for timing and cross-checking the TypeScript core.

It performs, per row, the operations of the public reference (itsmattei/KEN,
Kernel_Density.extract_KDE) in the same order and with the same numpy/scikit-learn calls:
a Gaussian KernelDensity fit, score_samples on an evenly spaced grid, exp, Python round,
an ordering by rounded density (highest first, ties in grid order), then a greedy walk that
takes the remaining value nearest each grid point and deletes it from the array, and finally
keeps every position whose value is among the picked ones.

Input: a binary file: b"KENR", uint32 count, then per row uint32 n, uint32 k, n float32 (all LE).
Output (stdout): one JSON object {"numpy", "sklearn", "peak_rss_bytes", "cpu_seconds", "rows": [{"ms", "cpu_ms", "kept"}]}
(ms: wall time; cpu_ms: this process's CPU time, which leaves out time spent waiting for a core).
"""
import json
import resource
import struct
import sys
import time

import numpy as np
import sklearn
from sklearn.neighbors import KernelDensity


def rounded_densities(row, k):
    # the reference's bandwidth rule, on numpy's float32 standard deviation
    bw = abs(1.06 * np.std(row) * np.power(len(row), -1 / 5))
    model = KernelDensity(kernel="gaussian", bandwidth=bw).fit(row.reshape(-1, 1))
    grid = np.linspace(min(row), max(row), k)[:, np.newaxis]
    density = np.exp(model.score_samples(grid))
    return [round(d) for d in density], grid.flatten()


def grid_order(rounded, grid):
    # highest rounded density first; one pass over the list per density level, as the reference does
    ordered = []
    for level in range(np.max(rounded), -1, -1):
        for i in [i for i, r in enumerate(rounded) if r == level]:
            ordered.append(grid[i])
    return ordered


def greedy_pick(row, targets):
    # nearest remaining value to each target (argmin: first of equal distances), then removed;
    # float32 row minus a float64 scalar is computed in float32 by numpy 1.x, as in the reference
    remaining = row
    picked = []
    for g in targets:
        j = np.abs(remaining - g).argmin()
        picked.append(remaining[j])
        remaining = np.delete(remaining, j, axis=0)
    return picked


def kept_positions(row, k):
    rounded, grid = rounded_densities(row, k)
    picked = greedy_pick(row, grid_order(rounded, grid))
    return np.flatnonzero(np.isin(row, picked))


def read_rows(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"KENR":
        raise SystemExit(f"{path}: not a KENR row file")
    (count,) = struct.unpack_from("<I", data, 4)
    pos = 8
    rows = []
    for _ in range(count):
        n, k = struct.unpack_from("<II", data, pos)
        pos += 8
        rows.append((np.frombuffer(data, dtype="<f4", count=n, offset=pos).copy(), k))
        pos += 4 * n
    return rows


def main():
    if len(sys.argv) != 2:
        raise SystemExit("usage: reference_ken.py ROWS.bin")
    rows = read_rows(sys.argv[1])
    if rows:
        kept_positions(rows[0][0], rows[0][1])  # warm-up: first-call costs are not per-row costs
    out = []
    for values, k in rows:
        c0 = time.process_time()
        t0 = time.perf_counter()
        kept = kept_positions(values, k)
        ms = (time.perf_counter() - t0) * 1000
        cpu_ms = (time.process_time() - c0) * 1000
        out.append({"ms": ms, "cpu_ms": cpu_ms, "kept": [int(i) for i in kept]})
    usage = resource.getrusage(resource.RUSAGE_SELF)
    json.dump({
        "numpy": np.__version__, "sklearn": sklearn.__version__, "peak_rss_bytes": usage.ru_maxrss * 1024,
        "cpu_seconds": usage.ru_utime + usage.ru_stime, "rows": out,
    }, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
