// MPNet (model_type mpnet): mpnet.* (embeddings, encoder.layer.N, encoder.relative_attention_bias, pooler);
// heads classifier (MPNetClassificationHead: dense, out_proj; a Linear for token classification) and
// qa_outputs; pre-training head lm_head.*.
import type { ModelFamily } from './types';

export const mpnet: ModelFamily = {
  id: 'mpnet',
  modelTypes: ['mpnet'],
  prefixes: ['mpnet.'],
  taskHeads: /^(classifier|qa_outputs)\./,
  pretrainingHeads: /^lm_head\./,
  layers: /^(mpnet\.)?encoder\.layer\.\d+\./,
};
