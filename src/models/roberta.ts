// RoBERTa, XLM-RoBERTa and CamemBERT (model_type roberta, xlm-roberta, camembert: CamembertFor* hold a `roberta` module): roberta.* encoder; heads classifier.dense /
// classifier.out_proj, classifier (token classification), qa_outputs; pre-training head lm_head.*.
import type { ModelFamily } from './types';

export const roberta: ModelFamily = {
  id: 'roberta',
  modelTypes: ['roberta', 'xlm-roberta', 'camembert'],
  prefixes: ['roberta.'],
  taskHeads: /^(classifier|qa_outputs)\./,
  pretrainingHeads: /^lm_head\./,
  layers: /^(roberta\.)?encoder\.layer\.\d+\./,
};
