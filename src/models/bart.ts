// BART (model_type bart, mbart): model.* (shared, encoder/decoder with layers.N); heads classification_head
// (dense, out_proj) and qa_outputs; model.shared is copied to model.encoder.embed_tokens /
// model.decoder.embed_tokens and tied to lm_head (BartForConditionalGeneration, unless tie_word_embeddings is false).
import type { HfConfig, ModelFamily } from './types';

export const bart: ModelFamily = {
  id: 'bart',
  modelTypes: ['bart', 'mbart'],
  prefixes: ['model.'],
  taskHeads: /^(classification_head|qa_outputs)\./,
  pretrainingHeads: /^$/,
  layers: /^(model\.)?(encoder|decoder)\.layers\.\d+\./,
  tieGroups: (config: HfConfig) => [
    config['tie_word_embeddings'] === false
      ? ['model.shared.weight', 'model.encoder.embed_tokens.weight', 'model.decoder.embed_tokens.weight']
      : ['model.shared.weight', 'model.encoder.embed_tokens.weight', 'model.decoder.embed_tokens.weight', 'lm_head.weight'],
  ],
};
