// Accuracy evaluation: data sets, tokenization, onnxruntime classifiers, metrics.
//   const clf = await openClassifier('model-dir');                 // or (bytes, 'model-dir')
//   const data = await loadDataset('test.jsonl', { labels: clf.labels });
//   const encoded = await encodeDataset(clf.tokenizer, data);      // tokenize once (in a worker, time-bounded) ...
//   const result = await evaluate(clf, encoded, { batchSize, signal, onProgress });  // ... evaluate many
export { loadDataset, labelId, LabelMap, placeholderLabels, type Dataset, type DatasetOptions, type DataFormat, type Sample } from './dataset';
export { openData, textFormat, classNames, DATA_FORMATS, type OpenedData, type Features } from './data';
export {
  loadTokenizer, truncateTokens, truncationOf, ModelTokenizer,
  type EncodedDataset, type EncodedSample, type EncodedText, type Truncation, type TruncationStrategy,
} from './tokenize';
export { encodeDataset, LINE_BUDGET_MS, type EncodeOptions } from './tokenize-pool';
export { openClassifier, type Classifier, type ClassifierOptions } from './classifier';
export { findOnnx } from './session';
export * from './metrics';
export { qaFeatures, QA_MAX_LENGTH, QA_STRIDE, type QaInputFeature, type QaEncodeOptions } from './qa-features';
export { tokenOffsets, offsetStyle, type Offset, type OffsetStyle } from './offsets';
export { evaluate, predict, DEFAULT_BATCH_SIZE, type EvaluateOptions, type EvalProgress } from './evaluate';
export {
  loadTokenDataset, loadQaDataset, loadTextDataset,
  type TokenSample, type QaSample, type TextSample, type TokenDatasetOptions, type QaDatasetOptions, type TextDatasetOptions,
} from './samples';
