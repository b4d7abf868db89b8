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

/**
 * DeBERTa's relative position of query i to key j (rel = i - j), log-bucketed beyond half the buckets
 * as Hugging Face's make_log_bucket_position computes it: in float32, rounded up.
 */
export function relativeBucket(rel: number, buckets: number, maxPosition: number): number {
  if (!(buckets > 0 && maxPosition > 0)) return rel;
  const mid = Math.floor(buckets / 2);
  const abs = rel < mid && rel > -mid ? mid - 1 : Math.abs(rel);
  if (abs <= mid) return rel;
  const f = Math.fround;
  const ratio = f(f(Math.log(f(abs / mid))) / f(Math.log(f((maxPosition - 1) / mid))));
  return Math.sign(rel) * (Math.ceil(f(ratio * (mid - 1))) + mid);
}
