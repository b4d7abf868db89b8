// DistilBERT (model_type distilbert): distilbert.* (embeddings, transformer.layer.N); heads pre_classifier,
// classifier, qa_outputs; pre-training head vocab_transform / vocab_layer_norm / vocab_projector.
import type { ModelFamily } from './types';

export const distilbert: ModelFamily = {
  id: 'distilbert',
  modelTypes: ['distilbert'],
  prefixes: ['distilbert.'],
  taskHeads: /^(pre_classifier|classifier|qa_outputs)\./,
  pretrainingHeads: /^vocab_(transform|layer_norm|projector)\./,
  layers: /^(distilbert\.)?transformer\.layer\.\d+\./,
};
