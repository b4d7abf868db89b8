"""Makes the decoder fixtures: tiny random GPT-2 / Llama / Mistral / Qwen2 folders as save_pretrained writes
them (config.json, model.safetensors or shards with model.safetensors.index.json) and, for each, expected.json:
what torch_ref.py (our PyTorch re-implementation of transformers' modeling code) outputs for every line,
each line scored alone.

Run from the repository root:  /usr/bin/python3 test/data/decoders/make_fixtures.py
Deterministic (fixed seeds); rewrites the folders under test/data/decoders/.

What the fixtures are built to catch: Conv1D [in, out] layouts, tied and untied LM heads, names with and
without the task model's prefix, buffers stored beside the weights (attn.bias, rotary inv_freq), GQA and
MQA, an explicit head_dim, q/k/v biases (Qwen2), rope_theta and llama3 rope scaling, Mistral's sliding
window and Qwen2's ignored one, F16 and BF16 weights, shards with an index, the activation named in the
config, pooling at the last token that is not pad_token_id, and lines long enough to exercise positions.
The script checks, in torch, that right- and left-padded batches give each line's unpadded outputs (with
position ids counted over the attention mask), which is the contract the built graph must meet.
"""
import json
import math
import os
import shutil
import sys

import torch

import torch_ref

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..', 'scripts', 'fixtures'))
from safetensors_torch import write_safetensors  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def save_folder(name, config, tensors, dtype, shards=1, buffers=None):
    """Writes the folder; returns the state dict as the model sees it (stored dtype, read back as float32)."""
    folder = os.path.join(HERE, name)
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    with open(os.path.join(folder, 'config.json'), 'w') as f:
        json.dump(config, f, indent=2)
        f.write('\n')
    stored = {k: v.to(dtype) for k, v in tensors.items()}
    on_disk = dict(stored)
    on_disk.update(buffers or {})
    if shards == 1:
        write_safetensors(os.path.join(folder, 'model.safetensors'), on_disk, metadata={'format': 'pt'}, compact=True)
    else:
        names = list(on_disk)
        per = math.ceil(len(names) / shards)
        weight_map, total = {}, 0
        for s in range(shards):
            file = f'model-{s + 1:05d}-of-{shards:05d}.safetensors'
            part = {n: on_disk[n] for n in names[s * per:(s + 1) * per]}
            write_safetensors(os.path.join(folder, file), part, metadata={'format': 'pt'}, compact=True)
            for n, t in part.items():
                weight_map[n] = file
                total += t.numel() * t.element_size()
        with open(os.path.join(folder, 'model.safetensors.index.json'), 'w') as f:
            json.dump({'metadata': {'total_size': total}, 'weight_map': weight_map}, f, indent=2)
            f.write('\n')
    return {k: v.to(torch.float32) for k, v in stored.items()}


def rand(g, *shape, scale=0.2):
    return torch.randn(*shape, generator=g) * scale


# Scales chosen so that the fixtures see errors (test/graph/fixture-sensitivity.test.ts: a planted GELU
# variant, norm eps, rope_theta, attention scaling or position change must move the outputs by >= 10x the
# tolerance). Embedding rows get scales drawn log-uniformly over EMB_ROWS (WPE_ROWS for GPT-2's positions):
# a token whose rows are small reaches the first norm with a small variance, so its eps matters, while the
# large rows keep a tied LM head's logits a few units wide. GPT-2 (whose GELU variants differ by at most
# 5e-4): QK_GAIN sharpens attention, so a small change of the hidden states moves the next layer's
# attention weights; PROJ_GAIN carries the MLP's activation into the residual stream; LN_F_GAIN puts the
# outputs at a few units to ~20, as a fine-tune's are, where the absolute tolerance no longer hides changes.
# The row scales come from a generator of their own, so the main stream (weights, lines) draws as before.
EMB_ROWS = (0.01, 0.3)
WPE_ROWS = (0.005, 0.03)
PROJ_GAIN = 2.0
QK_GAIN = 3.0
LN_F_GAIN = 3.0
ROW_SCALES = torch.Generator().manual_seed(2025)


def rows(g, n, d, span):
    """An embedding matrix [n, d]: the main stream's normals, each row scaled by its own log-uniform draw over span."""
    lo, hi = (math.log(x) for x in span)
    scale = torch.exp(lo + (hi - lo) * torch.rand(n, generator=ROW_SCALES))
    return torch.randn(n, d, generator=g) * scale[:, None]


def gpt2_weights(g, cfg, prefix, head):
    d, v, n = cfg['n_embd'], cfg['vocab_size'], cfg['n_positions']
    inner = cfg.get('n_inner') or 4 * d
    w = {f'{prefix}wte.weight': rows(g, v, d, EMB_ROWS), f'{prefix}wpe.weight': rows(g, n, d, WPE_ROWS)}
    for i in range(cfg['n_layer']):
        p = f'{prefix}h.{i}.'
        w[p + 'ln_1.weight'] = 1 + rand(g, d, scale=0.1)
        w[p + 'ln_1.bias'] = rand(g, d, scale=0.1)
        w[p + 'attn.c_attn.weight'] = rand(g, d, 3 * d, scale=0.4)  # Conv1D: [in, out]
        w[p + 'attn.c_attn.weight'][:, :2 * d] *= QK_GAIN  # query and key
        w[p + 'attn.c_attn.bias'] = rand(g, 3 * d, scale=0.1)
        w[p + 'attn.c_proj.weight'] = rand(g, d, d, scale=0.3)
        w[p + 'attn.c_proj.bias'] = rand(g, d, scale=0.1)
        w[p + 'ln_2.weight'] = 1 + rand(g, d, scale=0.1)
        w[p + 'ln_2.bias'] = rand(g, d, scale=0.1)
        w[p + 'mlp.c_fc.weight'] = rand(g, d, inner, scale=0.3)
        w[p + 'mlp.c_fc.bias'] = rand(g, inner, scale=0.1)
        w[p + 'mlp.c_proj.weight'] = rand(g, inner, d, scale=0.2 * PROJ_GAIN)
        w[p + 'mlp.c_proj.bias'] = rand(g, d, scale=0.1)
    w[f'{prefix}ln_f.weight'] = (1 + rand(g, d, scale=0.1)) * LN_F_GAIN
    w[f'{prefix}ln_f.bias'] = rand(g, d, scale=0.1) * LN_F_GAIN
    add_head(g, w, cfg, head, d, v)
    return w


def llama_weights(g, cfg, head, prefix='model.'):
    d, v = cfg['hidden_size'], cfg['vocab_size']
    nh = cfg['num_attention_heads']
    nkv = cfg.get('num_key_value_heads') or nh
    hd = cfg.get('head_dim') or d // nh
    inter = cfg['intermediate_size']
    w = {f'{prefix}embed_tokens.weight': rows(g, v, d, EMB_ROWS)}
    for i in range(cfg['num_hidden_layers']):
        p = f'{prefix}layers.{i}.'
        w[p + 'input_layernorm.weight'] = 1 + rand(g, d, scale=0.1)
        w[p + 'self_attn.q_proj.weight'] = rand(g, nh * hd, d, scale=0.35)
        w[p + 'self_attn.k_proj.weight'] = rand(g, nkv * hd, d, scale=0.35)
        w[p + 'self_attn.v_proj.weight'] = rand(g, nkv * hd, d, scale=0.3)
        if cfg['model_type'] == 'qwen2':
            w[p + 'self_attn.q_proj.bias'] = rand(g, nh * hd, scale=0.3)
            w[p + 'self_attn.k_proj.bias'] = rand(g, nkv * hd, scale=0.3)
            w[p + 'self_attn.v_proj.bias'] = rand(g, nkv * hd, scale=0.3)
        w[p + 'self_attn.o_proj.weight'] = rand(g, d, nh * hd, scale=0.3)
        w[p + 'post_attention_layernorm.weight'] = 1 + rand(g, d, scale=0.1)
        w[p + 'mlp.gate_proj.weight'] = rand(g, inter, d, scale=0.35)
        w[p + 'mlp.up_proj.weight'] = rand(g, inter, d, scale=0.35)
        w[p + 'mlp.down_proj.weight'] = rand(g, d, inter, scale=0.3)
    w[f'{prefix}norm.weight'] = 1 + rand(g, d, scale=0.1)
    add_head(g, w, cfg, head, d, v)
    return w


def add_head(g, w, cfg, head, d, v):
    if head == 'lm' and cfg.get('tie_word_embeddings') is False:
        w['lm_head.weight'] = rand(g, v, d, scale=0.3)
    elif head == 'seq':
        w['score.weight'] = rand(g, cfg['num_labels'], d, scale=0.5)  # no bias
    elif head == 'tok' and cfg['model_type'] != 'gpt2':
        w['score.weight'] = rand(g, cfg['num_labels'], d, scale=0.5)  # *ForTokenClassification of the Llama family: score, with bias
        w['score.bias'] = rand(g, cfg['num_labels'], scale=0.2)
    elif head == 'tok':
        w['classifier.weight'] = rand(g, cfg['num_labels'], d, scale=0.5)
        w['classifier.bias'] = rand(g, cfg['num_labels'], scale=0.2)
    elif head == 'qa':
        w['qa_outputs.weight'] = rand(g, 2, d, scale=0.5)
        w['qa_outputs.bias'] = rand(g, 2, scale=0.2)


def make_lines(g, vocab, lengths, avoid=None):
    lines = []
    for n in lengths:
        ids = torch.randint(0, vocab, (n,), generator=g)
        if avoid is not None:
            ids[ids == avoid] = (avoid + 1) % vocab
        lines.append(ids.tolist())
    return lines


def batch(lines, pad_id, side):
    t = max(len(l) for l in lines)
    ids = torch.full((len(lines), t), pad_id, dtype=torch.long)
    mask = torch.zeros((len(lines), t), dtype=torch.long)
    for r, l in enumerate(lines):
        sl = slice(0, len(l)) if side == 'right' else slice(t - len(l), t)
        ids[r, sl] = torch.tensor(l)
        mask[r, sl] = 1
    pos = (mask.cumsum(-1) - 1).clamp(min=0)
    return ids, mask, pos


def outputs_of(cfg, sd, arch, lines):
    """Each line scored alone (batch of one, no padding)."""
    out = []
    for l in lines:
        ids = torch.tensor([l])
        o = torch_ref.run(cfg, sd, arch, ids, torch.ones_like(ids), torch.arange(len(l))[None])
        rec = {'ids': l}
        for k, v in o.items():
            if k == 'logits' and 'token_logprobs' in o:
                continue  # causal LM: the full vocabulary logits stay out of the fixture
            rec[k] = v[0].tolist()
        out.append(rec)
    return out


def check_padding(cfg, sd, arch, lines, alone):
    """The padded batches (right and left) must give every line's alone outputs at its real tokens."""
    pad = cfg.get('pad_token_id')
    pad = 0 if pad is None else pad
    for side in ('right', 'left'):
        ids, mask, pos = batch(lines, pad, side)
        o = torch_ref.run(cfg, sd, arch, ids, mask, pos)
        t = ids.shape[1]
        for r, rec in enumerate(alone):
            n = len(rec['ids'])
            start = 0 if side == 'right' else t - n
            for k, v in rec.items():
                if k == 'ids':
                    continue
                got = o[k][r]
                if k == 'token_logprobs':
                    got = got[start:start + n - 1]
                elif k != 'logits' or arch.endswith('ForTokenClassification'):
                    got = got[start:start + n]
                want = torch.tensor(v)
                err = (got - want).abs().max().item() if want.numel() else 0.0
                assert err < 1e-4, (cfg['model_type'], arch, side, r, k, err)


def fixture(name, cfg, arch, sd, lines, note):
    cfg = dict(cfg, architectures=[arch])
    alone = outputs_of(cfg, sd, arch, lines)
    check_padding(cfg, sd, arch, lines, alone)
    exp = {'note': note, 'architecture': arch, 'lines': alone}
    if any('token_logprobs' in r for r in alone):
        lps = [x for r in alone for x in r['token_logprobs']]
        exp['n_predicted_tokens'] = len(lps)
        exp['mean_nll'] = -sum(lps) / len(lps)
        exp['perplexity'] = math.exp(exp['mean_nll'])
    with open(os.path.join(HERE, name, 'expected.json'), 'w') as f:
        json.dump(exp, f, separators=(',', ':'))
        f.write('\n')


def word_tokenizer(vocab_size, specials, bos=None):
    """A tokenizer.json whose vocabulary is whole words (WordPiece without sub-words): the ids are easy to
    compute here, and the tool's tokenizer library reads it as Hugging Face's fast tokenizers do."""
    vocab = {}
    for i in range(vocab_size):
        vocab[specials.get(i, f'w{i}')] = i
    added = [{'id': i, 'content': t, 'single_word': False, 'lstrip': False, 'rstrip': False, 'normalized': False, 'special': True}
             for i, t in sorted(specials.items())]
    tok = {
        'version': '1.0', 'truncation': None, 'padding': None, 'added_tokens': added, 'normalizer': None,
        'pre_tokenizer': {'type': 'Whitespace'}, 'post_processor': None, 'decoder': None,
        'model': {'type': 'WordPiece', 'unk_token': specials[0], 'continuing_subword_prefix': '##',
                  'max_input_chars_per_word': 100, 'vocab': vocab},
    }
    if bos is not None:
        b = specials[bos]
        tok['post_processor'] = {
            'type': 'TemplateProcessing',
            'single': [{'SpecialToken': {'id': b, 'type_id': 0}}, {'Sequence': {'id': 'A', 'type_id': 0}}],
            'pair': [{'SpecialToken': {'id': b, 'type_id': 0}}, {'Sequence': {'id': 'A', 'type_id': 0}},
                     {'SpecialToken': {'id': b, 'type_id': 1}}, {'Sequence': {'id': 'B', 'type_id': 1}}],
            'special_tokens': {b: {'id': b, 'ids': [bos], 'tokens': [b]}},
        }
    return tok, vocab


def encode(text, vocab, unk, bos, max_length):
    """Whitespace pre-tokenizer (\\w+|[^\\w\\s]+), whole-word lookup, BOS template, truncation on the right."""
    import re
    ids = [vocab.get(piece, unk) for piece in re.findall(r'\w+|[^\w\s]+', text)]
    ids = ids[:max_length - (1 if bos is not None else 0)]
    return ([bos] if bos is not None else []) + ids


def eval_fixture(name, cfg, arch, sd, specials, bos, max_length, g, lengths):
    """tokenizer.json, data.jsonl (texts) and expected-eval.json (what `ken eval --task causal-lm` must give, windows included)."""
    folder = os.path.join(HERE, name)
    tok, vocab = word_tokenizer(cfg['vocab_size'], specials, bos)
    with open(os.path.join(folder, 'tokenizer.json'), 'w') as f:
        json.dump(tok, f)
    words = [w for w, i in vocab.items() if i not in specials]
    texts = []
    for n in lengths:
        picks = torch.randint(0, len(words), (n,), generator=g).tolist()
        text = ' '.join(words[i] for i in picks)
        texts.append(text)
    texts.append('w7 , w9 .')  # punctuation is not in the vocabulary: unknown tokens
    with open(os.path.join(folder, 'data.jsonl'), 'w') as f:
        for t in texts:
            f.write(json.dumps({'text': t}) + '\n')
    # `ken eval` reads a line longer than the model's positions in windows of max_length tokens every
    # max_length // 2 (issue 10; the Hugging Face perplexity guide's strided windows): each window is
    # scored alone and predicts the tokens after the previous window's end (the first: from token 1)
    stride = max_length // 2
    full = [encode(t, vocab, 0, bos, 10 ** 9) for t in texts]
    pieces = []  # (line, begin, end, first target)
    for line, ids in enumerate(full):
        prev_end, begin = 0, 0
        while begin < len(ids):
            end = min(begin + max_length, len(ids))
            first = max(prev_end, begin + 1)
            if first < end:
                pieces.append((line, begin, end, first))
            prev_end = end
            if end == len(ids):
                break
            begin += stride
    scored = outputs_of(dict(cfg, architectures=[arch]), sd, arch, [full[l][b:e] for l, b, e, _ in pieces])
    rows = [[None] * max(0, len(ids) - 1) for ids in full]
    for (line, b, e, first), r in zip(pieces, scored):
        for t in range(first, e):
            rows[line][t - 1] = r['token_logprobs'][t - b - 1]
    lps = [x for r in rows for x in r if x is not None]
    exp = {'lines': [{'ids': ids, 'token_logprobs': r} for ids, r in zip(full, rows)],
           'truncated': sum(1 for l in range(len(full)) if sum(1 for p in pieces if p[0] == l) > 1),
           'n_predicted_tokens': len(lps), 'mean_nll': -sum(lps) / len(lps), 'perplexity': math.exp(-sum(lps) / len(lps))}
    with open(os.path.join(folder, 'expected-eval.json'), 'w') as f:
        json.dump(exp, f, separators=(',', ':'))
        f.write('\n')


def gpt2_config(**kw):
    cfg = {
        'model_type': 'gpt2', 'vocab_size': 61, 'n_embd': 16, 'n_head': 2, 'n_layer': 2, 'n_positions': 40,
        'n_ctx': 40, 'n_inner': None, 'activation_function': 'gelu_new', 'layer_norm_epsilon': 1e-5,
        'scale_attn_weights': True, 'scale_attn_by_inverse_layer_idx': False, 'reorder_and_upcast_attn': False,
        'bos_token_id': 60, 'eos_token_id': 60, 'torch_dtype': 'float32',
    }
    cfg.update(kw)
    return cfg


def llama_config(model_type, **kw):
    cfg = {
        'model_type': model_type, 'vocab_size': 67, 'hidden_size': 32, 'intermediate_size': 40,
        'num_hidden_layers': 2, 'num_attention_heads': 4, 'num_key_value_heads': 2, 'hidden_act': 'silu',
        'max_position_embeddings': 256, 'rms_norm_eps': 1e-5, 'rope_theta': 10000.0, 'rope_scaling': None,
        'tie_word_embeddings': False, 'attention_dropout': 0.0, 'bos_token_id': 1, 'eos_token_id': 2,
    }
    cfg.update(kw)
    return cfg


def main():
    g = torch.Generator().manual_seed(20240917)
    lm_lengths = [1, 2, 5, 9, 17, 40]

    # GPT-2, task-model names (transformer.*), untied lm_head, n_inner, layer-index scaling, F32
    cfg = gpt2_config(tie_word_embeddings=False, n_inner=24, scale_attn_by_inverse_layer_idx=True)
    sd = save_folder('gpt2-lm', dict(cfg, architectures=['GPT2LMHeadModel']), gpt2_weights(g, cfg, 'transformer.', 'lm'), torch.float32)
    fixture('gpt2-lm', cfg, 'GPT2LMHeadModel', sd, make_lines(g, 61, lm_lengths),
            'untied lm_head, n_inner 24, scale_attn_by_inverse_layer_idx, a line at n_positions')
    gpt2_lm = (cfg, sd)

    # GPT-2 as the hub's base checkpoints store it: no prefix, tied lm_head (not stored), attn.bias buffers, F16
    cfg = gpt2_config(torch_dtype='float16')
    tensors = gpt2_weights(g, cfg, '', 'lm')
    bufs = {}
    for i in range(cfg['n_layer']):
        bufs[f'h.{i}.attn.bias'] = torch.tril(torch.ones(40, 40)).view(1, 1, 40, 40).half()
        bufs[f'h.{i}.attn.masked_bias'] = torch.tensor(-1e4).half()
    sd = save_folder('gpt2-hub-lm', dict(cfg, architectures=['GPT2LMHeadModel']), tensors, torch.float16, buffers=bufs)
    fixture('gpt2-hub-lm', cfg, 'GPT2LMHeadModel', sd, make_lines(g, 61, lm_lengths),
            'no transformer. prefix, tied lm_head, attn.bias/masked_bias buffers in the file, F16 weights')

    # GPT-2 heads. Sequence classification pools at the last token that is not pad_token_id (0): lines hold
    # 0 inside and at the end, where the pooled token is the one before.
    cls_lines = make_lines(g, 61, [1, 3, 8, 15, 30], avoid=0) + [[5, 0, 7, 9], [4, 8, 11, 0], [0, 0, 3]]
    cfg = gpt2_config(num_labels=3, pad_token_id=0, activation_function='gelu',
                      id2label={'0': 'a', '1': 'b', '2': 'c'}, label2id={'a': 0, 'b': 1, 'c': 2})
    sd = save_folder('gpt2-seq', dict(cfg, architectures=['GPT2ForSequenceClassification']), gpt2_weights(g, cfg, 'transformer.', 'seq'), torch.float32)
    fixture('gpt2-seq', cfg, 'GPT2ForSequenceClassification', sd, cls_lines,
            'pad_token_id 0 (lines with 0 inside and at the end), activation gelu (erf)')

    tok_labels = ['O', 'B-X', 'I-X', 'B-Y', 'I-Y']
    cfg = gpt2_config(num_labels=5, pad_token_id=60, id2label={str(i): l for i, l in enumerate(tok_labels)},
                      label2id={l: i for i, l in enumerate(tok_labels)})
    sd = save_folder('gpt2-tok', dict(cfg, architectures=['GPT2ForTokenClassification']), gpt2_weights(g, cfg, 'transformer.', 'tok'), torch.float32)
    fixture('gpt2-tok', cfg, 'GPT2ForTokenClassification', sd, make_lines(g, 61, [1, 4, 11, 23]), 'per-token logits')

    cfg = gpt2_config(pad_token_id=60)
    sd = save_folder('gpt2-qa', dict(cfg, architectures=['GPT2ForQuestionAnswering']), gpt2_weights(g, cfg, 'transformer.', 'qa'), torch.float32)
    fixture('gpt2-qa', cfg, 'GPT2ForQuestionAnswering', sd, make_lines(g, 61, [2, 7, 19, 40]), 'start/end logits')

    # Llama: GQA 4 query heads on 2 KV heads, untied lm_head, BF16 in two shards with an index, an old
    # checkpoint's rotary inv_freq buffers, a 200-token line (positions up to 199)
    long_lengths = [1, 2, 6, 13, 31, 200]
    cfg = llama_config('llama', torch_dtype='bfloat16')
    bufs = {f'model.layers.{i}.self_attn.rotary_emb.inv_freq': torch_ref.rope_inv_freq(cfg) for i in range(2)}
    sd = save_folder('llama-lm', dict(cfg, architectures=['LlamaForCausalLM']), llama_weights(g, cfg, 'lm'), torch.bfloat16, shards=2, buffers=bufs)
    fixture('llama-lm', cfg, 'LlamaForCausalLM', sd, make_lines(g, 67, long_lengths),
            'GQA 4/2, untied lm_head, BF16 in 2 shards + index, rotary inv_freq buffers, a 200-token line')
    llama_lm = (cfg, sd)

    # Llama sequence classification: MQA (1 KV head), llama3 rope scaling, rope_theta 500000, pad_token_id 0
    cfg = llama_config('llama', num_key_value_heads=1, rope_theta=500000.0, num_labels=2, pad_token_id=0,
                       rope_scaling={'rope_type': 'llama3', 'factor': 8.0, 'low_freq_factor': 1.0, 'high_freq_factor': 4.0,
                                     'original_max_position_embeddings': 64},
                       id2label={'0': 'neg', '1': 'pos'}, label2id={'neg': 0, 'pos': 1})
    lines = make_lines(g, 67, [1, 4, 10, 37, 120], avoid=0) + [[9, 0, 4, 0]]
    sd = save_folder('llama-seq', dict(cfg, architectures=['LlamaForSequenceClassification']), llama_weights(g, cfg, 'seq'), torch.float32)
    fixture('llama-seq', cfg, 'LlamaForSequenceClassification', sd, lines,
            'MQA, llama3 rope scaling, rope_theta 5e5, pad_token_id 0 (a line ending in 0)')

    # Mistral: tied embeddings, explicit head_dim (4 heads x 12 on hidden 32), GQA 4/1, sliding window 16, F16
    cfg = llama_config('mistral', num_key_value_heads=1, head_dim=12, sliding_window=16, tie_word_embeddings=True,
                       rope_theta=1000000.0, torch_dtype='float16')
    sd = save_folder('mistral-lm', dict(cfg, architectures=['MistralForCausalLM']), llama_weights(g, cfg, 'lm'), torch.float16)
    fixture('mistral-lm', cfg, 'MistralForCausalLM', sd, make_lines(g, 67, [1, 3, 15, 16, 17, 70]),
            'tied, head_dim 12 != hidden/heads, sliding_window 16 with lines around and past it, F16')

    # Qwen2: q/k/v biases, tied, a sliding_window that use_sliding_window=false switches off, BF16
    cfg = llama_config('qwen2', tie_word_embeddings=True, rope_theta=1000000.0, rms_norm_eps=1e-6,
                       use_sliding_window=False, sliding_window=8, max_window_layers=1, torch_dtype='bfloat16')
    sd = save_folder('qwen2-lm', dict(cfg, architectures=['Qwen2ForCausalLM']), llama_weights(g, cfg, 'lm'), torch.bfloat16)
    fixture('qwen2-lm', cfg, 'Qwen2ForCausalLM', sd, make_lines(g, 67, [1, 4, 9, 25, 60]),
            'q/k/v biases, tied, sliding_window present but use_sliding_window false, BF16')

    # Qwen2 sequence classification without pad_token_id: the last token; sliding window on layer 1 only
    cfg = llama_config('qwen2', num_labels=3, pad_token_id=None, use_sliding_window=True, sliding_window=8,
                       max_window_layers=1, id2label={'0': 'x', '1': 'y', '2': 'z'}, label2id={'x': 0, 'y': 1, 'z': 2})
    sd = save_folder('qwen2-seq', dict(cfg, architectures=['Qwen2ForSequenceClassification']), llama_weights(g, cfg, 'seq'), torch.float32)
    fixture('qwen2-seq', cfg, 'Qwen2ForSequenceClassification', sd, make_lines(g, 67, [1, 5, 8, 9, 30]),
            'no pad_token_id (last token), use_sliding_window with max_window_layers 1: layer 1 windowed')

    # Text data for `ken eval --task causal-lm`, after every folder above (their random streams stay as they were):
    # GPT-2 cut at n_positions (40), Llama with a BOS template cut at max_position_embeddings (256)
    g = torch.Generator().manual_seed(7)
    eval_fixture('gpt2-lm', gpt2_lm[0], 'GPT2LMHeadModel', gpt2_lm[1], {0: '<unk>', 60: '<|endoftext|>'}, None, 40, g, [1, 3, 12, 39, 55])
    eval_fixture('llama-lm', llama_lm[0], 'LlamaForCausalLM', llama_lm[1], {0: '<unk>', 1: '<s>', 2: '</s>'}, 1, 256, g, [1, 4, 30, 120, 300])

    # Token classification and extractive QA heads of the Llama family (a generator of their own, so the folders
    # above stay as they were). The token classifier is `score` with a bias; LlamaForQuestionAnswering and
    # Qwen2ForQuestionAnswering keep the base model under `transformer.` (base_model_prefix), Mistral's under `model.`.
    g = torch.Generator().manual_seed(20250311)
    tags = ['O', 'B-P', 'I-P']
    tok = dict(num_labels=3, id2label={str(i): t for i, t in enumerate(tags)}, label2id={t: i for i, t in enumerate(tags)})
    heads = [
        ('llama-tok', 'LlamaForTokenClassification', llama_config('llama', pad_token_id=0, **tok), 'tok', 'model.', torch.float32,
         'score (with bias) on every token, GQA 4/2, pad_token_id 0'),
        ('mistral-tok', 'MistralForTokenClassification', llama_config('mistral', num_key_value_heads=1, sliding_window=6, torch_dtype='float16', **tok),
         'tok', 'model.', torch.float16, 'score (with bias), sliding_window 6 with longer lines, MQA, F16, no pad_token_id'),
        ('qwen2-tok', 'Qwen2ForTokenClassification', llama_config('qwen2', pad_token_id=2, torch_dtype='bfloat16', **tok), 'tok', 'model.', torch.bfloat16,
         'score (with bias), q/k/v biases, BF16'),
        ('llama-qa', 'LlamaForQuestionAnswering', llama_config('llama', pad_token_id=0, rope_theta=500000.0), 'qa', 'transformer.', torch.float32,
         'base model under transformer. (base_model_prefix), qa_outputs with bias'),
        ('mistral-qa', 'MistralForQuestionAnswering', llama_config('mistral', head_dim=12, sliding_window=8, torch_dtype='bfloat16'), 'qa', 'model.', torch.bfloat16,
         'base model under model., head_dim 12, sliding_window 8, BF16'),
        ('qwen2-qa', 'Qwen2ForQuestionAnswering', llama_config('qwen2', pad_token_id=0, rms_norm_eps=1e-6), 'qa', 'transformer.', torch.float32,
         'base model under transformer., q/k/v biases'),
    ]
    for name, arch, cfg, head, prefix, dtype, note in heads:
        sd = save_folder(name, dict(cfg, architectures=[arch]), llama_weights(g, cfg, head, prefix), dtype)
        fixture(name, cfg, arch, sd, make_lines(g, 67, [1, 3, 7, 12, 23]), note)


if __name__ == '__main__':
    main()
