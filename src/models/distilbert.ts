// DistilBERT (model_type distilbert): distilbert.* (embeddings, transformer.layer.N); heads pre_classifier,
// classifier, qa_outputs; pre-training head vocab_transform / vocab_layer_norm / vocab_projector.
import type { ModelFamily } from './types';
import type { FamilyGraph } from '../graph/types';
import { activation, additiveMask, embedding, layerNorm, linear, packTokens, positions, residualLayerNorm, selfAttention, tokenLayout, unpackTokens } from '../graph/nn';
import { CheckpointError } from '../errors';
import { encoderTokenHeads, noHead } from './bert';
import { firstToken, sequenceClassification } from './heads';


// ---- inference graph (modeling_distilbert.py, eager attention) ----

/** DistilBERT's LayerNorms use a fixed epsilon, whatever config.json says. */
const DISTILBERT_EPS = 1e-12;

const distilbertGraph: FamilyGraph = {
  architectures: {
    DistilBertForSequenceClassification: 'text-classification',
    DistilBertForTokenClassification: 'token-classification',
    DistilBertForQuestionAnswering: 'question-answering',
  },
  pretraining: { DistilBertForMaskedLM: 'masked LM' },
  tokenTypeIds: false,
  build(ctx) {
    const { g, config, inputs } = ctx;
    const dim = config.int('dim');
    const heads = config.int('n_heads');
    if (dim % heads !== 0) throw new CheckpointError(`${config.file}: dim ${dim} is not a multiple of n_heads ${heads}`);
    const act = config.str('activation', 'gelu');
    const words = embedding(g, ctx.base('embeddings.word_embeddings.weight'), inputs.inputIds);
    const pos = embedding(g, ctx.base('embeddings.position_embeddings.weight'), positions(g, inputs.inputIds));
    const tokens = tokenLayout(g, inputs.attentionMask, { first: true });
    let x = packTokens(g, tokens, layerNorm(g, g.op('Add', [words, pos]), ctx.base('embeddings.LayerNorm'), DISTILBERT_EPS));
    // masked_fill(mask == 0, finfo.min) before the softmax: the same probabilities as the additive mask
    const maskBias = additiveMask(g, inputs.attentionMask);
    for (let i = 0; i < config.int('n_layers'); i++) {
      const p = ctx.base(`transformer.layer.${i}`);
      const context = selfAttention(g, x, { q: `${p}.attention.q_lin`, k: `${p}.attention.k_lin`, v: `${p}.attention.v_lin`, numHeads: heads, headDim: dim / heads, maskBias, tokens });
      const sa = residualLayerNorm(g, linear(g, context, `${p}.attention.out_lin`), x, `${p}.sa_layer_norm`, DISTILBERT_EPS);
      const ffn = linear(g, activation(g, linear(g, sa, `${p}.ffn.lin1`), act, `${config.file} activation`), `${p}.ffn.lin2`);
      x = residualLayerNorm(g, ffn, sa, `${p}.output_layer_norm`, DISTILBERT_EPS);
    }
    x = unpackTokens(g, tokens, x);
    if (ctx.task === 'text-classification') {
      // pre_classifier -> ReLU -> classifier on the first token
      const pooled = g.op('Relu', [linear(g, firstToken(ctx, x), 'pre_classifier')]);
      return sequenceClassification(ctx, pooled);
    }
    const out = encoderTokenHeads(ctx, x);
    if (out) return out;
    throw noHead(ctx, 'DistilBERT');
  },
};

export const distilbert: ModelFamily = {
  id: 'distilbert',
  modelTypes: ['distilbert'],
  prefixes: ['distilbert.'],
  taskHeads: /^(pre_classifier|classifier|qa_outputs)\./,
  pretrainingHeads: /^vocab_(transform|layer_norm|projector)\./,
  layers: /^(distilbert\.)?transformer\.layer\.\d+\./,
  graph: distilbertGraph,
};
