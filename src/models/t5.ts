// T5 (model_type t5, mt5): shared.weight with copies encoder.embed_tokens.weight / decoder.embed_tokens.weight
// (and lm_head.weight when tie_word_embeddings, T5 v1.0); blocks encoder.block.N / decoder.block.N.
// T5ForSequenceClassification (T5Model) and T5ForTokenClassification (T5EncoderModel) hold the model as
// `transformer.`; their heads are classification_head (dense, out_proj) and classifier; QA has qa_outputs.
import type { HfConfig, ModelFamily } from './types';

export const t5: ModelFamily = {
  id: 't5',
  modelTypes: ['t5', 'mt5'],
  prefixes: ['transformer.'],
  taskHeads: /^(classification_head|classifier|qa_outputs)\./,
  pretrainingHeads: /^$/,
  layers: /^(transformer\.)?(encoder|decoder)\.block\.\d+\./,
  tieGroups: (config: HfConfig) => [
    config['tie_word_embeddings'] === false
      ? ['shared.weight', 'encoder.embed_tokens.weight', 'decoder.embed_tokens.weight']
      : ['shared.weight', 'encoder.embed_tokens.weight', 'decoder.embed_tokens.weight', 'lm_head.weight'],
  ],
};
