// DeBERTa-v2 and v3 (model_type deberta-v2): deberta.* encoder (relative embeddings in encoder.rel_embeddings);
// heads pooler.dense + classifier (sequence classification), classifier, qa_outputs; pre-training heads
// mask_predictions.* (v3's replaced-token detection) and lm_predictions.* (MLM).
import { CheckpointError } from '../errors';
import type { GraphBuilder, Value } from '../graph/builder';
import { activation, additiveMask, embedding, layerNorm, linear, packTokens, positions, residualLayerNorm, tokenLayout, unpackTokens } from '../graph/nn';
import type { ConfigReader, FamilyGraph, GraphContext } from '../graph/types';
import { ONNX_TYPE } from '../formats/onnx-write';
import { firstToken, questionAnswering, sequenceClassification, tokenClassification } from './heads';
import type { ModelFamily } from './types';


/**
 * DeBERTa's relative position of query i to key j (rel = i - j), log-bucketed beyond half the buckets
 * as Hugging Face's make_log_bucket_position computes it: in float32, rounded up.
 */
export function relativeBucket(rel: number, buckets: number, maxPosition: number): number {
  if (!(buckets > 0 && maxPosition > 0)) return rel;
  const mid = Math.floor(buckets / 2);
  const abs = rel < mid && rel > -mid ? mid - 1 : Math.abs(rel);
  if (abs <= mid) return rel;
  const f = Math.fround;
  const ratio = f(f(Math.log(f(abs / mid))) / f(Math.log(f((maxPosition - 1) / mid))));
  return Math.sign(rel) * (Math.ceil(f(ratio * (mid - 1))) + mid);
}

// ---- inference graph (modeling_deberta_v2.py, eval mode) ----

/** config.json pos_att_type: a list, or a "p2c|c2p" string as DeBERTa-v2's own configs write it. */
function posAttTypes(config: ConfigReader): string[] {
  const raw = config.raw['pos_att_type'];
  if (raw === undefined || raw === null) return [];
  const list = typeof raw === 'string' ? raw.toLowerCase().split('|') : Array.isArray(raw) ? raw : undefined;
  if (!list || list.some((x) => typeof x !== 'string')) throw new CheckpointError(`${config.file}: pos_att_type must be a list of "c2p"/"p2c" or a "p2c|c2p" string (got ${JSON.stringify(raw)})`);
  const out = (list as string[]).map((x) => x.trim()).filter((x) => x !== '' && x !== 'none');
  const bad = out.find((x) => x !== 'c2p' && x !== 'p2c');
  if (bad) throw new CheckpointError(`${config.file}: pos_att_type "${bad}" is not built (c2p and p2c are)`);
  return out;
}

/** [batch|1, sequence, heads*dim] -> [batch|1, heads, sequence, dim], or [.., heads, dim, sequence] with `keys`. */
function heads(g: GraphBuilder, x: Value, n: number, d: number, keys = false): Value {
  return g.op('Transpose', [g.op('Reshape', [x, g.i64([0, 0, n, d])])], { perm: keys ? [0, 2, 3, 1] : [0, 2, 1, 3] });
}

/** A [batch, 1..] mask as the compute type, broadcast over the hidden axis: [batch, sequence, 1]. */
function tokenMask(g: GraphBuilder, mask: Value): Value {
  return g.op('Unsqueeze', [g.op('Cast', [mask], { to: ONNX_TYPE[g.computeType] }), g.i64([-1])], undefined, { hint: 'token_mask' });
}

interface Relative {
  /** The (layer-normed) relative embeddings [2*span, hidden]. */
  embeddings: Value;
  /** Index into the 2*span relative embeddings for query i and key j, [sequence, sequence] int64. */
  c2p: Value;
  p2c: Value;
}

/** Relative-position indices from constant tables over every distance the position range allows. */
function relativeIndices(ctx: GraphContext, span: number, buckets: number, maxRel: number): { c2p: Value; p2c: Value } {
  const { g, config } = ctx;
  const maxLen = config.int('max_position_embeddings', 512);
  const c2p: number[] = [];
  const p2c: number[] = [];
  const clamp = (v: number): number => Math.min(Math.max(v, 0), 2 * span - 1);
  for (let d = -(maxLen - 1); d <= maxLen - 1; d++) {
    const r = relativeBucket(d, buckets, maxRel);
    c2p.push(clamp(r + span));
    p2c.push(clamp(-r + span));
  }
  const pos = positions(g, ctx.inputs.inputIds);
  const dist = g.op('Add', [g.op('Sub', [g.op('Unsqueeze', [pos, g.i64([1])]), g.op('Unsqueeze', [pos, g.i64([0])])]), g.i64([maxLen - 1], [])], undefined, { hint: 'relative_distance' });
  return {
    c2p: g.op('Gather', [g.i64(c2p), dist], { axis: 0 }, { hint: 'c2p_index' }),
    p2c: g.op('Gather', [g.i64(p2c), dist], { axis: 0 }, { hint: 'p2c_index' }),
  };
}

function debertaEmbeddings(ctx: GraphContext, hiddenSize: number, eps: number, mask: Value): Value {
  const { g, config, inputs } = ctx;
  let x = embedding(g, ctx.base('embeddings.word_embeddings.weight'), inputs.inputIds);
  if (config.bool('position_biased_input', true)) {
    x = g.op('Add', [x, embedding(g, ctx.base('embeddings.position_embeddings.weight'), positions(g, inputs.inputIds))]);
  }
  if (config.int('type_vocab_size', 0) > 0) {
    const table = ctx.base('embeddings.token_type_embeddings.weight');
    const t = inputs.tokenTypeIds ? embedding(g, table, inputs.tokenTypeIds) : g.op('Gather', [g.weight(table), g.i64([0], [])], { axis: 0 });
    x = g.op('Add', [x, t]);
  }
  if (config.int('embedding_size', hiddenSize) !== hiddenSize) x = linear(g, x, ctx.base('embeddings.embed_proj'), { bias: false });
  return g.op('Mul', [layerNorm(g, x, ctx.base('embeddings.LayerNorm'), eps), mask], undefined, { hint: 'embeddings' });
}

/** The encoder of DebertaV2Model: disentangled attention (c2p / p2c over bucketed relative positions), the optional convolution. */
function debertaEncoder(ctx: GraphContext): Value {
  const { g, config } = ctx;
  const H = config.int('hidden_size');
  const n = config.int('num_attention_heads');
  if (H % n !== 0) throw new CheckpointError(`${config.file}: hidden_size ${H} is not a multiple of num_attention_heads ${n}`);
  const d = config.int('attention_head_size', H / n);
  const eps = config.num('layer_norm_eps', 1e-7);
  const act = config.str('hidden_act', 'gelu');
  const mask = tokenMask(g, ctx.inputs.attentionMask);
  const embedded = debertaEmbeddings(ctx, H, eps, mask);
  const types = posAttTypes(config);
  const scale = Math.sqrt(d * (1 + types.length));
  const maskBias = additiveMask(g, ctx.inputs.attentionMask);

  let rel: Relative | undefined;
  if (config.bool('relative_attention', false) && types.length > 0) {
    let maxRel = config.raw['max_relative_positions'] === undefined ? -1 : (config.raw['max_relative_positions'] as number);
    if (typeof maxRel !== 'number' || !Number.isInteger(maxRel)) throw new CheckpointError(`${config.file}: max_relative_positions must be a whole number`);
    if (maxRel < 1) maxRel = config.int('max_position_embeddings', 512);
    const bucketsRaw = config.raw['position_buckets'] ?? -1;
    if (typeof bucketsRaw !== 'number' || !Number.isInteger(bucketsRaw)) throw new CheckpointError(`${config.file}: position_buckets must be a whole number`);
    const span = bucketsRaw > 0 ? bucketsRaw : maxRel;
    const table = ctx.base('encoder.rel_embeddings.weight');
    const rows = g.shape(table)[0] ?? 0;
    if (rows < 2 * span) throw new CheckpointError(`${config.file}: ${table} has ${rows} rows; position_buckets/max_relative_positions need ${2 * span}`);
    let emb = g.op('Slice', [g.weight(table), g.i64([0]), g.i64([2 * span]), g.i64([0])], undefined, { hint: 'rel_embeddings' });
    const norms = config.str('norm_rel_ebd', 'none').toLowerCase().split('|').map((s) => s.trim());
    if (norms.includes('layer_norm')) emb = layerNorm(g, emb, ctx.base('encoder.LayerNorm'), eps);
    rel = { embeddings: g.op('Unsqueeze', [emb, g.i64([0])]), ...relativeIndices(ctx, span, bucketsRaw, maxRel) };
  }
  const share = config.bool('share_att_key', false);

  const tokens = tokenLayout(g, ctx.inputs.attentionMask, { first: true });
  const padded = (x: Value): Value => unpackTokens(g, tokens, x);
  let h = packTokens(g, tokens, embedded);
  const layers = config.int('num_hidden_layers');
  for (let i = 0; i < layers; i++) {
    const p = ctx.base(`encoder.layer.${i}`);
    const s = `${p}.attention.self`;
    const q = heads(g, padded(linear(g, h, `${s}.query_proj`)), n, d);
    const k = heads(g, padded(linear(g, h, `${s}.key_proj`)), n, d);
    const v = heads(g, padded(linear(g, h, `${s}.value_proj`)), n, d);
    const kT = g.op('Transpose', [k], { perm: [0, 1, 3, 2] });
    let scores = g.op('Div', [g.op('MatMul', [q, kT]), g.scalar(scale)], undefined, { hint: 'scores' });
    if (rel) {
      const shape = g.op('Shape', [scores]);
      if (types.includes('c2p')) {
        const posKey = heads(g, linear(g, rel.embeddings, share ? `${s}.key_proj` : `${s}.pos_key_proj`), n, d, true);
        const c2p = g.op('MatMul', [q, posKey]); // [batch, heads, query, 2*span]
        const picked = g.op('GatherElements', [c2p, g.op('Expand', [rel.c2p, shape])], { axis: -1 }, { hint: 'c2p' });
        scores = g.op('Add', [scores, g.op('Div', [picked, g.scalar(scale)])]);
      }
      if (types.includes('p2c')) {
        const posQuery = heads(g, linear(g, rel.embeddings, share ? `${s}.query_proj` : `${s}.pos_query_proj`), n, d, true);
        const p2c = g.op('MatMul', [k, posQuery]); // [batch, heads, key, 2*span]
        const picked = g.op('GatherElements', [p2c, g.op('Expand', [rel.p2c, shape])], { axis: -1 });
        const t = g.op('Transpose', [picked], { perm: [0, 1, 3, 2] }, { hint: 'p2c' });
        scores = g.op('Add', [scores, g.op('Div', [t, g.scalar(scale)])]);
      }
    }
    const probs = g.op('Softmax', [g.op('Add', [scores, maskBias])], { axis: -1 }, { hint: 'probs' });
    const context = packTokens(g, tokens, g.op('Reshape', [g.op('Transpose', [g.op('MatMul', [probs, v])], { perm: [0, 2, 1, 3] }), g.i64([0, 0, n * d])], undefined, { hint: 'context' }));
    const attn = residualLayerNorm(g, linear(g, context, `${p}.attention.output.dense`), h, `${p}.attention.output.LayerNorm`, eps);
    const inter = activation(g, linear(g, attn, `${p}.intermediate.dense`), act);
    let out = residualLayerNorm(g, linear(g, inter, `${p}.output.dense`), attn, `${p}.output.LayerNorm`, eps);
    if (i === 0 && config.int('conv_kernel_size', 0) > 0) out = packTokens(g, tokens, convLayer(ctx, embedded, padded(out), mask, eps));
    h = out;
  }
  return padded(h);
}

/** ConvLayer (DeBERTa-v2 xlarge): a 1-D convolution over the embeddings, added to the first layer's output. */
function convLayer(ctx: GraphContext, embedded: Value, residual: Value, mask: Value, eps: number): Value {
  const { g, config } = ctx;
  const ks = config.int('conv_kernel_size');
  const groups = config.int('conv_groups', 1);
  const pad = Math.floor((ks - 1) / 2);
  const p = ctx.base('encoder.conv');
  const x = g.op('Transpose', [embedded], { perm: [0, 2, 1] });
  const conv = g.op('Conv', [x, g.weight(`${p}.conv.weight`), g.weight(`${p}.conv.bias`)], { group: groups, kernel_shape: [ks], pads: [pad, pad] }, { hint: 'conv' });
  const masked = g.op('Mul', [g.op('Transpose', [conv], { perm: [0, 2, 1] }), mask]);
  const act = activation(g, masked, config.str('conv_act', 'tanh'), 'config.json conv_act');
  return g.op('Mul', [layerNorm(g, g.op('Add', [residual, act]), `${p}.LayerNorm`, eps), mask], undefined, { hint: 'conv_out' });
}

const debertaGraph: FamilyGraph = {
  architectures: {
    DebertaV2ForSequenceClassification: 'text-classification',
    DebertaV2ForTokenClassification: 'token-classification',
    DebertaV2ForQuestionAnswering: 'question-answering',
  },
  pretraining: { DebertaV2ForMaskedLM: 'masked LM' },
  tokenTypeIds: (config) => config.int('type_vocab_size', 0) > 0,
  build(ctx) {
    const hidden = debertaEncoder(ctx);
    switch (ctx.task) {
      case 'text-classification': {
        // ContextPooler: act(dense(first token)), then the classifier
        const pooled = activation(ctx.g, linear(ctx.g, firstToken(ctx, hidden), 'pooler.dense'), ctx.config.str('pooler_hidden_act', 'gelu'), 'config.json pooler_hidden_act');
        return sequenceClassification(ctx, pooled);
      }
      case 'token-classification':
        return tokenClassification(ctx, hidden);
      case 'question-answering':
        return questionAnswering(ctx, hidden);
      default:
        throw new CheckpointError(`${ctx.config.file}: DeBERTa-v2 has no ${ctx.task} head in the built graph`);
    }
  },
};

export const debertaV2: ModelFamily = {
  id: 'deberta-v2',
  modelTypes: ['deberta-v2'],
  prefixes: ['deberta.'],
  taskHeads: /^(pooler|classifier|qa_outputs)\./,
  pretrainingHeads: /^(mask_predictions|lm_predictions)\./,
  layers: /^(deberta\.)?encoder\.layer\.\d+\./,
  graph: debertaGraph,
};
