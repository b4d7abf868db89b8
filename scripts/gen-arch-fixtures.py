#!/usr/bin/python3
# Generates test/data/arch: tiny model folders with the real Hugging Face tensor names of every family the
# architecture tests cover (names and layouts as the transformers modeling code registers them), PEFT LoRA
# adapters with their numpy merge as the reference, and PyTorch state dicts written by torch.save.
# Run with Debian's python (torch 1.13, numpy): /usr/bin/python3 scripts/gen-arch-fixtures.py
import json
import os
import pickle
import shutil
import struct
import sys

import numpy as np
import torch

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'data', 'arch')
rng = np.random.default_rng(20240211)
H, I, V, P, L = 8, 16, 24, 16, 2  # hidden, intermediate, vocab, positions, layers


def st_bytes(arr, dtype):
    if dtype == 'F32':
        return np.ascontiguousarray(arr, dtype='<f4').tobytes()
    if dtype == 'F16':
        return np.ascontiguousarray(arr, dtype='<f2').tobytes()
    if dtype == 'BF16':
        return torch.from_numpy(np.ascontiguousarray(arr, dtype=np.float32)).to(torch.bfloat16).view(torch.int16).numpy().astype('<i2').tobytes()
    raise ValueError(dtype)


def write_safetensors(path, tensors, dtype='F32', metadata=None):
    """tensors: list of (name, np.ndarray); the safetensors format written byte by byte."""
    header = {}
    if metadata:
        header['__metadata__'] = metadata
    blobs = []
    off = 0
    for name, arr in tensors:
        b = st_bytes(arr, dtype)
        header[name] = {'dtype': dtype, 'shape': list(arr.shape), 'data_offsets': [off, off + len(b)]}
        off += len(b)
        blobs.append(b)
    js = json.dumps(header, separators=(',', ':'))
    js += ' ' * ((8 - (8 + len(js)) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(js)))
        f.write(js.encode())
        for b in blobs:
            f.write(b)


def folder(path, config, tensors, dtype='F32', shards=1, extra=None):
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, 'config.json'), 'w') as f:
        json.dump(config, f, indent=1)
    if shards == 1:
        write_safetensors(os.path.join(path, 'model.safetensors'), tensors, dtype, {'format': 'pt'})
    else:
        per = (len(tensors) + shards - 1) // shards
        wm = {}
        total = 0
        for s in range(shards):
            part = tensors[s * per:(s + 1) * per]
            fn = f'model-{s + 1:05d}-of-{shards:05d}.safetensors'
            write_safetensors(os.path.join(path, fn), part, dtype, {'format': 'pt'})
            for n, a in part:
                wm[n] = fn
                total += len(st_bytes(a, dtype))
        with open(os.path.join(path, 'model.safetensors.index.json'), 'w') as f:
            json.dump({'metadata': {'total_size': total}, 'weight_map': wm}, f, indent=1)
    for name, text in (extra or {}).items():
        with open(os.path.join(path, name), 'w') as f:
            f.write(text)


def r(*shape):
    return rng.standard_normal(shape).astype(np.float32) * 0.5


def finetune(base, names_map=lambda n: n):
    """The fine-tuned copy of base tensors: base + a small shift (as fine-tuning leaves them)."""
    return [(names_map(n), (a + r(*a.shape) * 0.05).astype(np.float32)) for n, a in base]


def lin(prefix, out, inp, bias=True):
    t = [(f'{prefix}.weight', r(out, inp))]
    if bias:
        t.append((f'{prefix}.bias', r(out)))
    return t


def ln(prefix, old=False):
    return [(f'{prefix}.{"gamma" if old else "weight"}', r(H)), (f'{prefix}.{"beta" if old else "bias"}', r(H))]


# ---- BERT-like encoders (BertModel / RobertaModel / ElectraModel: modeling_bert.py names) ----
def bert_layers(p, old_ln=False, qkv=('query', 'key', 'value')):
    t = []
    for i in range(L):
        q = f'{p}encoder.layer.{i}'
        for n in qkv:
            t += lin(f'{q}.attention.self.{n}', H, H)
        t += lin(f'{q}.attention.output.dense', H, H) + ln(f'{q}.attention.output.LayerNorm', old_ln)
        t += lin(f'{q}.intermediate.dense', I, H) + lin(f'{q}.output.dense', H, I) + ln(f'{q}.output.LayerNorm', old_ln)
    return t


def bert_embeddings(p, old_ln=False, token_types=True, positions=True):
    t = [(f'{p}embeddings.word_embeddings.weight', r(V, H))]
    if positions:
        t.append((f'{p}embeddings.position_embeddings.weight', r(P, H)))
    if token_types:
        t.append((f'{p}embeddings.token_type_embeddings.weight', r(2, H)))
    return t + ln(f'{p}embeddings.LayerNorm', old_ln)


def rename_ln(n):
    return n.replace('.gamma', '.weight').replace('.beta', '.bias')


def gen_bert():
    # bert-base-uncased stores BertForPreTraining with the old gamma/beta LayerNorm names
    enc = bert_embeddings('bert.', True) + bert_layers('bert.', True)
    pool = lin('bert.pooler.dense', H, H)
    base = enc + pool + [('cls.predictions.bias', r(V))] + lin('cls.predictions.transform.dense', H, H) + ln('cls.predictions.transform.LayerNorm', True) \
        + [('cls.predictions.decoder.weight', r(V, H))] + lin('cls.seq_relationship', 2, H)
    folder(f'{ROOT}/bert/pretrained', {'model_type': 'bert', 'hidden_size': H, 'num_hidden_layers': L, 'architectures': ['BertForPreTraining']}, base)
    ft_enc = finetune(enc, rename_ln)
    cfg = {'model_type': 'bert', 'hidden_size': H, 'num_hidden_layers': L, '_name_or_path': 'bert-base-uncased'}
    folder(f'{ROOT}/bert/seq-cls', dict(cfg, architectures=['BertForSequenceClassification'], id2label={'0': 'a', '1': 'b', '2': 'c'}),
           ft_enc + finetune(pool) + lin('classifier', 3, H))
    # token classification and QA build BertModel without the pooler
    folder(f'{ROOT}/bert/token-cls', dict(cfg, architectures=['BertForTokenClassification'], id2label={str(i): f'L{i}' for i in range(5)}),
           ft_enc + lin('classifier', 5, H))
    folder(f'{ROOT}/bert/qa', dict(cfg, architectures=['BertForQuestionAnswering']), ft_enc + lin('qa_outputs', 2, H))
    # a 1-label regressor: problem_type says it is not a 1-class classifier
    folder(f'{ROOT}/bert/regression', dict(cfg, architectures=['BertForSequenceClassification'], problem_type='regression', id2label={'0': 'LABEL_0'}),
           ft_enc + finetune(pool) + lin('classifier', 1, H))


def gen_roberta(kind, model_type):
    enc = bert_embeddings('roberta.') + bert_layers('roberta.')
    base = enc + lin('roberta.pooler.dense', H, H) + lin('lm_head.dense', H, H) + [('lm_head.layer_norm.weight', r(H)), ('lm_head.layer_norm.bias', r(H)),
                                                                                 ('lm_head.decoder.weight', r(V, H)), ('lm_head.bias', r(V))]
    folder(f'{ROOT}/{kind}/pretrained', {'model_type': model_type, 'hidden_size': H, 'architectures': ['RobertaForMaskedLM']}, base)
    # RobertaForSequenceClassification: no pooler; RobertaClassificationHead dense + out_proj
    folder(f'{ROOT}/{kind}/seq-cls', {'model_type': model_type, 'hidden_size': H, 'architectures': ['RobertaForSequenceClassification']},
           finetune(enc) + lin('classifier.dense', H, H) + lin('classifier.out_proj', 3, H))


def gen_distilbert():
    emb = [('distilbert.embeddings.word_embeddings.weight', r(V, H)), ('distilbert.embeddings.position_embeddings.weight', r(P, H))] + ln('distilbert.embeddings.LayerNorm')
    layers = []
    for i in range(L):
        q = f'distilbert.transformer.layer.{i}'
        for n in ('q_lin', 'k_lin', 'v_lin', 'out_lin'):
            layers += lin(f'{q}.attention.{n}', H, H)
        layers += ln(f'{q}.sa_layer_norm') + lin(f'{q}.ffn.lin1', I, H) + lin(f'{q}.ffn.lin2', H, I) + ln(f'{q}.output_layer_norm')
    base = emb + layers + lin('vocab_transform', H, H) + ln('vocab_layer_norm') + [('vocab_projector.bias', r(V))]
    folder(f'{ROOT}/distilbert/pretrained', {'model_type': 'distilbert', 'dim': H, 'architectures': ['DistilBertForMaskedLM']}, base)
    folder(f'{ROOT}/distilbert/seq-cls', {'model_type': 'distilbert', 'dim': H, 'architectures': ['DistilBertForSequenceClassification']},
           finetune(emb + layers) + lin('pre_classifier', H, H) + lin('classifier', 3, H))


def gen_deberta():
    # DeBERTa-v3: no absolute positions; relative embeddings and a LayerNorm in the encoder
    enc = bert_embeddings('deberta.', token_types=False, positions=False) + bert_layers('deberta.', qkv=('query_proj', 'key_proj', 'value_proj')) \
        + [('deberta.encoder.rel_embeddings.weight', r(2 * 4, H))] + ln('deberta.encoder.LayerNorm')
    # the real deberta-v3 base checkpoint: the replaced-token-detection head (mask_predictions) and the MLM head
    base = enc + lin('mask_predictions.dense', H, H) + ln('mask_predictions.LayerNorm') + lin('mask_predictions.classifier', 1, H) \
        + lin('lm_predictions.lm_head.dense', H, H) + ln('lm_predictions.lm_head.LayerNorm') + [('lm_predictions.lm_head.bias', r(V))]
    folder(f'{ROOT}/deberta-v3/pretrained', {'model_type': 'deberta-v2', 'hidden_size': H, 'position_biased_input': False}, base)
    for labels in (3, 1):
        folder(f'{ROOT}/deberta-v3/seq-cls-{labels}', {'model_type': 'deberta-v2', 'hidden_size': H, 'architectures': ['DebertaV2ForSequenceClassification'],
                                                       'id2label': {str(i): f'L{i}' for i in range(labels)}},
               finetune(enc) + lin('pooler.dense', H, H) + lin('classifier', labels, H))


def gen_electra():
    E = 4  # electra-small: embedding_size < hidden_size, so ElectraModel has embeddings_project
    emb = [('electra.embeddings.word_embeddings.weight', r(V, E)), ('electra.embeddings.position_embeddings.weight', r(P, E)),
           ('electra.embeddings.token_type_embeddings.weight', r(2, E)), ('electra.embeddings.LayerNorm.weight', r(E)), ('electra.embeddings.LayerNorm.bias', r(E))]
    enc = emb + lin('electra.embeddings_project', H, E) + bert_layers('electra.')
    base = enc + lin('discriminator_predictions.dense', H, H) + lin('discriminator_predictions.dense_prediction', 1, H)
    folder(f'{ROOT}/electra/pretrained', {'model_type': 'electra', 'hidden_size': H, 'embedding_size': E, 'architectures': ['ElectraForPreTraining']}, base)
    folder(f'{ROOT}/electra/seq-cls', {'model_type': 'electra', 'hidden_size': H, 'embedding_size': E, 'architectures': ['ElectraForSequenceClassification']},
           finetune(enc) + lin('classifier.dense', H, H) + lin('classifier.out_proj', 3, H))


def gen_albert():
    E = 4
    emb = [('albert.embeddings.word_embeddings.weight', r(V, E)), ('albert.embeddings.position_embeddings.weight', r(P, E)),
           ('albert.embeddings.token_type_embeddings.weight', r(2, E)), ('albert.embeddings.LayerNorm.weight', r(E)), ('albert.embeddings.LayerNorm.bias', r(E))]
    q = 'albert.encoder.albert_layer_groups.0.albert_layers.0'
    layer = ln(f'{q}.full_layer_layer_norm') + lin(f'{q}.attention.query', H, H) + lin(f'{q}.attention.key', H, H) + lin(f'{q}.attention.value', H, H) \
        + lin(f'{q}.attention.dense', H, H) + ln(f'{q}.attention.LayerNorm') + lin(f'{q}.ffn', I, H) + lin(f'{q}.ffn_output', H, I)
    enc = emb + lin('albert.encoder.embedding_hidden_mapping_in', H, E) + layer + lin('albert.pooler', H, H)
    base = enc + [('predictions.bias', r(V))] + lin('predictions.dense', E, H) + [('predictions.LayerNorm.weight', r(E)), ('predictions.LayerNorm.bias', r(E))] \
        + lin('predictions.decoder', V, E) + lin('sop_classifier.classifier', 2, H)
    folder(f'{ROOT}/albert/pretrained', {'model_type': 'albert', 'hidden_size': H, 'embedding_size': E, 'architectures': ['AlbertForPreTraining']}, base)
    folder(f'{ROOT}/albert/seq-cls', {'model_type': 'albert', 'hidden_size': H, 'embedding_size': E, 'architectures': ['AlbertForSequenceClassification']},
           finetune(enc) + lin('classifier', 3, H))


def gpt2_tensors(p):
    t = [(f'{p}wte.weight', r(V, H)), (f'{p}wpe.weight', r(P, H))]
    for i in range(L):
        q = f'{p}h.{i}'
        # Conv1D stores its weight [in, out]
        t += ln(f'{q}.ln_1') + [(f'{q}.attn.c_attn.weight', r(H, 3 * H)), (f'{q}.attn.c_attn.bias', r(3 * H)), (f'{q}.attn.c_proj.weight', r(H, H)),
                                (f'{q}.attn.c_proj.bias', r(H))] + ln(f'{q}.ln_2') + [(f'{q}.mlp.c_fc.weight', r(H, 4 * H)), (f'{q}.mlp.c_fc.bias', r(4 * H)),
                                                                                     (f'{q}.mlp.c_proj.weight', r(4 * H, H)), (f'{q}.mlp.c_proj.bias', r(H))]
    return t + ln(f'{p}ln_f')


def gen_gpt2():
    # the hub's gpt2 checkpoint: GPT2Model names without the transformer. prefix
    base = gpt2_tensors('')
    cfg = {'model_type': 'gpt2', 'n_embd': H, 'n_layer': L, 'n_head': 2, 'vocab_size': V, 'n_positions': P}
    folder(f'{ROOT}/gpt2/pretrained', dict(cfg, architectures=['GPT2LMHeadModel']), base)
    ft = finetune(base, lambda n: 'transformer.' + n)
    # GPT2LMHeadModel: lm_head.weight is tied to wte (save_pretrained drops the copy)
    folder(f'{ROOT}/gpt2/lm', dict(cfg, architectures=['GPT2LMHeadModel']), ft, extra={'generation_config.json': '{"bos_token_id": 0}\n'})
    folder(f'{ROOT}/gpt2/seq-cls', dict(cfg, architectures=['GPT2ForSequenceClassification'], id2label={'0': 'neg', '1': 'pos'}), ft + [('score.weight', r(2, H))])


def llama_tensors(heads_kv, bias=False):
    hd = H // 2
    t = [('model.embed_tokens.weight', r(V, H))]
    for i in range(L):
        q = f'model.layers.{i}'
        t += lin(f'{q}.self_attn.q_proj', H, H, bias) + lin(f'{q}.self_attn.k_proj', heads_kv * hd, H, bias) + lin(f'{q}.self_attn.v_proj', heads_kv * hd, H, bias) \
            + lin(f'{q}.self_attn.o_proj', H, H, False) + lin(f'{q}.mlp.gate_proj', I, H, False) + lin(f'{q}.mlp.up_proj', I, H, False) \
            + lin(f'{q}.mlp.down_proj', H, I, False) + [(f'{q}.input_layernorm.weight', r(H)), (f'{q}.post_attention_layernorm.weight', r(H))]
    return t + [('model.norm.weight', r(H))]


def gen_decoders():
    # Llama: untied lm_head, GQA (1 key/value head), BF16 in two shards with an index
    base = llama_tensors(1) + [('lm_head.weight', r(V, H))]
    cfg = {'model_type': 'llama', 'hidden_size': H, 'num_attention_heads': 2, 'num_key_value_heads': 1, 'tie_word_embeddings': False, 'torch_dtype': 'bfloat16'}
    folder(f'{ROOT}/llama/pretrained', dict(cfg, architectures=['LlamaForCausalLM']), base, 'BF16', 2)
    folder(f'{ROOT}/llama/causal-lm', dict(cfg, architectures=['LlamaForCausalLM']), finetune(base), 'BF16', 2,
           extra={'chat_template.jinja': '{% for m in messages %}{{ m.content }}{% endfor %}\n', 'generation_config.json': '{"do_sample": false}\n'})
    folder(f'{ROOT}/llama/seq-cls', dict(cfg, architectures=['LlamaForSequenceClassification'], id2label={'0': 'x', '1': 'y'}),
           finetune(llama_tensors(1)) + [('score.weight', r(2, H))], 'BF16', 2)
    # Mistral: the same names, one shard
    mbase = llama_tensors(1) + [('lm_head.weight', r(V, H))]
    mcfg = dict(cfg, model_type='mistral')
    folder(f'{ROOT}/mistral/pretrained', mcfg, mbase, 'BF16', 2)
    folder(f'{ROOT}/mistral/causal-lm', mcfg, finetune(mbase), 'BF16', 2)
    # Qwen2: q/k/v biases, tied embeddings; the fine-tuned file stores lm_head.weight as a copy of embed_tokens
    qbase = llama_tensors(1, bias=True)
    qcfg = dict(cfg, model_type='qwen2', tie_word_embeddings=True)
    folder(f'{ROOT}/qwen2/pretrained', qcfg, qbase, 'BF16', 2)
    qft = finetune(qbase)
    folder(f'{ROOT}/qwen2/causal-lm', qcfg, qft + [('lm_head.weight', qft[0][1].copy())], 'BF16', 2,
           extra={'configuration_qwen2_custom.py': '# remote code configuration\n', 'modeling_qwen2_custom.py': '# remote code model\n', 'README.md': '# my model\n'})


def gen_t5():
    t = [('shared.weight', r(V, H))]
    for side in ('encoder', 'decoder'):
        for i in range(L):
            q = f'{side}.block.{i}.layer'
            t += [(f'{q}.0.SelfAttention.{n}.weight', r(H, H)) for n in 'qkvo']
            if i == 0:
                t.append((f'{q}.0.SelfAttention.relative_attention_bias.weight', r(4, 2)))
            t.append((f'{q}.0.layer_norm.weight', r(H)))
            k = 1
            if side == 'decoder':
                t += [(f'{q}.1.EncDecAttention.{n}.weight', r(H, H)) for n in 'qkvo'] + [(f'{q}.1.layer_norm.weight', r(H))]
                k = 2
            t += [(f'{q}.{k}.DenseReluDense.wi.weight', r(I, H)), (f'{q}.{k}.DenseReluDense.wo.weight', r(H, I)), (f'{q}.{k}.layer_norm.weight', r(H))]
        t.append((f'{side}.final_layer_norm.weight', r(H)))
    cfg = {'model_type': 't5', 'd_model': H, 'num_layers': L, 'tie_word_embeddings': True, 'architectures': ['T5ForConditionalGeneration']}
    # the copies T5 ties to shared: files written with them hold the same bytes three times
    with_copies = lambda ts: ts[:1] + [('encoder.embed_tokens.weight', ts[0][1].copy()), ('decoder.embed_tokens.weight', ts[0][1].copy())] + ts[1:]
    folder(f'{ROOT}/t5/pretrained', cfg, t)
    global _T5_BASE
    _T5_BASE = t
    folder(f'{ROOT}/t5/seq2seq', cfg, with_copies(finetune(t)), extra={'spiece.model': 'sentencepiece-bytes\n', 'generation_config.json': '{}\n'})


def gen_more():
    # BART: BartModel stores model.shared and its copies; BartForSequenceClassification adds classification_head
    t = [('model.shared.weight', r(V, H))]
    for side in ('encoder', 'decoder'):
        t += [(f'model.{side}.embed_positions.weight', r(P + 2, H))]
        for i in range(L):
            q = f'model.{side}.layers.{i}'
            t += sum([lin(f'{q}.self_attn.{n}', H, H) for n in ('k_proj', 'v_proj', 'q_proj', 'out_proj')], []) + ln(f'{q}.self_attn_layer_norm')
            if side == 'decoder':
                t += sum([lin(f'{q}.encoder_attn.{n}', H, H) for n in ('k_proj', 'v_proj', 'q_proj', 'out_proj')], []) + ln(f'{q}.encoder_attn_layer_norm')
            t += lin(f'{q}.fc1', I, H) + lin(f'{q}.fc2', H, I) + ln(f'{q}.final_layer_norm')
        t += ln(f'model.{side}.layernorm_embedding')
    copies = lambda ts: ts[:1] + [('model.encoder.embed_tokens.weight', ts[0][1].copy()), ('model.decoder.embed_tokens.weight', ts[0][1].copy())] + ts[1:]
    cfg = {'model_type': 'bart', 'd_model': H}
    folder(f'{ROOT}/bart/pretrained', dict(cfg, architectures=['BartModel']), copies(t) + [('final_logits_bias', np.zeros((1, V), np.float32))])
    folder(f'{ROOT}/bart/seq-cls', dict(cfg, architectures=['BartForSequenceClassification']), copies(finetune(t)) + lin('classification_head.dense', H, H) + lin('classification_head.out_proj', 3, H))
    # MPNet: MPNetForSequenceClassification holds mpnet (no pooler) and MPNetClassificationHead
    enc = [('mpnet.embeddings.word_embeddings.weight', r(V, H)), ('mpnet.embeddings.position_embeddings.weight', r(P, H))] + ln('mpnet.embeddings.LayerNorm')
    for i in range(L):
        q = f'mpnet.encoder.layer.{i}'
        enc += sum([lin(f'{q}.attention.attn.{n}', H, H) for n in 'qkvo'], []) + ln(f'{q}.attention.LayerNorm') + lin(f'{q}.intermediate.dense', I, H) \
            + lin(f'{q}.output.dense', H, I) + ln(f'{q}.output.LayerNorm')
    enc.append(('mpnet.encoder.relative_attention_bias.weight', r(4, 2)))
    folder(f'{ROOT}/mpnet/pretrained', {'model_type': 'mpnet', 'hidden_size': H}, enc + lin('mpnet.pooler.dense', H, H) + lin('lm_head.dense', H, H) + ln('lm_head.layer_norm') + [('lm_head.bias', r(V))])
    folder(f'{ROOT}/mpnet/seq-cls', {'model_type': 'mpnet', 'hidden_size': H}, finetune(enc) + lin('classifier.dense', H, H) + lin('classifier.out_proj', 3, H))
    # Mixtral: block_sparse_moe.gate (router) and experts.M.w1/w2/w3
    m = [('model.embed_tokens.weight', r(V, H))]
    for i in range(L):
        q = f'model.layers.{i}'
        m += sum([lin(f'{q}.self_attn.{n}', H, H, False) for n in ('q_proj', 'k_proj', 'v_proj', 'o_proj')], []) + lin(f'{q}.block_sparse_moe.gate', 2, H, False)
        for e in range(2):
            m += lin(f'{q}.block_sparse_moe.experts.{e}.w1', I, H, False) + lin(f'{q}.block_sparse_moe.experts.{e}.w2', H, I, False) + lin(f'{q}.block_sparse_moe.experts.{e}.w3', I, H, False)
        m += [(f'{q}.input_layernorm.weight', r(H)), (f'{q}.post_attention_layernorm.weight', r(H))]
    m += [('model.norm.weight', r(H)), ('lm_head.weight', r(V, H))]
    folder(f'{ROOT}/mixtral/pretrained', {'model_type': 'mixtral', 'hidden_size': H}, m, 'BF16')
    folder(f'{ROOT}/mixtral/causal-lm', {'model_type': 'mixtral', 'hidden_size': H}, finetune(m), 'BF16')
    # Phi-3: fused qkv_proj and gate_up_proj
    p3 = [('model.embed_tokens.weight', r(V, H))]
    for i in range(L):
        q = f'model.layers.{i}'
        p3 += lin(f'{q}.self_attn.qkv_proj', 3 * H, H, False) + lin(f'{q}.self_attn.o_proj', H, H, False) + lin(f'{q}.mlp.gate_up_proj', 2 * I, H, False) \
            + lin(f'{q}.mlp.down_proj', H, I, False) + [(f'{q}.input_layernorm.weight', r(H)), (f'{q}.post_attention_layernorm.weight', r(H))]
    p3 += [('model.norm.weight', r(H))]
    folder(f'{ROOT}/phi3/pretrained', {'model_type': 'phi3', 'hidden_size': H}, p3 + [('lm_head.weight', r(V, H))], 'BF16')
    folder(f'{ROOT}/phi3/seq-cls', {'model_type': 'phi3', 'hidden_size': H}, finetune(p3) + [('score.weight', r(2, H))], 'BF16')
    # Gemma: tied LM head (the base stores only embed_tokens; the fine-tuned file a copy as lm_head.weight)
    g = llama_tensors(1)
    folder(f'{ROOT}/gemma/pretrained', {'model_type': 'gemma', 'hidden_size': H}, g, 'BF16')
    gf = finetune(g)
    folder(f'{ROOT}/gemma/causal-lm', {'model_type': 'gemma', 'hidden_size': H}, gf + [('lm_head.weight', gf[0][1].copy())], 'BF16')
    # CamemBERT: CamembertForSequenceClassification holds a roberta module
    enc = bert_embeddings('roberta.') + bert_layers('roberta.')
    folder(f'{ROOT}/camembert/pretrained', {'model_type': 'camembert', 'hidden_size': H}, enc + lin('lm_head.dense', H, H) + ln('lm_head.layer_norm') + [('lm_head.bias', r(V))])
    folder(f'{ROOT}/camembert/seq-cls', {'model_type': 'camembert', 'hidden_size': H}, finetune(enc) + lin('classifier.dense', H, H) + lin('classifier.out_proj', 3, H))


def gen_t5_cls():
    # T5ForSequenceClassification: the T5Model under transformer., a classification_head; the base is t5-small's names
    base = [(n, a) for n, a in _T5_BASE]
    cfg = {'model_type': 't5', 'd_model': H, 'num_layers': L, 'architectures': ['T5ForSequenceClassification']}
    ft = finetune(base, lambda n: 'transformer.' + n)
    ft = ft[:1] + [('transformer.encoder.embed_tokens.weight', ft[0][1].copy()), ('transformer.decoder.embed_tokens.weight', ft[0][1].copy())] + ft[1:]
    folder(f'{ROOT}/t5/seq-cls', cfg, ft + lin('classification_head.dense', H, H) + lin('classification_head.out_proj', 3, H))


# ---- GPT-2 classification end to end: our own PyTorch re-implementation of GPT2ForSequenceClassification
# (modeling_gpt2.py: Conv1D x @ W + b, causal + padding masked attention scaled by sqrt(head_dim), gelu_new,
# LayerNorm eps 1e-5, score on the last non-padding token), exported to ONNX with the safetensors values.
class TinyGPT2(torch.nn.Module):
    def __init__(self, sd, heads):
        super().__init__()
        self.p = {k: torch.from_numpy(v) for k, v in sd.items()}
        self.heads = heads

    def ln(self, x, n):
        return torch.nn.functional.layer_norm(x, (H,), self.p[n + '.weight'], self.p[n + '.bias'], 1e-5)

    def forward(self, input_ids, attention_mask):
        p = self.p
        b, s = input_ids.shape
        pos = torch.arange(s).unsqueeze(0)
        x = p['transformer.wte.weight'][input_ids] + p['transformer.wpe.weight'][pos]
        causal = torch.tril(torch.ones(s, s, dtype=torch.bool))
        pad = (1.0 - attention_mask[:, None, None, :].float()) * torch.finfo(torch.float32).min
        hd = H // self.heads
        for i in range(L):
            q = f'transformer.h.{i}'
            h = self.ln(x, f'{q}.ln_1')
            qkv = h @ p[f'{q}.attn.c_attn.weight'] + p[f'{q}.attn.c_attn.bias']
            qh, kh, vh = [t.reshape(b, s, self.heads, hd).transpose(1, 2) for t in qkv.split(H, dim=2)]
            w = qh @ kh.transpose(-1, -2) / (hd ** 0.5)
            w = torch.where(causal, w, torch.tensor(torch.finfo(torch.float32).min)) + pad
            a = (torch.softmax(w, dim=-1) @ vh).transpose(1, 2).reshape(b, s, H)
            x = x + a @ p[f'{q}.attn.c_proj.weight'] + p[f'{q}.attn.c_proj.bias']
            h = self.ln(x, f'{q}.ln_2')
            h = h @ p[f'{q}.mlp.c_fc.weight'] + p[f'{q}.mlp.c_fc.bias']
            h = 0.5 * h * (1.0 + torch.tanh((2.0 / np.pi) ** 0.5 * (h + 0.044715 * torch.pow(h, 3.0))))
            x = x + h @ p[f'{q}.mlp.c_proj.weight'] + p[f'{q}.mlp.c_proj.bias']
        x = self.ln(x, 'transformer.ln_f')
        logits = x @ p['score.weight'].T
        last = attention_mask.sum(-1) - 1
        return logits[torch.arange(b), last]


def read_safetensors(path):
    with open(path, 'rb') as f:
        n = struct.unpack('<Q', f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for k, v in header.items():
        if k == '__metadata__':
            continue
        assert v['dtype'] == 'F32'
        a, b = v['data_offsets']
        out[k] = np.frombuffer(data[a:b], dtype='<f4').reshape(v['shape']).copy()
    return out


def gen_gpt2_eval():
    d = f'{ROOT}/gpt2/seq-cls-eval'
    shutil.copytree(f'{ROOT}/gpt2/seq-cls', d)
    sd = read_safetensors(f'{d}/model.safetensors')
    words = [f'w{i}' for i in range(V - 2)]
    vocab = {'<pad>': 0, '<unk>': 1, **{w: i + 2 for i, w in enumerate(words)}}
    tok = {'version': '1.0', 'truncation': None, 'padding': None,
           'added_tokens': [{'id': 0, 'content': '<pad>', 'single_word': False, 'lstrip': False, 'rstrip': False, 'normalized': False, 'special': True}],
           'normalizer': None, 'pre_tokenizer': {'type': 'Whitespace'}, 'post_processor': None, 'decoder': None,
           'model': {'type': 'WordLevel', 'vocab': vocab, 'unk_token': '<unk>'}}
    with open(f'{d}/tokenizer.json', 'w') as f:
        json.dump(tok, f)
    with open(f'{d}/tokenizer_config.json', 'w') as f:
        json.dump({'pad_token': '<pad>', 'unk_token': '<unk>', 'model_max_length': P}, f)
    model = TinyGPT2(sd, 2)
    # the ONNX export: the weights as graph initializers named as in model.safetensors
    class Export(torch.nn.Module):
        # the parameters in nested modules named as the checkpoint's keys, so the exporter names the initializers alike
        def __init__(self):
            super().__init__()
            for k, v in sd.items():
                mod = self
                *path, leaf = k.split('.')
                for part in path:
                    if not hasattr(mod, part):
                        mod.add_module(part, torch.nn.Module())
                    mod = getattr(mod, part)
                mod.register_parameter(leaf, torch.nn.Parameter(torch.from_numpy(v)))

        def forward(self, input_ids, attention_mask):
            model.p = dict(self.named_parameters())
            return model(input_ids, attention_mask)

    ex = Export()
    torch.onnx.export(ex, (torch.ones(2, 5, dtype=torch.long), torch.ones(2, 5, dtype=torch.long)), f'{d}/model.onnx',
                      input_names=['input_ids', 'attention_mask'], output_names=['logits'],
                      dynamic_axes={'input_ids': {0: 'batch', 1: 'seq'}, 'attention_mask': {0: 'batch', 1: 'seq'}, 'logits': {0: 'batch'}},
                      opset_version=14, do_constant_folding=False)
    lines = []
    texts = []
    for i in range(40):
        n = int(rng.integers(2, 9))
        texts.append(' '.join(words[int(j)] for j in rng.integers(0, len(words), n)))
    with torch.no_grad():
        ids = [[vocab[w] for w in t.split()] for t in texts]
        mx = max(len(x) for x in ids)
        inp = torch.tensor([x + [0] * (mx - len(x)) for x in ids])
        mask = torch.tensor([[1] * len(x) + [0] * (mx - len(x)) for x in ids])
        logits = model(inp, mask).numpy()
    pred = logits.argmax(-1)
    labels = [int(p) if i % 4 else 1 - int(p) for i, p in enumerate(pred)]  # three in four agree with the model
    with open(f'{d}/test.jsonl', 'w') as f:
        for t, l in zip(texts, labels):
            f.write(json.dumps({'text': t, 'label': ['neg', 'pos'][l]}) + '\n')
    with open(f'{d}/expected.json', 'w') as f:
        json.dump({'accuracy': float(np.mean(pred == np.array(labels))), 'logits': logits.tolist()}, f)


# ---- LoRA (PEFT): the adapter's file names and the merge PEFT performs ----
def lora_delta_torch(A, B, scaling, fan_in_fan_out=False):
    """PEFT's get_delta_weight with float32 adapter weights (PeftModel autocasts F16/BF16 adapters to float32 by
    default, autocast_adapter_dtype=True): transpose(B @ A, fan_in_fan_out) * scaling, in torch."""
    A = torch.from_numpy(np.ascontiguousarray(A, dtype=np.float32))
    B = torch.from_numpy(np.ascontiguousarray(B, dtype=np.float32))
    d = B @ A
    if fan_in_fan_out:
        d = d.T
    return d * scaling


def lora_merge_reference(W, A, B, scaling, fan_in_fan_out=False, dtype=torch.float32):
    """The merged weight as PEFT's merge computes it on the CPU (unsafe merge: base_layer.weight.data += delta),
    in torch with the base weight in its own dtype: a F16/BF16 weight plus the float32 delta is computed in
    float32 and rounded once to the base dtype. Returned as float32 numpy values (exact in the base dtype)."""
    w = torch.from_numpy(np.ascontiguousarray(W, dtype=np.float32)).to(dtype)
    w += lora_delta_torch(A, B, scaling, fan_in_fan_out)
    return w.to(torch.float32).numpy()


def lora_merge_base_dtype_adapter(W, A, B, scaling, fan_in_fan_out, dtype):
    """The other path (autocast_adapter_dtype=False: adapter weights in the base dtype on the CPU): PEFT casts
    A and B to float32, rounds the delta to the base dtype, then adds. Only counted, for the record."""
    w = torch.from_numpy(np.ascontiguousarray(W, dtype=np.float32)).to(dtype)
    a = torch.from_numpy(np.ascontiguousarray(A, dtype=np.float32)).to(dtype).float()
    b = torch.from_numpy(np.ascontiguousarray(B, dtype=np.float32)).to(dtype).float()
    d = b @ a
    if fan_in_fan_out:
        d = d.T
    w += (d * scaling).to(dtype)
    return w.to(torch.float32).numpy()


def gen_lora():
    # CAUSAL_LM on an F32 Llama base: q_proj/v_proj and an embedding LoRA on embed_tokens, rsLoRA scaling
    base = dict(llama_tensors(1) + [('lm_head.weight', r(V, H))])
    cfg = {'model_type': 'llama', 'hidden_size': H, 'num_attention_heads': 2, 'num_key_value_heads': 1, 'tie_word_embeddings': False}
    folder(f'{ROOT}/lora/llama-base', dict(cfg, architectures=['LlamaForCausalLM']), list(base.items()), extra={'tokenizer.json': '{"model": {}}\n'})
    rank, alpha = 4, 8
    scaling = alpha / np.sqrt(rank)
    adapter = []
    merged = {}
    for i in range(L):
        for m in ('q_proj', 'v_proj'):
            name = f'model.layers.{i}.self_attn.{m}'
            W = base[f'{name}.weight']
            A, B = r(rank, W.shape[1]), r(W.shape[0], rank)
            adapter += [(f'base_model.model.{name}.lora_A.weight', A), (f'base_model.model.{name}.lora_B.weight', B)]
            merged[f'{name}.weight'] = lora_merge_reference(W, A, B, scaling)
    E = base['model.embed_tokens.weight']
    eA, eB = r(rank, V), r(H, rank)  # lora_embedding_A [r, num_embeddings], lora_embedding_B [embedding_dim, r]
    adapter += [('base_model.model.model.embed_tokens.lora_embedding_A', eA), ('base_model.model.model.embed_tokens.lora_embedding_B', eB)]
    merged['model.embed_tokens.weight'] = lora_merge_reference(E, eA, eB, scaling, fan_in_fan_out=True)
    os.makedirs(f'{ROOT}/lora/causal-lm', exist_ok=True)
    write_safetensors(f'{ROOT}/lora/causal-lm/adapter_model.safetensors', adapter)
    with open(f'{ROOT}/lora/causal-lm/adapter_config.json', 'w') as f:
        json.dump({'peft_type': 'LORA', 'task_type': 'CAUSAL_LM', 'r': rank, 'lora_alpha': alpha, 'use_rslora': True, 'fan_in_fan_out': False,
                   'target_modules': ['q_proj', 'v_proj', 'embed_tokens'], 'modules_to_save': None, 'base_model_name_or_path': '../llama-base', 'bias': 'none'}, f, indent=1)
    with open(f'{ROOT}/lora/causal-lm/README.md', 'w') as f:
        f.write('# adapter card\n')
    write_safetensors(f'{ROOT}/lora/causal-lm/expected-merged.safetensors', sorted(merged.items()))
    # the same adapter saved by torch.save (adapter_model.bin, PEFT's safe_serialization=False)
    os.makedirs(f'{ROOT}/lora/causal-lm-bin', exist_ok=True)
    torch.save({n: torch.from_numpy(a) for n, a in adapter}, f'{ROOT}/lora/causal-lm-bin/adapter_model.bin')
    for f_ in ('adapter_config.json', 'expected-merged.safetensors'):
        shutil.copy(f'{ROOT}/lora/causal-lm/{f_}', f'{ROOT}/lora/causal-lm-bin/{f_}')

    # SEQ_CLS on a GPT-2 base: Conv1D targets (fan_in_fan_out), the score head in modules_to_save
    gbase = dict(gpt2_tensors(''))
    gcfg = {'model_type': 'gpt2', 'n_embd': H, 'n_layer': L, 'n_head': 2, 'vocab_size': V, 'n_positions': P, 'architectures': ['GPT2LMHeadModel']}
    folder(f'{ROOT}/lora/gpt2-base', gcfg, list(gbase.items()))
    rank, alpha = 2, 4
    adapter = []
    merged = {}
    for i in range(L):
        name = f'h.{i}.attn.c_attn'
        W = gbase[f'{name}.weight']  # [in, out]
        A, B = r(rank, W.shape[0]), r(W.shape[1], rank)  # lora_A: in -> r, lora_B: r -> out
        adapter += [(f'base_model.model.transformer.{name}.lora_A.weight', A), (f'base_model.model.transformer.{name}.lora_B.weight', B)]
        merged[f'{name}.weight'] = lora_merge_reference(W, A, B, alpha / rank, fan_in_fan_out=True)
    score = r(3, H)
    adapter.append(('base_model.model.score.weight', score))
    merged['score.weight'] = score
    os.makedirs(f'{ROOT}/lora/seq-cls', exist_ok=True)
    write_safetensors(f'{ROOT}/lora/seq-cls/adapter_model.safetensors', adapter)
    with open(f'{ROOT}/lora/seq-cls/adapter_config.json', 'w') as f:
        json.dump({'peft_type': 'LORA', 'task_type': 'SEQ_CLS', 'r': rank, 'lora_alpha': alpha, 'use_rslora': False, 'fan_in_fan_out': True,
                   'target_modules': ['c_attn'], 'modules_to_save': ['classifier', 'score'], 'base_model_name_or_path': 'openai-community/gpt2', 'bias': 'none'}, f, indent=1)
    write_safetensors(f'{ROOT}/lora/seq-cls/expected-merged.safetensors', sorted(merged.items()))


def gen_lora_half():
    """LoRA on F16 and BF16 bases, the merge done in torch as PEFT does it on the CPU (see lora_merge_reference)."""
    T = {'F16': torch.float16, 'BF16': torch.bfloat16}
    other = 0
    # BF16 Llama in two shards: every projection and the embedding adapted, adapter stored in BF16 (upcast to float32)
    base = dict(llama_tensors(1) + [('lm_head.weight', r(V, H))])
    base = {n: torch.from_numpy(a).to(torch.bfloat16).float().numpy() for n, a in base.items()}  # values the BF16 file holds
    cfg = {'model_type': 'llama', 'hidden_size': H, 'num_attention_heads': 2, 'num_key_value_heads': 1, 'tie_word_embeddings': False, 'torch_dtype': 'bfloat16'}
    folder(f'{ROOT}/lora/llama-bf16-base', dict(cfg, architectures=['LlamaForCausalLM']), list(base.items()), 'BF16', 2)
    rank, alpha = 6, 16
    scaling = alpha / rank
    adapter, merged = [], {}
    bf = lambda a: torch.from_numpy(a).to(torch.bfloat16).float().numpy()
    for i in range(L):
        for m in ('self_attn.q_proj', 'self_attn.k_proj', 'self_attn.v_proj', 'self_attn.o_proj', 'mlp.gate_proj', 'mlp.up_proj', 'mlp.down_proj'):
            name = f'model.layers.{i}.{m}'
            W = base[f'{name}.weight']
            A, B = bf(r(rank, W.shape[1])), bf(r(W.shape[0], rank))
            adapter += [(f'base_model.model.{name}.lora_A.weight', A), (f'base_model.model.{name}.lora_B.weight', B)]
            merged[f'{name}.weight'] = lora_merge_reference(W, A, B, scaling, dtype=torch.bfloat16)
            other += int((merged[f'{name}.weight'] != lora_merge_base_dtype_adapter(W, A, B, scaling, False, torch.bfloat16)).sum())
    E = base['model.embed_tokens.weight']
    eA, eB = bf(r(rank, V)), bf(r(H, rank))
    adapter += [('base_model.model.model.embed_tokens.lora_embedding_A', eA), ('base_model.model.model.embed_tokens.lora_embedding_B', eB)]
    merged['model.embed_tokens.weight'] = lora_merge_reference(E, eA, eB, scaling, fan_in_fan_out=True, dtype=torch.bfloat16)
    d = f'{ROOT}/lora/llama-bf16'
    os.makedirs(d, exist_ok=True)
    write_safetensors(f'{d}/adapter_model.safetensors', adapter, 'BF16')
    with open(f'{d}/adapter_config.json', 'w') as f:
        json.dump({'peft_type': 'LORA', 'task_type': 'CAUSAL_LM', 'r': rank, 'lora_alpha': alpha, 'use_rslora': False, 'fan_in_fan_out': False,
                   'target_modules': ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj', 'embed_tokens'],
                   'modules_to_save': None, 'base_model_name_or_path': '../llama-bf16-base', 'bias': 'none'}, f, indent=1)
    write_safetensors(f'{d}/expected-merged.safetensors', sorted(merged.items()), 'BF16')

    # F16 GPT-2: Conv1D targets (fan_in_fan_out), lora_bias (merged bias = bias + lora_B.bias * scaling), rsLoRA, F32 adapter
    gbase = {n: a.astype(np.float16).astype(np.float32) for n, a in gpt2_tensors('')}
    gcfg = {'model_type': 'gpt2', 'n_embd': H, 'n_layer': L, 'n_head': 2, 'vocab_size': V, 'n_positions': P, 'architectures': ['GPT2LMHeadModel'], 'torch_dtype': 'float16'}
    folder(f'{ROOT}/lora/gpt2-f16-base', gcfg, list(gbase.items()), 'F16')
    rank, alpha = 3, 7
    scaling = alpha / np.sqrt(rank)
    adapter, merged = [], {}
    for i in range(L):
        for m in ('attn.c_attn', 'attn.c_proj', 'mlp.c_fc', 'mlp.c_proj'):
            name = f'h.{i}.{m}'
            W = gbase[f'{name}.weight']  # [in, out]
            A, B, Bb = r(rank, W.shape[0]), r(W.shape[1], rank), r(W.shape[1])
            adapter += [(f'base_model.model.transformer.{name}.lora_A.weight', A), (f'base_model.model.transformer.{name}.lora_B.weight', B),
                        (f'base_model.model.transformer.{name}.lora_B.bias', Bb)]
            merged[f'{name}.weight'] = lora_merge_reference(W, A, B, scaling, fan_in_fan_out=True, dtype=torch.float16)
            other += int((merged[f'{name}.weight'] != lora_merge_base_dtype_adapter(W, A, B, scaling, True, torch.float16)).sum())
            bias = torch.from_numpy(gbase[f'{name}.bias']).to(torch.float16)
            bias += torch.from_numpy(Bb) * scaling
            merged[f'{name}.bias'] = bias.float().numpy()
    d = f'{ROOT}/lora/gpt2-f16'
    os.makedirs(d, exist_ok=True)
    write_safetensors(f'{d}/adapter_model.safetensors', adapter)
    with open(f'{d}/adapter_config.json', 'w') as f:
        json.dump({'peft_type': 'LORA', 'task_type': 'CAUSAL_LM', 'r': rank, 'lora_alpha': alpha, 'use_rslora': True, 'fan_in_fan_out': True, 'lora_bias': True,
                   'target_modules': ['c_attn', 'c_proj', 'c_fc'], 'modules_to_save': None, 'base_model_name_or_path': '../gpt2-f16-base', 'bias': 'none'}, f, indent=1)
    write_safetensors(f'{d}/expected-merged.safetensors', sorted(merged.items()), 'F16')
    print(f'LoRA F16/BF16: {other} merged values differ when the adapter stays in the base dtype (autocast_adapter_dtype=False)', file=sys.stderr)


def gen_llama_heads():
    """LlamaForTokenClassification (score with a bias, under model.) and LlamaForQuestionAnswering (the base model
    under transformer., its base_model_prefix; qa_outputs), fine-tuned from llama/pretrained (LlamaForCausalLM, model.)."""
    cfg = {'model_type': 'llama', 'hidden_size': H, 'num_attention_heads': 2, 'num_key_value_heads': 1, 'tie_word_embeddings': False, 'torch_dtype': 'bfloat16'}
    folder(f'{ROOT}/llama/tok-cls', dict(cfg, architectures=['LlamaForTokenClassification'], id2label={'0': 'O', '1': 'B', '2': 'I'}),
           finetune(llama_tensors(1)) + lin('score', 3, H), 'BF16', 2)
    folder(f'{ROOT}/llama/qa', dict(cfg, architectures=['LlamaForQuestionAnswering']),
           finetune(llama_tensors(1), lambda n: 'transformer.' + n[len('model.'):]) + lin('qa_outputs', 2, H), 'BF16', 2)


# ---- PyTorch state dicts written by torch.save ----
class Evil:
    def __init__(self, fn, arg):
        self.fn, self.arg = fn, arg

    def __reduce__(self):
        return (self.fn, (self.arg,))


def gen_torch():
    d = f'{ROOT}/torch'
    sd = {n: torch.from_numpy(a) for n, a in bert_embeddings('bert.') + bert_layers('bert.') + lin('classifier', 3, H)}
    sd['bert.embeddings.word_embeddings.weight'] = sd['bert.embeddings.word_embeddings.weight'].to(torch.float16)
    sd['bert.embeddings.position_ids'] = torch.arange(P, dtype=torch.int64).unsqueeze(0)
    # one tensor that is a view into a larger storage (offset), as a sliced parameter leaves it
    big = torch.from_numpy(r(2 * H))
    sd['bert.encoder.layer.0.output.LayerNorm.bias'] = big[H:]
    os.makedirs(f'{d}/bin', exist_ok=True)
    torch.save(sd, f'{d}/bin/pytorch_model.bin')
    with open(f'{d}/bin/config.json', 'w') as f:
        json.dump({'model_type': 'bert', 'hidden_size': H}, f)
    # the same tensors as safetensors (the reference the reader must equal)
    os.makedirs(f'{d}/reference', exist_ok=True)
    ref = []
    for n, t in sd.items():
        ref.append((n, t.contiguous()))
    write_typed_safetensors(f'{d}/reference/model.safetensors', ref)
    # sharded .bin with its index
    os.makedirs(f'{d}/sharded', exist_ok=True)
    names = list(sd.keys())
    half = len(names) // 2
    wm = {}
    for s, part in enumerate((names[:half], names[half:])):
        fn = f'pytorch_model-{s + 1:05d}-of-00002.bin'
        torch.save({n: sd[n].clone() for n in part}, f'{d}/sharded/{fn}')
        wm.update({n: fn for n in part})
    with open(f'{d}/sharded/pytorch_model.bin.index.json', 'w') as f:
        json.dump({'metadata': {'total_size': 0}, 'weight_map': wm}, f)
    with open(f'{d}/sharded/config.json', 'w') as f:
        json.dump({'model_type': 'bert', 'hidden_size': H}, f)
    # legacy (non-zip) format
    os.makedirs(f'{d}/legacy', exist_ok=True)
    torch.save({'w': torch.zeros(2)}, f'{d}/legacy/pytorch_model.bin', _use_new_zipfile_serialization=False)
    # pickles that name os.system and builtins.eval inside a torch zip (built by hand; nothing is run here)
    for label, fn, arg in (('os-system', os.system, 'touch KEN_PWNED'), ('builtins-eval', eval, "open('KEN_PWNED','w')")):
        os.makedirs(f'{d}/evil-{label}', exist_ok=True)
        payload = {'bert.pooler.dense.weight': torch.zeros(2, 2), 'x': Evil(fn, arg)}
        torch.save(payload, f'{d}/evil-{label}/pytorch_model.bin')


def write_typed_safetensors(path, named):
    codes = {torch.float32: 'F32', torch.float16: 'F16', torch.int64: 'I64'}
    header = {'__metadata__': {'format': 'pt'}}
    blobs = []
    off = 0
    for n, t in named:
        b = t.numpy().tobytes()
        header[n] = {'dtype': codes[t.dtype], 'shape': list(t.shape), 'data_offsets': [off, off + len(b)]}
        off += len(b)
        blobs.append(b)
    js = json.dumps(header, separators=(',', ':'))
    js += ' ' * ((8 - (8 + len(js)) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(js)))
        f.write(js.encode())
        for b in blobs:
            f.write(b)


if __name__ == '__main__':
    if os.path.exists(ROOT):
        shutil.rmtree(ROOT)
    os.makedirs(ROOT)
    gen_bert()
    gen_roberta('roberta', 'roberta')
    gen_roberta('xlm-roberta', 'xlm-roberta')
    gen_distilbert()
    gen_deberta()
    gen_electra()
    gen_albert()
    gen_gpt2()
    gen_gpt2_eval()
    gen_decoders()
    gen_t5()
    gen_t5_cls()
    gen_more()
    gen_lora()
    gen_torch()
    gen_lora_half()
    gen_llama_heads()
    print('wrote', ROOT, file=sys.stderr)
