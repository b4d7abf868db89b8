// The Llama family (model_type llama, mistral, qwen2): model.* (embed_tokens, layers.N, norm); heads score
// (sequence and token classification; the token classifier has a bias) and qa_outputs (question answering);
// lm_head is a pre-trained weight (tied to embed_tokens when tie_word_embeddings). LlamaForQuestionAnswering
// and Qwen2ForQuestionAnswering keep the base model under transformer.* (their base_model_prefix), Mistral's
// under model.*.
import { CheckpointError } from '../errors';
import { ONNX_TYPE } from '../formats/onnx-write';
import type { GraphBuilder, Value } from '../graph/builder';
import { causalAttention, causalMaskBias, positionsFromMask } from '../graph/causal';
import { activation, embedding, linear } from '../graph/nn';
import type { ConfigReader, FamilyGraph, GraphContext, TaskOutputs } from '../graph/types';
import { causalLm, lastNonPadToken, questionAnswering, sequenceClassification, tokenClassification } from './heads';
import type { HfConfig, ModelFamily } from './types';

// ---- inference graph (modeling_llama.py / modeling_mistral.py / modeling_qwen2.py, eager attention) ----

const f32 = Math.fround;

/** rope_scaling (transformers 4.x) or rope_parameters (5.x), with rope_theta from either. */
function ropeConfig(config: ConfigReader): { theta: number; scaling: Record<string, unknown> | undefined } {
  const params = config.raw['rope_parameters'];
  const scaling = config.raw['rope_scaling'];
  const obj = (v: unknown): Record<string, unknown> | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined);
  const p = obj(params) ?? obj(scaling);
  const theta = typeof p?.['rope_theta'] === 'number' ? (p['rope_theta'] as number) : config.num('rope_theta', 10000);
  return { theta, scaling: p };
}

/**
 * RoPE inverse frequencies as modeling_rope_utils computes them in float32 (default, linear, llama3),
 * each step rounded to float32 the way torch's float32 tensor arithmetic rounds it.
 */
export function ropeInverseFrequencies(config: ConfigReader, headDim: number): Float32Array {
  const { theta, scaling } = ropeConfig(config);
  const half = headDim / 2;
  const inv = new Float32Array(half);
  for (let i = 0; i < half; i++) inv[i] = f32(1 / f32(Math.pow(f32(theta), f32((2 * i) / headDim))));
  const kind = scaling ? String(scaling['rope_type'] ?? scaling['type'] ?? 'default') : 'default';
  const num = (key: string): number => {
    const v = scaling?.[key];
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new CheckpointError(`${config.file}: rope_scaling ${kind} needs a number ${key} (got ${JSON.stringify(v)})`);
    return v;
  };
  switch (kind) {
    case 'default':
      return inv;
    case 'linear': {
      const factor = f32(num('factor'));
      return inv.map((x) => f32(x / factor));
    }
    case 'llama3': {
      const factor = f32(num('factor'));
      const lo = num('low_freq_factor');
      const hi = num('high_freq_factor');
      const old = num('original_max_position_embeddings');
      const loWavelen = f32(old / lo);
      const hiWavelen = f32(old / hi);
      return inv.map((x) => {
        const wavelen = f32(f32(1 / x) * f32(2 * Math.PI)); // torch: 2*pi / t is reciprocal(t) * 2*pi
        const scaled = wavelen > loWavelen ? f32(x / factor) : x;
        if (wavelen < hiWavelen || wavelen > loWavelen) return scaled;
        const smooth = f32(f32(f32(f32(1 / wavelen) * f32(old)) - f32(lo)) / f32(hi - lo));
        return f32(f32(f32(f32(1 - smooth) * scaled) / factor) + f32(smooth * scaled));
      });
    }
    default:
      throw new CheckpointError(`${config.file}: rope_scaling type "${kind}" is not built (built: default, linear, llama3)`);
  }
}

/** cos and sin of position * inverse frequency, [batch, sequence, head_dim], computed in float32 (as transformers forces). */
function rotaryTables(g: GraphBuilder, positions: Value, inv: Float32Array): { cos: Value; sin: Value } {
  const invFreq = g.op('Constant', [], { value: { name: '', elemType: 'float32', dims: [inv.length], raw: new Uint8Array(inv.buffer.slice(0)) } }, { hint: 'rope_inv_freq' });
  const pos = g.op('Unsqueeze', [g.op('Cast', [positions], { to: ONNX_TYPE.float32 }), g.i64([-1])]); // [batch, sequence, 1]
  const freqs = g.op('Mul', [pos, invFreq], undefined, { hint: 'rope_freqs' });
  const emb = g.op('Concat', [freqs, freqs], { axis: -1 });
  let cos = g.op('Cos', [emb], undefined, { hint: 'rope_cos' });
  let sin = g.op('Sin', [emb], undefined, { hint: 'rope_sin' });
  if (g.computeType !== 'float32') {
    cos = g.op('Cast', [cos], { to: ONNX_TYPE[g.computeType] });
    sin = g.op('Cast', [sin], { to: ONNX_TYPE[g.computeType] });
  }
  return { cos, sin };
}

/** LlamaRMSNorm: weight * x / sqrt(mean(x^2) + eps), in the pattern onnxruntime fuses into SimplifiedLayerNormalization. */
function rmsNorm(g: GraphBuilder, x: Value, weight: string, eps: number): Value {
  const variance = g.op('ReduceMean', [g.op('Pow', [x, g.scalar(2)])], { axes: [-1], keepdims: 1 });
  const normed = g.op('Div', [x, g.op('Sqrt', [g.op('Add', [variance, g.scalar(eps)])])]);
  return g.op('Mul', [g.weight(weight), normed], undefined, { hint: weight.replace(/\.weight$/, '') });
}

/** The sliding window of each layer: Mistral's sliding_window on every layer; Qwen2's from max_window_layers (or layer_types) when use_sliding_window. */
function slidingWindows(config: ConfigReader, layers: number): (number | undefined)[] {
  const type = config.str('model_type');
  const window = config.has('sliding_window') ? config.int('sliding_window') : undefined;
  if (type === 'mistral') return Array.from({ length: layers }, () => window);
  if (type === 'qwen2' && window !== undefined && config.bool('use_sliding_window', false)) {
    const types = config.raw['layer_types'];
    if (Array.isArray(types) && types.length === layers) return types.map((t) => (t === 'sliding_attention' ? window : undefined));
    const from = config.int('max_window_layers', 28);
    return Array.from({ length: layers }, (_, i) => (i >= from ? window : undefined));
  }
  return Array.from({ length: layers }, () => undefined);
}

/** LlamaModel / MistralModel / Qwen2Model: the last hidden state after the final norm, [batch, sequence, hidden_size]. */
function llamaHidden(ctx: GraphContext): Value {
  const { g, config, inputs } = ctx;
  const d = config.int('hidden_size');
  const heads = config.int('num_attention_heads');
  const kvHeads = config.int('num_key_value_heads', heads);
  const layers = config.int('num_hidden_layers');
  if (heads === 0 || kvHeads === 0 || heads % kvHeads !== 0) throw new CheckpointError(`${config.file}: num_attention_heads ${heads} is not a multiple of num_key_value_heads ${kvHeads}`);
  const headDim = config.int('head_dim', Math.floor(d / heads));
  if (headDim === 0 || headDim % 2 !== 0) throw new CheckpointError(`${config.file}: head_dim ${headDim} must be even for rotary embeddings`);
  const eps = config.num('rms_norm_eps', 1e-6);
  const act = config.str('hidden_act', 'silu');
  const qwen2 = config.str('model_type') === 'qwen2';
  // Qwen2: biases on q/k/v only; Llama/Mistral: attention_bias puts them on q/k/v/o; Llama's mlp_bias on the MLP
  const qkvBias = qwen2 || config.bool('attention_bias', false);
  const oBias = !qwen2 && config.bool('attention_bias', false);
  const mlpBias = config.bool('mlp_bias', false);
  const pretrainingTp = config.int('pretraining_tp', 1);
  if (pretrainingTp !== 1) throw new CheckpointError(`${config.file}: pretraining_tp ${pretrainingTp} is not built (only 1)`);

  const positions = positionsFromMask(g, inputs.attentionMask);
  const rotary = rotaryTables(g, positions, ropeInverseFrequencies(config, headDim));
  const windows = slidingWindows(config, layers);
  const masks = new Map<number | undefined, Value>();
  const maskFor = (w: number | undefined): Value => {
    let m = masks.get(w);
    if (!m) masks.set(w, (m = causalMaskBias(g, inputs.attentionMask, w)));
    return m;
  };
  const base = (name: string): string => ctx.base(`${name}.weight`).slice(0, -'.weight'.length);

  let x = embedding(g, ctx.base('embed_tokens.weight'), inputs.inputIds);
  for (let i = 0; i < layers; i++) {
    const p = base(`layers.${i}.input_layernorm`).slice(0, -'input_layernorm'.length);
    const h = rmsNorm(g, x, `${p}input_layernorm.weight`, eps);
    const q = linear(g, h, `${p}self_attn.q_proj`, { bias: qkvBias });
    const k = linear(g, h, `${p}self_attn.k_proj`, { bias: qkvBias });
    const v = linear(g, h, `${p}self_attn.v_proj`, { bias: qkvBias });
    const context = causalAttention(g, q, k, v, { numHeads: heads, numKvHeads: kvHeads, headDim, divisors: [Math.sqrt(headDim)], maskBias: maskFor(windows[i]), rotary });
    x = g.op('Add', [x, linear(g, context, `${p}self_attn.o_proj`, { bias: oBias })], undefined, { hint: `${p}attn.residual` });
    const h2 = rmsNorm(g, x, `${p}post_attention_layernorm.weight`, eps);
    const gate = activation(g, linear(g, h2, `${p}mlp.gate_proj`, { bias: mlpBias }), act);
    const up = linear(g, h2, `${p}mlp.up_proj`, { bias: mlpBias });
    x = g.op('Add', [x, linear(g, g.op('Mul', [gate, up]), `${p}mlp.down_proj`, { bias: mlpBias })], undefined, { hint: `${p}mlp.residual` });
  }
  return rmsNorm(g, x, ctx.base('norm.weight'), eps);
}

const llamaGraph: FamilyGraph = {
  architectures: {
    LlamaForCausalLM: 'causal-lm',
    MistralForCausalLM: 'causal-lm',
    Qwen2ForCausalLM: 'causal-lm',
    LlamaForSequenceClassification: 'text-classification',
    MistralForSequenceClassification: 'text-classification',
    Qwen2ForSequenceClassification: 'text-classification',
    LlamaForTokenClassification: 'token-classification',
    MistralForTokenClassification: 'token-classification',
    Qwen2ForTokenClassification: 'token-classification',
    LlamaForQuestionAnswering: 'question-answering',
    MistralForQuestionAnswering: 'question-answering',
    Qwen2ForQuestionAnswering: 'question-answering',
  },
  tokenTypeIds: false,
  baseTasks: ['causal-lm'],
  build(ctx): TaskOutputs {
    const hidden = llamaHidden(ctx);
    switch (ctx.task) {
      case 'causal-lm': {
        const tied = ctx.config.bool('tie_word_embeddings', false);
        if (!tied && !ctx.g.has('lm_head.weight')) throw new CheckpointError(`${ctx.config.file}: tie_word_embeddings is false and the weights hold no lm_head.weight; a causal LM needs its own LM head`);
        const head = tied ? ctx.base('embed_tokens.weight').slice(0, -'.weight'.length) : 'lm_head';
        return causalLm(ctx, linear(ctx.g, hidden, head, { bias: false }));
      }
      case 'text-classification':
        return sequenceClassification(ctx, lastNonPadToken(ctx, hidden), 'score');
      case 'token-classification':
        return tokenClassification(ctx, hidden, 'score'); // dropout, then score: dropout is off at inference
      case 'question-answering':
        return questionAnswering(ctx, hidden, 'qa_outputs');
    }
  },
};

export const llama: ModelFamily = {
  id: 'llama',
  modelTypes: ['llama', 'mistral', 'qwen2'],
  // transformer.: the base model of LlamaForQuestionAnswering / Qwen2ForQuestionAnswering
  prefixes: ['transformer.', 'model.'],
  taskHeads: /^(score|classifier|qa_outputs)\./,
  pretrainingHeads: /^$/,
  layers: /^(model\.|transformer\.)?layers\.\d+\./,
  tieGroups: (config: HfConfig) => (config['tie_word_embeddings'] === true ? [['model.embed_tokens.weight', 'lm_head.weight']] : []),
  graph: llamaGraph,
};
