// BERT (model_type bert): bert.* encoder, pooler; heads classifier / qa_outputs; pre-training head cls.*.
import type { ModelFamily } from './types';
import type { Value } from '../graph/builder';
import { activation, additiveMask, embedding, layerNorm, linear, packTokens, positions, residualLayerNorm, selfAttention, tokenLayout, unpackTokens } from '../graph/nn';
import type { FamilyGraph, GraphContext, TaskOutputs } from '../graph/types';
import { CheckpointError } from '../errors';
import { firstToken, questionAnswering, sequenceClassification, tokenClassification } from './heads';

// ---- inference graph (modeling_bert.py, eager attention) ----

/** word + position + token type embeddings, LayerNorm (BertEmbeddings); `positionIds` default 0..sequence-1. */
export function bertEmbeddings(ctx: GraphContext, opts: { positionIds?: Value; tokenTypeIds?: Value | undefined } = {}): Value {
  const { g, config, inputs } = ctx;
  const kind = config.str('position_embedding_type', 'absolute');
  if (kind !== 'absolute') throw new CheckpointError(`${config.file}: position_embedding_type "${kind}" is not built; only "absolute"`);
  const words = embedding(g, ctx.base('embeddings.word_embeddings.weight'), inputs.inputIds);
  const pos = embedding(g, ctx.base('embeddings.position_embeddings.weight'), opts.positionIds ?? positions(g, inputs.inputIds));
  let x = g.op('Add', [words, pos]);
  const typeTable = ctx.base('embeddings.token_type_embeddings.weight');
  if (g.has(typeTable)) {
    // token_type_ids absent (RoBERTa): Hugging Face uses its all-zero buffer, i.e. row 0 everywhere
    const types = opts.tokenTypeIds ?? inputs.tokenTypeIds;
    const t = types ? embedding(g, typeTable, types) : g.op('Gather', [g.weight(typeTable), g.i64([0], [])], { axis: 0 });
    x = g.op('Add', [x, t]);
  }
  return layerNorm(g, x, ctx.base('embeddings.LayerNorm'), config.num('layer_norm_eps', 1e-12));
}

/** The BertLayer stack under `${layers}.N` (attention.self.query/key/value, attention.output, intermediate, output). */
export function bertEncoder(ctx: GraphContext, hidden: Value, layers = ctx.base('encoder.layer')): Value {
  const { g, config } = ctx;
  const n = config.int('num_hidden_layers');
  const heads = config.int('num_attention_heads');
  const size = config.int('hidden_size');
  if (size % heads !== 0) throw new CheckpointError(`${config.file}: hidden_size ${size} is not a multiple of num_attention_heads ${heads}`);
  const eps = config.num('layer_norm_eps', 1e-12);
  const act = config.str('hidden_act', 'gelu');
  const maskBias = additiveMask(g, ctx.inputs.attentionMask);
  const tokens = tokenLayout(g, ctx.inputs.attentionMask, { first: true });
  let x = packTokens(g, tokens, hidden);
  for (let i = 0; i < n; i++) {
    const p = `${layers}.${i}`;
    const context = selfAttention(g, x, { q: `${p}.attention.self.query`, k: `${p}.attention.self.key`, v: `${p}.attention.self.value`, numHeads: heads, headDim: size / heads, maskBias, tokens });
    const attn = residualLayerNorm(g, linear(g, context, `${p}.attention.output.dense`), x, `${p}.attention.output.LayerNorm`, eps);
    const inter = activation(g, linear(g, attn, `${p}.intermediate.dense`), act);
    x = residualLayerNorm(g, linear(g, inter, `${p}.output.dense`), attn, `${p}.output.LayerNorm`, eps);
  }
  return unpackTokens(g, tokens, x);
}

/** BertPooler: tanh(dense(first token)). */
export function bertPooler(ctx: GraphContext, hidden: Value, prefix = ctx.base('pooler.dense')): Value {
  return ctx.g.op('Tanh', [linear(ctx.g, firstToken(ctx, hidden), prefix)], undefined, { hint: 'pooled' });
}

/** Token classification and QA heads on the last hidden state, shared by the BERT-like encoders. */
export function encoderTokenHeads(ctx: GraphContext, hidden: Value): TaskOutputs | undefined {
  if (ctx.task === 'token-classification') return tokenClassification(ctx, hidden);
  if (ctx.task === 'question-answering') return questionAnswering(ctx, hidden);
  return undefined;
}

export function noHead(ctx: GraphContext, family: string): CheckpointError {
  return new CheckpointError(`${ctx.config.file}: ${family} has no ${ctx.task} head in the built graph${ctx.architecture ? ` (architectures: ${ctx.architecture})` : ''}`);
}

const bertGraph: FamilyGraph = {
  architectures: {
    BertForSequenceClassification: 'text-classification',
    BertForTokenClassification: 'token-classification',
    BertForQuestionAnswering: 'question-answering',
  },
  pretraining: { BertForMaskedLM: 'masked LM', BertForPreTraining: 'masked LM and next-sentence prediction' },
  tokenTypeIds: true,
  build(ctx) {
    const hidden = bertEncoder(ctx, bertEmbeddings(ctx));
    if (ctx.task === 'text-classification') return sequenceClassification(ctx, bertPooler(ctx, hidden));
    const out = encoderTokenHeads(ctx, hidden);
    if (out) return out;
    throw noHead(ctx, 'BERT');
  },
};

export const bert: ModelFamily = {
  id: 'bert',
  modelTypes: ['bert'],
  prefixes: ['bert.'],
  taskHeads: /^(classifier|qa_outputs)\./,
  pretrainingHeads: /^cls\./,
  layers: /^(bert\.)?encoder\.layer\.\d+\./,
  graph: bertGraph,
};
