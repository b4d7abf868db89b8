// ALBERT (model_type albert): albert.* with shared layers in encoder.albert_layer_groups.G.albert_layers.L;
// heads classifier, qa_outputs; pre-training heads predictions.*, sop_classifier.*.
import type { ModelFamily } from './types';

export const albert: ModelFamily = {
  id: 'albert',
  modelTypes: ['albert'],
  prefixes: ['albert.'],
  taskHeads: /^(classifier|qa_outputs)\./,
  pretrainingHeads: /^(predictions|sop_classifier)\./,
  layers: /^(albert\.)?encoder\.albert_layer_groups\.\d+\.albert_layers\.\d+\./,
};
