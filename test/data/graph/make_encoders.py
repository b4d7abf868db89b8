#!/usr/bin/python3
"""Tiny random encoder checkpoints (BERT, RoBERTa, XLM-RoBERTa, ELECTRA, DistilBERT, ALBERT) with every
task head, and the outputs of a PyTorch re-implementation of Hugging Face transformers' modeling code
(modeling_bert/roberta/xlm_roberta/electra/distilbert/albert.py, eager attention, float32) on padded
batches, so the built ONNX graphs can be checked against them.

Run with Debian's torch: /usr/bin/python3 test/data/graph/make_encoders.py  (writes test/data/graph/encoders/)
Each folder: config.json, model.safetensors (or BF16/F16 shards + index), expected.json
{"inputs": {"input_ids", "attention_mask", "token_type_ids"?}, "outputs": {name: nested lists}}.
"""
import json
import math
import os
import shutil
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..', 'scripts', 'fixtures'))
from safetensors_torch import write_safetensors  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, 'encoders')
FINFO_MIN = torch.finfo(torch.float32).min


# ---------------------------------------------------------------- activations (transformers/activations.py)
def act(name, x):
    if name in ('gelu', 'gelu_python'):
        return F.gelu(x)
    if name in ('gelu_new', 'gelu_pytorch_tanh', 'gelu_fast'):
        return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))
    if name == 'relu':
        return F.relu(x)
    if name in ('silu', 'swish'):
        return F.silu(x)
    raise ValueError(name)


def lin(sd, p, x):
    return F.linear(x, sd[p + '.weight'], sd.get(p + '.bias'))


def ln(sd, p, x, eps):
    return F.layer_norm(x, (x.shape[-1],), sd[p + '.weight'], sd[p + '.bias'], eps)


def ext_mask(mask):
    # get_extended_attention_mask: (1 - mask)[:, None, None, :] * finfo.min
    return (1.0 - mask[:, None, None, :].float()) * FINFO_MIN


def attention(sd, q, k, v, x, heads, bias):
    b, s, h = x.shape
    d = h // heads
    split = lambda t: t.view(b, s, heads, d).permute(0, 2, 1, 3)
    Q, K, V = split(lin(sd, q, x)), split(lin(sd, k, x)), split(lin(sd, v, x))
    scores = torch.matmul(Q, K.transpose(-1, -2)) / math.sqrt(d) + bias
    probs = torch.softmax(scores, dim=-1)
    return torch.matmul(probs, V).permute(0, 2, 1, 3).reshape(b, s, h)


# ---------------------------------------------------------------- BERT-like (BertEmbeddings, BertLayer)
def bert_embeddings(sd, pre, cfg, ids, types, pos):
    x = sd[pre + 'embeddings.word_embeddings.weight'][ids] + sd[pre + 'embeddings.position_embeddings.weight'][pos]
    x = x + sd[pre + 'embeddings.token_type_embeddings.weight'][types]
    return ln(sd, pre + 'embeddings.LayerNorm', x, cfg['layer_norm_eps'])


def bert_encoder(sd, pre, cfg, x, mask):
    bias = ext_mask(mask)
    eps = cfg['layer_norm_eps']
    for i in range(cfg['num_hidden_layers']):
        p = f'{pre}encoder.layer.{i}.'
        c = attention(sd, p + 'attention.self.query', p + 'attention.self.key', p + 'attention.self.value', x, cfg['num_attention_heads'], bias)
        a = ln(sd, p + 'attention.output.LayerNorm', lin(sd, p + 'attention.output.dense', c) + x, eps)
        inter = act(cfg['hidden_act'], lin(sd, p + 'intermediate.dense', a))
        x = ln(sd, p + 'output.LayerNorm', lin(sd, p + 'output.dense', inter) + a, eps)
    return x


def token_heads(sd, task, h):
    if task == 'token':
        return {'logits': lin(sd, 'classifier', h)}
    if task == 'qa':
        logits = lin(sd, 'qa_outputs', h)
        s, e = logits.split(1, dim=-1)
        return {'start_logits': s.squeeze(-1), 'end_logits': e.squeeze(-1)}
    raise ValueError(task)


def bert_forward(sd, cfg, task, ids, mask, types):
    pos = torch.arange(ids.shape[1])[None, :].expand_as(ids)
    h = bert_encoder(sd, 'bert.', cfg, bert_embeddings(sd, 'bert.', cfg, ids, types, pos), mask)
    if task == 'seq':
        pooled = torch.tanh(lin(sd, 'bert.pooler.dense', h[:, 0]))
        return {'logits': lin(sd, 'classifier', pooled)}
    return token_heads(sd, task, h)


def roberta_positions(ids, pad):
    # create_position_ids_from_input_ids
    m = ids.ne(pad).int()
    return (torch.cumsum(m, dim=1).type_as(m) * m).long() + pad


def roberta_forward(sd, cfg, task, ids, mask, types, pre='roberta.'):
    pos = roberta_positions(ids, cfg['pad_token_id'])
    zero = torch.zeros_like(ids)  # token_type_ids buffer
    h = bert_encoder(sd, pre, cfg, bert_embeddings(sd, pre, cfg, ids, zero, pos), mask)
    if task == 'seq':
        x = torch.tanh(lin(sd, 'classifier.dense', h[:, 0]))
        return {'logits': lin(sd, 'classifier.out_proj', x)}
    return token_heads(sd, task, h)


def electra_forward(sd, cfg, task, ids, mask, types):
    pos = torch.arange(ids.shape[1])[None, :].expand_as(ids)
    x = bert_embeddings(sd, 'electra.', cfg, ids, types, pos)
    if 'electra.embeddings_project.weight' in sd:
        x = lin(sd, 'electra.embeddings_project', x)
    h = bert_encoder(sd, 'electra.', cfg, x, mask)
    if task == 'seq':
        x = F.gelu(lin(sd, 'classifier.dense', h[:, 0]))
        return {'logits': lin(sd, 'classifier.out_proj', x)}
    return token_heads(sd, task, h)


def distilbert_forward(sd, cfg, task, ids, mask, types):
    eps = 1e-12  # nn.LayerNorm(dim, eps=1e-12) everywhere
    pos = torch.arange(ids.shape[1])[None, :].expand_as(ids)
    x = sd['distilbert.embeddings.word_embeddings.weight'][ids] + sd['distilbert.embeddings.position_embeddings.weight'][pos]
    x = ln(sd, 'distilbert.embeddings.LayerNorm', x, eps)
    b, s, dim = x.shape
    heads = cfg['n_heads']
    d = dim // heads
    for i in range(cfg['n_layers']):
        p = f'distilbert.transformer.layer.{i}.'
        split = lambda t: t.view(b, s, heads, d).transpose(1, 2)
        q = split(lin(sd, p + 'attention.q_lin', x)) / math.sqrt(d)
        k = split(lin(sd, p + 'attention.k_lin', x))
        v = split(lin(sd, p + 'attention.v_lin', x))
        scores = torch.matmul(q, k.transpose(2, 3))
        scores = scores.masked_fill((mask == 0).view(b, 1, 1, s).expand_as(scores), FINFO_MIN)
        ctx = torch.matmul(torch.softmax(scores, dim=-1), v).transpose(1, 2).reshape(b, s, dim)
        sa = ln(sd, p + 'sa_layer_norm', lin(sd, p + 'attention.out_lin', ctx) + x, eps)
        ffn = lin(sd, p + 'ffn.lin2', act(cfg['activation'], lin(sd, p + 'ffn.lin1', sa)))
        x = ln(sd, p + 'output_layer_norm', ffn + sa, eps)
    if task == 'seq':
        pooled = F.relu(lin(sd, 'pre_classifier', x[:, 0]))
        return {'logits': lin(sd, 'classifier', pooled)}
    return token_heads(sd, task, x)


def albert_forward(sd, cfg, task, ids, mask, types):
    pos = torch.arange(ids.shape[1])[None, :].expand_as(ids)
    x = bert_embeddings(sd, 'albert.', cfg, ids, types, pos)
    x = lin(sd, 'albert.encoder.embedding_hidden_mapping_in', x)
    bias = ext_mask(mask)
    eps = cfg['layer_norm_eps']
    per_group = int(cfg['num_hidden_layers'] / cfg['num_hidden_groups'])
    for i in range(cfg['num_hidden_layers']):
        g = int(i / per_group)
        for j in range(cfg['inner_group_num']):
            p = f'albert.encoder.albert_layer_groups.{g}.albert_layers.{j}.'
            c = attention(sd, p + 'attention.query', p + 'attention.key', p + 'attention.value', x, cfg['num_attention_heads'], bias)
            a = ln(sd, p + 'attention.LayerNorm', x + lin(sd, p + 'attention.dense', c), eps)
            ffn = lin(sd, p + 'ffn_output', act(cfg['hidden_act'], lin(sd, p + 'ffn', a)))
            x = ln(sd, p + 'full_layer_layer_norm', ffn + a, eps)
    if task == 'seq':
        pooled = torch.tanh(lin(sd, 'albert.pooler', x[:, 0]))
        return {'logits': lin(sd, 'classifier', pooled)}
    return token_heads(sd, task, x)


# ---------------------------------------------------------------- weights
# Scales chosen so that the fixtures see errors (test/graph/fixture-sensitivity.test.ts): small embeddings
# make the embedding LayerNorm's input variance small, so its eps matters; the feed-forward layers' gain
# puts the activation's inputs where the GELU variants differ and carries that difference to the outputs.
EMB = 0.03
FFN_GAIN = 3.0
HEAD_GAIN = 20.0  # logits of a few units, as a fine-tune's are (not ~0.1): the absolute tolerance no longer hides changes
QK_GAIN = 3.0  # sharper attention: a small change of the hidden states moves the attention weights


def rand(gen, *shape, scale=EMB):
    return torch.randn(*shape, generator=gen) * scale


def linear_w(sd, gen, p, out, inp, bias=True, gain=1.0):
    sd[p + '.weight'] = rand(gen, out, inp, scale=gain / math.sqrt(inp))
    if bias:
        sd[p + '.bias'] = rand(gen, out, scale=0.1)


def norm_w(sd, gen, p, n):
    sd[p + '.weight'] = 1.0 + rand(gen, n, scale=0.1)
    sd[p + '.bias'] = rand(gen, n, scale=0.1)


def bert_like_weights(gen, pre, cfg, emb):
    sd = {}
    h, inter = cfg['hidden_size'], cfg['intermediate_size']
    sd[pre + 'embeddings.word_embeddings.weight'] = rand(gen, cfg['vocab_size'], emb)
    sd[pre + 'embeddings.position_embeddings.weight'] = rand(gen, cfg['max_position_embeddings'], emb)
    sd[pre + 'embeddings.token_type_embeddings.weight'] = rand(gen, cfg['type_vocab_size'], emb)
    norm_w(sd, gen, pre + 'embeddings.LayerNorm', emb)
    if emb != h:
        linear_w(sd, gen, pre + 'embeddings_project', h, emb)
    for i in range(cfg['num_hidden_layers']):
        p = f'{pre}encoder.layer.{i}.'
        for n in ('attention.self.query', 'attention.self.key', 'attention.self.value', 'attention.output.dense'):
            linear_w(sd, gen, p + n, h, h, gain=QK_GAIN if n.endswith(('query', 'key')) else 1.0)
        norm_w(sd, gen, p + 'attention.output.LayerNorm', h)
        linear_w(sd, gen, p + 'intermediate.dense', inter, h, gain=FFN_GAIN)
        linear_w(sd, gen, p + 'output.dense', h, inter, gain=FFN_GAIN)
        norm_w(sd, gen, p + 'output.LayerNorm', h)
    return sd


def head_weights(sd, gen, family, task, h, labels):
    if task == 'token':
        linear_w(sd, gen, 'classifier', labels, h, gain=HEAD_GAIN)
    elif task == 'qa':
        linear_w(sd, gen, 'qa_outputs', 2, h, gain=HEAD_GAIN)
    elif family == 'bert':
        linear_w(sd, gen, 'bert.pooler.dense', h, h)
        linear_w(sd, gen, 'classifier', labels, h, gain=HEAD_GAIN)
    elif family == 'albert':
        linear_w(sd, gen, 'albert.pooler', h, h)
        linear_w(sd, gen, 'classifier', labels, h, gain=HEAD_GAIN)
    elif family in ('roberta', 'xlm-roberta', 'electra'):
        linear_w(sd, gen, 'classifier.dense', h, h)
        linear_w(sd, gen, 'classifier.out_proj', labels, h, gain=HEAD_GAIN)
    elif family == 'distilbert':
        linear_w(sd, gen, 'pre_classifier', h, h)
        linear_w(sd, gen, 'classifier', labels, h, gain=HEAD_GAIN)


# ---------------------------------------------------------------- inputs
def batch(gen, vocab, pad, lengths, pair_at=None, special=(2, 3)):
    """Right-padded ids; every line starts/ends with special ids; token type 1 after pair_at[i]."""
    s = max(lengths)
    ids = torch.full((len(lengths), s), pad, dtype=torch.long)
    mask = torch.zeros((len(lengths), s), dtype=torch.long)
    types = torch.zeros((len(lengths), s), dtype=torch.long)
    for r, n in enumerate(lengths):
        body = torch.randint(5, vocab, (n,), generator=gen)
        body[0], body[-1] = special
        ids[r, :n] = body
        mask[r, :n] = 1
        if pair_at and pair_at[r]:
            types[r, pair_at[r]:n] = 1
    return ids, mask, types


ARCH = {
    'bert': 'Bert', 'roberta': 'Roberta', 'xlm-roberta': 'XLMRoberta', 'electra': 'Electra', 'distilbert': 'DistilBert', 'albert': 'Albert',
}
HEAD = {'seq': 'ForSequenceClassification', 'token': 'ForTokenClassification', 'qa': 'ForQuestionAnswering'}


def make(name, family, task, seed, extra_cfg=None, dtype=torch.float32, shards=1, labels=3):
    gen = torch.Generator().manual_seed(seed)
    vocab, h, heads, inter, layers = 40, 16, 4, 24, 2
    pad = 1 if family in ('roberta', 'xlm-roberta') else 0
    cfg = {'architectures': [ARCH[family] + HEAD[task]], 'model_type': family, 'vocab_size': vocab, 'pad_token_id': pad,
           'id2label': {str(i): f'L{i}' for i in range(labels)}, 'label2id': {f'L{i}': i for i in range(labels)}}
    if family == 'distilbert':
        cfg.update({'dim': h, 'n_heads': heads, 'hidden_dim': inter, 'n_layers': layers, 'activation': 'gelu',
                    'max_position_embeddings': 20, 'sinusoidal_pos_embds': False})
        sd = {'distilbert.embeddings.word_embeddings.weight': rand(gen, vocab, h),
              'distilbert.embeddings.position_embeddings.weight': rand(gen, 20, h)}
        norm_w(sd, gen, 'distilbert.embeddings.LayerNorm', h)
        for i in range(layers):
            p = f'distilbert.transformer.layer.{i}.'
            for n in ('attention.q_lin', 'attention.k_lin', 'attention.v_lin', 'attention.out_lin'):
                linear_w(sd, gen, p + n, h, h, gain=QK_GAIN if n.endswith(('q_lin', 'k_lin')) else 1.0)
            norm_w(sd, gen, p + 'sa_layer_norm', h)
            linear_w(sd, gen, p + 'ffn.lin1', inter, h, gain=FFN_GAIN)
            linear_w(sd, gen, p + 'ffn.lin2', h, inter, gain=FFN_GAIN)
            norm_w(sd, gen, p + 'output_layer_norm', h)
        # DistilBERT ignores config eps: a different value here must not change the outputs
        cfg['layer_norm_eps'] = 1e-3
    elif family == 'albert':
        emb = 8
        cfg.update({'hidden_size': h, 'embedding_size': emb, 'num_attention_heads': heads, 'intermediate_size': inter,
                    'num_hidden_layers': 4, 'num_hidden_groups': 2, 'inner_group_num': 2, 'hidden_act': 'gelu_new',
                    'max_position_embeddings': 20, 'type_vocab_size': 2, 'layer_norm_eps': 1e-12})
        sd = {'albert.embeddings.word_embeddings.weight': rand(gen, vocab, emb),
              'albert.embeddings.position_embeddings.weight': rand(gen, 20, emb),
              'albert.embeddings.token_type_embeddings.weight': rand(gen, 2, emb)}
        norm_w(sd, gen, 'albert.embeddings.LayerNorm', emb)
        linear_w(sd, gen, 'albert.encoder.embedding_hidden_mapping_in', h, emb)
        for g in range(2):
            for j in range(2):
                p = f'albert.encoder.albert_layer_groups.{g}.albert_layers.{j}.'
                for n in ('attention.query', 'attention.key', 'attention.value', 'attention.dense'):
                    linear_w(sd, gen, p + n, h, h, gain=QK_GAIN if n.endswith(('query', 'key')) else 1.0)
                norm_w(sd, gen, p + 'attention.LayerNorm', h)
                norm_w(sd, gen, p + 'full_layer_layer_norm', h)
                linear_w(sd, gen, p + 'ffn', inter, h, gain=FFN_GAIN)
                linear_w(sd, gen, p + 'ffn_output', h, inter, gain=FFN_GAIN)
    else:
        pre = {'bert': 'bert.', 'roberta': 'roberta.', 'xlm-roberta': 'roberta.', 'electra': 'electra.'}[family]
        emb = 12 if family == 'electra' else h
        cfg.update({'hidden_size': h, 'num_attention_heads': heads, 'intermediate_size': inter, 'num_hidden_layers': layers,
                    'hidden_act': 'gelu', 'max_position_embeddings': 24, 'type_vocab_size': 1 if 'roberta' in family else 2,
                    'layer_norm_eps': 1e-5 if 'roberta' in family else 1e-12})
        if family == 'electra':
            cfg['embedding_size'] = emb
        sd = bert_like_weights(gen, pre, cfg, emb)
    cfg.update(extra_cfg or {})
    head_weights(sd, gen, family, task, h, labels)

    lengths = [7, 5, 3, 6]
    ids, mask, types = batch(gen, vocab, pad, lengths, pair_at=[4, 0, 0, 3] if family in ('bert', 'electra', 'albert') else None,
                             special=(0, 2) if 'roberta' in family else (2, 3))
    # what the checkpoint holds is what the model computes with (a BF16/F16 file: its rounded values)
    stored = {k: v.to(dtype) for k, v in sd.items()}
    compute = {k: v.to(torch.float32) for k, v in stored.items()}
    fwd = {'bert': bert_forward, 'roberta': roberta_forward, 'xlm-roberta': roberta_forward, 'electra': electra_forward,
           'distilbert': distilbert_forward, 'albert': albert_forward}[family]
    with torch.no_grad():
        out = fwd(compute, cfg, task, ids, mask, types)
        # each line alone, unpadded: padding must not change a line's outputs
        alone = []
        for r, n in enumerate(lengths):
            o = fwd(compute, cfg, task, ids[r:r + 1, :n], mask[r:r + 1, :n], types[r:r + 1, :n])
            alone.append({k: v[0].tolist() for k, v in o.items()})
        # the same lines left-padded: a pad token is then each short line's first position, which the
        # sequence-classification heads pool (Hugging Face reads position 0 whatever it holds)
        left = [torch.full_like(t, fill) for t, fill in ((ids, pad), (mask, 0), (types, 0))]
        s = ids.shape[1]
        for r, n in enumerate(lengths):
            for src, dst in zip((ids, mask, types), left):
                dst[r, s - n:] = src[r, :n]
        out_left = fwd(compute, cfg, task, *left)

    d = os.path.join(OUT, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, 'config.json'), 'w') as f:
        json.dump(cfg, f, indent=1)
    names = list(stored)
    if shards == 1:
        write_safetensors(os.path.join(d, 'model.safetensors'), stored)
    else:
        per = math.ceil(len(names) / shards)
        weight_map = {}
        for s in range(shards):
            fn = f'model-{s + 1:05d}-of-{shards:05d}.safetensors'
            part = {n: stored[n] for n in names[s * per:(s + 1) * per]}
            write_safetensors(os.path.join(d, fn), part)
            weight_map.update({n: fn for n in part})
        with open(os.path.join(d, 'model.safetensors.index.json'), 'w') as f:
            json.dump({'metadata': {}, 'weight_map': weight_map}, f, indent=1)
    def feeds(ids, mask, types):
        inputs = {'input_ids': ids.tolist(), 'attention_mask': mask.tolist()}
        if family in ('bert', 'electra', 'albert'):
            inputs['token_type_ids'] = types.tolist()
        return inputs
    with open(os.path.join(d, 'expected.json'), 'w') as f:
        json.dump({'inputs': feeds(ids, mask, types), 'lengths': lengths, 'outputs': {k: v.tolist() for k, v in out.items()}, 'alone': alone,
                   'left': {'inputs': feeds(*left), 'outputs': {k: v.tolist() for k, v in out_left.items()}}}, f)


def main():
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    seed = 1
    # albert-qa is drawn from a seed of its own: seed 18's draw collapsed every token's hidden state over
    # ALBERT's 8 shared-layer passes (end logits 60.2 +- 0.05 on every token), so its outputs barely depended
    # on the input and a GELU variant swap moved them by 3x the tolerance only (seed 218: >= 100x)
    redrawn = {'albert-qa': 218}
    for family in ('bert', 'roberta', 'xlm-roberta', 'electra', 'distilbert', 'albert'):
        for task in ('seq', 'token', 'qa'):
            make(f'{family}-{task}', family, task, redrawn.get(f'{family}-{task}', seed))
            seed += 1
    # sequence classification variants: multi-label, regression (one label), gelu_new activation
    make('bert-seq-multilabel', 'bert', 'seq', 100, {'problem_type': 'multi_label_classification'}, labels=4)
    make('bert-seq-regression', 'bert', 'seq', 101, {'problem_type': 'regression'}, labels=1)
    make('bert-seq-gelu-new', 'bert', 'seq', 102, {'hidden_act': 'gelu_new'})
    # stored dtypes: BF16 in 3 shards with an index, F16 in one file (cast to float32 in the graph)
    make('bert-seq-bf16-shards', 'bert', 'seq', 103, dtype=torch.bfloat16, shards=3)
    make('roberta-seq-f16', 'roberta', 'seq', 104, dtype=torch.float16)


if __name__ == '__main__':
    main()
