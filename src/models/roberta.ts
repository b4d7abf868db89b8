// RoBERTa and XLM-RoBERTa (model_type roberta, xlm-roberta): roberta.* encoder; heads classifier.dense /
// classifier.out_proj, classifier (token classification), qa_outputs; pre-training head lm_head.*.
import type { ModelFamily } from './types';

export const roberta: ModelFamily = {
  id: 'roberta',
  modelTypes: ['roberta', 'xlm-roberta'],
  prefixes: ['roberta.'],
  taskHeads: /^(classifier|qa_outputs)\./,
  pretrainingHeads: /^lm_head\./,
  layers: /^(roberta\.)?encoder\.layer\.\d+\./,
};
