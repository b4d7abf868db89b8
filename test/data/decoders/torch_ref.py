"""PyTorch re-implementations of Hugging Face transformers' decoder models, eager attention, float32.

Written from the formulas of transformers' modeling_gpt2.py, modeling_llama.py, modeling_mistral.py,
modeling_qwen2.py and modeling_rope_utils.py (read, not copied). They take a plain state dict (names as
`save_pretrained` writes them) and a config dict (config.json), so they need nothing but torch.

Inputs are (input_ids, attention_mask, position_ids) batches; every function returns the hidden states
of the last layer, and the heads below turn them into what the checkpoints' architectures output.
"""
import math

import torch
import torch.nn.functional as F

F32 = torch.float32
MIN = torch.finfo(F32).min


def act(name, x):
    """transformers' ACT2FN for the activations these families use."""
    if name == 'gelu_new' or name == 'gelu_pytorch_tanh' or name == 'gelu_fast':
        # tanh approximation (gelu_fast writes the same formula with a folded constant)
        return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))
    if name == 'gelu':
        return F.gelu(x)
    if name == 'relu':
        return F.relu(x)
    if name in ('silu', 'swish'):
        return F.silu(x)
    if name == 'quick_gelu':
        return x * torch.sigmoid(1.702 * x)
    raise ValueError(name)


def strip(sd, prefix):
    """The base model's tensors, whether saved with the task model's prefix or without (hub base checkpoints)."""
    out = {}
    for k, v in sd.items():
        if k.startswith(prefix):
            out[k[len(prefix):]] = v
        elif not k.startswith(('lm_head.', 'score.', 'classifier.', 'qa_outputs.')):
            out[k] = v
    return out


# ---------------------------------------------------------------- GPT-2

def gpt2_hidden(cfg, sd, ids, mask, pos):
    w = strip(sd, 'transformer.')
    d = cfg['n_embd']
    nh = cfg['n_head']
    hd = d // nh
    eps = cfg.get('layer_norm_epsilon', 1e-5)
    b, t = ids.shape
    x = w['wte.weight'][ids] + w['wpe.weight'][pos]
    causal = torch.tril(torch.ones(t, t, dtype=torch.bool))
    pad = (1.0 - mask[:, None, None, :].to(F32)) * MIN  # GPT2Model's additive padding mask
    for i in range(cfg['n_layer']):
        p = f'h.{i}.'
        h = F.layer_norm(x, (d,), w[p + 'ln_1.weight'], w[p + 'ln_1.bias'], eps)
        qkv = h @ w[p + 'attn.c_attn.weight'] + w[p + 'attn.c_attn.bias']  # Conv1D: x @ W[in, out] + b
        q, k, v = qkv.split(d, dim=2)
        q, k, v = (z.view(b, t, nh, hd).permute(0, 2, 1, 3) for z in (q, k, v))
        s = q @ k.transpose(-1, -2)
        if cfg.get('scale_attn_weights', True):
            s = s / torch.full([], hd ** 0.5, dtype=F32)
        if cfg.get('scale_attn_by_inverse_layer_idx', False):
            s = s / float(i + 1)
        s = torch.where(causal, s, torch.full([], MIN, dtype=F32))
        s = s + pad
        a = torch.softmax(s, dim=-1) @ v
        a = a.permute(0, 2, 1, 3).reshape(b, t, d)
        x = x + (a @ w[p + 'attn.c_proj.weight'] + w[p + 'attn.c_proj.bias'])
        h = F.layer_norm(x, (d,), w[p + 'ln_2.weight'], w[p + 'ln_2.bias'], eps)
        h = act(cfg.get('activation_function', 'gelu_new'), h @ w[p + 'mlp.c_fc.weight'] + w[p + 'mlp.c_fc.bias'])
        x = x + (h @ w[p + 'mlp.c_proj.weight'] + w[p + 'mlp.c_proj.bias'])
    return F.layer_norm(x, (d,), w['ln_f.weight'], w['ln_f.bias'], eps)


def gpt2_lm_weight(cfg, sd):
    # GPT2LMHeadModel ties lm_head to wte unless tie_word_embeddings is false
    if cfg.get('tie_word_embeddings', True) or 'lm_head.weight' not in sd:
        return sd.get('transformer.wte.weight', sd.get('wte.weight'))
    return sd['lm_head.weight']


# ---------------------------------------------------------------- Llama, Mistral, Qwen2

def rope_inv_freq(cfg):
    """modeling_rope_utils: default, linear and llama3 inverse frequencies, float32 as torch makes them."""
    hd = cfg.get('head_dim') or cfg['hidden_size'] // cfg['num_attention_heads']
    base = cfg.get('rope_theta', 10000.0)
    inv = 1.0 / (base ** (torch.arange(0, hd, 2, dtype=torch.int64).float() / hd))
    rs = cfg.get('rope_scaling')
    if not rs:
        return inv
    kind = rs.get('rope_type', rs.get('type', 'default'))
    if kind == 'default':
        return inv
    if kind == 'linear':
        return inv / rs['factor']
    if kind == 'llama3':
        factor = rs['factor']
        lo, hi = rs['low_freq_factor'], rs['high_freq_factor']
        old = rs['original_max_position_embeddings']
        lo_wl, hi_wl = old / lo, old / hi
        wl = 2 * math.pi / inv
        out = torch.where(wl > lo_wl, inv / factor, inv)
        smooth = (old / wl - lo) / (hi - lo)
        smoothed = (1 - smooth) * out / factor + smooth * out
        medium = ~(wl < hi_wl) * ~(wl > lo_wl)
        return torch.where(medium, smoothed, out)
    raise ValueError(kind)


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


def sliding_layers(cfg):
    """Which layers attend through a sliding window, and its width (Mistral: all; Qwen2: from max_window_layers)."""
    n = cfg['num_hidden_layers']
    mt = cfg['model_type']
    sw = cfg.get('sliding_window')
    if mt == 'mistral':
        return [sw] * n
    if mt == 'qwen2':
        if not cfg.get('use_sliding_window', False) or sw is None:
            return [None] * n
        types = cfg.get('layer_types')
        if types:
            return [sw if types[i] == 'sliding_attention' else None for i in range(n)]
        return [sw if i >= cfg.get('max_window_layers', 28) else None for i in range(n)]
    return [None] * n


def rms_norm(x, weight, eps):
    var = x.pow(2).mean(-1, keepdim=True)
    return weight * (x * torch.rsqrt(var + eps))


def base_prefix(cfg, arch):
    """The task model's attribute holding the base model: `model` in every Llama-family class but
    LlamaForQuestionAnswering and Qwen2ForQuestionAnswering, which keep `transformer` (base_model_prefix)."""
    if cfg['model_type'] == 'gpt2':
        return 'transformer.'
    if arch.endswith('ForQuestionAnswering') and cfg['model_type'] in ('llama', 'qwen2'):
        return 'transformer.'
    return 'model.'


def llama_hidden(cfg, sd, ids, mask, pos, prefix='model.'):
    w = strip(sd, prefix)
    d = cfg['hidden_size']
    nh = cfg['num_attention_heads']
    nkv = cfg.get('num_key_value_heads') or nh
    hd = cfg.get('head_dim') or d // nh
    eps = cfg.get('rms_norm_eps', 1e-6)
    b, t = ids.shape
    qkv_bias = cfg['model_type'] == 'qwen2' or cfg.get('attention_bias', False)
    o_bias = cfg['model_type'] != 'qwen2' and cfg.get('attention_bias', False)
    mlp_bias = cfg.get('mlp_bias', False)

    def lin(x, name, bias):
        y = x @ w[name + '.weight'].t()
        return y + w[name + '.bias'] if bias else y

    x = w['embed_tokens.weight'][ids]
    inv = rope_inv_freq(cfg)
    freqs = (inv[None, :, None].expand(b, -1, 1) @ pos[:, None, :].float()).transpose(1, 2)
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos()[:, None], emb.sin()[:, None]

    qi = torch.arange(t)[:, None]
    ki = torch.arange(t)[None, :]
    keep = mask[:, None, None, :].bool()
    masks = {}
    for sw in set(sliding_layers(cfg)):
        allowed = ki <= qi
        if sw is not None:
            allowed = allowed & (ki > qi - sw)
        allowed = allowed[None, None] & keep
        masks[sw] = torch.where(allowed, torch.zeros([], dtype=F32), torch.full([], MIN, dtype=F32))

    for i, sw in enumerate(sliding_layers(cfg)):
        p = f'layers.{i}.'
        h = rms_norm(x, w[p + 'input_layernorm.weight'], eps)
        q = lin(h, p + 'self_attn.q_proj', qkv_bias).view(b, t, nh, hd).transpose(1, 2)
        k = lin(h, p + 'self_attn.k_proj', qkv_bias).view(b, t, nkv, hd).transpose(1, 2)
        v = lin(h, p + 'self_attn.v_proj', qkv_bias).view(b, t, nkv, hd).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        rep = nh // nkv
        k = k[:, :, None].expand(b, nkv, rep, t, hd).reshape(b, nh, t, hd)
        v = v[:, :, None].expand(b, nkv, rep, t, hd).reshape(b, nh, t, hd)
        s = (q @ k.transpose(2, 3)) / math.sqrt(hd) + masks[sw]
        a = torch.softmax(s, dim=-1, dtype=F32) @ v
        a = a.transpose(1, 2).reshape(b, t, nh * hd)
        x = x + lin(a, p + 'self_attn.o_proj', o_bias)
        h = rms_norm(x, w[p + 'post_attention_layernorm.weight'], eps)
        g = act(cfg.get('hidden_act', 'silu'), lin(h, p + 'mlp.gate_proj', mlp_bias))
        x = x + lin(g * lin(h, p + 'mlp.up_proj', mlp_bias), p + 'mlp.down_proj', mlp_bias)
    return rms_norm(x, w['norm.weight'], eps)


def llama_lm_weight(cfg, sd):
    if cfg.get('tie_word_embeddings', False):
        return sd.get('model.embed_tokens.weight', sd.get('embed_tokens.weight'))
    return sd['lm_head.weight']


# ---------------------------------------------------------------- heads

def hidden(cfg, sd, arch, ids, mask, pos):
    if cfg['model_type'] == 'gpt2':
        return gpt2_hidden(cfg, sd, ids, mask, pos)
    return llama_hidden(cfg, sd, ids, mask, pos, base_prefix(cfg, arch))


def lm_weight(cfg, sd):
    return (gpt2_lm_weight if cfg['model_type'] == 'gpt2' else llama_lm_weight)(cfg, sd)


def pooled_index(cfg, ids, mask):
    """*ForSequenceClassification: the last token that is not pad_token_id (the last token when there is none).

    transformers looks at the ids alone (and refuses batches without a pad_token_id); for a padded batch the
    attention mask also excludes the padding, so every line pools where it would alone."""
    t = ids.shape[-1]
    pad = cfg.get('pad_token_id')
    keep = mask.bool() if pad is None else mask.bool() & (ids != pad)
    return (torch.arange(t)[None, :] * keep.int()).argmax(-1)


def run(cfg, sd, arch, ids, mask, pos):
    """What the architecture outputs for a batch, as a dict of float32 tensors."""
    h = hidden(cfg, sd, arch, ids, mask, pos)
    if arch.endswith('LMHeadModel') or arch.endswith('ForCausalLM'):
        logits = h @ lm_weight(cfg, sd).t()
        lp = torch.log_softmax(logits, dim=-1)
        return {'logits': logits, 'token_logprobs': lp[:, :-1].gather(-1, ids[:, 1:, None])[..., 0]}
    if arch.endswith('ForSequenceClassification'):
        logits = h @ sd['score.weight'].t()
        return {'logits': logits[torch.arange(ids.shape[0]), pooled_index(cfg, ids, mask)]}
    if arch.endswith('ForTokenClassification'):
        # GPT2ForTokenClassification: classifier; the Llama family's: score (a Linear with bias); dropout is off in eval
        head = 'classifier' if cfg['model_type'] == 'gpt2' else 'score'
        return {'logits': h @ sd[head + '.weight'].t() + sd[head + '.bias']}
    if arch.endswith('ForQuestionAnswering'):
        se = h @ sd['qa_outputs.weight'].t() + sd['qa_outputs.bias']
        return {'start_logits': se[..., 0], 'end_logits': se[..., 1]}
    raise ValueError(arch)
