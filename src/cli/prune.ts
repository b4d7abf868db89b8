// `ken prune`, and the prune/eval options that sweep shares.
import type { Scope } from '../ken/plan';
import { metricsText } from '../report/text';
import { REPORT_FILE, SUBNETWORK_FILE, pruneToFolder } from '../ken/prune';
import type { BackendChoice, DeviceChoice } from '../ken/worker-protocol';
import type { KenReport } from '../report/report';
import type { Command } from './main';
import { choice, formatBytes, fmt, intOption, onePositional, pct, required, str } from './args';
import { progressBar } from './progress';
import { DEFAULT_BATCH_SIZE } from '../eval/evaluate';
import type { EvalSpec } from '../eval/bench';
import { GRAPH_CHOICES } from '../eval/model';

export const PRUNE_OPTIONS = {
  base: { type: 'string', short: 'b' },
  k: { type: 'string', short: 'k' },
  scope: { type: 'string' },
  include: { type: 'string' },
  exclude: { type: 'string' },
  'include-head': { type: 'boolean' },
  backend: { type: 'string' },
  device: { type: 'string' },
  threads: { type: 'string' },
  json: { type: 'boolean' },
} as const;

export const EVAL_OPTIONS = {
  'text-field': { type: 'string' },
  'text-pair-field': { type: 'string' },
  'label-field': { type: 'string' },
  'batch-size': { type: 'string' },
  'skip-bad-lines': { type: 'boolean' },
  graph: { type: 'string' },
} as const;

/** The evaluation options of prune/sweep, for the data set at `data`. */
export function evalSpec(values: Record<string, string | boolean | string[] | undefined>, data: string, device: DeviceChoice, threads: number | undefined): EvalSpec {
  return {
    data,
    textField: str(values, 'text-field'),
    textPairField: str(values, 'text-pair-field'),
    labelField: str(values, 'label-field'),
    batchSize: intOption(values, 'batch-size', '--batch-size', DEFAULT_BATCH_SIZE),
    skipBadLines: values['skip-bad-lines'] === true,
    device,
    threads,
    graph: choice(values, 'graph', GRAPH_CHOICES, 'auto'),
  };
}

export interface CommonPrune {
  base: string;
  k: number;
  scope: Scope;
  include: string | undefined;
  exclude: string | undefined;
  includeHead: boolean;
  backend: BackendChoice;
  device: DeviceChoice;
  threads: number | undefined;
}

export function commonPrune(values: Record<string, string | boolean | string[] | undefined>): CommonPrune {
  return {
    base: required(values, 'base', 'the pre-trained model folder or file'),
    k: intOption(values, 'k', '-k'),
    scope: choice(values, 'scope', ['all', 'attention'] as const, 'all'),
    include: str(values, 'include'),
    exclude: str(values, 'exclude'),
    includeHead: values['include-head'] === true,
    backend: choice(values, 'backend', ['auto', 'js', 'ort'] as const, 'auto'),
    device: choice(values, 'device', ['auto', 'cuda', 'cpu'] as const, 'auto'),
    threads: str(values, 'threads') === undefined ? undefined : intOption(values, 'threads', '--threads'),
  };
}

export function pruneSummary(report: KenReport, out: string): string {
  const counts = new Map<string, number>();
  for (const t of report.tensors) counts.set(t.status, (counts.get(t.status) ?? 0) + 1);
  const whole = [...counts.entries()].filter(([s]) => s !== 'pruned').map(([s, c]) => `${c} ${s}`);
  const lines = [
    `KEN k=${report.k}: pruned ${counts.get('pruned') ?? 0} of ${report.tensors.length} tensors${whole.length ? ` (kept whole: ${whole.join(', ')})` : ''}`,
    `kept ${fmt(report.keptParams)} of ${fmt(report.totalParams)} parameters (${pct(report.keptRatio)})`,
    `backend ${report.backend}${report.densityEngine ? ` (${report.densityEngine === 'wasm' ? 'WebAssembly SIMD' : 'TypeScript'} densities)` : ''} on ${report.executionProvider}${report.threads ? ` (${report.threads} threads)` : ''}, ${report.seconds.toFixed(1)} s`,
  ];
  if (report.bytes) {
    const b = report.bytes;
    lines.push(`subnetwork ${formatBytes(b.subnetwork)} = ${pct(b.subnetwork / b.checkpoint)} of the ${formatBytes(b.checkpoint)} checkpoint (saves ${formatBytes(b.checkpoint - b.subnetwork)})`);
  }
  if (report.accuracy && report.accuracy.after.metrics && report.accuracy.after.metrics.kind !== 'single_label') {
    const { before, after } = report.accuracy;
    lines.push(`before KEN: ${before.metrics ? metricsText(before.metrics).split('\n')[0] : 'n/a'}`, `after KEN:  ${metricsText(after.metrics!).split('\n')[0]} (${fmt(after.samples)} samples, ${after.executionProvider})`);
  } else if (report.accuracy) {
    const { before, after } = report.accuracy;
    lines.push(`accuracy ${pct(before.accuracy, 2)} -> ${pct(after.accuracy, 2)} (${((after.accuracy - before.accuracy) * 100).toFixed(2)} points) on ${fmt(after.samples)} samples (${after.executionProvider}, ${(before.seconds + after.seconds).toFixed(1)} s)`);
    if (before.metrics?.kind === 'single_label' && after.metrics?.kind === 'single_label') {
      lines.push(`weighted F1 ${pct(before.metrics.weighted_f1, 2)} -> ${pct(after.metrics.weighted_f1, 2)}, MCC ${before.metrics.mcc.toFixed(4)} -> ${after.metrics.mcc.toFixed(4)}`);
    }
  }
  lines.push(`wrote ${out}/ (${SUBNETWORK_FILE}, ${REPORT_FILE})`);
  return lines.join('\n') + '\n';
}

export const prune: Command = {
  summary: 'prune a fine-tuned model against its pre-trained base',
  usage: 'ken prune <finetuned> --base <pretrained> -k <K> --out <dir> [--eval <data> [--text-field text] [--text-pair-field NAME] [--label-field label] [--batch-size N] [--skip-bad-lines] [--graph auto|built|export]] [--scope all|attention] [--include REGEX] [--exclude REGEX] [--include-head] [--backend auto|ort|js] [--device auto|cuda|cpu] [--threads N] [--json]',
  options: { ...PRUNE_OPTIONS, ...EVAL_OPTIONS, out: { type: 'string', short: 'o' }, eval: { type: 'string' } },
  async run({ values, positionals }, io) {
    const finetuned = onePositional(positionals, 'fine-tuned model folder or file');
    const common = commonPrune(values);
    const out = required(values, 'out', 'the folder to write');
    const data = str(values, 'eval');
    const bar = progressBar('KEN', 'rows', io.progress);
    const evalBar = progressBar('eval', 'samples', io.progress);
    let report: KenReport;
    try {
      report = await pruneToFolder({
        finetuned, out, ...common, signal: io.signal,
        eval: data === undefined ? undefined : evalSpec(values, data, common.device, common.threads),
        onProgress: (p) => bar.update(p.rowsDone, p.rowsTotal, p.tensor),
        onEvalProgress: (phase, done, total) => evalBar.update(done, total, phase === 'before' ? 'fine-tuned' : 'pruned'),
      });
    } finally {
      bar.stop();
      evalBar.stop();
    }
    io.out(values['json'] ? JSON.stringify(report, null, 2) + '\n' : pruneSummary(report, out));
  },
};

