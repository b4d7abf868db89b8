#!/usr/bin/python3
"""End-to-end metric fixtures: `ken eval` on tiny checkpoints of each head must report the numbers the
reference tools give on the same predictions.

Run with Debian's Python (torch, scikit-learn, scipy):
    /usr/bin/python3 test/data/metrics/make_heads.py
For each head it writes test/data/metrics/heads/<name>/: the weights of the graph fixtures
(test/data/graph/encoders/, made by make_encoders.py) with class names of this test, a WordPiece
tokenizer.json whose vocabulary is one token per word (so the token ids of every line are known
here without a tokenizer library), data.jsonl, and expected.json: the metrics that scikit-learn /
scipy / seqeval's and SQuAD's semantics (make_reference.py) give on the predictions of the PyTorch
re-implementation (make_encoders.py's forward functions) on those ids.
Lines whose decision is within 1e-3 of a tie are left out of the data: onnxruntime and PyTorch agree
to about 1e-5, so the predictions cannot differ.
"""
import json
import os
import random
import shutil
import struct
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'graph'))
sys.path.insert(0, HERE)
import make_encoders as enc  # noqa: E402  (the PyTorch re-implementations of the encoders)
import make_reference as ref  # noqa: E402  (seqeval / SQuAD / utils_qa semantics)
from scipy.stats import pearsonr, spearmanr  # noqa: E402
from sklearn.metrics import (accuracy_score, f1_score, matthews_corrcoef, mean_squared_error,  # noqa: E402
                             precision_recall_fscore_support, confusion_matrix)

SRC = os.path.join(HERE, '..', 'graph', 'encoders')
OUT = os.path.join(HERE, 'heads')
rng = random.Random(7)

# vocabulary: [PAD] [UNK] [CLS] [SEP] [MASK] then 35 words, 40 in all as the fixtures' vocab_size
WORDS = ('ada paris river city north south cat dog red blue green tall small quick slow song bird '
         'tree stone lake hill road town king queen bank door wind rain snow sun moon star sea sky').split()
VOCAB = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'] + WORDS
assert len(VOCAB) == 40
ID = {w: i for i, w in enumerate(VOCAB)}


def read_safetensors(path):
    with open(path, 'rb') as f:
        n = struct.unpack('<Q', f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    sd = {}
    for k, v in header.items():
        if k == '__metadata__':
            continue
        assert v['dtype'] == 'F32'
        a, b = v['data_offsets']
        sd[k] = torch.from_numpy(np.frombuffer(data[a:b], dtype='<f4').copy()).reshape(v['shape'])
    return sd


def tokenizer_json(max_len):
    return {
        'version': '1.0', 'truncation': None, 'padding': None,
        'added_tokens': [{'id': i, 'content': t, 'single_word': False, 'lstrip': False, 'rstrip': False, 'normalized': False, 'special': True}
                         for i, t in enumerate(VOCAB[:5])],
        'normalizer': {'type': 'BertNormalizer', 'clean_text': True, 'handle_chinese_chars': True, 'strip_accents': None, 'lowercase': True},
        'pre_tokenizer': {'type': 'BertPreTokenizer'},
        'post_processor': {'type': 'TemplateProcessing',
                           'single': [{'SpecialToken': {'id': '[CLS]', 'type_id': 0}}, {'Sequence': {'id': 'A', 'type_id': 0}}, {'SpecialToken': {'id': '[SEP]', 'type_id': 0}}],
                           'pair': [{'SpecialToken': {'id': '[CLS]', 'type_id': 0}}, {'Sequence': {'id': 'A', 'type_id': 0}}, {'SpecialToken': {'id': '[SEP]', 'type_id': 0}},
                                    {'Sequence': {'id': 'B', 'type_id': 1}}, {'SpecialToken': {'id': '[SEP]', 'type_id': 1}}],
                           'special_tokens': {'[CLS]': {'id': '[CLS]', 'ids': [2], 'tokens': ['[CLS]']}, '[SEP]': {'id': '[SEP]', 'ids': [3], 'tokens': ['[SEP]']}}},
        'decoder': {'type': 'WordPiece', 'prefix': '##', 'cleanup': True},
        'model': {'type': 'WordPiece', 'unk_token': '[UNK]', 'continuing_subword_prefix': '##', 'max_input_chars_per_word': 100,
                  'vocab': {t: i for i, t in enumerate(VOCAB)}},
    }


def folder(name, src, labels, problem=None):
    d = os.path.join(OUT, name)
    os.makedirs(d, exist_ok=True)
    shutil.copyfile(os.path.join(SRC, src, 'model.safetensors'), os.path.join(d, 'model.safetensors'))
    cfg = json.load(open(os.path.join(SRC, src, 'config.json')))
    cfg['id2label'] = {str(i): l for i, l in enumerate(labels)}
    cfg['label2id'] = {l: i for i, l in enumerate(labels)}
    if problem:
        cfg['problem_type'] = problem
    json.dump(cfg, open(os.path.join(d, 'config.json'), 'w'), indent=1)
    json.dump(tokenizer_json(cfg['max_position_embeddings']), open(os.path.join(d, 'tokenizer.json'), 'w'))
    json.dump({'model_max_length': cfg['max_position_embeddings'], 'do_lower_case': True, 'tokenizer_class': 'BertTokenizer'},
              open(os.path.join(d, 'tokenizer_config.json'), 'w'))
    return d, cfg, read_safetensors(os.path.join(d, 'model.safetensors'))


def run(sd, cfg, task, ids, types=None):
    ids_t = torch.tensor([ids])
    types_t = torch.tensor([types or [0] * len(ids)])
    with torch.no_grad():
        return enc.bert_forward(sd, cfg, task, ids_t, torch.ones_like(ids_t), types_t)


def write_jsonl(path, rows):
    with open(path, 'w') as f:
        for r in rows:
            f.write(json.dumps(r) + '\n')


def sentence(lo, hi):
    return [rng.choice(WORDS) for _ in range(rng.randint(lo, hi))]


def margin(v):
    s = sorted(v, reverse=True)
    return s[0] - s[1] if len(s) > 1 else float('inf')


os.makedirs(OUT, exist_ok=True)

# ---------------------------------------------------------------- sequence classification, single label
labels = ['neg', 'neu', 'pos']
d, cfg, sd = folder('bert-seq', 'bert-seq', labels)
rows, truth, pred = [], [], []
while len(rows) < 40:
    a, b = sentence(2, 8), sentence(2, 8)
    ids = [2] + [ID[w] for w in a] + [3] + [ID[w] for w in b] + [3]
    types = [0] * (len(a) + 2) + [1] * (len(b) + 1)
    logits = run(sd, cfg, 'seq', ids, types)['logits'][0].tolist()
    if margin(logits) < 1e-3:
        continue
    t = rng.randrange(3)
    rows.append({'sentence1': ' '.join(a), 'sentence2': ' '.join(b), 'label': labels[t] if len(rows) % 2 else t})
    truth.append(t)
    pred.append(int(np.argmax(logits)))
write_jsonl(os.path.join(d, 'data.jsonl'), rows)
p, r, f, s = precision_recall_fscore_support(truth, pred, labels=[0, 1, 2], average=None, zero_division=0)
json.dump({'kind': 'single_label', 'accuracy': accuracy_score(truth, pred), 'macro_f1': f1_score(truth, pred, average='macro', zero_division=0),
           'weighted_f1': f1_score(truth, pred, average='weighted', zero_division=0), 'mcc': matthews_corrcoef(truth, pred),
           'per_class': {labels[i]: {'precision': p[i], 'recall': r[i], 'f1': f[i], 'support': int(s[i])} for i in range(3)},
           'confusion': confusion_matrix(truth, pred, labels=[0, 1, 2]).tolist()},
          open(os.path.join(d, 'expected.json'), 'w'), indent=1)

# ---------------------------------------------------------------- multi-label
labels = ['sports', 'music', 'food', 'travel']
d, cfg, sd = folder('bert-seq-multilabel', 'bert-seq-multilabel', labels, 'multi_label_classification')
rows, truth, pred = [], [], []
while len(rows) < 30:
    a = sentence(2, 12)
    logits = run(sd, cfg, 'seq', [2] + [ID[w] for w in a] + [3])['logits'][0].tolist()
    if min(abs(x) for x in logits) < 1e-3:
        continue
    t = [int(rng.random() < 0.4) for _ in labels]
    rows.append({'text': ' '.join(a), 'label': [labels[i] for i in range(4) if t[i]]})
    truth.append(t)
    pred.append([int(x > 0) for x in logits])
write_jsonl(os.path.join(d, 'data.jsonl'), rows)
json.dump({'kind': 'multi_label', 'micro_f1': f1_score(truth, pred, average='micro', zero_division=0),
           'macro_f1': f1_score(truth, pred, average='macro', zero_division=0), 'subset_accuracy': accuracy_score(truth, pred)},
          open(os.path.join(d, 'expected.json'), 'w'), indent=1)

# ---------------------------------------------------------------- regression
d, cfg, sd = folder('bert-seq-regression', 'bert-seq-regression', ['score'], 'regression')
rows, truth, pred = [], [], []
for _ in range(30):
    a = sentence(2, 12)
    y = run(sd, cfg, 'seq', [2] + [ID[w] for w in a] + [3])['logits'][0, 0].item()
    t = round(rng.uniform(0, 5), 1)
    rows.append({'text': ' '.join(a), 'label': t})
    truth.append(t)
    pred.append(y)
write_jsonl(os.path.join(d, 'data.jsonl'), rows)
# the predictions are float outputs, which onnxruntime reproduces to about 1e-5 (not bit for bit), so
# the end-to-end test compares these figures to 1e-5 (the metric functions alone are checked to 1e-9).
json.dump({'kind': 'regression', 'pearson': pearsonr(pred, truth)[0], 'spearman': spearmanr(pred, truth)[0],
           'mse': mean_squared_error(truth, pred)}, open(os.path.join(d, 'expected.json'), 'w'), indent=1)

# ---------------------------------------------------------------- token classification
tags = ['O', 'B-PER', 'I-PER']
d, cfg, sd = folder('bert-token', 'bert-token', tags)
limit = cfg['max_position_embeddings'] - 2
rows, truth, pred = [], [], []
while len(rows) < 30:
    long = len(rows) % 10 == 9
    words = sentence(limit + 3, limit + 6) if long else sentence(1, 12)
    t = [rng.choice(tags) for _ in words]
    kept = words[:limit]  # truncation: words past the window are not scored
    logits = run(sd, cfg, 'token', [2] + [ID[w] for w in kept] + [3])['logits'][0].tolist()
    if any(margin(l) < 1e-3 for l in logits[1:len(kept) + 1]):
        continue
    rows.append({'tokens': [w.capitalize() if i % 3 == 0 else w for i, w in enumerate(words)],
                 'ner_tags': [tags.index(x) if i % 2 else x for i, x in enumerate(t)]})
    truth.append(t[:len(kept)])
    pred.append([tags[int(np.argmax(l))] for l in logits[1:len(kept) + 1]])
write_jsonl(os.path.join(d, 'data.jsonl'), rows)
res = ref.seqeval(truth, pred)
strict = ref.seqeval(truth, pred, mode='strict', scheme='IOB2')
json.dump({'default': {'kind': 'token_classification', **res}, 'strict_iob2': {'kind': 'token_classification', **strict}},
          open(os.path.join(d, 'expected.json'), 'w'), indent=1)

# ---------------------------------------------------------------- question answering (SQuAD 2.0: some unanswerable)
d, cfg, sd = folder('bert-qa', 'bert-qa', ['L0'])
max_len, stride = cfg['max_position_embeddings'], 4
rows, items = [], []
while len(rows) < 24:
    q = sentence(2, 4)
    ctx = sentence(3, 40)
    context = ' '.join(ctx)
    spans, pos = [], 0
    for w in ctx:
        spans.append((pos, pos + len(w)))
        pos += len(w) + 1
    budget = max_len - len(q) - 3
    feats = []
    for start, stop in ref.windows(len(ctx), budget, stride):
        ids = [2] + [ID[w] for w in q] + [3] + [ID[w] for w in ctx[start:stop]] + [3]
        types = [0] * (len(q) + 2) + [1] * (stop - start + 1)
        out = run(sd, cfg, 'qa', ids, types)
        offsets = [None] * (len(q) + 2) + [list(s) for s in spans[start:stop]] + [None]
        feats.append({'start': out['start_logits'][0].numpy().astype(np.float32), 'end': out['end_logits'][0].numpy().astype(np.float32), 'offsets': offsets})
    if any(min(margin(f['start'].tolist()), margin(f['end'].tolist())) < 1e-3 for f in feats):
        continue
    k = rng.randrange(3)
    if k == 0:
        answers = {'text': [], 'answer_start': []}
    else:
        a = rng.randrange(len(ctx))
        b = min(len(ctx), a + rng.randint(1, 3))
        gold = ' '.join(ctx[a:b])
        answers = {'text': [gold, ctx[a]] if k == 2 else [gold], 'answer_start': [spans[a][0]] * (2 if k == 2 else 1)}
    rows.append({'id': f'q{len(rows)}', 'question': '  ' + ' '.join(q), 'context': context, 'answers': answers})
    items.append((context, feats, answers['text']))
# the null-answer decision: SQuAD 2.0 mode as the data has unanswerable lines
preds = []
for context, feats, gold in items:
    p = ref.postprocess(context, feats, True)
    preds.append((p['text'], gold))
write_jsonl(os.path.join(d, 'data.jsonl'), rows)
json.dump({'kind': 'question_answering', 'version': 'squad_v2', 'stride': stride, **ref.squad_v2(preds),
           'predictions': [p for p, _ in preds]}, open(os.path.join(d, 'expected.json'), 'w'), indent=1)
print('wrote', OUT)
