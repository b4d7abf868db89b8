// The Llama family (model_type llama, mistral, qwen2): model.* (embed_tokens, layers.N, norm); heads score
// (sequence classification); lm_head is a pre-trained weight (tied to embed_tokens when tie_word_embeddings).
import type { HfConfig, ModelFamily } from './types';

export const llama: ModelFamily = {
  id: 'llama',
  modelTypes: ['llama', 'mistral', 'qwen2'],
  prefixes: ['model.'],
  taskHeads: /^(score|classifier|qa_outputs)\./,
  pretrainingHeads: /^$/,
  layers: /^(model\.)?layers\.\d+\./,
  tieGroups: (config: HfConfig) => (config['tie_word_embeddings'] === true ? [['model.embed_tokens.weight', 'lm_head.weight']] : []),
};
