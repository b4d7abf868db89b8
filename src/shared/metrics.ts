// The measures of an evaluation as host and webview share them: each task's result type, the tagged union of
// them that `ken eval --json` prints under "metrics" and ken-report.json stores, and the metric-name helpers
// (which way is better, the primary metric, how a drop is counted). Types and pure functions only: the
// webview imports this file; the implementations are in src/eval/metrics/, one file per task.

export interface ClassMetrics {
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

/** Single-label classification (`problem_type` single_label_classification). */
export interface SingleLabelMetrics {
  accuracy: number;
  /** Unweighted mean F1 of the classes that occur in the truth or the predictions. */
  macro_f1: number;
  /** Mean F1 of those classes weighted by their support. */
  weighted_f1: number;
  /** Matthews correlation coefficient (multi-class: Gorodkin's R_K, as scikit-learn). */
  mcc: number;
  /** Two classes only: F1 of the positive class (id 1), as f1_score(average='binary'). */
  f1?: number;
  per_class: Record<string, ClassMetrics>;
  /** confusion[true][predicted], in label id order. */
  confusion: number[][];
}

/** Multi-label classification (`problem_type` multi_label_classification), labels as 0/1 rows. */
export interface MultiLabelMetrics {
  micro_f1: number;
  /** Mean F1 over every label (scikit-learn counts all columns of an indicator matrix). */
  macro_f1: number;
  /** Fraction of samples whose label set was predicted exactly. */
  subset_accuracy: number;
  per_class: Record<string, ClassMetrics>;
}

export interface RegressionMetrics {
  pearson: number;
  spearman: number;
  mse: number;
}

export interface EntityTypeMetrics {
  precision: number;
  recall: number;
  f1: number;
  /** Entities of this type in the truth (seqeval's support). */
  number: number;
}

export interface TokenClassificationMetrics {
  overall_precision: number;
  overall_recall: number;
  overall_f1: number;
  /** Fraction of words whose tag was predicted exactly. */
  overall_accuracy: number;
  per_type: Record<string, EntityTypeMetrics>;
}

export interface QuestionAnsweringMetrics {
  /** Fraction of questions answered exactly (after normalisation), best over the gold answers. */
  exact_match: number;
  /** Mean token F1, best over the gold answers. */
  f1: number;
  /** SQuAD 2.0 only: the same over the answerable and the unanswerable questions. */
  has_answer_exact_match?: number;
  has_answer_f1?: number;
  has_answer_total?: number;
  no_answer_exact_match?: number;
  no_answer_f1?: number;
  no_answer_total?: number;
}

export interface CausalLmMetrics {
  perplexity: number;
  /** Mean negative log-likelihood per predicted token (nats). */
  mean_nll: number;
  n_predicted_tokens: number;
}

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
