"""Expected outputs of every data-free pruning method (src/methods), computed independently with NumPy and
torch from the methods' written rules, on a small base / fine-tuned pair made here:
  delta-magnitude: per row the k largest |ft - base| (float32; F16/BF16 upcast; the base cast to the
                   fine-tuned dtype first), ties to the lower column (a stable sort by descending score);
  magnitude:       the same on |ft|;
  random:          k columns per row from the seeded generator of src/methods/draws.ts (sha256 key,
                   MurmurHash3 fmix32 per row, xoshiro128**, rejection sampling, partial Fisher-Yates);
  dare:            random's columns, kept value = base + (ft - base) * float32(n/k) in float32, cast to dtype.
Ties are planted: rows where the base is 0 and the changes repeat, rows of repeated fine-tuned values.
Run: /usr/bin/python3 test/data/methods/make_methods.py  (Debian's python3-torch and python3-numpy; < 5 s)
Writes pair/{base,finetuned}/ and expected/<method>-k<k>[-s<seed>].safetensors (the pruned tensors).
"""
import hashlib
import json
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', '..', '..', 'scripts', 'fixtures'))
from safetensors_torch import write_safetensors  # noqa: E402

M32 = 0xFFFFFFFF
rng = np.random.default_rng(20261207)

# name, shape, fine-tuned dtype, base dtype
TENSORS = [
    ('bert.encoder.layer.0.attention.self.query.weight', (12, 40), torch.float32, torch.float32),
    ('bert.encoder.layer.0.attention.self.query.bias', (40,), torch.float32, torch.float32),
    ('bert.encoder.layer.0.intermediate.dense.weight', (8, 33), torch.bfloat16, torch.bfloat16),
    ('bert.encoder.layer.0.output.dense.weight', (6, 17), torch.float16, torch.float16),
    ('bert.encoder.layer.1.attention.self.key.weight', (5, 24), torch.bfloat16, torch.float32),
]
HEAD = ('classifier.weight', (3, 40))


def make_pair():
    base, ft = {}, {}
    for name, shape, ft_dtype, base_dtype in TENSORS:
        b = rng.normal(0, 0.05, size=shape).astype(np.float32)
        d = rng.normal(0, 0.01, size=shape).astype(np.float32)
        if len(shape) == 2:
            # planted ties: a row whose base is 0 and whose changes repeat (|delta| ties), and a row of repeated values
            b[1, :] = 0
            d[1, :] = np.resize(np.array([0.5, -0.5, 0.25, 0.5, -0.25, 0.0], np.float32), shape[1])
            b[2, :] = np.resize(np.array([0.1, 0.2], np.float32), shape[1])
            d[2, :] = np.resize(np.array([0.0, 0.0, 0.3], np.float32), shape[1])
        f = b + d
        base[name] = torch.from_numpy(b).to(base_dtype)
        ft[name] = torch.from_numpy(f).to(ft_dtype)
    ft[HEAD[0]] = torch.from_numpy(rng.normal(0, 0.05, size=HEAD[1]).astype(np.float32))
    base['cls.predictions.bias'] = torch.from_numpy(rng.normal(0, 0.05, size=(40,)).astype(np.float32))
    return base, ft


def fmix32(h):
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & M32
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & M32
    h ^= h >> 16
    return h


def rotl(x, r):
    return ((x << r) | (x >> (32 - r))) & M32


class Draws:
    def __init__(self, seed, tensor):
        dg = hashlib.sha256(f'ken-random:{seed}:{tensor}'.encode()).digest()
        self.key = [int.from_bytes(dg[4 * i:4 * i + 4], 'little') for i in range(4)]

    def start(self, row):
        self.s = [fmix32(self.key[i] ^ fmix32((4 * row + i + 1) & M32)) for i in range(4)]
        if not any(self.s):
            self.s[0] = 1

    def next(self):
        s = self.s
        result = (rotl((s[1] * 5) & M32, 7) * 9) & M32
        t = (s[1] << 9) & M32
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = rotl(s[3], 11)
        return result

    def below(self, m):
        limit = 2 ** 32 - (2 ** 32 % m)
        while True:
            x = self.next()
            if x < limit:
                return x % m

    def columns(self, row, n, k):
        if k >= n:
            return list(range(n))
        p = list(range(n))
        self.start(row)
        for i in range(k):
            j = i + self.below(n - i)
            p[i], p[j] = p[j], p[i]
        return p[:k]


def top_k(scores, k):
    """Indices of the k largest scores, ties to the lower index."""
    order = np.lexsort((np.arange(scores.shape[0]), -scores.astype(np.float64)))
    return order[:k]


def rows_of(t):
    a = t.float().numpy()
    return a.reshape(1, -1) if a.ndim == 1 else a.reshape(a.shape[0], -1)


def pruned(method, k, seed, name, ft_t, base_t):
    dtype = ft_t.dtype
    f = rows_of(ft_t)
    b = rows_of(base_t.to(dtype))  # the base in the fine-tuned dtype: what a reset writes
    rows, n = f.shape
    out = b.copy()
    draws = Draws(seed, name)
    for r in range(rows):
        if method == 'delta-magnitude':
            cols = top_k(np.abs(f[r] - b[r]).astype(np.float32), min(k, n))
        elif method == 'magnitude':
            cols = top_k(np.abs(f[r]).astype(np.float32), min(k, n))
        else:
            cols = np.array(draws.columns(r, n, k), dtype=np.int64)
        if method == 'dare' and k < n:
            scale = np.float32(n / k)
            out[r, cols] = b[r, cols] + (f[r, cols] - b[r, cols]) * scale
        else:
            out[r, cols] = f[r, cols]
    return torch.from_numpy(out.reshape(tuple(ft_t.shape)).astype(np.float32)).to(dtype)


def main():
    base, ft = make_pair()
    for side, tensors in (('base', base), ('finetuned', ft)):
        d = os.path.join(HERE, 'pair', side)
        os.makedirs(d, exist_ok=True)
        write_safetensors(os.path.join(d, 'model.safetensors'), tensors, metadata={'format': 'pt'})
        with open(os.path.join(d, 'config.json'), 'w') as fh:
            json.dump({'model_type': 'bert'}, fh)
    exp = os.path.join(HERE, 'expected')
    os.makedirs(exp, exist_ok=True)
    cases = []
    for method in ('delta-magnitude', 'magnitude', 'random', 'dare'):
        for k in (1, 5, 12, 20, 39, 45):
            for seed in ((0, 7) if method in ('random', 'dare') else (None,)):
                out = {name: pruned(method, k, seed or 0, name, ft[name], base[name]) for name, *_ in TENSORS}
                tag = f'{method}-k{k}' + ('' if seed is None else f'-s{seed}')
                write_safetensors(os.path.join(exp, tag + '.safetensors'), out)
                cases.append({'method': method, 'k': k, **({} if seed is None else {'seed': seed}), 'file': tag + '.safetensors'})
    with open(os.path.join(exp, 'cases.json'), 'w') as fh:
        json.dump(cases, fh, indent=1)
    print(f'{len(cases)} cases')


if __name__ == '__main__':
    main()
