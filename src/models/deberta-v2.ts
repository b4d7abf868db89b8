// DeBERTa-v2 and v3 (model_type deberta-v2): deberta.* encoder (relative embeddings in encoder.rel_embeddings);
// heads pooler.dense + classifier (sequence classification), classifier, qa_outputs; pre-training heads
// mask_predictions.* (v3's replaced-token detection) and lm_predictions.* (MLM).
import type { ModelFamily } from './types';

export const debertaV2: ModelFamily = {
  id: 'deberta-v2',
  modelTypes: ['deberta-v2'],
  prefixes: ['deberta.'],
  taskHeads: /^(pooler|classifier|qa_outputs)\./,
  pretrainingHeads: /^(mask_predictions|lm_predictions)\./,
  layers: /^(deberta\.)?encoder\.layer\.\d+\./,
};
