#!/usr/bin/env python3
"""PyTorch reference for bench/eval.ts: a BERT sequence classifier written in plain torch (no
transformers), loading a fine-tuned model.safetensors with a small parser, run on the token ids
our pipeline produced, timed at the batch sizes asked for.

usage: torch_bert.py --weights model.safetensors --config config.json --inputs ids.json
                     [--batch-sizes 1,32] [--repeats 3] [--threads N]
ids.json: {"samples": [{"ids": [...], "typeIds": [...], "label": int}, ...]} batched in that order.
Prints one JSON object: {"torch", "threads", "accuracy", "predictions", "runs": [{"batchSize", "seconds", "samplesPerSecond"}]}.
"""
import argparse
import json
import math
import os
import struct
import sys
import time

import torch
import torch.nn.functional as F


def read_safetensors(path):
    """name -> float32 tensor. Layout: u64 little-endian header size, JSON header, raw data."""
    with open(path, 'rb') as f:
        blob = f.read()
    (n,) = struct.unpack('<Q', blob[:8])
    if n > len(blob) - 8:
        sys.exit(f'{path}: header length {n} runs past the end of the file')
    header = json.loads(blob[8:8 + n])
    data = memoryview(blob)[8 + n:]
    tensors = {}
    for name, meta in header.items():
        if name == '__metadata__':
            continue
        if meta['dtype'] != 'F32':
            sys.exit(f'{path}: {name} is {meta["dtype"]}; this reference reads F32 only')
        begin, end = meta['data_offsets']
        t = torch.frombuffer(bytearray(data[begin:end]), dtype=torch.float32)
        tensors[name] = t.reshape(meta['shape'])
    return tensors


class Bert:
    """BertForSequenceClassification's forward pass (inference: no dropout)."""

    def __init__(self, w, config):
        self.w = w
        self.layers = config['num_hidden_layers']
        self.heads = config['num_attention_heads']
        self.eps = config.get('layer_norm_eps', 1e-12)
        if config.get('hidden_act', 'gelu') != 'gelu':
            sys.exit(f'hidden_act {config.get("hidden_act")} is not supported here')

    def linear(self, x, name):
        return F.linear(x, self.w[name + '.weight'], self.w[name + '.bias'])

    def norm(self, x, name):
        w = self.w[name + '.weight']
        return F.layer_norm(x, w.shape, w, self.w[name + '.bias'], self.eps)

    def __call__(self, ids, type_ids, mask):
        w = self.w
        b, s = ids.shape
        pos = torch.arange(s).unsqueeze(0)
        x = w['bert.embeddings.word_embeddings.weight'][ids] + w['bert.embeddings.position_embeddings.weight'][pos] \
            + w['bert.embeddings.token_type_embeddings.weight'][type_ids]
        x = self.norm(x, 'bert.embeddings.LayerNorm')
        bias = (1.0 - mask[:, None, None, :].to(x.dtype)) * torch.finfo(x.dtype).min
        hd = x.shape[-1] // self.heads
        for i in range(self.layers):
            p = f'bert.encoder.layer.{i}.'
            split = lambda t: t.view(b, s, self.heads, hd).transpose(1, 2)
            q = split(self.linear(x, p + 'attention.self.query'))
            k = split(self.linear(x, p + 'attention.self.key'))
            v = split(self.linear(x, p + 'attention.self.value'))
            scores = q @ k.transpose(-1, -2) / math.sqrt(hd) + bias
            ctx = (scores.softmax(-1) @ v).transpose(1, 2).reshape(b, s, -1)
            x = self.norm(self.linear(ctx, p + 'attention.output.dense') + x, p + 'attention.output.LayerNorm')
            h = F.gelu(self.linear(x, p + 'intermediate.dense'))
            x = self.norm(self.linear(h, p + 'output.dense') + x, p + 'output.LayerNorm')
        pooled = torch.tanh(self.linear(x[:, 0], 'bert.pooler.dense'))
        return self.linear(pooled, 'classifier')


def batches(samples, size):
    for start in range(0, len(samples), size):
        chunk = samples[start:start + size]
        n = max(len(s['ids']) for s in chunk)
        ids = torch.zeros((len(chunk), n), dtype=torch.long)
        types = torch.zeros((len(chunk), n), dtype=torch.long)
        mask = torch.zeros((len(chunk), n), dtype=torch.long)
        for r, s in enumerate(chunk):
            ids[r, :len(s['ids'])] = torch.tensor(s['ids'])
            types[r, :len(s['typeIds'])] = torch.tensor(s['typeIds'])
            mask[r, :len(s['ids'])] = 1
        yield ids, types, mask


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--weights', required=True)
    ap.add_argument('--config', required=True)
    ap.add_argument('--inputs', required=True)
    ap.add_argument('--batch-sizes', default='1,32')
    ap.add_argument('--repeats', type=int, default=3)
    ap.add_argument('--threads', type=int, default=os.cpu_count())
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    with open(a.config) as f:
        model = Bert(read_safetensors(a.weights), json.load(f))
    with open(a.inputs) as f:
        samples = json.load(f)['samples']

    out = {'torch': torch.__version__, 'threads': torch.get_num_threads(), 'runs': []}
    with torch.inference_mode():
        # Tensors are built before the clock starts: the figure is the forward pass alone.
        predictions = [int(p) for ids, t, m in batches(samples, 32) for p in model(ids, t, m).argmax(-1)]
        out['predictions'] = predictions
        out['accuracy'] = sum(p == s['label'] for p, s in zip(predictions, samples)) / len(samples)
        for size in [int(x) for x in a.batch_sizes.split(',')]:
            prepared = list(batches(samples, size))
            best = math.inf
            for _ in range(a.repeats):
                t0 = time.perf_counter()
                for ids, t, m in prepared:
                    model(ids, t, m)
                best = min(best, time.perf_counter() - t0)
            out['runs'].append({'batchSize': size, 'seconds': best, 'samplesPerSecond': len(samples) / best})
    print(json.dumps(out))


if __name__ == '__main__':
    main()
