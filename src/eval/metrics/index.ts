// The measures of every task, one file each. Names are fixed: `ken eval --json` prints them under
// "metrics" and the report stores them as they are here. Their result types and the metric-name helpers are
// in src/shared/metrics.ts (the webview reads them too).
export {
  singleLabelMetrics, multiLabelMetrics, argmax, prf,
} from './classification';
export { regressionMetrics, pearson, spearman, meanSquaredError, averageRanks } from './regression';
export {
  tokenClassificationMetrics, lenientEntities, strictEntities, firstSubTokenPredictions, TAG_SCHEMES, schemeProblem,
  type TokenClassificationOptions, type TagScheme, type Entity,
} from './token';
export { squadMetrics, normalizeAnswer, exactMatch, answerF1, type ScoredAnswer } from './squad';
export { postprocessQa, contextWindows, topIndices, QA_DEFAULTS, type QaFeature, type QaPostprocessOptions, type QaPrediction } from './qa';
export { lmWindows, PerplexityAccumulator, type LmWindow } from './causal-lm';
export { GLUE, GLUE_NAMES, gluePreset, type GluePreset, type GlueName } from './glue';
export { npSum, npMean, npWeightedAverage } from './numeric';
