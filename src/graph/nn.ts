// Layers that family graphs share, each written once in standard operators onnxruntime runs well
// (LayerNormalization, MatMul + Add, Erf-based GELU, which it fuses with the bias into BiasGelu, scaled
// Q K^T, which it fuses into FusedMatMul): Linear, LayerNorm, residual LayerNorm, activations, embeddings,
// multi-head attention with Hugging Face's additive mask, and the packing of the tokens the attention
// mask covers, so the token-wise layers never compute padding.
import { CheckpointError } from '../errors';
import { ONNX_TYPE } from '../formats/onnx-write';
import type { GraphBuilder, Value } from './builder';

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
  /** [batch, 1, 1|sequence, sequence] added to the scores. */
  maskBias: Value;
  /** `x` holds these tokens packed ([1, tokens, hidden]); so does the result. */
  tokens: TokenLayout;
}

/**
 * Self-attention as Hugging Face's BERT-style modules compute it eagerly: softmax(Q K^T / sqrt(d) + mask) V,
 * heads merged back to [batch, sequence, heads*dim], before the output projection. The projections run on
 * the packed tokens; only Q, K and V are laid out padded for the attention, and the context is packed again.
 * Standard operators only (onnxruntime fuses the scaled Q K^T into its FusedMatMul): its contrib
 * MultiHeadAttention ran no faster here (BENCHMARKS.md), and without contrib operators the graph `ken graph`
 * writes runs in any ONNX runtime.
 */
export function selfAttention(g: GraphBuilder, x: Value, a: AttentionSpec): Value {
  const heads = (p: string, perm: number[]): Value =>
    g.op('Transpose', [g.op('Reshape', [unpackTokens(g, a.tokens, linear(g, x, p)), g.i64([0, 0, a.numHeads, a.headDim])])], { perm }, { hint: `${p}.heads` });
  const q = heads(a.q, [0, 2, 1, 3]); // [batch, heads, sequence, dim]
  const kT = heads(a.k, [0, 2, 3, 1]); // [batch, heads, dim, sequence]
  const v = heads(a.v, [0, 2, 1, 3]);
  const scores = g.op('Add', [g.op('Div', [g.op('MatMul', [q, kT]), g.scalar(Math.sqrt(a.headDim))]), a.maskBias], undefined, { hint: 'scores' });
  const ctx = g.op('MatMul', [g.op('Softmax', [scores], { axis: -1 }, { hint: 'probs' }), v]);
  const merged = g.op('Reshape', [g.op('Transpose', [ctx], { perm: [0, 2, 1, 3] }), g.i64([0, 0, a.numHeads * a.headDim])], undefined, { hint: 'context' });
  return packTokens(g, a.tokens, merged);
}

/**
 * The tokens the token-wise layers compute: every position the attention mask covers, and with `first`,
 * each line's first position (BERT-style heads pool it even when it is padding). Linear layers, LayerNorms
 * and activations act on each token alone, so computing them on the packed [1, tokens, hidden] rows gives
 * each token's value exactly; only attention needs the padded [batch, sequence, hidden] layout. Positions
 * not kept are never computed: the encoder's output there is a copy of another token's row, which no head
 * or metric reads.
 */
export interface TokenLayout {
  /** int64 [tokens]: the kept tokens' flat positions in [batch * sequence]. */
  flat: Value;
  /** int64 [2]: batch, sequence. */
  batchSeq: Value;
  /** int64 [batch * sequence]: each position's packed row (row 0 where it is not kept). */
  inverse: Value;
}

export function tokenLayout(g: GraphBuilder, mask: Value, opts: { first: boolean }): TokenLayout {
  const batchSeq = g.op('Shape', [mask], undefined, { hint: 'batch_seq' });
  let keep = g.op('Cast', [mask], { to: ONNX_TYPE.bool }, { hint: 'kept_tokens' });
  if (opts.first) {
    const first = g.op('Equal', [g.op('Range', [g.i64([0], []), g.op('Gather', [batchSeq, g.i64([1], [])], { axis: 0 }), g.i64([1], [])]), g.i64([0], [])]);
    keep = g.op('Or', [keep, first], undefined, { hint: 'kept_tokens' });
  }
  const keepFlat = g.op('Reshape', [keep, g.i64([-1])]);
  const flat = g.op('Reshape', [g.op('NonZero', [keepFlat]), g.i64([-1])], undefined, { hint: 'token_index' });
  const rank = g.op('Sub', [g.op('CumSum', [g.op('Cast', [keepFlat], { to: ONNX_TYPE.int64 }), g.i64([0], [])]), g.i64([1], [])]);
  const inverse = g.op('Where', [keepFlat, rank, g.i64([0], [])], undefined, { hint: 'token_inverse' });
  return { flat, batchSeq, inverse };
}

/**
 * [batch, sequence, hidden] -> the kept tokens' rows as [1, tokens, hidden]. (Three axes, not two: on 2-D
 * rows onnxruntime turns MatMul + Add into Gemm, which ran slower than MatMul with its BiasGelu and Add.)
 */
export function packTokens(g: GraphBuilder, t: TokenLayout, x: Value): Value {
  const rows = g.op('Gather', [g.op('Flatten', [x], { axis: 2 }), t.flat], { axis: 0 }, { hint: 'packed' });
  return g.op('Unsqueeze', [rows, g.i64([0])]);
}

/**
 * [1, tokens, hidden] -> [batch, sequence, hidden]. A position not kept holds a copy of the first kept row:
 * attention masks it out as a key (its probability is exactly 0 for any finite value), its query's result
 * is never packed back, and no head reads it.
 */
export function unpackTokens(g: GraphBuilder, t: TokenLayout, packed: Value): Value {
  const rows = g.op('Gather', [g.op('Flatten', [packed], { axis: 2 }), t.inverse], { axis: 0 });
  const width = g.op('Gather', [g.op('Shape', [packed]), g.i64([2])], { axis: 0 });
  return g.op('Reshape', [rows, g.op('Concat', [t.batchSeq, width], { axis: 0 })], undefined, { hint: 'unpacked' });
}

/** x[:, index, :] for a fixed index: [batch, hidden]. */
export function tokenAt(g: GraphBuilder, x: Value, index: number): Value {
  return g.op('Gather', [x, g.i64([index], [])], { axis: 1 }, { hint: 'token' });
}
