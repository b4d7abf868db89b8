// `--task glue/<name>`: the fields and the metrics of each GLUE task, as the GLUE benchmark (and
// Hugging Face's glue metric) reports them. Field and label names are those of the `glue` data set
// (its Parquet/Arrow files and their ClassLabel features).

export type GlueName = 'cola' | 'sst2' | 'mrpc' | 'qqp' | 'stsb' | 'mnli' | 'qnli' | 'rte' | 'wnli';

export interface GluePreset {
  name: GlueName;
  textField: string;
  textPairField?: string;
  labelField: 'label';
  /** Classification (class ids) or regression (a similarity score). */
  problem: 'single_label_classification' | 'regression';
  /** The data set's class names in id order (its ClassLabel feature). */
  labels?: readonly string[];
  /** The metrics GLUE reports for the task, first the one it ranks by. */
  metrics: readonly string[];
  /** The evaluation splits: MNLI has a matched and a mismatched one, given as two files. */
  splits: readonly string[];
}

const pair = (a: string, b: string): Pick<GluePreset, 'textField' | 'textPairField'> => ({ textField: a, textPairField: b });

export const GLUE: Readonly<Record<GlueName, GluePreset>> = {
  cola: { name: 'cola', textField: 'sentence', labelField: 'label', problem: 'single_label_classification', labels: ['unacceptable', 'acceptable'], metrics: ['mcc'], splits: ['validation'] },
  sst2: { name: 'sst2', textField: 'sentence', labelField: 'label', problem: 'single_label_classification', labels: ['negative', 'positive'], metrics: ['accuracy'], splits: ['validation'] },
  mrpc: { name: 'mrpc', ...pair('sentence1', 'sentence2'), labelField: 'label', problem: 'single_label_classification', labels: ['not_equivalent', 'equivalent'], metrics: ['f1', 'accuracy'], splits: ['validation'] },
  qqp: { name: 'qqp', ...pair('question1', 'question2'), labelField: 'label', problem: 'single_label_classification', labels: ['not_duplicate', 'duplicate'], metrics: ['f1', 'accuracy'], splits: ['validation'] },
  stsb: { name: 'stsb', ...pair('sentence1', 'sentence2'), labelField: 'label', problem: 'regression', metrics: ['pearson', 'spearman'], splits: ['validation'] },
  mnli: { name: 'mnli', ...pair('premise', 'hypothesis'), labelField: 'label', problem: 'single_label_classification', labels: ['entailment', 'neutral', 'contradiction'], metrics: ['accuracy'], splits: ['validation_matched', 'validation_mismatched'] },
  qnli: { name: 'qnli', ...pair('question', 'sentence'), labelField: 'label', problem: 'single_label_classification', labels: ['entailment', 'not_entailment'], metrics: ['accuracy'], splits: ['validation'] },
  rte: { name: 'rte', ...pair('sentence1', 'sentence2'), labelField: 'label', problem: 'single_label_classification', labels: ['entailment', 'not_entailment'], metrics: ['accuracy'], splits: ['validation'] },
  wnli: { name: 'wnli', ...pair('sentence1', 'sentence2'), labelField: 'label', problem: 'single_label_classification', labels: ['not_entailment', 'entailment'], metrics: ['accuracy'], splits: ['validation'] },
};

/** The preset `glue/<name>` names (also `glue/mnli_matched`, `glue/mnli_mismatched`, `glue/sst-2`...), or undefined. */
export function gluePreset(task: string): GluePreset | undefined {
  const m = /^glue\/(.+)$/i.exec(task.trim());
  if (!m) return undefined;
  const key = m[1]!.toLowerCase().replace(/[-_]/g, '');
  const name = (key === 'stsb' ? 'stsb' : key === 'mnlimatched' || key === 'mnlimismatched' || key === 'mnlim' || key === 'mnlimm' ? 'mnli' : key) as GlueName;
  return Object.prototype.hasOwnProperty.call(GLUE, name) ? GLUE[name] : undefined;
}

export const GLUE_NAMES = Object.keys(GLUE) as GlueName[];
