#!/usr/bin/python3
"""Writes densities.json: scikit-learn's KernelDensity densities on the reference's grid for a few
rows, one entry per kernel (the yardstick for src/ken/kernels.ts). Run: /usr/bin/python3 make_densities.py"""
import base64
import json
import os

import numpy as np
import sklearn
from sklearn.neighbors import KernelDensity

KERNELS = ["gaussian", "tophat", "epanechnikov", "exponential", "linear", "cosine"]
rng = np.random.default_rng(20240213)
rows = [
    ("normal", rng.normal(0, 0.02, 96).astype(np.float32), 40),
    ("laplace", rng.laplace(0, 0.03, 200).astype(np.float32), 64),
    ("offset", (0.5 + rng.normal(0, 0.01, 50)).astype(np.float32), 7),
    ("rounded", np.round(rng.normal(0, 0.05, 128), 2).astype(np.float32), 33),
]
out = {"numpy": np.__version__, "sklearn": sklearn.__version__, "rows": []}
for name, x, k in rows:
    bw = abs(1.06 * np.std(x) * np.power(len(x), -1 / 5))
    grid = np.linspace(min(x), max(x), k)[:, np.newaxis]
    entry = {"id": name, "k": k, "bandwidth": float(bw), "values_f32_b64": base64.b64encode(x.tobytes()).decode(), "densities": {}}
    for kernel in KERNELS:
        kde = KernelDensity(kernel=kernel, bandwidth=bw).fit(x.reshape(-1, 1))
        entry["densities"][kernel] = [float(d) for d in np.exp(kde.score_samples(grid))]
    out["rows"].append(entry)
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "densities.json"), "w") as f:
    json.dump(out, f)
    f.write("\n")
