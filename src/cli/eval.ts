// `ken eval`: a model's figures on a data set, for its task (sequence classification, token
// classification, question answering, causal LM), on its ONNX export or the graph built from config.json.
import { DEFAULT_BATCH_SIZE } from '../eval';
import { GRAPH_CHOICES } from '../eval/model';
import { evaluateTask, type TaskEvalReport } from '../eval/tasks';
import { TASKS, type Task } from '../graph';
import { choice, fmt, intOption, onePositional, required, str } from './args';
import type { Command } from './main';
import { evalSummary } from '../report/text';
import { progressBar } from './progress';

function summary(r: TaskEvalReport): string {
  const graph = `${r.graph === 'built' ? 'graph built from config.json' : 'ONNX export'}`;
  if (r.classification) return evalSummary(r.classification).replace(/ \| ([^,\n]+),/, ` | $1, ${graph},`);
  const m = r.metrics;
  const figures = Object.entries(m).filter(([, v]) => typeof v === 'number').map(([k, v]) => `${k} ${Number.isInteger(v) ? fmt(v as number) : (v as number).toFixed(4)}`);
  return `${r.task}: ${fmt(r.samples)} samples${figures.length ? `, ${figures.join(', ')}` : ''}${r.problemType ? ` (${r.problemType})` : ''} | ${r.executionProvider}, ${graph}, ${r.seconds.toFixed(2)} s\n`;
}

export const evalCommand: Command = {
  summary: 'measure a model on a data set (JSONL, CSV, TSV) for its task: classification, tokens, QA, causal LM',
  usage: 'ken eval <model> --data <file> [--task auto|text-classification|token-classification|question-answering|causal-lm] [--text-field F] [--text-pair-field F] [--label-field F] [--tokens-field F] [--tags-field F] [--question-field F] [--context-field F] [--answers-field F] [--graph auto|built|export] [--outputs FILE.jsonl] [--batch-size N] [--skip-bad-lines] [--device auto|cuda|cpu] [--threads N] [--json]',
  options: {
    data: { type: 'string', short: 'd' },
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
    const data = required(values, 'data', 'the data set: .jsonl, .csv or .tsv');
    const task = choice(values, 'task', ['auto', ...TASKS] as const, 'auto') as Task | 'auto';
    const bar = progressBar('eval', 'samples', io.progress);
    let r: TaskEvalReport;
    try {
      r = await evaluateTask(model, {
        data, task,
        fields: {
          text: str(values, 'text-field'), textPair: str(values, 'text-pair-field'), label: str(values, 'label-field'),
          tokens: str(values, 'tokens-field'), tags: str(values, 'tags-field'),
          question: str(values, 'question-field'), context: str(values, 'context-field'), answers: str(values, 'answers-field'),
        },
        graph: choice(values, 'graph', GRAPH_CHOICES, 'auto'),
        batchSize: intOption(values, 'batch-size', '--batch-size', DEFAULT_BATCH_SIZE),
        device: choice(values, 'device', ['auto', 'cuda', 'cpu'] as const, 'auto'),
        threads: str(values, 'threads') === undefined ? undefined : intOption(values, 'threads', '--threads'),
        skipBadLines: values['skip-bad-lines'] === true,
        outputs: str(values, 'outputs'),
        signal: io.signal,
        onProgress: (p) => bar.update(p.done, p.total),
      });
    } finally {
      bar.stop();
    }
    if (values['json']) {
      const { task: t, samples, graph, executionProvider, metrics, ...rest } = r;
      delete rest.classification;
      io.out(JSON.stringify({ task: t, samples, graph, executionProvider, metrics, ...rest }, null, 2) + '\n');
      return;
    }
    if (r.skipped) io.err(`skipped ${r.skipped} bad lines\n`);
    const cut = r.truncated ? `\n${fmt(r.truncated)} of ${fmt(r.samples)} samples were cut to the model's ${r.maxLength} tokens\n` : '';
    io.out(summary(r) + cut);
  },
};
