// The measures of every task, one file each. Names are fixed: `ken eval --json` prints them under
// "metrics" and the report stores them as they are here.
export {
  singleLabelMetrics, multiLabelMetrics, argmax, prf,
  type SingleLabelMetrics, type MultiLabelMetrics, type ClassMetrics,
} from './classification';
export { regressionMetrics, pearson, spearman, meanSquaredError, averageRanks, type RegressionMetrics } from './regression';
export {
  tokenClassificationMetrics, lenientEntities, strictEntities, firstSubTokenPredictions, TAG_SCHEMES, schemeProblem,
  type TokenClassificationMetrics, type TokenClassificationOptions, type EntityTypeMetrics, type TagScheme, type Entity,
} from './token';
export { squadMetrics, normalizeAnswer, exactMatch, answerF1, type QuestionAnsweringMetrics, type ScoredAnswer } from './squad';
export { postprocessQa, contextWindows, topIndices, QA_DEFAULTS, type QaFeature, type QaPostprocessOptions, type QaPrediction } from './qa';
export { lmWindows, PerplexityAccumulator, type CausalLmMetrics, type LmWindow } from './causal-lm';
export { GLUE, GLUE_NAMES, gluePreset, type GluePreset, type GlueName } from './glue';
export { npSum, npMean, npWeightedAverage } from './numeric';

import type { SingleLabelMetrics, MultiLabelMetrics } from './classification';
import type { RegressionMetrics } from './regression';
import type { TokenClassificationMetrics } from './token';
import type { QuestionAnsweringMetrics } from './squad';
import type { CausalLmMetrics } from './causal-lm';

/** The figures of one evaluation, tagged by what was measured. */
export type TaskMetrics =
  | ({ kind: 'single_label' } & SingleLabelMetrics)
  | ({ kind: 'multi_label' } & MultiLabelMetrics)
  | ({ kind: 'regression' } & RegressionMetrics)
  | ({ kind: 'token_classification' } & TokenClassificationMetrics)
  | ({ kind: 'question_answering'; version: 'squad' | 'squad_v2' } & QuestionAnsweringMetrics)
  | ({ kind: 'causal_lm' } & CausalLmMetrics);

export type MetricsKind = TaskMetrics['kind'];

/** The scalar metrics of a result by name (what `--metric NAME` can pick), numbers only. */
export function scalarMetrics(m: TaskMetrics): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(m)) if (typeof v === 'number') out[k] = v;
  return out;
}

/** Whether a larger value of the metric is better (perplexity, NLL and MSE are lower-is-better). */
export function higherIsBetter(name: string): boolean {
  return !['perplexity', 'mean_nll', 'mse'].includes(name);
}

/** The metric a task is usually judged by, for summaries and the default of `--metric`. */
export function primaryMetric(m: TaskMetrics): string {
  switch (m.kind) {
    case 'single_label': return 'accuracy';
    case 'multi_label': return 'micro_f1';
    case 'regression': return 'pearson';
    case 'token_classification': return 'overall_f1';
    case 'question_answering': return 'f1';
    case 'causal_lm': return 'perplexity';
  }
}

/** What a data set without labels (or answers) is scored as: nothing; `--outputs` still has the outputs. */
export interface NoMetrics {
  kind?: undefined;
}

/**
 * How much worse `after` is than `before` in metric `name`: percentage points for fractions and
 * correlations (accuracy 0.80 -> 0.78 is 2), the metric's own units for perplexity, mean NLL and MSE
 * (which grow when worse). Negative when better.
 */
export function metricDrop(name: string, before: number, after: number): number {
  return higherIsBetter(name) ? (before - after) * 100 : after - before;
}

/** The scalar `name` of a result's metrics, or a one-line reason naming the ones there are. */
export function metricValue(m: TaskMetrics | undefined, name: string): number | string {
  if (!m) return `--metric ${name}: this evaluation has no metrics`;
  const all = scalarMetrics(m);
  const v = all[name];
  if (v === undefined) return `--metric ${name}: not a metric of this task (${Object.keys(all).join(', ')})`;
  return v;
}

/** What --max-drop counts in for a metric. */
export function dropUnit(metric: string): string {
  return higherIsBetter(metric) ? 'points' : `(${metric} units)`;
}
