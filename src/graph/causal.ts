// What decoder-only families share in their graphs (GPT-2, Llama/Mistral/Qwen2): position ids counted over
// the attention mask, the causal (and sliding-window) mask with padding, and eager attention with fewer
// key/value heads than query heads. Each line of a padded batch (right or left) computes what it would
// alone: positions start at 0 on its first real token, and no query sees a padding key.
// Unlike the encoders (nn.ts tokenLayout), decoders compute every position, padding included: packed
// tokens in the Llama graph made onnxruntime schedule the per-run casts of BF16 weights differently (on the
// 1B bench its arena held 3 GiB instead of 2, the casts took 2.5x as long, the whole run 25% longer).
import { ONNX_TYPE } from '../formats/onnx-write';
import type { GraphBuilder, Value } from './builder';
import { seqLen } from './nn';

/** Position ids of each real token, counted over the mask: cumsum(mask) - 1, clamped at 0 on left padding (int64 [batch, sequence]). */
export function positionsFromMask(g: GraphBuilder, mask: Value): Value {
  const counted = g.op('CumSum', [mask, g.i64([1], [])], undefined, { hint: 'mask_cumsum' });
  return g.op('Max', [g.op('Sub', [counted, g.i64([1], [])]), g.i64([0], [])], undefined, { hint: 'position_ids' });
}

/**
 * The additive mask of causal self-attention, [batch, 1, sequence, sequence]: 0 where query i may see key j
 * (j <= i, the key is not padding, and i - j < window when a sliding window is given), else the compute
 * type's minimum, as transformers' eager attention adds it.
 */
export function causalMaskBias(g: GraphBuilder, mask: Value, window?: number): Value {
  const idx = g.op('Range', [g.i64([0], []), seqLen(g, mask), g.i64([1], [])], undefined, { hint: 'token_index' });
  const qi = g.op('Unsqueeze', [idx, g.i64([1])]); // [sequence, 1]
  const kj = g.op('Unsqueeze', [idx, g.i64([0])]); // [1, sequence]
  let allowed = g.op('LessOrEqual', [kj, qi], undefined, { hint: 'causal' });
  if (window !== undefined) {
    const inWindow = g.op('Greater', [kj, g.op('Sub', [qi, g.i64([window], [])])], undefined, { hint: `window_${window}` });
    allowed = g.op('And', [allowed, inWindow]);
  }
  const keys = g.op('Unsqueeze', [g.op('Cast', [mask], { to: ONNX_TYPE.bool }), g.i64([1, 2])]); // [batch, 1, 1, sequence]
  allowed = g.op('And', [allowed, keys]);
  return g.op('Where', [allowed, g.scalar(0), g.scalar(g.minValue)], undefined, { hint: window === undefined ? 'causal_mask' : `window_mask_${window}` });
}

export interface CausalAttentionSpec {
  numHeads: number;
  /** Key/value heads; query head h reads key/value head floor(h / (numHeads / numKvHeads)) (transformers' repeat_kv). */
  numKvHeads: number;
  headDim: number;
  /** Scores are divided by each of these in turn (sqrt(head_dim); GPT-2's scale_attn_by_inverse_layer_idx adds layer + 1). */
  divisors: readonly number[];
  /** [batch, 1, sequence, sequence] from causalMaskBias. */
  maskBias: Value;
  /** Rotary embedding: cos and sin [batch, sequence, head_dim] applied to queries and keys (rotate_half convention). */
  rotary?: { cos: Value; sin: Value };
}

/** transformers' rotate_half: [x1, x2] -> [-x2, x1] on the last axis. */
function rotateHalf(g: GraphBuilder, x: Value, half: number): Value {
  const [x1, x2] = g.opN('Split', [x, g.i64([half, half])], 2, { axis: -1 }, { hint: 'rope_half' });
  return g.op('Concat', [g.op('Neg', [x2!]), x1!], { axis: -1 }, { hint: 'rotate_half' });
}

function applyRotary(g: GraphBuilder, x: Value, cos: Value, sin: Value, headDim: number): Value {
  return g.op('Add', [g.op('Mul', [x, cos]), g.op('Mul', [rotateHalf(g, x, headDim / 2), sin])], undefined, { hint: 'rope' });
}

/**
 * softmax(Q K^T / divisor + mask) V over projections q [batch, sequence, heads*dim] and k, v
 * [batch, sequence, kv_heads*dim]; returns [batch, sequence, heads*dim] (before the output projection).
 * Query heads are grouped by the key/value head they read, so keys and values are never repeated in memory.
 */
export function causalAttention(g: GraphBuilder, q: Value, k: Value, v: Value, a: CausalAttentionSpec): Value {
  const { numHeads: nh, numKvHeads: nkv, headDim: hd } = a;
  const rep = nh / nkv;
  // queries [batch, kv, rep, sequence, dim]; keys and values [batch, kv, sequence, dim]
  let qh = g.op('Transpose', [g.op('Reshape', [q, g.i64([0, 0, nkv, rep, hd])])], { perm: [0, 2, 3, 1, 4] }, { hint: 'q_heads' });
  let kh = g.op('Transpose', [g.op('Reshape', [k, g.i64([0, 0, nkv, hd])])], { perm: [0, 2, 1, 3] }, { hint: 'k_heads' });
  const vh = g.op('Transpose', [g.op('Reshape', [v, g.i64([0, 0, nkv, hd])])], { perm: [0, 2, 1, 3] }, { hint: 'v_heads' });
  if (a.rotary) {
    const cos4 = g.op('Unsqueeze', [a.rotary.cos, g.i64([1])]);
    const sin4 = g.op('Unsqueeze', [a.rotary.sin, g.i64([1])]);
    const cos5 = g.op('Unsqueeze', [a.rotary.cos, g.i64([1, 2])]);
    const sin5 = g.op('Unsqueeze', [a.rotary.sin, g.i64([1, 2])]);
    qh = applyRotary(g, qh, cos5, sin5, hd);
    kh = applyRotary(g, kh, cos4, sin4, hd);
  }
  const kt = g.op('Unsqueeze', [g.op('Transpose', [kh], { perm: [0, 1, 3, 2] }), g.i64([2])]); // [batch, kv, 1, dim, sequence]
  let scores = g.op('MatMul', [qh, kt], undefined, { hint: 'scores' }); // [batch, kv, rep, sequence, sequence]
  for (const d of a.divisors) scores = g.op('Div', [scores, g.scalar(d)]);
  const bias = g.op('Unsqueeze', [a.maskBias, g.i64([1])]); // [batch, 1, 1, sequence, sequence]
  const probs = g.op('Softmax', [g.op('Add', [scores, bias])], { axis: -1 }, { hint: 'probs' });
  const ctx = g.op('MatMul', [probs, g.op('Unsqueeze', [vh, g.i64([2])])]); // [batch, kv, rep, sequence, dim]
  const merged = g.op('Transpose', [ctx], { perm: [0, 3, 1, 2, 4] }); // [batch, sequence, kv, rep, dim]
  return g.op('Reshape', [merged, g.i64([0, 0, nh * hd])], undefined, { hint: 'context' });
}
