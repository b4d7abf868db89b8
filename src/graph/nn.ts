// Layers that family graphs share, each written once in the operators onnxruntime runs well
// (LayerNormalization, MatMul + Add, Erf-based GELU, which it fuses with the bias into BiasGelu; its
// contrib MultiHeadAttention and SkipLayerNormalization, exact in float32): Linear, LayerNorm, residual
// LayerNorm, activations, embeddings, multi-head attention with Hugging Face's additive mask.
import { CheckpointError } from '../errors';
import { ONNX_TYPE } from '../formats/onnx-write';
import { MS_DOMAIN, type GraphBuilder, type Value } from './builder';

/** torch.nn.Linear: x @ W^T + b with W stored [out, in] under `${prefix}.weight` (and `${prefix}.bias` when present). */
export function linear(g: GraphBuilder, x: Value, prefix: string, opts: { bias?: boolean } = {}): Value {
  const w = g.weight(`${prefix}.weight`);
  const wt = g.op('Transpose', [w], { perm: [1, 0] }, { hint: `${prefix}.weight_t` });
  const y = g.op('MatMul', [x, wt], undefined, { hint: `${prefix}.matmul` });
  const bias = opts.bias ?? g.has(`${prefix}.bias`);
  return bias ? g.op('Add', [y, g.weight(`${prefix}.bias`)], undefined, { hint: prefix }) : y;
}

/** torch.nn.LayerNorm over the last axis: `${prefix}.weight`, `${prefix}.bias`, epsilon as configured. */
export function layerNorm(g: GraphBuilder, x: Value, prefix: string, eps: number): Value {
  return g.op('LayerNormalization', [x, g.weight(`${prefix}.weight`), g.weight(`${prefix}.bias`)], { axis: -1, epsilon: { float: eps } }, { hint: prefix });
}

/**
 * LayerNorm(x + residual): Add, then LayerNormalization. (onnxruntime's contrib SkipLayerNormalization does
 * the same in one node but ran 2.5x slower than the pair on onnxruntime-node 1.30's CPU kernels; BENCHMARKS.md.)
 */
export function residualLayerNorm(g: GraphBuilder, x: Value, residual: Value, prefix: string, eps: number): Value {
  return layerNorm(g, g.op('Add', [x, residual], undefined, { hint: `${prefix}.residual` }), prefix, eps);
}

/** Hugging Face's ACT2FN names. */
export const ACTIVATIONS = ['gelu', 'gelu_python', 'gelu_new', 'gelu_pytorch_tanh', 'gelu_fast', 'quick_gelu', 'relu', 'silu', 'swish', 'tanh', 'sigmoid'] as const;

/** The activation `name` (config.json hidden_act), as Hugging Face's ACT2FN computes it. */
export function activation(g: GraphBuilder, x: Value, name: string, where = 'config.json hidden_act'): Value {
  switch (name) {
    case 'gelu':
    case 'gelu_python': {
      // 0.5 * x * (1 + erf(x / sqrt(2))): the exact GELU (onnxruntime fuses it into its Gelu kernel)
      const e = g.op('Erf', [g.op('Div', [x, g.scalar(Math.SQRT2)])]);
      return g.op('Mul', [g.op('Mul', [x, g.op('Add', [e, g.scalar(1)])]), g.scalar(0.5)], undefined, { hint: 'gelu' });
    }
    case 'gelu_new':
    case 'gelu_pytorch_tanh':
    case 'gelu_fast': {
      // 0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3)))
      const x3 = g.op('Mul', [g.op('Mul', [x, x]), x]);
      const inner = g.op('Mul', [g.op('Add', [x, g.op('Mul', [x3, g.scalar(0.044715)])]), g.scalar(Math.sqrt(2 / Math.PI))]);
      return g.op('Mul', [g.op('Mul', [x, g.scalar(0.5)]), g.op('Add', [g.op('Tanh', [inner]), g.scalar(1)])], undefined, { hint: 'gelu_new' });
    }
    case 'quick_gelu':
      return g.op('Mul', [x, g.op('Sigmoid', [g.op('Mul', [x, g.scalar(1.702)])])], undefined, { hint: 'quick_gelu' });
    case 'relu':
      return g.op('Relu', [x]);
    case 'silu':
    case 'swish':
      return g.op('Mul', [x, g.op('Sigmoid', [x])], undefined, { hint: 'silu' });
    case 'tanh':
      return g.op('Tanh', [x]);
    case 'sigmoid':
      return g.op('Sigmoid', [x]);
    default:
      throw new CheckpointError(`${where} is "${name}"; the built graph knows ${ACTIVATIONS.join(', ')}`);
  }
}

/** Rows of an embedding table: Gather(table, ids). */
export function embedding(g: GraphBuilder, table: string, ids: Value): Value {
  // rows gathered as stored, then cast: a compute-type copy of the whole table is never made for the lookup
  const rows = g.op('Gather', [g.storedWeight(table), ids], { axis: 0 }, { hint: table.replace(/\.weight$/, '') });
  return g.castsOnRead(table) ? g.op('Cast', [rows], { to: ONNX_TYPE[g.computeType] }, { hint: `${table.replace(/\.weight$/, '')}.cast` }) : rows;
}

/** The sequence length of an int64 [batch, sequence] tensor, as an int64 scalar. */
export function seqLen(g: GraphBuilder, ids: Value): Value {
  return g.op('Gather', [g.op('Shape', [ids]), g.i64([1], [])], { axis: 0 }, { hint: 'seq_len' });
}

/** 0, 1, ..., sequence-1 (int64 [sequence]). */
export function positions(g: GraphBuilder, ids: Value, start = 0): Value {
  const n = seqLen(g, ids);
  const end = start === 0 ? n : g.op('Add', [n, g.i64([start], [])]);
  return g.op('Range', [g.i64([start], []), end, g.i64([1], [])], undefined, { hint: 'position_ids' });
}

/** Hugging Face's extended attention mask: (1 - mask) * finfo(dtype).min, shaped [batch, 1, 1, sequence]. */
export function additiveMask(g: GraphBuilder, mask: Value): Value {
  const m = g.op('Cast', [mask], { to: ONNX_TYPE[g.computeType] });
  const inv = g.op('Sub', [g.scalar(1), m]);
  const bias = g.op('Mul', [inv, g.scalar(g.minValue)]);
  return g.op('Unsqueeze', [bias, g.i64([1, 2])], undefined, { hint: 'mask_bias' });
}

export interface AttentionSpec {
  /** Linear prefixes of the query, key, value projections. */
  q: string;
  k: string;
  v: string;
  numHeads: number;
  headDim: number;
  /** [batch, 1, 1|sequence, sequence] added to the scores. (MultiHeadAttention takes the head width from the projections.) */
  maskBias: Value;
  /** `x` holds these tokens packed ([tokens, hidden]); so does the result. */
  tokens: TokenLayout;
}

/**
 * Self-attention as Hugging Face's BERT-style modules compute it (eager: softmax(Q K^T / sqrt(d) + mask) V,
 * heads merged back to [batch, sequence, heads*dim], before the output projection), as onnxruntime's
 * contrib MultiHeadAttention: the Q/K/V biases are its `bias` input (added while it splits the heads), the
 * mask its attention_bias, its scale 1/sqrt(head dim). One node instead of 13 per layer (onnxruntime's own
 * attention fusion does not match this graph); outputs within 1.5e-6 of the eager ops on every fixture.
 * The projections run on the packed tokens; only Q, K and V are laid out padded for the attention, and the
 * context is packed again.
 */
export function selfAttention(g: GraphBuilder, x: Value, a: AttentionSpec): Value {
  const padded = (v: Value): Value => unpackTokens(g, a.tokens, v);
  const biased = [a.q, a.k, a.v].every((p) => g.has(`${p}.bias`));
  const proj = (p: string): Value => padded(biased ? linear(g, x, p, { bias: false }) : linear(g, x, p));
  const bias = biased ? g.op('Concat', [a.q, a.k, a.v].map((p) => g.weight(`${p}.bias`)), { axis: 0 }, { hint: 'qkv_bias' }) : '';
  const q = proj(a.q);
  const ctx = g.op('MultiHeadAttention', [q, proj(a.k), proj(a.v), bias, '', fullMaskBias(g, q, a.maskBias)], { num_heads: a.numHeads }, { hint: 'context', domain: MS_DOMAIN });
  return packTokens(g, a.tokens, ctx);
}

const expandedMasks = new WeakMap<GraphBuilder, Map<Value, Value>>();

/** A [batch, 1, 1|sequence, sequence] mask bias expanded to [batch, 1, sequence, sequence] (MultiHeadAttention's attention_bias), once per graph. */
function fullMaskBias(g: GraphBuilder, x: Value, maskBias: Value): Value {
  let known = expandedMasks.get(g);
  if (!known) expandedMasks.set(g, (known = new Map()));
  const done = known.get(maskBias);
  if (done) return done;
  const shape = g.op('Shape', [x]);
  const batch = g.op('Gather', [shape, g.i64([0])], { axis: 0 });
  const seq = g.op('Gather', [shape, g.i64([1])], { axis: 0 });
  const dims = g.op('Concat', [batch, g.i64([1]), seq, seq], { axis: 0 });
  const full = g.op('Expand', [maskBias, dims], undefined, { hint: 'attention_bias' });
  known.set(maskBias, full);
  return full;
}

/**
 * The tokens the token-wise layers compute: every position the attention mask covers, and with
 * `first`, each line's first position (BERT-style heads pool it even when it is padding). Linear layers, LayerNorms and
 * activations act on each token alone, so computing them on the packed [tokens, hidden] rows gives each
 * token's value exactly; only attention needs the padded [batch, sequence, hidden] layout.
 */
export interface TokenLayout {
  /** int64 [tokens]: the kept tokens' flat positions in [batch * sequence]. */
  flat: Value;
  /** int64 [tokens, 1]: the same, as ScatterND indices. */
  scatter: Value;
  /** int64 [2]: batch, sequence. */
  batchSeq: Value;
}

export function tokenLayout(g: GraphBuilder, mask: Value, opts: { first: boolean }): TokenLayout {
  const batchSeq = g.op('Shape', [mask], undefined, { hint: 'batch_seq' });
  let keep = g.op('Cast', [mask], { to: ONNX_TYPE.bool }, { hint: 'kept_tokens' });
  if (opts.first) {
    const first = g.op('Equal', [g.op('Range', [g.i64([0], []), g.op('Gather', [batchSeq, g.i64([1], [])], { axis: 0 }), g.i64([1], [])]), g.i64([0], [])]);
    keep = g.op('Or', [keep, first], undefined, { hint: 'kept_tokens' });
  }
  const scatter = g.op('Transpose', [g.op('NonZero', [g.op('Reshape', [keep, g.i64([-1])])])], { perm: [1, 0] }, { hint: 'token_index' });
  const flat = g.op('Reshape', [scatter, g.i64([-1])], undefined, { hint: 'token_flat' });
  return { flat, scatter, batchSeq };
}

/** [batch, sequence, hidden] -> the kept tokens' rows [tokens, hidden]. */
export function packTokens(g: GraphBuilder, t: TokenLayout, x: Value): Value {
  return g.op('Gather', [g.op('Flatten', [x], { axis: 2 }), t.flat], { axis: 0 }, { hint: 'packed' });
}

/** [tokens, hidden] -> [batch, sequence, hidden], zeros at the positions not kept. */
export function unpackTokens(g: GraphBuilder, t: TokenLayout, x: Value): Value {
  const width = g.op('Gather', [g.op('Shape', [x]), g.i64([1])], { axis: 0 });
  const rows = g.op('ReduceProd', [t.batchSeq], { keepdims: 1 });
  const zeros = g.op('Expand', [g.scalar(0), g.op('Concat', [rows, width], { axis: 0 })]);
  const flat = g.op('ScatterND', [zeros, t.scatter, x]);
  return g.op('Reshape', [flat, g.op('Concat', [t.batchSeq, width], { axis: 0 })], undefined, { hint: 'unpacked' });
}

/** x[:, index, :] for a fixed index: [batch, hidden]. */
export function tokenAt(g: GraphBuilder, x: Value, index: number): Value {
  return g.op('Gather', [x, g.i64([index], [])], { axis: 1 }, { hint: 'token' });
}
