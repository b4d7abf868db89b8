// `ken eval`: a model's figures on a data set, for its task (sequence classification, token
// classification, question answering, causal LM), on its ONNX export or the graph built from config.json.
import { DEFAULT_BATCH_SIZE } from '../eval';
import { GRAPH_CHOICES } from '../eval/session';
import { evaluateTask, type TaskEvalReport, type TaskEvalSpec } from '../eval/tasks';
import { GLUE, gluePreset, GLUE_NAMES, TAG_SCHEMES, type GluePreset, type TagScheme } from '../eval/metrics';
import { UsageError } from '../errors';
import { TASKS, type Task } from '../graph';
import { choice, fmt, intOption, onePositional, str } from './args';
import type { Command } from './command';
import { evalSummary, metricsText } from '../report/text';
import { progressBar } from './progress';

function summary(r: TaskEvalReport): string {
  const graph = `${r.graph === 'built' ? 'graph built from config.json' : 'ONNX export'}`;
  if (r.classification) return evalSummary(r.classification).replace(/ \| ([^,\n]+),/, ` | $1, ${graph},`);
  const head = `${r.task}: ${fmt(r.samples)} samples${r.problemType ? ` (${r.problemType})` : ''} | ${r.executionProvider}, ${graph}, ${r.seconds.toFixed(2)} s\n`;
  return head + (r.metrics.kind !== undefined ? metricsText(r.metrics) : 'no labels in the data: outputs only (--outputs FILE)\n');
}

export const evalCommand: Command = {
  summary: 'measure a model on a data set (JSONL, CSV, TSV, Parquet, Arrow, a datasets folder) in its task\'s metrics',
  usage: 'ken eval <model> --data <file|folder> [--split NAME] [--task auto|text-classification|token-classification|question-answering|causal-lm|glue/<name>] [--scheme IOB1|IOB2|IOE1|IOE2|IOBES] [--max-length N] [--stride N] [--null-score-diff-threshold X] [--text-field F] [--text-pair-field F] [--label-field F] [--tokens-field F] [--tags-field F] [--question-field F] [--context-field F] [--answers-field F] [--graph auto|built|export] [--outputs FILE.jsonl] [--batch-size N] [--skip-bad-lines] [--device auto|cuda|webgpu|cpu] [--threads N] [--json]',
  options: {
    data: { type: 'string', short: 'd', multiple: true },
    split: { type: 'string' },
    scheme: { type: 'string' },
    'max-length': { type: 'string' },
    stride: { type: 'string' },
    'null-score-diff-threshold': { type: 'string' },
    task: { type: 'string' },
    'text-field': { type: 'string' },
    'text-pair-field': { type: 'string' },
    'label-field': { type: 'string' },
    'tokens-field': { type: 'string' },
    'tags-field': { type: 'string' },
    'question-field': { type: 'string' },
    'context-field': { type: 'string' },
    'answers-field': { type: 'string' },
    graph: { type: 'string' },
    outputs: { type: 'string' },
    'batch-size': { type: 'string' },
    'skip-bad-lines': { type: 'boolean' },
    device: { type: 'string' },
    threads: { type: 'string' },
    json: { type: 'boolean' },
  },
  async run({ values, positionals }, io) {
    const model = onePositional(positionals, 'model folder or .onnx file');
    const datas = Array.isArray(values['data']) ? (values['data'] as string[]) : [];
    if (datas.length === 0) throw new UsageError('--data is required (the data set: .jsonl, .csv, .tsv, .parquet, .arrow, or a datasets folder)');
    const taskArg = str(values, 'task') ?? 'auto';
    const glue = taskArg.toLowerCase().startsWith('glue/') ? gluePreset(taskArg) : undefined;
    if (taskArg.toLowerCase().startsWith('glue/') && !glue) throw new UsageError(`--task ${taskArg}: no such GLUE task (${GLUE_NAMES.map((n) => `glue/${n}`).join(', ')})`);
    const task = glue ? 'text-classification' : choice({ task: taskArg }, 'task', ['auto', ...TASKS] as const, 'auto') as Task | 'auto';
    if (datas.length > 1 && !(glue && glue.splits.length === datas.length)) {
      throw new UsageError(glue?.splits.length === 2 || datas.length === 2 ? `--data is given ${datas.length} times; only --task glue/mnli takes two files (${GLUE.mnli.splits.join(', ')})` : '--data is given more than once');
    }
    const scheme = str(values, 'scheme');
    if (scheme !== undefined && !(TAG_SCHEMES as readonly string[]).includes(scheme.toUpperCase())) throw new UsageError(`--scheme must be one of ${TAG_SCHEMES.join(', ')} (got ${scheme})`);
    const threshold = str(values, 'null-score-diff-threshold');
    if (threshold !== undefined && !Number.isFinite(Number(threshold))) throw new UsageError(`--null-score-diff-threshold must be a number (got ${threshold})`);
    const spec = (data: string): TaskEvalSpec => ({
      data, task,
      fields: {
        text: str(values, 'text-field') ?? glue?.textField, textPair: str(values, 'text-pair-field') ?? glue?.textPairField, label: str(values, 'label-field') ?? glue?.labelField,
        tokens: str(values, 'tokens-field'), tags: str(values, 'tags-field'),
        question: str(values, 'question-field'), context: str(values, 'context-field'), answers: str(values, 'answers-field'),
      },
      graph: choice(values, 'graph', GRAPH_CHOICES, 'auto'),
      batchSize: intOption(values, 'batch-size', '--batch-size', DEFAULT_BATCH_SIZE),
      device: choice(values, 'device', ['auto', 'cuda', 'webgpu', 'cpu'] as const, 'auto'),
      threads: str(values, 'threads') === undefined ? undefined : intOption(values, 'threads', '--threads'),
      skipBadLines: values['skip-bad-lines'] === true,
      outputs: str(values, 'outputs'),
      split: str(values, 'split'),
      scheme: scheme === undefined ? undefined : (scheme.toUpperCase() as TagScheme),
      maxLength: str(values, 'max-length') === undefined ? undefined : intOption(values, 'max-length', '--max-length'),
      stride: strideOption(str(values, 'stride')),
      nullScoreDiffThreshold: threshold === undefined ? undefined : Number(threshold),
      signal: io.signal,
    });
    const reports: TaskEvalReport[] = [];
    for (const [i, data] of datas.entries()) {
      const bar = progressBar('eval', 'samples', io.progress);
      try {
        reports.push(await evaluateTask(model, { ...spec(data), ...(i > 0 && spec(data).outputs ? { outputs: undefined } : {}), onProgress: (p) => bar.update(p.done, p.total) }));
      } finally {
        bar.stop();
      }
    }
    const r = reports[0]!;
    if (glue) checkGlue(glue, r);
    const json = (x: TaskEvalReport): Record<string, unknown> => {
      const { task: t, samples, graph, executionProvider, metrics, ...rest } = x;
      delete rest.classification;
      return { task: t, ...(glue ? { glue: glue.name, glueMetrics: glue.metrics } : {}), samples, graph, executionProvider, metrics, ...rest };
    };
    if (values['json']) {
      const out = json(r);
      // MNLI: matched first, as `metrics`; the mismatched file's figures beside it
      if (reports.length > 1) out[glue!.splits[1]!] = json(reports[1]!);
      io.out(JSON.stringify(out, null, 2) + '\n');
      return;
    }
    reports.forEach((x, i) => {
      if (reports.length > 1) io.out(`${glue!.splits[i]} (${x.data})\n`);
      if (x.skipped) io.err(`skipped ${x.skipped} bad lines\n`);
      if (x.note) io.err(`${x.note}\n`);
      const cut = x.truncated ? `\n${fmt(x.truncated)} of ${fmt(x.samples)} samples ${x.task === 'question-answering' || x.task === 'causal-lm' ? `took several windows of ${x.maxLength} tokens (stride ${x.stride})` : `were cut to ${x.maxLength} tokens`}\n` : '';
      const headline = glue && x.metrics.kind !== undefined ? `GLUE ${glue.name}: ${glue.metrics.map((m) => `${m} ${((x.metrics as Record<string, unknown>)[m] as number | undefined)?.toFixed(4) ?? 'n/a'}`).join(', ')}\n` : '';
      io.out(headline + summary(x) + cut);
    });
  },
};

/** --stride: a whole number, 0 allowed (question answering's windows without overlap). */
function strideOption(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v.trim())) throw new UsageError(`--stride must be a whole number >= 0 (got '${v}')`);
  return Number(v);
}

/** A GLUE preset's model must be of the task's kind (classes, or one regression output). */
function checkGlue(glue: GluePreset, r: TaskEvalReport): void {
  const kind = r.metrics.kind;
  const want = glue.problem === 'regression' ? 'regression' : 'single_label';
  if (kind !== undefined && kind !== want) {
    throw new UsageError(`--task glue/${glue.name} scores ${glue.problem === 'regression' ? 'a regression (one output)' : 'single-label classes'}, but ${r.model} is ${r.problemType ?? kind}`);
  }
}
