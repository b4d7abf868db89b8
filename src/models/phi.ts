// Phi (model_type phi: self_attn q/k/v_proj + dense, mlp fc1/fc2, model.final_layernorm, lm_head with a bias;
// phi3: self_attn qkv_proj + o_proj, mlp gate_up_proj + down_proj): model.* with layers.N; head score.
import type { HfConfig, ModelFamily } from './types';

export const phi: ModelFamily = {
  id: 'phi',
  modelTypes: ['phi', 'phi3'],
  prefixes: ['model.'],
  taskHeads: /^(score|classifier|qa_outputs)\./,
  pretrainingHeads: /^$/,
  layers: /^(model\.)?layers\.\d+\./,
  tieGroups: (config: HfConfig) => (config['tie_word_embeddings'] === true ? [['model.embed_tokens.weight', 'lm_head.weight']] : []),
};
