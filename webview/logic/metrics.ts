// Shaping of every task's measures for the Metrics view (pure): before/after cards, per-class and
// per-entity-type rows, the sweep curve in the metric it followed.
import type { EvalResult, KenReport } from '../../src/shared/report';
import { higherIsBetter, type TaskMetrics } from '../../src/shared/metrics';

export interface MetricCard {
  /** The metric's fixed name (accuracy, overall_f1, perplexity, ...). */
  name: string;
  label: string;
  before: number | undefined;
  after: number;
  /** Fractions are shown as percentages and their change in points; others as numbers. */
  format: 'pct' | 'num';
  higherIsBetter: boolean;
}

/** A result's metrics; reports written before metrics existed give the single-label figures they stored. */
export function metricsOf(r: EvalResult): TaskMetrics {
  if (r.metrics) return r.metrics;
  return { kind: 'single_label', accuracy: r.accuracy, macro_f1: r.macroF1, weighted_f1: Number.NaN, mcc: Number.NaN, per_class: r.perClass, confusion: r.confusion };
}

type Spec = [name: string, label: string, format: 'pct' | 'num'];
const CARDS: Record<TaskMetrics['kind'], Spec[]> = {
  single_label: [['accuracy', 'Accuracy', 'pct'], ['macro_f1', 'Macro F1', 'pct'], ['weighted_f1', 'Weighted F1', 'pct'], ['mcc', 'MCC', 'num'], ['f1', 'F1 (positive class)', 'pct']],
  multi_label: [['micro_f1', 'Micro F1', 'pct'], ['macro_f1', 'Macro F1', 'pct'], ['subset_accuracy', 'Subset accuracy', 'pct']],
  regression: [['pearson', 'Pearson', 'num'], ['spearman', 'Spearman', 'num'], ['mse', 'MSE', 'num']],
  token_classification: [['overall_f1', 'Entity F1', 'pct'], ['overall_precision', 'Entity precision', 'pct'], ['overall_recall', 'Entity recall', 'pct'], ['overall_accuracy', 'Token accuracy', 'pct']],
  question_answering: [['exact_match', 'Exact match', 'pct'], ['f1', 'F1', 'pct'], ['has_answer_f1', 'F1, answerable', 'pct'], ['no_answer_exact_match', 'Right abstentions', 'pct']],
  causal_lm: [['perplexity', 'Perplexity', 'num'], ['mean_nll', 'Mean NLL (nats)', 'num'], ['n_predicted_tokens', 'Predicted tokens', 'num']],
};

/** The cards of a kind: each metric the result has, with its value before (if known) and after. */
export function metricCards(before: TaskMetrics | undefined, after: TaskMetrics): MetricCard[] {
  const b = before && before.kind === after.kind ? (before as unknown as Record<string, unknown>) : undefined;
  const a = after as unknown as Record<string, unknown>;
  return CARDS[after.kind].filter(([name]) => typeof a[name] === 'number' && !Number.isNaN(a[name])).map(([name, label, format]) => ({
    name, label, format, higherIsBetter: higherIsBetter(name), after: a[name] as number, before: typeof b?.[name] === 'number' && !Number.isNaN(b[name]) ? (b[name] as number) : undefined,
  }));
}

export interface ScoreRow {
  label: string;
  support: number;
  before?: { precision: number; recall: number; f1: number };
  after?: { precision: number; recall: number; f1: number };
}

/** Per class (classification) or per entity type (token classification), in the result's order. */
export function scoreRows(before: TaskMetrics | undefined, after: TaskMetrics): ScoreRow[] {
  const table = (m: TaskMetrics | undefined): Record<string, { precision: number; recall: number; f1: number; support: number }> | undefined => {
    if (!m) return undefined;
    if (m.kind === 'single_label' || m.kind === 'multi_label') return m.per_class;
    if (m.kind === 'token_classification') return Object.fromEntries(Object.entries(m.per_type).map(([k, v]) => [k, { precision: v.precision, recall: v.recall, f1: v.f1, support: v.number }]));
    return undefined;
  };
  const a = table(after) ?? {};
  const b = before && before.kind === after.kind ? table(before) : undefined;
  const names = [...Object.keys(a), ...Object.keys(b ?? {}).filter((k) => !(k in a))];
  return names.map((label) => {
    const row: ScoreRow = { label, support: a[label]?.support ?? b?.[label]?.support ?? 0 };
    if (b?.[label]) row.before = b[label]!;
    if (a[label]) row.after = a[label]!;
    return row;
  });
}

export interface MetricSweepSeries {
  metric: string;
  /** The fine-tuned value the budget is measured from. */
  finetuned: number;
  keptRatio: number[];
  value: number[];
  k: number[];
}

/** The sweep's points by kept ratio, in the metric it followed (accuracy for older reports). */
export function metricSweepSeries(sweep: NonNullable<KenReport['sweep']>): MetricSweepSeries {
  const pts = [...sweep.points].sort((a, b) => a.keptRatio - b.keptRatio);
  return {
    metric: sweep.metric ?? 'accuracy',
    finetuned: sweep.finetunedValue ?? sweep.finetunedAccuracy,
    keptRatio: pts.map((p) => p.keptRatio),
    value: pts.map((p) => p.value ?? p.accuracy),
    k: pts.map((p) => p.k),
  };
}

/** Whether a metric's values read as percentages (fractions), not as plain numbers. */
export function isFraction(metric: string): boolean {
  return !['mcc', 'pearson', 'spearman', 'mse', 'perplexity', 'mean_nll', 'n_predicted_tokens'].includes(metric);
}
