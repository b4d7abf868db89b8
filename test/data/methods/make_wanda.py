#!/usr/bin/python3
"""Wanda's activation norms and masks, from PyTorch forward passes with hooks on every Linear / Conv1D.

Run with Debian's torch: /usr/bin/python3 test/data/methods/make_wanda.py  (writes test/data/methods/wanda/)

- bert-ft/: a tiny BertForSequenceClassification (config.json, model.safetensors, a whole-word tokenizer.json,
  data.jsonl with labels the model does not know) and bert-base/ (the same tensors minus random changes).
  The model is an nn.Module written from transformers' modeling_bert.py (read, not copied): embeddings,
  self-attention with the additive mask, intermediate/output, pooler, classifier.
- gpt2-base/: a base for test/data/decoders/gpt2-lm (its tensors minus random changes), whose GPT-2 is
  re-built here as an nn.Module with transformers' Conv1D (x @ W[in, out] + b) and checked against
  test/data/decoders/torch_ref.py.
- expected.json: per model, the calibration lines' token ids, the L2 norm of each input feature of every
  Linear/Conv1D over the real tokens of the first LINES lines (each line run alone, so no padding is
  ever seen; sums in float64), and Wanda's kept columns per row at k=K: score = |ft - base| * norm in
  float32 (a Linear [out, in]: the norm of column j; a Conv1D [in, out]: the norm of row i), the k largest
  per row, ties by the lower column (a stable sort of the negated scores).
"""
import json
import math
import os
import re
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, '..', '..', '..')
sys.path.insert(0, os.path.join(ROOT, 'scripts', 'fixtures'))
sys.path.insert(0, os.path.join(ROOT, 'test', 'data', 'decoders'))
from safetensors_torch import read_safetensors, write_safetensors  # noqa: E402
import torch_ref  # noqa: E402

OUT = os.path.join(HERE, 'wanda')
MIN = torch.finfo(torch.float32).min
K = 5
LINES = {'bert': 7, 'gpt2': 5}


# ---------------------------------------------------------------- tokenizer (whole words, BERT template)
def word_tokenizer(vocab_size):
    specials = {0: '[PAD]', 1: '[UNK]', 2: '[CLS]', 3: '[SEP]'}
    vocab = {specials.get(i, f'w{i}'): i for i in range(vocab_size)}
    added = [{'id': i, 'content': t, 'single_word': False, 'lstrip': False, 'rstrip': False, 'normalized': False, 'special': True}
             for i, t in sorted(specials.items())]
    tok = {
        'version': '1.0', 'truncation': None, 'padding': None, 'added_tokens': added, 'normalizer': None,
        'pre_tokenizer': {'type': 'Whitespace'},
        'post_processor': {'type': 'BertProcessing', 'sep': ['[SEP]', 3], 'cls': ['[CLS]', 2]},
        'decoder': None,
        'model': {'type': 'WordPiece', 'unk_token': '[UNK]', 'continuing_subword_prefix': '##', 'max_input_chars_per_word': 100, 'vocab': vocab},
    }
    return tok, vocab


def encode(text, vocab, unk, max_length, cls=None, sep=None):
    """Whitespace pre-tokenizer (\\w+|[^\\w\\s]+), whole-word lookup, [CLS] a [SEP], cut on the right."""
    ids = [vocab.get(p, unk) for p in re.findall(r'\w+|[^\w\s]+', text)]
    if cls is None:
        return ids
    return [cls] + ids[:max_length - 2] + [sep]


# ---------------------------------------------------------------- BERT as nn.Modules (modeling_bert.py)
class BertLayer(nn.Module):
    def __init__(self, c):
        super().__init__()
        h, i = c['hidden_size'], c['intermediate_size']
        self.heads = c['num_attention_heads']
        self.eps = c['layer_norm_eps']
        self.query, self.key, self.value = nn.Linear(h, h), nn.Linear(h, h), nn.Linear(h, h)
        self.attn_out, self.attn_ln = nn.Linear(h, h), nn.LayerNorm(h, eps=self.eps)
        self.inter, self.out, self.out_ln = nn.Linear(h, i), nn.Linear(i, h), nn.LayerNorm(h, eps=self.eps)

    def forward(self, x, bias):
        b, s, h = x.shape
        d = h // self.heads
        split = lambda t: t.view(b, s, self.heads, d).permute(0, 2, 1, 3)
        q, k, v = split(self.query(x)), split(self.key(x)), split(self.value(x))
        p = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(d) + bias, dim=-1)
        ctx = (p @ v).permute(0, 2, 1, 3).reshape(b, s, h)
        a = self.attn_ln(self.attn_out(ctx) + x)
        return self.out_ln(self.out(F.gelu(self.inter(a))) + a)


class Bert(nn.Module):
    def __init__(self, c, labels):
        super().__init__()
        h = c['hidden_size']
        self.word = nn.Embedding(c['vocab_size'], h)
        self.pos = nn.Embedding(c['max_position_embeddings'], h)
        self.types = nn.Embedding(c['type_vocab_size'], h)
        self.emb_ln = nn.LayerNorm(h, eps=c['layer_norm_eps'])
        self.layers = nn.ModuleList(BertLayer(c) for _ in range(c['num_hidden_layers']))
        self.pooler = nn.Linear(h, h)
        self.classifier = nn.Linear(h, labels)

    def forward(self, ids, mask, types):
        pos = torch.arange(ids.shape[1])[None, :]
        x = self.emb_ln(self.word(ids) + self.pos(pos) + self.types(types))
        bias = (1.0 - mask[:, None, None, :].float()) * MIN
        for layer in self.layers:
            x = layer(x, bias)
        return self.classifier(torch.tanh(self.pooler(x[:, 0])))

    def names(self):
        """Each module's checkpoint name (BertForSequenceClassification's state dict)."""
        n = {self.word: 'bert.embeddings.word_embeddings', self.pos: 'bert.embeddings.position_embeddings',
             self.types: 'bert.embeddings.token_type_embeddings', self.emb_ln: 'bert.embeddings.LayerNorm',
             self.pooler: 'bert.pooler.dense', self.classifier: 'classifier'}
        for i, l in enumerate(self.layers):
            p = f'bert.encoder.layer.{i}.'
            n.update({l.query: p + 'attention.self.query', l.key: p + 'attention.self.key', l.value: p + 'attention.self.value',
                      l.attn_out: p + 'attention.output.dense', l.attn_ln: p + 'attention.output.LayerNorm',
                      l.inter: p + 'intermediate.dense', l.out: p + 'output.dense', l.out_ln: p + 'output.LayerNorm'})
        return n


# ---------------------------------------------------------------- GPT-2 as nn.Modules (modeling_gpt2.py)
class Conv1D(nn.Module):
    """transformers' Conv1D: x @ W + b with W stored [in, out]."""

    def __init__(self, w, b):
        super().__init__()
        self.weight, self.bias = nn.Parameter(w), nn.Parameter(b)

    def forward(self, x):
        return x @ self.weight + self.bias


class Gpt2(nn.Module):
    def __init__(self, cfg, sd):
        super().__init__()
        self.cfg = cfg
        self.sd = sd
        self.convs = nn.ModuleDict()
        self.conv_names = {}
        for name in sd:
            if re.search(r'\.(c_attn|c_proj|c_fc)\.weight$', name):
                m = Conv1D(sd[name], sd[name[:-len('weight')] + 'bias'])
                self.convs[name[:-len('.weight')].replace('.', '_')] = m
                self.conv_names[m] = name[:-len('.weight')]
        self.lm_head = nn.Linear(cfg['n_embd'], cfg['vocab_size'], bias=False)
        self.lm_head.weight = nn.Parameter(sd['lm_head.weight'])

    def conv(self, name):
        return self.convs[name.replace('.', '_')]

    def forward(self, ids):
        cfg, sd = self.cfg, self.sd
        d, nh, eps = cfg['n_embd'], cfg['n_head'], cfg['layer_norm_epsilon']
        hd = d // nh
        b, t = ids.shape
        x = sd['transformer.wte.weight'][ids] + sd['transformer.wpe.weight'][torch.arange(t)[None, :]]
        causal = torch.tril(torch.ones(t, t, dtype=torch.bool))
        for i in range(cfg['n_layer']):
            p = f'transformer.h.{i}.'
            h = F.layer_norm(x, (d,), sd[p + 'ln_1.weight'], sd[p + 'ln_1.bias'], eps)
            q, k, v = (z.view(b, t, nh, hd).permute(0, 2, 1, 3) for z in self.conv(p + 'attn.c_attn')(h).split(d, dim=2))
            s = q @ k.transpose(-1, -2) / torch.full([], hd ** 0.5)
            if cfg.get('scale_attn_by_inverse_layer_idx', False):
                s = s / float(i + 1)
            s = torch.where(causal, s, torch.full([], MIN))
            a = (torch.softmax(s, dim=-1) @ v).permute(0, 2, 1, 3).reshape(b, t, d)
            x = x + self.conv(p + 'attn.c_proj')(a)
            h = F.layer_norm(x, (d,), sd[p + 'ln_2.weight'], sd[p + 'ln_2.bias'], eps)
            x = x + self.conv(p + 'mlp.c_proj')(torch_ref.act(cfg['activation_function'], self.conv(p + 'mlp.c_fc')(h)))
        hidden = F.layer_norm(x, (d,), sd['transformer.ln_f.weight'], sd['transformer.ln_f.bias'], eps)
        return hidden, self.lm_head(hidden)

    def names(self):
        n = dict(self.conv_names)
        n[self.lm_head] = 'lm_head'
        return n


# ---------------------------------------------------------------- hooks, norms, masks
def record(model, run_lines):
    """Sum of squares (float64) of every Linear/Conv1D input feature over every call; lines run one by one."""
    names = model.names()
    sums = {}

    def hook(mod, inp, _out):
        x = inp[0].detach().double().reshape(-1, inp[0].shape[-1])
        key = names[mod] + '.weight'
        sums[key] = sums.get(key, 0) + (x * x).sum(0)

    handles = [m.register_forward_hook(hook) for m in names if isinstance(m, (nn.Linear, Conv1D))]
    with torch.no_grad():
        run_lines()
    for h in handles:
        h.remove()
    return {k: v.sqrt().to(torch.float32) for k, v in sums.items()}


def wanda_kept(ft, base, norm, conv1d):
    """Kept columns per row: the K largest |ft - base| * norm (float32), ties by the lower column."""
    delta = np.abs(ft.numpy().astype(np.float32) - base.numpy().astype(np.float32))
    n = norm.numpy().astype(np.float32)
    score = (delta * n[:, None] if conv1d else delta * n[None, :]).astype(np.float32)
    order = np.argsort(-score, axis=1, kind='stable')
    return [sorted(int(j) for j in row[:K]) for row in order]


def perturbed(sd, g):
    return {k: (v - torch.randn(v.shape, generator=g) * 0.05).contiguous() for k, v in sd.items()}


def bert(g):
    cfg = {
        'model_type': 'bert', 'architectures': ['BertForSequenceClassification'], 'vocab_size': 40, 'hidden_size': 16,
        'num_hidden_layers': 2, 'num_attention_heads': 2, 'intermediate_size': 24, 'hidden_act': 'gelu',
        'max_position_embeddings': 24, 'type_vocab_size': 2, 'layer_norm_eps': 1e-12, 'pad_token_id': 0,
        'id2label': {'0': 'neg', '1': 'pos', '2': 'other'}, 'label2id': {'neg': 0, 'pos': 1, 'other': 2}, 'torch_dtype': 'float32',
    }
    model = Bert(cfg, 3)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.3)
        for m in model.modules():
            if isinstance(m, nn.LayerNorm):
                m.weight.copy_(1 + torch.randn(m.weight.shape, generator=g) * 0.1)
    names = model.names()
    sd = {}
    for m, n in names.items():
        for pn, p in m.named_parameters(recurse=False):
            sd[f'{n}.{pn}'] = p.detach().clone()
    ft_dir, base_dir = os.path.join(OUT, 'bert-ft'), os.path.join(OUT, 'bert-base')
    for d in (ft_dir, base_dir):
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, 'config.json'), 'w') as f:
            json.dump(cfg, f, indent=2)
    write_safetensors(os.path.join(ft_dir, 'model.safetensors'), sd)
    base = perturbed(sd, g)
    write_safetensors(os.path.join(base_dir, 'model.safetensors'), base)
    tok, vocab = word_tokenizer(cfg['vocab_size'])
    with open(os.path.join(ft_dir, 'tokenizer.json'), 'w') as f:
        json.dump(tok, f)
    with open(os.path.join(ft_dir, 'tokenizer_config.json'), 'w') as f:
        json.dump({'pad_token': '[PAD]', 'model_max_length': cfg['max_position_embeddings']}, f)
    words = [w for w in vocab if w.startswith('w')]
    lengths = [3, 9, 1, 30, 5, 12, 7, 4, 6]  # line 4 is cut to 24 tokens; lines 8 and 9 are past LINES
    texts = [' '.join(words[i] for i in torch.randint(0, len(words), (n,), generator=g).tolist()) for n in lengths]
    texts[4] = texts[4] + ' , w999'  # punctuation and a word outside the vocabulary: [UNK]
    with open(os.path.join(ft_dir, 'data.jsonl'), 'w') as f:
        for i, t in enumerate(texts):
            f.write(json.dumps({'text': t, 'label': ['unheard-of', 'pos', 3][i % 3]}) + '\n')
    ids = [encode(t, vocab, 1, cfg['max_position_embeddings'], 2, 3) for t in texts[:LINES['bert']]]

    def run():
        for line in ids:
            x = torch.tensor([line])
            model(x, torch.ones_like(x), torch.zeros_like(x))

    norms = record(model, run)
    kept = {n: wanda_kept(sd[n], base[n], v, False) for n, v in norms.items()}
    return {'lines': LINES['bert'], 'ids': ids, 'k': K, 'norms': {n: v.tolist() for n, v in norms.items()}, 'kept': kept,
            'conv1d': [], 'fallback': sorted(n for n in sd if n not in norms and not n.startswith('classifier.'))}


def gpt2(g):
    src = os.path.join(ROOT, 'test', 'data', 'decoders', 'gpt2-lm')
    with open(os.path.join(src, 'config.json')) as f:
        cfg = json.load(f)
    sd = read_safetensors(os.path.join(src, 'model.safetensors'))
    assert not cfg.get('tie_word_embeddings', True)
    model = Gpt2(cfg, sd)
    with open(os.path.join(src, 'tokenizer.json')) as f:
        vocab = json.load(f)['model']['vocab']
    with open(os.path.join(src, 'data.jsonl')) as f:
        texts = [json.loads(l)['text'] for l in f if l.strip()]
    window = cfg['n_positions']
    ids = []
    for t in texts[:LINES['gpt2']]:
        full = encode(t, vocab, 0, None)
        ids += [full[b:b + window] for b in range(0, len(full), window)]
    # the module is the reference's GPT-2
    x = torch.tensor([ids[3]])
    ref = torch_ref.gpt2_hidden(cfg, sd, x, torch.ones_like(x), torch.arange(x.shape[1])[None, :])
    with torch.no_grad():
        assert torch.allclose(model(x)[0], ref, atol=1e-6), 'Gpt2 module differs from torch_ref'

    def run():
        for line in ids:
            model(torch.tensor([line]))

    norms = record(model, run)
    base = perturbed(sd, g)
    base_dir = os.path.join(OUT, 'gpt2-base')
    os.makedirs(base_dir, exist_ok=True)
    with open(os.path.join(base_dir, 'config.json'), 'w') as f:
        json.dump(cfg, f, indent=2)
    write_safetensors(os.path.join(base_dir, 'model.safetensors'), base)
    conv = [n for n in norms if n != 'lm_head.weight']
    kept = {n: wanda_kept(sd[n], base[n], v, n in conv) for n, v in norms.items()}
    return {'lines': LINES['gpt2'], 'ids': ids, 'k': K, 'norms': {n: v.tolist() for n, v in norms.items()}, 'kept': kept,
            'conv1d': sorted(conv), 'fallback': sorted(n for n in sd if n not in norms)}


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(19)
    os.makedirs(OUT, exist_ok=True)
    exp = {'bert': bert(g), 'gpt2': gpt2(g)}
    with open(os.path.join(OUT, 'expected.json'), 'w') as f:
        json.dump(exp, f, separators=(',', ':'))
        f.write('\n')


if __name__ == '__main__':
    main()
