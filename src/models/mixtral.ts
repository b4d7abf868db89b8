// Mixtral (model_type mixtral): the Llama layout with a sparse mixture of experts per layer:
// model.layers.N.block_sparse_moe.gate (the router) and block_sparse_moe.experts.M.{w1,w2,w3}; head score;
// lm_head untied unless tie_word_embeddings.
import type { HfConfig, ModelFamily } from './types';

export const mixtral: ModelFamily = {
  id: 'mixtral',
  modelTypes: ['mixtral'],
  prefixes: ['model.'],
  taskHeads: /^(score|classifier|qa_outputs)\./,
  pretrainingHeads: /^$/,
  layers: /^(model\.)?layers\.\d+\./,
  tieGroups: (config: HfConfig) => (config['tie_word_embeddings'] === true ? [['model.embed_tokens.weight', 'lm_head.weight']] : []),
};
