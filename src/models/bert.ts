// BERT (model_type bert): bert.* encoder, pooler; heads classifier / qa_outputs; pre-training head cls.*.
import type { ModelFamily } from './types';

export const bert: ModelFamily = {
  id: 'bert',
  modelTypes: ['bert'],
  prefixes: ['bert.'],
  taskHeads: /^(classifier|qa_outputs)\./,
  pretrainingHeads: /^cls\./,
  layers: /^(bert\.)?encoder\.layer\.\d+\./,
};
