// T5 (model_type t5, mt5): shared.weight with copies encoder.embed_tokens.weight / decoder.embed_tokens.weight
// (and lm_head.weight when tie_word_embeddings, T5 v1.0); blocks encoder.block.N / decoder.block.N.
import type { HfConfig, ModelFamily } from './types';

export const t5: ModelFamily = {
  id: 't5',
  modelTypes: ['t5', 'mt5'],
  prefixes: [],
  taskHeads: /^(classification_head|qa_outputs)\./,
  pretrainingHeads: /^$/,
  layers: /^(encoder|decoder)\.block\.\d+\./,
  tieGroups: (config: HfConfig) => [
    config['tie_word_embeddings'] === false
      ? ['shared.weight', 'encoder.embed_tokens.weight', 'decoder.embed_tokens.weight']
      : ['shared.weight', 'encoder.embed_tokens.weight', 'decoder.embed_tokens.weight', 'lm_head.weight'],
  ],
};
