// Gemma (model_type gemma, gemma2): the Llama layout (model.embed_tokens, model.layers.N, model.norm; gemma2
// adds pre/post_feedforward_layernorm); the LM head is always tied to embed_tokens (tie_word_embeddings
// defaults to true), so a stored lm_head.weight is a copy; head score.
import type { HfConfig, ModelFamily } from './types';

export const gemma: ModelFamily = {
  id: 'gemma',
  modelTypes: ['gemma', 'gemma2'],
  prefixes: ['model.'],
  taskHeads: /^(score|classifier|qa_outputs)\./,
  pretrainingHeads: /^$/,
  layers: /^(model\.)?layers\.\d+\./,
  tieGroups: (config: HfConfig) => (config['tie_word_embeddings'] === false ? [] : [['model.embed_tokens.weight', 'lm_head.weight']]),
};
