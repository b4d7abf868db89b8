// ALBERT (model_type albert): albert.* with shared layers in encoder.albert_layer_groups.G.albert_layers.L;
// heads classifier, qa_outputs; pre-training heads predictions.*, sop_classifier.*.
import type { ModelFamily } from './types';
import type { FamilyGraph } from '../graph/types';
import { activation, additiveMask, linear, packTokens, residualLayerNorm, selfAttention, tokenLayout, unpackTokens } from '../graph/nn';
import { CheckpointError } from '../errors';
import { bertEmbeddings, bertPooler, encoderTokenHeads, noHead } from './bert';
import { sequenceClassification } from './heads';


// ---- inference graph (modeling_albert.py, eager attention) ----

const albertGraph: FamilyGraph = {
  architectures: {
    AlbertForSequenceClassification: 'text-classification',
    AlbertForTokenClassification: 'token-classification',
    AlbertForQuestionAnswering: 'question-answering',
  },
  pretraining: { AlbertForMaskedLM: 'masked LM', AlbertForPreTraining: 'masked LM and sentence-order prediction' },
  tokenTypeIds: true,
  build(ctx) {
    const { g, config } = ctx;
    const layers = config.int('num_hidden_layers');
    const groups = config.int('num_hidden_groups', 1);
    const inner = config.int('inner_group_num', 1);
    const heads = config.int('num_attention_heads');
    const size = config.int('hidden_size');
    if (size % heads !== 0) throw new CheckpointError(`${config.file}: hidden_size ${size} is not a multiple of num_attention_heads ${heads}`);
    if (groups < 1 || layers % groups !== 0) throw new CheckpointError(`${config.file}: num_hidden_layers ${layers} is not a multiple of num_hidden_groups ${groups}`);
    const eps = config.num('layer_norm_eps', 1e-12);
    const act = config.str('hidden_act', 'gelu_new');
    // factorized embeddings: embedding_size wide, mapped to hidden_size
    const tokens = tokenLayout(g, ctx.inputs.attentionMask, { first: true });
    let x = linear(g, packTokens(g, tokens, bertEmbeddings(ctx)), ctx.base('encoder.embedding_hidden_mapping_in'));
    const maskBias = additiveMask(g, ctx.inputs.attentionMask);
    const perGroup = layers / groups;
    for (let i = 0; i < layers; i++) {
      const group = Math.floor(i / perGroup);
      for (let j = 0; j < inner; j++) {
        // the same weights serve every layer of a group
        const p = ctx.base(`encoder.albert_layer_groups.${group}.albert_layers.${j}`);
        const context = selfAttention(g, x, { q: `${p}.attention.query`, k: `${p}.attention.key`, v: `${p}.attention.value`, numHeads: heads, headDim: size / heads, maskBias, tokens });
        const attn = residualLayerNorm(g, linear(g, context, `${p}.attention.dense`), x, `${p}.attention.LayerNorm`, eps);
        const ffn = linear(g, activation(g, linear(g, attn, `${p}.ffn`), act), `${p}.ffn_output`);
        x = residualLayerNorm(g, ffn, attn, `${p}.full_layer_layer_norm`, eps);
      }
    }
    x = unpackTokens(g, tokens, x);
    if (ctx.task === 'text-classification') return sequenceClassification(ctx, bertPooler(ctx, x, ctx.base('pooler')));
    const out = encoderTokenHeads(ctx, x);
    if (out) return out;
    throw noHead(ctx, 'ALBERT');
  },
};

export const albert: ModelFamily = {
  id: 'albert',
  modelTypes: ['albert'],
  prefixes: ['albert.'],
  taskHeads: /^(classifier|qa_outputs)\./,
  pretrainingHeads: /^(predictions|sop_classifier)\./,
  layers: /^(albert\.)?encoder\.albert_layer_groups\.\d+\.albert_layers\.\d+\./,
  graph: albertGraph,
};
