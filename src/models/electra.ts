// ELECTRA (model_type electra): electra.* encoder; heads classifier.dense / classifier.out_proj, classifier,
// qa_outputs; pre-training heads discriminator_predictions.*, generator_predictions.*, generator_lm_head.*.
import type { ModelFamily } from './types';

export const electra: ModelFamily = {
  id: 'electra',
  modelTypes: ['electra'],
  prefixes: ['electra.'],
  taskHeads: /^(classifier|qa_outputs)\./,
  pretrainingHeads: /^(discriminator_predictions|generator_predictions|generator_lm_head)\./,
  layers: /^(electra\.)?encoder\.layer\.\d+\./,
};
