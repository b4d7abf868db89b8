// Accuracy evaluation: data sets, tokenization, onnxruntime classifiers, metrics.
//   const clf = await openClassifier('model-dir');                 // or (bytes, 'model-dir')
//   const data = await loadDataset('test.jsonl', { labels: clf.labels });
//   const encoded = await encodeDataset(clf.tokenizer, data);      // tokenize once (in a worker, time-bounded) ...
//   const result = await evaluate(clf, encoded, { batchSize, signal, onProgress });  // ... evaluate many
export { loadDataset, labelId, dataFormat, type Dataset, type DatasetOptions, type DataFormat, type Sample } from './dataset';
export {
  loadTokenizer, truncateTokens, truncationOf, ModelTokenizer,
  type EncodedDataset, type EncodedSample, type EncodedText, type Truncation, type TruncationStrategy,
} from './tokenize';
export { encodeDataset, LINE_BUDGET_MS, type EncodeOptions } from './tokenize-pool';
export { openClassifier, findOnnx, configLabels, type Classifier, type ClassifierOptions } from './classifier';
export { classificationMetrics, type ClassificationMetrics } from './metrics';
export { evaluate, predict, DEFAULT_BATCH_SIZE, type EvaluateOptions, type EvalProgress } from './evaluate';
