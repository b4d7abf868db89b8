"""Rebuilds the demo pair (demo/debdesc-bert) the way real checkpoints are made (issue 20).

  /usr/bin/python3 scripts/demo-pair/make_demo_pair.py [--out demo/debdesc-bert] [--log scripts/demo-pair/make_demo_pair.log]

Corpus: the short descriptions of the Debian archive's packages (`apt-cache dumpavail` after `apt-get
update`), deduplicated by package name and split by a hash of the name (no package in two splits):
  - packages of the 10 chosen sections: 15% pre-training, 55% fine-tuning train, 10% validation, 20% test;
  - every other package: 92% pre-training, 8% validation (MLM validation only).
Steps:
  1. a WordPiece tokenizer (our own trainer: BPE merges with the "##" continuing-subword prefix, as the
     tokenizers library's WordPieceTrainer does) on the pre-training text; tokenizer.json / vocab.txt /
     tokenizer_config.json;
  2. a BERT base (model_type bert, HF BertModel's tensor names and math, re-implemented below) pre-trained with
     masked-language modelling (15%, 80/10/10) until its validation MLM loss stops improving (no lower loss for
     `--patience` epochs); AdamW, warmup 1 epoch then inverse-square-root decay (a schedule that does not depend on
     the epoch cap, so a run stopped at epoch E equals a run with `--mlm-max-epochs E`); the best base is written
     to <out>/pretrained as soon as it is found, and a file named by `--mlm-stop-file` ends the MLM after the
     current epoch (recorded in the log);
  3. a BertForSequenceClassification fine-tune on the Section labels, LP-FT: the classifier first fitted as a
     logistic regression on the frozen base's pooled features (a linear probe; the encoder is not changed), then
     the whole model fine-tuned with AdamW, lr 5e-5, batch 32, 4 epochs, linear warmup (10%) and decay, weight
     decay 0.01, dropout 0.1; the epoch with the best validation accuracy kept. (Without the probe, a head of
     width 128 learns so slowly at lr <= 5e-5 that the encoder moves more than 5% before the accuracy leaves the
     majority class: measured, see README);
  4. test.jsonl ({"text", "label"} per line).
The log records the corpus digest, the MLM curve, the final masked-token accuracy, the fine-tune curve, the
relative change ||ft - base|| / ||base|| over the encoder's 2-D weights, and a check that `ken eval` (graph
built from config.json) gives the same logits as this PyTorch model.
"""
import os

# OpenBLAS's own thread pool on top of torch's threads: measured 9x slower per step on the loaded 2-core machine
os.environ.setdefault('OPENBLAS_NUM_THREADS', '1')
os.environ.setdefault('OMP_NUM_THREADS', '1')

import argparse
import hashlib
import json
import math
import random
import subprocess
import sys
import time
import unicodedata
from collections import Counter

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
sys.path.insert(0, os.path.join(ROOT, 'scripts', 'fixtures'))
from safetensors_torch import write_safetensors  # noqa: E402

# 10 sections whose short descriptions say what they are about; the catch-all ones (utils, admin, devel, net, misc,
# text, libs, libdevel, doc) and the ones that overlap a kept one (math with science) are left out
SECTIONS = ['fonts', 'games', 'graphics', 'haskell', 'javascript', 'mail', 'ruby', 'science', 'sound', 'web']
SPECIALS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']
PAD, UNK, CLS, SEP, MASK = range(5)
MAX_LEN = 64
CFG = dict(vocab_size=5000, hidden_size=128, num_hidden_layers=4, num_attention_heads=4, intermediate_size=512,
           max_position_embeddings=MAX_LEN, type_vocab_size=2, layer_norm_eps=1e-12, hidden_dropout_prob=0.1,
           attention_probs_dropout_prob=0.1, initializer_range=0.02)
SEED = 20
# the corpus the shipped pair was made from: apt's lists of bookworm, bookworm-updates and bookworm-security (main)
# plus the installed packages' own records, as `apt-cache dumpavail` merges them
SHIPPED_CORPUS = '79f89cd901e5c953a85da85282a5f801384db191a81e92a45decb526dcf3dcdd'
MLM_PHASE1_EPOCHS = 30  # phase 1's length (see pretrain); the shipped base's phase 1 ran these 30 epochs

LOG = None
T0 = time.time()


def log(*a):
    s = ' '.join(str(x) for x in a)
    print(s, flush=True)
    LOG.write(s + '\n')
    LOG.flush()


# ---------------------------------------------------------------- corpus

def read_corpus():
    raw = subprocess.run(['apt-cache', 'dumpavail'], check=True, capture_output=True).stdout.decode('utf-8', 'replace')
    best = {}
    for rec in raw.split('\n\n'):
        f = {}
        for line in rec.split('\n'):
            if line[:1] in (' ', '\t') or ':' not in line:
                continue
            k, v = line.split(':', 1)
            f[k] = v.strip()
        name, sec, desc = f.get('Package'), f.get('Section'), f.get('Description')
        if not name or not sec or not desc:
            continue
        sec = sec.split('/')[-1]  # contrib/games -> games
        cand = (sec, desc)
        if name not in best or cand < best[name]:  # one record per name, whatever order apt lists them in
            best[name] = cand
    return sorted((n, s, d) for n, (s, d) in best.items())


def bucket(name):
    return int(hashlib.sha256(name.encode('utf-8')).hexdigest()[:8], 16) / 2 ** 32


def split(corpus):
    out = {'pretrain': [], 'train': [], 'validation': [], 'test': []}
    for name, sec, desc in corpus:
        h = bucket(name)
        if sec in SECTIONS:
            s = 'pretrain' if h < 0.15 else 'train' if h < 0.70 else 'validation' if h < 0.80 else 'test'
        else:
            s = 'pretrain' if h < 0.92 else 'validation'
        out[s].append((name, sec, desc))
    return out


# ---------------------------------------------------------------- tokenizer (BertNormalizer + BertPreTokenizer + WordPiece)

def _is_control(c):
    if c in '\t\n\r':
        return False
    return unicodedata.category(c) in ('Cc', 'Cf', 'Cn', 'Co')


def _is_chinese(cp):
    return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2A6DF or 0x2A700 <= cp <= 0x2B73F
            or 0x2B740 <= cp <= 0x2B81F or 0x2B920 <= cp <= 0x2CEAF or 0xF900 <= cp <= 0xFAFF or 0x2F800 <= cp <= 0x2FA1F)


def normalize(text):
    out = []
    for c in text:
        cp = ord(c)
        if cp == 0 or cp == 0xFFFD or _is_control(c):
            continue
        if c.isspace():
            out.append(' ')
        elif _is_chinese(cp):
            out.append(' ' + c + ' ')
        else:
            out.append(c)
    t = unicodedata.normalize('NFD', ''.join(out))
    t = ''.join(c for c in t if unicodedata.category(c) != 'Mn')
    return t.lower()


def _is_punc(c):
    cp = ord(c)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(c).startswith('P')


def pre_tokenize(text):
    words, cur = [], []
    for c in text:
        if c.isspace():
            if cur:
                words.append(''.join(cur))
                cur = []
        elif _is_punc(c):
            if cur:
                words.append(''.join(cur))
                cur = []
            words.append(c)
        else:
            cur.append(c)
    if cur:
        words.append(''.join(cur))
    return words


def train_wordpiece(texts, vocab_size, limit_alphabet=1000):
    """BPE merges over words split into first char + "##"-prefixed chars; each merge's result joins the vocab."""
    counts = Counter(w for t in texts for w in pre_tokenize(normalize(t)))
    chars = Counter()
    for w, n in counts.items():
        for c in w:
            chars[c] += n
    alphabet = set(c for c, _ in sorted(chars.items(), key=lambda x: (-x[1], x[0]))[:limit_alphabet])
    words, freq = [], []
    for w, n in sorted(counts.items()):
        if len(w) > 100 or any(c not in alphabet for c in w):
            continue
        words.append([w[0]] + ['##' + c for c in w[1:]])
        freq.append(n)
    vocab = list(SPECIALS)
    seen = set(vocab)
    for sym in sorted(set(s for w in words for s in w)):
        seen.add(sym)
        vocab.append(sym)
    pair_count, where = Counter(), {}
    for i, w in enumerate(words):
        for p in zip(w, w[1:]):
            pair_count[p] += freq[i]
            where.setdefault(p, set()).add(i)
    import heapq
    heap = [(-n, p) for p, n in pair_count.items()]
    heapq.heapify(heap)
    while len(vocab) < vocab_size and heap:
        n, p = heapq.heappop(heap)
        if pair_count.get(p, 0) != -n or n == 0:
            continue
        a, b = p
        new = a + (b[2:] if b.startswith('##') else b)
        if new not in seen:
            seen.add(new)
            vocab.append(new)
        changed = set()
        for i in sorted(where.pop(p, ())):
            w = words[i]
            for q in zip(w, w[1:]):
                pair_count[q] -= freq[i]
                changed.add(q)
            j, nw = 0, []
            while j < len(w):
                if j + 1 < len(w) and w[j] == a and w[j + 1] == b:
                    nw.append(new)
                    j += 2
                else:
                    nw.append(w[j])
                    j += 1
            words[i] = nw
            for q in zip(nw, nw[1:]):
                pair_count[q] += freq[i]
                where.setdefault(q, set()).add(i)
                changed.add(q)
        pair_count.pop(p, None)
        for q in changed:
            if q != p and pair_count.get(q, 0) > 0:
                heapq.heappush(heap, (-pair_count[q], q))
    return vocab


class WordPiece:
    def __init__(self, vocab):
        self.vocab = {t: i for i, t in enumerate(vocab)}

    def word(self, w):
        if len(w) > 100:
            return [UNK]
        out, start = [], 0
        while start < len(w):
            end, cur = len(w), None
            while start < end:
                s = w[start:end] if start == 0 else '##' + w[start:end]
                if s in self.vocab:
                    cur = self.vocab[s]
                    break
                end -= 1
            if cur is None:
                return [UNK]
            out.append(cur)
            start = end
        return out

    def encode(self, text, max_len=MAX_LEN):
        ids = [i for w in pre_tokenize(normalize(text)) for i in self.word(w)]
        return [CLS] + ids[:max_len - 2] + [SEP]


def tokenizer_json(vocab):
    added = [{'id': i, 'content': t, 'single_word': False, 'lstrip': False, 'rstrip': False, 'normalized': False, 'special': True}
             for i, t in enumerate(SPECIALS)]
    tok = lambda t, type_id: {'SpecialToken': {'id': t, 'type_id': type_id}}  # noqa: E731
    seq = lambda s, type_id: {'Sequence': {'id': s, 'type_id': type_id}}  # noqa: E731
    return {
        'version': '1.0',
        'truncation': {'direction': 'Right', 'max_length': MAX_LEN, 'strategy': 'LongestFirst', 'stride': 0},
        'padding': None,
        'added_tokens': added,
        'normalizer': {'type': 'BertNormalizer', 'clean_text': True, 'handle_chinese_chars': True, 'strip_accents': None, 'lowercase': True},
        'pre_tokenizer': {'type': 'BertPreTokenizer'},
        'post_processor': {'type': 'TemplateProcessing',
                           'single': [tok('[CLS]', 0), seq('A', 0), tok('[SEP]', 0)],
                           'pair': [tok('[CLS]', 0), seq('A', 0), tok('[SEP]', 0), seq('B', 1), tok('[SEP]', 1)],
                           'special_tokens': {'[CLS]': {'id': '[CLS]', 'ids': [CLS], 'tokens': ['[CLS]']},
                                              '[SEP]': {'id': '[SEP]', 'ids': [SEP], 'tokens': ['[SEP]']}}},
        'decoder': {'type': 'WordPiece', 'prefix': '##', 'cleanup': True},
        'model': {'type': 'WordPiece', 'unk_token': '[UNK]', 'continuing_subword_prefix': '##', 'max_input_chars_per_word': 100,
                  'vocab': {t: i for i, t in enumerate(vocab)}},
    }


TOKENIZER_CONFIG = {'do_lower_case': True, 'model_max_length': MAX_LEN, 'tokenizer_class': 'BertTokenizer', 'unk_token': '[UNK]',
                    'sep_token': '[SEP]', 'pad_token': '[PAD]', 'cls_token': '[CLS]', 'mask_token': '[MASK]'}


# ---------------------------------------------------------------- BERT (HF modeling_bert names and math)

class Embeddings(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.word_embeddings = nn.Embedding(c['vocab_size'], c['hidden_size'], padding_idx=PAD)
        self.position_embeddings = nn.Embedding(c['max_position_embeddings'], c['hidden_size'])
        self.token_type_embeddings = nn.Embedding(c['type_vocab_size'], c['hidden_size'])
        self.LayerNorm = nn.LayerNorm(c['hidden_size'], eps=c['layer_norm_eps'])
        self.dropout = nn.Dropout(c['hidden_dropout_prob'])

    def forward(self, ids):
        pos = torch.arange(ids.shape[1]).unsqueeze(0)
        e = self.word_embeddings(ids) + self.token_type_embeddings(torch.zeros_like(ids)) + self.position_embeddings(pos)
        return self.dropout(self.LayerNorm(e))


class SelfAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        h = c['hidden_size']
        self.heads = c['num_attention_heads']
        self.query, self.key, self.value = nn.Linear(h, h), nn.Linear(h, h), nn.Linear(h, h)
        self.dropout = nn.Dropout(c['attention_probs_dropout_prob'])

    def forward(self, x, mask_add):
        b, t, h = x.shape
        d = h // self.heads
        sp = lambda y: y.view(b, t, self.heads, d).transpose(1, 2)  # noqa: E731
        q, k, v = sp(self.query(x)), sp(self.key(x)), sp(self.value(x))
        s = q @ k.transpose(-1, -2) / math.sqrt(d) + mask_add
        p = self.dropout(s.softmax(-1))
        return (p @ v).transpose(1, 2).reshape(b, t, h)


class AddNorm(nn.Module):  # BertSelfOutput / BertOutput
    def __init__(self, c, inp):
        super().__init__()
        self.dense = nn.Linear(inp, c['hidden_size'])
        self.LayerNorm = nn.LayerNorm(c['hidden_size'], eps=c['layer_norm_eps'])
        self.dropout = nn.Dropout(c['hidden_dropout_prob'])

    def forward(self, x, res):
        return self.LayerNorm(self.dropout(self.dense(x)) + res)


class Attention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.self = SelfAttention(c)
        self.output = AddNorm(c, c['hidden_size'])

    def forward(self, x, m):
        return self.output(self.self(x, m), x)


class Intermediate(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c['hidden_size'], c['intermediate_size'])

    def forward(self, x):
        return F.gelu(self.dense(x))  # erf gelu, HF "gelu"


class Layer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.attention = Attention(c)
        self.intermediate = Intermediate(c)
        self.output = AddNorm(c, c['intermediate_size'])

    def forward(self, x, m):
        a = self.attention(x, m)
        return self.output(self.intermediate(a), a)


class Encoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.layer = nn.ModuleList(Layer(c) for _ in range(c['num_hidden_layers']))

    def forward(self, x, m):
        for layer in self.layer:
            x = layer(x, m)
        return x


class Pooler(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c['hidden_size'], c['hidden_size'])

    def forward(self, x):
        return torch.tanh(self.dense(x[:, 0]))


class BertModel(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.embeddings, self.encoder, self.pooler = Embeddings(c), Encoder(c), Pooler(c)

    def forward(self, ids, att):
        m = (1.0 - att[:, None, None, :].float()) * torch.finfo(torch.float32).min
        x = self.encoder(self.embeddings(ids), m)
        return x, self.pooler(x)


def init_weights(module, std):
    for m in module.modules():
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0.0, std)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Embedding):
            nn.init.normal_(m.weight, 0.0, std)
            if m.padding_idx is not None:
                with torch.no_grad():
                    m.weight[m.padding_idx].zero_()
        elif isinstance(m, nn.LayerNorm):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)


class Transform(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c['hidden_size'], c['hidden_size'])
        self.LayerNorm = nn.LayerNorm(c['hidden_size'], eps=c['layer_norm_eps'])

    def forward(self, x):
        return self.LayerNorm(F.gelu(self.dense(x)))


class Predictions(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.transform = Transform(c)
        self.bias = nn.Parameter(torch.zeros(c['vocab_size']))


class Cls(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.predictions = Predictions(c)


class BertForMaskedLM(nn.Module):
    """The base as saved: bert.* (pooler included, untrained by MLM as in a checkpoint without NSP) + cls.predictions.*;
    the decoder is tied to the word embeddings (not stored, as save_pretrained does)."""

    def __init__(self, c):
        super().__init__()
        self.bert, self.cls = BertModel(c), Cls(c)
        init_weights(self, c['initializer_range'])

    def forward(self, ids, att, positions):
        x, _ = self.bert(ids, att)
        h = self.cls.predictions.transform(x[positions])
        return h @ self.bert.embeddings.word_embeddings.weight.T + self.cls.predictions.bias


class BertForSequenceClassification(nn.Module):
    def __init__(self, c, n):
        super().__init__()
        self.bert = BertModel(c)
        self.dropout = nn.Dropout(c['hidden_dropout_prob'])
        self.classifier = nn.Linear(c['hidden_size'], n)
        init_weights(self, c['initializer_range'])

    def forward(self, ids, att):
        return self.classifier(self.dropout(self.bert(ids, att)[1]))


# ---------------------------------------------------------------- data helpers

def batches(seqs, bs, rng=None):
    """Padded batches. With `rng`: shuffled, then each run of 50 batches sorted by length (less padding), and
    the batches of the run shuffled."""
    idx = list(range(len(seqs)))
    if rng is not None:
        rng.shuffle(idx)
        chunks = []
        for c in range(0, len(idx), 50 * bs):
            run = sorted(idx[c:c + 50 * bs], key=lambda j: len(seqs[j]))
            chunks += [run[i:i + bs] for i in range(0, len(run), bs)]
        rng.shuffle(chunks)
    else:
        chunks = [idx[i:i + bs] for i in range(0, len(idx), bs)]
    for sel in chunks:
        t = max(len(seqs[j]) for j in sel)
        ids = torch.zeros(len(sel), t, dtype=torch.long)
        for r, j in enumerate(sel):
            ids[r, :len(seqs[j])] = torch.tensor(seqs[j])
        yield sel, ids, (ids != PAD).long()


def mask_tokens(ids, gen, vocab_size):
    """BERT's MLM masking: 15% of the non-special tokens; of those 80% [MASK], 10% random, 10% kept."""
    cand = ids >= len(SPECIALS)
    pick = (torch.rand(ids.shape, generator=gen) < 0.15) & cand
    labels = ids[pick]
    r = torch.rand(ids.shape, generator=gen)
    rnd = torch.randint(len(SPECIALS), vocab_size, ids.shape, generator=gen)
    inp = ids.clone()
    inp[pick & (r < 0.8)] = MASK
    swap = pick & (r >= 0.8) & (r < 0.9)
    inp[swap] = rnd[swap]
    return inp, pick, labels


def inverse_sqrt_schedule(warmup):
    return lambda s: s / max(1, warmup) if s < warmup else math.sqrt(warmup / max(1, s))


def linear_schedule(warmup, total):
    return lambda s: s / max(1, warmup) if s < warmup else max(0.0, (total - s) / max(1, total - warmup))


def state(model, prefix_drop=()):
    return {k: v.detach().clone() for k, v in model.state_dict().items() if not k.startswith(prefix_drop)}


# ---------------------------------------------------------------- steps

def pretrain(seqs, val_seqs, args, on_best=None, resume=None):
    """Phase 1: AdamW, warmup one epoch then inverse-square-root decay, at most --mlm-max-epochs epochs (or until
    --patience epochs bring no lower validation loss). Phase 2, the cooldown: from phase 1's best weights, a fresh
    AdamW whose lr falls linearly from phase 1's last lr to 0 over at most --cooldown-epochs epochs, stopped when
    --patience epochs bring no lower validation loss (an lr of 0 cannot lower it: the MLM ends converged). Phase 2
    depends only on phase 1's best weights and its epoch count, so `resume` (those weights, saved by an earlier
    run) continues exactly as one run would."""
    torch.manual_seed(SEED)
    model = BertForMaskedLM(CFG)

    def adamw(lr):
        decay = [p for n, p in model.named_parameters() if not ('bias' in n or 'LayerNorm' in n)]
        nodecay = [p for n, p in model.named_parameters() if 'bias' in n or 'LayerNorm' in n]
        return torch.optim.AdamW([{'params': decay, 'weight_decay': 0.01}, {'params': nodecay, 'weight_decay': 0.0}],
                                 lr=lr, betas=(0.9, 0.999), eps=1e-6)

    opt = adamw(args.mlm_lr)
    steps_per_epoch = math.ceil(len(seqs) / args.mlm_batch)
    total = steps_per_epoch * args.mlm_max_epochs
    sched = torch.optim.lr_scheduler.LambdaLR(opt, inverse_sqrt_schedule(steps_per_epoch))
    rng = random.Random(SEED)
    gen = torch.Generator().manual_seed(SEED)
    # the validation masks are drawn once, so each evaluation scores the same positions
    vgen = torch.Generator().manual_seed(SEED + 1)
    val_batches = [(ids, att) + mask_tokens(ids, vgen, CFG['vocab_size']) for _, ids, att in batches(val_seqs, 256)]

    def evaluate():
        model.eval()
        tot, n, hit = 0.0, 0, 0
        with torch.no_grad():
            for ids, att, inp, pick, labels in val_batches:
                lo = model(inp, att, pick)
                tot += F.cross_entropy(lo, labels, reduction='sum').item()
                hit += (lo.argmax(-1) == labels).sum().item()
                n += labels.numel()
        model.train()
        return tot / n, hit / n

    best, best_acc, best_state, best_epoch, bad, step = float('inf'), 0.0, None, 0, 0, 0
    log(f'MLM: {len(seqs)} pre-training descriptions, {len(val_seqs)} validation; batch {args.mlm_batch}, peak lr {args.mlm_lr}, '
        f'warmup 1 epoch ({steps_per_epoch} steps), then inverse-square-root decay; at most {args.mlm_max_epochs} epochs; stop after '
        f'{args.patience} epochs without a lower validation loss')
    log('epoch  step  train_loss  val_loss  val_masked_acc  seconds')
    if resume is not None:
        model.load_state_dict(resume)
        best, best_acc = evaluate()
        best_state, best_epoch, step = state(model), args.mlm_max_epochs, args.mlm_max_epochs * steps_per_epoch
        log(f'phase 1 read from {args.mlm_resume}: epochs 1-{best_epoch} ({step} steps) of an earlier run of this script; '
            f'validation MLM loss {best:.4f}, masked-token accuracy {best_acc:.4f} (the log lines of those epochs are that run\'s)')

    def train_epoch(opt, sched, rng, gen):
        nonlocal step
        tl, tn = 0.0, 0
        for _, ids, att in batches(seqs, args.mlm_batch, rng):
            inp, pick, labels = mask_tokens(ids, gen, CFG['vocab_size'])
            if labels.numel() == 0:
                continue
            loss = F.cross_entropy(model(inp, att, pick), labels)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            step += 1
            tl += loss.item()
            tn += 1
        return tl / tn

    def end_epoch(epoch, train_loss):
        """Evaluates, logs, keeps the best; True when the patience rule ends the MLM."""
        nonlocal best, best_acc, best_state, best_epoch, bad
        vl, va = evaluate()
        log(f'{epoch:5d} {step:5d}  {train_loss:10.4f}  {vl:8.4f}  {va:14.4f}  {time.time() - T0:7.0f}')
        if vl < best - 1e-4:
            best, best_acc, best_state, best_epoch, bad = vl, va, state(model), epoch, 0
            if on_best:
                on_best(best_state)
            return False
        bad += 1
        if bad >= args.patience:
            log(f'MLM stopped: validation loss did not improve for {args.patience} epochs (converged by that rule)')
            return True
        return False

    for epoch in range(1, args.mlm_max_epochs + 1 if resume is None else 1):
        if end_epoch(epoch, train_epoch(opt, sched, rng, gen)):
            break
        if args.mlm_stop_file and os.path.exists(args.mlm_stop_file):
            log(f'MLM stopped by the stop file after epoch {epoch} (a time limit, not convergence): the validation loss '
                f'{"was still improving" if bad == 0 else f"had not improved for {bad} epoch(s)"}')
            break
    else:
        if resume is None:
            log(f'MLM phase 1 ended at its epoch cap ({args.mlm_max_epochs})'
                f'{"; the validation loss was still improving" if bad == 0 else ""}')
    if args.cooldown_epochs > 0:
        model.load_state_dict(best_state)
        lr0 = args.mlm_lr * inverse_sqrt_schedule(steps_per_epoch)(step)
        opt = adamw(lr0)
        total = args.cooldown_epochs * steps_per_epoch
        warm = max(1, steps_per_epoch // 20)  # the fresh moments settle over 5% of an epoch
        sched = torch.optim.lr_scheduler.LambdaLR(opt, linear_schedule(warm, total))
        rng = random.Random(SEED + 2)
        gen = torch.Generator().manual_seed(SEED + 2)
        torch.manual_seed(SEED + 2)  # dropout's draws: the same whether phase 1 ran in this process or not
        first = best_epoch + 1
        bad = 0
        log(f'MLM phase 2 (cooldown) from epoch {best_epoch}\'s weights: a fresh AdamW, lr {lr0:.3g} (phase 1\'s last) falling '
            f'linearly to 0 over {args.cooldown_epochs} epochs ({warm} warmup steps); stop after {args.patience} epochs without a '
            f'lower validation loss')
        for epoch in range(first, first + args.cooldown_epochs):
            if end_epoch(epoch, train_epoch(opt, sched, rng, gen)):
                break
        else:
            log(f'MLM stopped: the cooldown reached lr 0 after {args.cooldown_epochs} epochs (no further step can lower the loss)')
    model.load_state_dict(best_state)
    log(f'MLM kept epoch {best_epoch}: validation MLM loss {best:.4f}, masked-token accuracy {best_acc:.4f} (perplexity {math.exp(best):.1f})')
    return model


def linear_probe(model, train, val, args):
    """LP-FT (Kumar et al., 2022): the classifier starts from a multinomial logistic regression (L2, full-batch
    L-BFGS to convergence) on the frozen base's pooled features, so the fine-tune does not first drag the encoder
    around to fit a random head. The encoder and pooler are not changed here."""
    def feats(rows):
        model.eval()
        out = torch.empty(len(rows), CFG['hidden_size'])
        with torch.no_grad():
            for sel, ids, att in batches([s for s, _ in rows], 256):
                out[sel] = model.bert(ids, att)[1]
        model.train()
        return out, torch.tensor([y for _, y in rows])
    x, y = feats(train)
    vx, vy = feats(val)
    w = torch.zeros(model.classifier.weight.shape, requires_grad=True)
    b = torch.zeros(model.classifier.bias.shape, requires_grad=True)
    opt = torch.optim.LBFGS([w, b], lr=1, max_iter=500, history_size=20, tolerance_grad=1e-9, tolerance_change=1e-12,
                            line_search_fn='strong_wolfe')

    def closure():
        opt.zero_grad()
        loss = F.cross_entropy(x @ w.T + b, y) + args.probe_l2 * w.pow(2).sum()
        loss.backward()
        return loss
    opt.step(closure)
    with torch.no_grad():
        model.classifier.weight.copy_(w)
        model.classifier.bias.copy_(b)
        ta = ((x @ w.T + b).argmax(-1) == y).float().mean().item()
        va = ((vx @ w.T + b).argmax(-1) == vy).float().mean().item()
    log(f'linear probe (LP-FT): logistic regression on the frozen base\'s pooled features, L2 {args.probe_l2}, L-BFGS; '
        f'train accuracy {ta:.4f}, validation accuracy {va:.4f}; the classifier starts from it')


def finetune(base_state, train, val, labels, args):
    torch.manual_seed(SEED)
    model = BertForSequenceClassification(CFG, len(labels))  # classifier initialised as HF does; bert.* loaded below
    missing = model.load_state_dict({k: v for k, v in base_state.items() if k.startswith('bert.')}, strict=False)
    assert missing.missing_keys == ['classifier.weight', 'classifier.bias'], missing
    if args.ft_probe:
        linear_probe(model, train, val, args)
    decay = [p for n, p in model.named_parameters() if not ('bias' in n or 'LayerNorm' in n)]
    nodecay = [p for n, p in model.named_parameters() if 'bias' in n or 'LayerNorm' in n]
    opt = torch.optim.AdamW([{'params': decay, 'weight_decay': 0.01}, {'params': nodecay, 'weight_decay': 0.0}],
                            lr=args.ft_lr, betas=(0.9, 0.999), eps=1e-8)
    xs, ys = [s for s, _ in train], torch.tensor([y for _, y in train])
    total = math.ceil(len(xs) / args.ft_batch) * args.ft_epochs
    sched = torch.optim.lr_scheduler.LambdaLR(opt, linear_schedule(int(0.1 * total), total))
    rng = random.Random(SEED)
    vx, vy = [s for s, _ in val], torch.tensor([y for _, y in val])

    def accuracy(seqs, ys_, with_f1=False):
        model.eval()
        pred = torch.empty(len(seqs), dtype=torch.long)
        with torch.no_grad():
            for sel, ids, att in batches(seqs, 256):
                pred[sel] = model(ids, att).argmax(-1)
        model.train()
        acc = (pred == ys_).float().mean().item()
        if not with_f1:
            return acc
        f1 = []  # macro F1 over the labels (a label never predicted and never true scores 0)
        for c in range(len(labels)):
            tp = ((pred == c) & (ys_ == c)).sum().item()
            fp = ((pred == c) & (ys_ != c)).sum().item()
            fn = ((pred != c) & (ys_ == c)).sum().item()
            f1.append(2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0)
        return acc, sum(f1) / len(f1)

    log(f'fine-tune: {len(xs)} train, {len(vx)} validation, {len(labels)} labels; AdamW lr {args.ft_lr}, batch {args.ft_batch}, '
        f'{args.ft_epochs} epochs ({total} steps), linear warmup 10% and decay, weight decay 0.01')
    log('epoch  step  train_loss  val_acc  rel_change  seconds')
    best, step = -1.0, 0
    for epoch in range(1, args.ft_epochs + 1):
        tl, tn = 0.0, 0
        for sel, ids, att in batches(xs, args.ft_batch, rng):
            loss = F.cross_entropy(model(ids, att), ys[sel])
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            step += 1
            tl += loss.item()
            tn += 1
        va = accuracy(vx, vy)
        rc = relative_change(base_state, state(model))
        log(f'{epoch:5d} {step:5d}  {tl / tn:10.4f}  {va:7.4f}  {rc:10.2%}  {time.time() - T0:7.0f}')
        if va > best:
            best, best_state, best_epoch = va, state(model), epoch
    model.load_state_dict(best_state)
    log(f'fine-tune kept epoch {best_epoch}: validation accuracy {best:.4f}')
    return model, accuracy


def relative_change(base_state, ft_state):
    num = den = 0.0
    for k, v in ft_state.items():
        if k.startswith('bert.encoder.') and v.dim() == 2:
            b = base_state[k].double()
            num += (v.double() - b).pow(2).sum().item()
            den += b.pow(2).sum().item()
    return math.sqrt(num / den)


def read_safetensors(path):
    b = open(path, 'rb').read()
    n = int.from_bytes(b[:8], 'little')
    out = {}
    for k, v in json.loads(b[8:8 + n]).items():
        if k != '__metadata__':
            assert v['dtype'] == 'F32', k
            lo, hi = v['data_offsets']
            out[k] = torch.from_numpy(np.frombuffer(b[8 + n + lo:8 + n + hi], dtype='<f4').copy()).reshape(v['shape'])
    return out


def save(folder, tensors, config, vocab):
    os.makedirs(folder, exist_ok=True)
    write_safetensors(os.path.join(folder, 'model.safetensors'), tensors, metadata={'format': 'pt'}, compact=True)
    with open(os.path.join(folder, 'config.json'), 'w') as f:
        json.dump(config, f, indent=2)
        f.write('\n')
    with open(os.path.join(folder, 'tokenizer.json'), 'w') as f:
        json.dump(tokenizer_json(vocab), f, ensure_ascii=False)
    with open(os.path.join(folder, 'tokenizer_config.json'), 'w') as f:
        json.dump(TOKENIZER_CONFIG, f, indent=2)
        f.write('\n')
    with open(os.path.join(folder, 'vocab.txt'), 'w') as f:
        f.write(''.join(t + '\n' for t in vocab))


def config(arch, extra=None):
    c = {'architectures': [arch], 'model_type': 'bert', **CFG, 'pad_token_id': PAD, 'position_embedding_type': 'absolute',
         'hidden_act': 'gelu', 'torch_dtype': 'float32'}
    c.update(extra or {})
    return c


def check_with_ken(model, tok, folder, rows, workdir):
    """`ken eval` (built graph) on the first rows: the same logits as this PyTorch model (max abs difference)."""
    data = os.path.join(workdir, 'check.jsonl')
    outs = os.path.join(workdir, 'check-outputs.jsonl')
    with open(data, 'w') as f:
        for r in rows:
            f.write(json.dumps(r) + '\n')
    r = subprocess.run(['node', os.path.join(ROOT, 'bin', 'ken.js'), 'eval', folder, '--data', data, '--graph', 'built',
                        '--device', 'cpu', '--outputs', outs, '--json'], capture_output=True, text=True)
    if r.returncode != 0:
        log('ken eval check could not run:', r.stderr.strip()[:500])
        return None
    theirs = [json.loads(l) for l in open(outs)]
    model.eval()
    worst = 0.0
    with torch.no_grad():
        for row, out in zip(rows, theirs):
            ids = torch.tensor([tok.encode(row['text'])])
            mine = model(ids, torch.ones_like(ids))[0]
            key = 'logits' if 'logits' in out else next(k for k, v in out.items() if isinstance(v, list))
            worst = max(worst, (mine - torch.tensor(out[key])).abs().max().item())
    log(f'ken eval (built graph) vs PyTorch on {len(rows)} test lines: max |logit difference| {worst:.2e}')
    return worst


def main():
    global LOG
    ap = argparse.ArgumentParser()
    ap.add_argument('--out', default=os.path.join(ROOT, 'demo', 'debdesc-bert'))
    ap.add_argument('--log', default=os.path.join(ROOT, 'scripts', 'demo-pair', 'make_demo_pair.log'))
    ap.add_argument('--mlm-lr', type=float, default=1.5e-3)
    ap.add_argument('--mlm-batch', type=int, default=128)
    ap.add_argument('--mlm-max-epochs', type=int, default=MLM_PHASE1_EPOCHS, help='phase 1 length (inverse-square-root decay)')
    ap.add_argument('--cooldown-epochs', type=int, default=12, help='phase 2: lr falling linearly to 0 over at most this many epochs')
    ap.add_argument('--mlm-resume', help="a base folder saved at phase 1's last epoch: skip phase 1 (its vocab and weights)")
    ap.add_argument('--mlm-stop-file', help='if this file exists at the end of an MLM epoch, the MLM stops there')
    ap.add_argument('--patience', type=int, default=2)
    ap.add_argument('--ft-lr', type=float, default=5e-5)
    ap.add_argument('--ft-batch', type=int, default=32)
    ap.add_argument('--ft-epochs', type=int, default=4)
    ap.add_argument('--ft-probe', type=int, default=1, help='1: start the classifier from a linear probe (LP-FT)')
    ap.add_argument('--probe-l2', type=float, default=1e-4)
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--smoke', action='store_true')
    ap.add_argument('--base-from', help='a saved base folder: skip the tokenizer and MLM, fine-tune from it')
    args = ap.parse_args()
    os.makedirs(os.path.dirname(args.log), exist_ok=True)
    LOG = open(args.log, 'w')
    torch.set_num_threads(args.threads)
    random.seed(SEED)
    np.random.seed(SEED)
    torch.manual_seed(SEED)
    log(f'make_demo_pair.py: torch {torch.__version__}, {args.threads} threads, seed {SEED}')

    corpus = read_corpus()
    digest = hashlib.sha256('\n'.join('\t'.join(r) for r in corpus).encode('utf-8')).hexdigest()
    parts = split(corpus)
    if args.smoke:  # a quick run of the whole pipeline on a sliver of the data (not the shipped pair)
        parts = {k: v[::20] for k, v in parts.items()}
    log(f'corpus: {len(corpus)} packages (apt-cache dumpavail, deduplicated by name), sha256 of the (name, section, '
        f'description) list {digest}')
    if digest != SHIPPED_CORPUS:
        log(f'  NOTE: not the corpus of the shipped pair ({SHIPPED_CORPUS[:12]}...): apt holds other records (another '
            f'source such as bookworm-backports, newer lists, other installed versions), so every split and result differs')
    for s, rows in parts.items():
        log(f'  {s}: {len(rows)} packages, {sum(1 for r in rows if r[1] in SECTIONS)} in the {len(SECTIONS)} sections')
    names = [set(n for n, _, _ in rows) for rows in parts.values()]
    assert all(not (names[i] & names[j]) for i in range(4) for j in range(i + 1, 4)), 'a package in two splits'

    if args.base_from or args.mlm_resume:  # a saved base's vocab.txt (fine-tune again, or phase 2 from it)
        vocab = open(os.path.join(args.base_from or args.mlm_resume, 'vocab.txt'), encoding='utf-8').read().split('\n')[:-1]
    else:
        vocab = train_wordpiece([d for _, _, d in parts['pretrain']], CFG['vocab_size'])
    assert len(vocab) == CFG['vocab_size'], len(vocab)
    tok = WordPiece(vocab)
    enc = lambda rows: [tok.encode(d) for _, _, d in rows]  # noqa: E731
    pre, val = enc(parts['pretrain']), enc(parts['validation'])
    unk = sum(s.count(UNK) for s in pre) / sum(len(s) - 2 for s in pre)
    log(f'tokenizer: WordPiece, {len(vocab)} tokens, trained on the pre-training text; [UNK] share there {unk:.4%}; '
        f'{sum(map(len, pre)) / len(pre):.1f} tokens per description ({time.time() - T0:.0f} s)')

    if args.base_from:
        base_state = read_safetensors(os.path.join(args.base_from, 'model.safetensors'))
        log(f'base read from {args.base_from} (no pre-training in this run)')
    else:
        bf = os.path.join(args.out, 'pretrained')
        resume = read_safetensors(os.path.join(args.mlm_resume, 'model.safetensors')) if args.mlm_resume else None
        base_state = state(pretrain(pre, val, args, lambda st: save(bf, st, config('BertForMaskedLM'), vocab), resume))

    labels = sorted(SECTIONS)
    lid = {l: i for i, l in enumerate(labels)}
    lab = lambda rows: [(tok.encode(d), lid[s]) for _, s, d in rows if s in lid]  # noqa: E731
    train, fval = lab(parts['train']), lab(parts['validation'])
    ft, accuracy = finetune(base_state, train, fval, labels, args)
    ft_state = state(ft)
    test_rows = [{'text': d, 'label': s} for _, s, d in parts['test'] if s in lid]
    tx = [tok.encode(r['text']) for r in test_rows]
    ty = torch.tensor([lid[r['label']] for r in test_rows])
    acc, f1 = accuracy(tx, ty, with_f1=True)
    top, top_n = Counter(r['label'] for r in test_rows).most_common(1)[0]
    log(f'test: {len(test_rows)} lines; fine-tuned accuracy {acc:.4f}, macro F1 {f1:.4f} (PyTorch); majority-class baseline '
        f'{top_n / len(test_rows):.4f} (always "{top}")')
    log(f'relative change ||ft - base|| / ||base|| over the encoder 2-D weights: {relative_change(base_state, ft_state):.4%}')
    per = [(k, math.sqrt((ft_state[k].double() - base_state[k].double()).pow(2).sum().item() / base_state[k].double().pow(2).sum().item()))
           for k in ft_state if k.startswith('bert.') and k in base_state and ft_state[k].dim() == 2]
    log('  per tensor: ' + ', '.join(f'{k.replace("bert.encoder.layer.", "L").replace("bert.", "")} {v:.2%}' for k, v in per))

    id2label = {str(i): l for i, l in enumerate(labels)}
    base_folder, ft_folder = os.path.join(args.out, 'pretrained'), os.path.join(args.out, 'finetuned')
    save(base_folder, base_state, config('BertForMaskedLM'), vocab)
    save(ft_folder, ft_state, config('BertForSequenceClassification', {'id2label': id2label, 'label2id': lid,
                                                                      'problem_type': 'single_label_classification'}), vocab)
    with open(os.path.join(args.out, 'test.jsonl'), 'w') as f:
        for r in test_rows:
            f.write(json.dumps(r, ensure_ascii=False) + '\n')
    size = sum(os.path.getsize(os.path.join(d, f)) for d in (base_folder, ft_folder) for f in os.listdir(d))
    log(f'saved {args.out}: two folders {size / 1e6:.2f} MB; parameters: base {sum(v.numel() for v in base_state.values()):,}, '
        f'fine-tuned {sum(v.numel() for v in ft_state.values()):,}')
    check_with_ken(ft, tok, ft_folder, test_rows[:16], os.path.dirname(args.log))
    for f in ('check.jsonl', 'check-outputs.jsonl'):
        p = os.path.join(os.path.dirname(args.log), f)
        if os.path.exists(p):
            os.remove(p)
    log(f'total {time.time() - T0:.0f} s')


if __name__ == '__main__':
    main()
