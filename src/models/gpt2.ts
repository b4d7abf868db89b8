// GPT-2 (model_type gpt2): transformer.* (wte, wpe, h.N, ln_f); the hub's base checkpoints store the same
// names without the prefix. Conv1D weights are stored [in, out]. Heads: score (sequence classification),
// classifier (token classification), qa_outputs; lm_head is tied to wte.
import { CheckpointError } from '../errors';
import type { Value } from '../graph/builder';
import { causalAttention, causalMaskBias, positionsFromMask } from '../graph/causal';
import { activation, embedding, layerNorm, linear } from '../graph/nn';
import type { FamilyGraph, GraphContext, TaskOutputs } from '../graph/types';
import { causalLm, lastNonPadToken, questionAnswering, sequenceClassification, tokenClassification } from './heads';
import type { HfConfig, ModelFamily } from './types';

// ---- inference graph (modeling_gpt2.py, eager attention) ----

/** transformers' Conv1D: x @ W + b with W stored [in, out]. */
function conv1d(ctx: GraphContext, x: Value, prefix: string): Value {
  const { g } = ctx;
  const y = g.op('MatMul', [x, g.weight(`${prefix}.weight`)], undefined, { hint: `${prefix}.matmul` });
  return g.op('Add', [y, g.weight(`${prefix}.bias`)], undefined, { hint: prefix });
}

/** The checkpoint's name of a base-model module (`transformer.h.0.ln_1` or `h.0.ln_1`), found by its weight. */
function module(ctx: GraphContext, name: string): string {
  return ctx.base(`${name}.weight`).slice(0, -'.weight'.length);
}

/** GPT2Model: the last hidden state after ln_f, [batch, sequence, n_embd]. */
function gpt2Hidden(ctx: GraphContext): Value {
  const { g, config, inputs } = ctx;
  const d = config.int('n_embd');
  const heads = config.int('n_head');
  const layers = config.int('n_layer');
  if (d % heads !== 0) throw new CheckpointError(`${config.file}: n_embd ${d} is not a multiple of n_head ${heads}`);
  const headDim = d / heads;
  const eps = config.num('layer_norm_epsilon', 1e-5);
  const act = config.str('activation_function', 'gelu_new');
  if (config.bool('add_cross_attention', false)) throw new CheckpointError(`${config.file}: add_cross_attention is true; the built graph has GPT-2's self-attention only`);
  const scale = config.bool('scale_attn_weights', true);
  const byLayer = config.bool('scale_attn_by_inverse_layer_idx', false);

  const positions = positionsFromMask(g, inputs.attentionMask);
  let x = g.op('Add', [embedding(g, ctx.base('wte.weight'), inputs.inputIds), embedding(g, ctx.base('wpe.weight'), positions)], undefined, { hint: 'embeddings' });
  const maskBias = causalMaskBias(g, inputs.attentionMask);
  for (let i = 0; i < layers; i++) {
    const p = module(ctx, `h.${i}.ln_1`).slice(0, -'ln_1'.length);
    const h = layerNorm(g, x, `${p}ln_1`, eps);
    const [q, k, v] = g.opN('Split', [conv1d(ctx, h, `${p}attn.c_attn`), g.i64([d, d, d])], 3, { axis: -1 }, { hint: `${p}attn.qkv` });
    // scores / sqrt(head_dim) (scale_attn_weights), then / (layer + 1) (scale_attn_by_inverse_layer_idx)
    const divisors = [...(scale ? [Math.sqrt(headDim)] : []), ...(byLayer ? [i + 1] : [])];
    const context = causalAttention(g, q!, k!, v!, { numHeads: heads, numKvHeads: heads, headDim, divisors, maskBias });
    x = g.op('Add', [x, conv1d(ctx, context, `${p}attn.c_proj`)], undefined, { hint: `${p}attn.residual` });
    const h2 = layerNorm(g, x, `${p}ln_2`, eps);
    const mlp = conv1d(ctx, activation(g, conv1d(ctx, h2, `${p}mlp.c_fc`), act, `${config.file} activation_function`), `${p}mlp.c_proj`);
    x = g.op('Add', [x, mlp], undefined, { hint: `${p}mlp.residual` });
  }
  return layerNorm(g, x, module(ctx, 'ln_f'), eps);
}

const gpt2Graph: FamilyGraph = {
  architectures: {
    GPT2LMHeadModel: 'causal-lm',
    GPT2ForSequenceClassification: 'text-classification',
    GPT2ForTokenClassification: 'token-classification',
    GPT2ForQuestionAnswering: 'question-answering',
  },
  tokenTypeIds: false,
  baseTasks: ['causal-lm'],
  build(ctx): TaskOutputs {
    const hidden = gpt2Hidden(ctx);
    switch (ctx.task) {
      case 'causal-lm': {
        // lm_head is wte unless tie_word_embeddings is false and the checkpoint has its own lm_head
        const own = !ctx.config.bool('tie_word_embeddings', true);
        if (own && !ctx.g.has('lm_head.weight')) throw new CheckpointError(`${ctx.config.file}: tie_word_embeddings is false and the weights hold no lm_head.weight; a causal LM needs its own LM head`);
        return causalLm(ctx, linear(ctx.g, hidden, own ? 'lm_head' : module(ctx, 'wte'), { bias: false }));
      }
      case 'text-classification':
        return sequenceClassification(ctx, lastNonPadToken(ctx, hidden), 'score');
      case 'token-classification':
        return tokenClassification(ctx, hidden, 'classifier');
      case 'question-answering':
        return questionAnswering(ctx, hidden, 'qa_outputs');
    }
  },
};

export const gpt2: ModelFamily = {
  id: 'gpt2',
  modelTypes: ['gpt2'],
  prefixes: ['transformer.'],
  taskHeads: /^(score|classifier|qa_outputs)\./,
  pretrainingHeads: /^$/,
  layers: /^(transformer\.)?h\.\d+\./,
  conv1d: /(^|\.)(attn\.c_attn|attn\.c_proj|mlp\.c_fc|mlp\.c_proj|attn\.q_attn)\.weight$/,
  tieGroups: (config: HfConfig) => (config['tie_word_embeddings'] === false ? [] : [['transformer.wte.weight', 'lm_head.weight']]),
  graph: gpt2Graph,
};
