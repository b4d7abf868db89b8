// Runs a classifier over a data set in batches and scores it. Samples are batched by length (which
// cuts padding; the figures do not depend on the order), with progress and cancellation between batches.
import { adapterLabel } from '../runtime/webgpu';
import { CheckpointError, throwIfAborted } from '../errors';
import type { EvalResult } from '../shared/report';
import type { Classifier } from './classifier';
import type { Dataset } from './dataset';
import { singleLabelMetrics } from './metrics';
import type { EncodedDataset } from './tokenize';
import { encodeDataset } from './tokenize-pool';

export interface EvalProgress {
  done: number;
  total: number;
}

export interface EvaluateOptions {
  /** Samples per session run (default 32). */
  batchSize?: number;
  signal?: AbortSignal | undefined;
  onProgress?: ((p: EvalProgress) => void) | undefined;
  /** Batch samples of similar length together (default true). */
  sortByLength?: boolean;
  /** Each sample's logits (index in the data set), e.g. for `ken eval --outputs`. */
  onLogits?: ((sample: number, logits: Float32Array) => void) | undefined;
}

export const DEFAULT_BATCH_SIZE = 32;

function isEncoded(d: Dataset | EncodedDataset): d is EncodedDataset {
  return 'padId' in d;
}

/** The predicted class of each sample, in the data set's order. */
export async function predict(classifier: Classifier, data: EncodedDataset, opts: EvaluateOptions = {}): Promise<Int32Array> {
  const batchSize = opts.batchSize ?? DEFAULT_BATCH_SIZE;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batch size must be a whole number >= 1 (got ${batchSize})`);
  const total = data.samples.length;
  const order = Array.from({ length: total }, (_, i) => i);
  if (opts.sortByLength ?? true) order.sort((a, b) => data.samples[a]!.ids.length - data.samples[b]!.ids.length || a - b);
  // every token id inside the model's vocabulary, in file order (the batches below go by length)
  classifier.checkTokenIds(data.samples, data.padId, data.path);
  const predicted = new Int32Array(total);
  const width = classifier.labels.length;
  opts.onProgress?.({ done: 0, total });
  for (let start = 0; start < total; start += batchSize) {
    throwIfAborted(opts.signal);
    const idx = order.slice(start, start + batchSize);
    const logits = await classifier.logits(idx.map((i) => data.samples[i]!), data.padId);
    idx.forEach((sample, r) => {
      opts.onLogits?.(sample, logits.subarray(r * width, (r + 1) * width));
      let best = 0;
      for (let c = 1; c < width; c++) if (logits[r * width + c]! > logits[r * width + best]!) best = c;
      predicted[sample] = best;
    });
    opts.onProgress?.({ done: Math.min(start + batchSize, total), total });
  }
  throwIfAborted(opts.signal);
  return predicted;
}

/**
 * Accuracy, macro-F1, per-class figures and the confusion matrix of `classifier` on `data`.
 * Give an EncodedDataset (encodeDataset) to evaluate several models on one tokenization.
 */
export async function evaluate(classifier: Classifier, data: Dataset | EncodedDataset, opts: EvaluateOptions = {}): Promise<EvalResult> {
  const started = performance.now();
  if (data.labels.length !== classifier.labels.length || data.labels.some((l, i) => l !== classifier.labels[i])) {
    throw new CheckpointError(`${classifier.model}: its labels (${classifier.labels.join(', ')}) differ from those ${data.path} was read with (${data.labels.join(', ')})`);
  }
  const encoded = isEncoded(data) ? data : await encodeDataset(classifier.tokenizer, data, { signal: opts.signal });
  const predicted = await predict(classifier, encoded, opts);
  const m = singleLabelMetrics(encoded.samples.map((s) => s.label), predicted, encoded.labels);
  const result: EvalResult = {
    accuracy: m.accuracy,
    macroF1: m.macro_f1,
    perClass: m.per_class,
    confusion: m.confusion,
    metrics: { kind: 'single_label', ...m },
    labels: [...encoded.labels],
    samples: encoded.samples.length,
    executionProvider: classifier.executionProvider,
    ...(classifier.adapter ? { adapter: adapterLabel(classifier.adapter) } : {}),
    seconds: (performance.now() - started) / 1000,
    model: classifier.model,
    data: encoded.path,
    graph: classifier.graph,
  };
  if (encoded.skipped) result.skipped = encoded.skipped;
  return result;
}
