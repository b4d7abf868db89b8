// `ken prune`, and the prune/eval options that sweep shares.
import { parseKernel, type Kernel } from '../ken/kernels';
import type { Scope } from '../ken/plan';
import { metricsText } from '../report/text';
import { pruneToFolder } from '../workflows/prune';
import { SUBNETWORK_FILE } from '../formats/subnetwork';
import { REPORT_FILE } from '../shared/report';
import type { BackendChoice } from '../ken/worker-protocol';
import type { DeviceChoice } from '../runtime/session';
import type { KenReport } from '../shared/report';
import { providerLabel } from '../runtime/webgpu';
import type { Command } from './command';
import { choice, formatBytes, fmt, intOption, onePositional, pct, required, str } from './args';
import { progressBar } from './progress';
import { DEFAULT_BATCH_SIZE } from '../eval/evaluate';
import type { EvalSpec } from '../eval/bench';
import { GRAPH_CHOICES } from '../eval/session';
import { methodNamed, parseMethods, parseSeed, METHOD_NAMES } from '../methods/registry';
import { DEFAULT_CALIBRATION_LINES, type CalibrationSpec } from '../methods/calibration';
import { UsageError } from '../errors';
import { COMPARE_METHODS, comparisonLine, sweepAndPrune, type SweepAndPrune } from '../workflows/sweep';
import { metricShow } from '../report/text';

export const PRUNE_OPTIONS = {
  base: { type: 'string', short: 'b' },
  k: { type: 'string', short: 'k' },
  scope: { type: 'string' },
  include: { type: 'string' },
  exclude: { type: 'string' },
  'include-head': { type: 'boolean' },
  backend: { type: 'string' },
  kernel: { type: 'string' },
  device: { type: 'string' },
  threads: { type: 'string' },
  json: { type: 'boolean' },
  method: { type: 'string' },
  seed: { type: 'string' },
  calibration: { type: 'string' },
  'calibration-lines': { type: 'string' },
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
  kernel: Kernel;
  device: DeviceChoice;
  threads: number | undefined;
  /** The pruning method (default ken), random/dare's seed, Wanda's calibration lines. */
  method: string;
  seed: number;
  calibration: CalibrationSpec | undefined;
}

export function commonPrune(values: Record<string, string | boolean | string[] | undefined>): CommonPrune {
  const common: CommonPrune = {
    base: required(values, 'base', 'the pre-trained model folder or file'),
    k: intOption(values, 'k', '-k'),
    scope: choice(values, 'scope', ['all', 'attention'] as const, 'all'),
    include: str(values, 'include'),
    exclude: str(values, 'exclude'),
    includeHead: values['include-head'] === true,
    backend: choice(values, 'backend', ['auto', 'js', 'ort'] as const, 'auto'),
    kernel: parseKernel(str(values, 'kernel')),
    device: choice(values, 'device', ['auto', 'cuda', 'webgpu', 'cpu'] as const, 'auto'),
    threads: str(values, 'threads') === undefined ? undefined : intOption(values, 'threads', '--threads'),
    method: methodNamed(str(values, 'method') ?? 'ken').name,
    seed: parseSeed(str(values, 'seed')),
    calibration: calibrationSpec(values),
  };
  // Wanda's calibration lines run where the evaluation would: the device asked for
  if (common.calibration) common.calibration.device = common.device;
  return common;
}

/** Wanda's calibration lines: `--calibration FILE [--calibration-lines N]`, read with the eval field options. */
function calibrationSpec(values: Record<string, string | boolean | string[] | undefined>): CalibrationSpec | undefined {
  const data = str(values, 'calibration');
  const lines = intOption(values, 'calibration-lines', '--calibration-lines', DEFAULT_CALIBRATION_LINES);
  if (data === undefined) return undefined;
  if (data === '') throw new UsageError('--calibration needs a file of lines of the task\'s data');
  return {
    data, lines, textField: str(values, 'text-field'), textPairField: str(values, 'text-pair-field'), labelField: str(values, 'label-field'),
    batchSize: intOption(values, 'batch-size', '--batch-size', DEFAULT_BATCH_SIZE),
    threads: str(values, 'threads') === undefined ? undefined : intOption(values, 'threads', '--threads'),
  };
}

/** The first line of a prune's summary: the method, k and what it pruned. */
export function methodLabel(report: Pick<KenReport, 'method' | 'kernel' | 'seed' | 'k'>): string {
  const m = report.method ?? 'ken';
  if (m === 'ken') return `KEN k=${report.k}${report.kernel && report.kernel !== 'gaussian' ? ` (${report.kernel} kernel)` : ''}`;
  return `${m} k=${report.k}${report.seed !== undefined ? ` (seed ${report.seed})` : ''}`;
}

export function pruneSummary(report: KenReport, out: string): string {
  const counts = new Map<string, number>();
  for (const t of report.tensors) counts.set(t.status, (counts.get(t.status) ?? 0) + 1);
  const whole = [...counts.entries()].filter(([s]) => s !== 'pruned').map(([s, c]) => `${c} ${s}`);
  const lines = [
    `${methodLabel(report)}: pruned ${counts.get('pruned') ?? 0} of ${report.tensors.length} tensors${whole.length ? ` (kept whole: ${whole.join(', ')})` : ''}`,
    `kept ${fmt(report.keptParams)} of ${fmt(report.totalParams)} parameters (${pct(report.keptRatio)})`,
    (report.method ?? 'ken') !== 'ken' ? `selection on cpu (main thread), ${report.seconds.toFixed(1)} s` : `backend ${report.backend}${report.densityEngine ? ` (${report.densityEngine === 'wasm' ? 'WebAssembly SIMD' : 'TypeScript'} densities)` : ''} on ${providerLabel(report.executionProvider, report.adapter)}${report.threads ? ` (${report.threads} threads)` : ''}, ${report.seconds.toFixed(1)} s`,
  ];
  if (report.rescaled) lines.push('DARE: the kept changes were rescaled by n/k (kept values are base + (fine-tuned - base) * n/k)');
  if (report.calibration) lines.push(`activations of ${fmt(report.calibration.lines)} calibration lines of ${report.calibration.data}`);
  if (report.fallback) lines.push(`${report.fallback.tensors.length} tensors with no measured input activation (embeddings, norms, biases) scored by ${report.fallback.method}`);
  if (report.bytes) {
    const b = report.bytes;
    const saved = b.checkpoint - b.subnetwork;
    const share = b.checkpoint > 0 ? `${pct(b.subnetwork / b.checkpoint)} of the ${formatBytes(b.checkpoint)} checkpoint` : 'of an empty checkpoint';
    lines.push(`subnetwork ${formatBytes(b.subnetwork)} = ${share} (${saved > 0 ? `saves ${formatBytes(saved)}` : `no saving: ${formatBytes(-saved)} larger, as it also holds the files' other bytes`})`);
  }
  if (report.lora && report.bytes) {
    const l = report.lora;
    const untouched = report.tensors.filter((t) => t.status === 'pruned' && t.kept === 0).length;
    lines.push(`LoRA merged (r=${l.r}, alpha=${l.alpha}${l.rslora ? ', rsLoRA' : ''}, modules ${l.modules.join(', ')}); ${untouched} tensors untouched by the adapter are the base's; subnetwork ${formatBytes(report.bytes.subnetwork)} vs the adapter's ${formatBytes(l.adapterBytes)} (${(report.bytes.subnetwork / l.adapterBytes).toFixed(1)}x)`);
  }
  const tied = report.tensors.filter((t) => (t.stored?.filter((s) => s.format === 'safetensors').length ?? 0) > 1);
  if (tied.length > 0) lines.push(`tied: ${tied.map((t) => `${t.name} = ${t.stored!.filter((s) => s.format === 'safetensors').slice(1).map((s) => s.name).join(' = ')}`).join('; ')} (pruned once, written identically)`);
  if (report.problemType) lines.push(`problem_type ${report.problemType}`);
  for (const n of report.notes ?? []) lines.push(`note: ${n}`);
  if (report.accuracy && report.accuracy.after.metrics && report.accuracy.after.metrics.kind !== 'single_label') {
    const { before, after } = report.accuracy;
    lines.push(`before: ${before.metrics ? metricsText(before.metrics).split('\n')[0] : 'n/a'}`, `after:  ${metricsText(after.metrics!).split('\n')[0]} (${fmt(after.samples)} samples, ${providerLabel(after.executionProvider, after.adapter)})`);
  } else if (report.accuracy) {
    const { before, after } = report.accuracy;
    lines.push(`accuracy ${pct(before.accuracy, 2)} -> ${pct(after.accuracy, 2)} (${((after.accuracy - before.accuracy) * 100).toFixed(2)} points) on ${fmt(after.samples)} samples (${providerLabel(after.executionProvider, after.adapter)}, ${(before.seconds + after.seconds).toFixed(1)} s)`);
    if (before.metrics?.kind === 'single_label' && after.metrics?.kind === 'single_label') {
      lines.push(`weighted F1 ${pct(before.metrics.weighted_f1, 2)} -> ${pct(after.metrics.weighted_f1, 2)}, MCC ${before.metrics.mcc.toFixed(4)} -> ${after.metrics.mcc.toFixed(4)}`);
    }
  }
  lines.push(`wrote ${out}/ (${SUBNETWORK_FILE}, ${REPORT_FILE})`);
  return lines.join('\n') + '\n';
}

export const prune: Command = {
  summary: 'prune a fine-tuned model against its pre-trained base',
  usage: `ken prune <finetuned> --base <pretrained> -k <K> --out <dir> [--eval <data> [--text-field text] [--text-pair-field NAME] [--label-field label] [--batch-size N] [--skip-bad-lines] [--graph auto|built|export] [--compare [--methods a,b,..] [--seeds N]]] [--method ${METHOD_NAMES.join('|')}] [--seed N] [--calibration FILE [--calibration-lines N]] [--scope all|attention] [--include REGEX] [--exclude REGEX] [--include-head] [--kernel gaussian|tophat|epanechnikov|exponential|linear|cosine] [--backend auto|ort|js] [--device auto|cuda|webgpu|cpu] [--threads N] [--json]`,
  options: { ...PRUNE_OPTIONS, ...EVAL_OPTIONS, out: { type: 'string', short: 'o' }, eval: { type: 'string' }, compare: { type: 'boolean' }, methods: { type: 'string' }, seeds: { type: 'string' } },
  async run({ values, positionals }, io) {
    const finetuned = onePositional(positionals, 'fine-tuned model folder or file');
    const common = commonPrune(values);
    const out = required(values, 'out', 'the folder to write');
    const data = str(values, 'eval');
    if (values['compare']) {
      if (data === undefined) throw new UsageError('--compare needs --eval <data> (the methods are compared on it)');
      await pruneCompared(finetuned, out, common, evalSpec(values, data, common.device, common.threads), str(values, 'methods'), intOption(values, 'seeds', '--seeds', 3), values['json'] === true, io);
      return;
    }
    const bar = progressBar('KEN', 'rows', io.progress);
    const evalBar = progressBar('eval', 'samples', io.progress);
    let report: KenReport;
    try {
      report = await pruneToFolder({
        finetuned, out, ...common, signal: io.signal,
        onWarning: (w) => io.err(`warning: ${w}\n`),
        eval: data === undefined ? undefined : evalSpec(values, data, common.device, common.threads),
        onProgress: (p) => bar.update(p.rowsDone, p.rowsTotal, p.tensor),
        onBackend: (_b, _p, note) => {
          if (note) io.err(`${note}\n`);
        },
        onEvalProgress: (phase, done, total) => evalBar.update(done, total, phase === 'before' ? 'fine-tuned' : 'pruned'),
      });
    } finally {
      bar.stop();
      evalBar.stop();
    }
    io.out(values['json'] ? JSON.stringify(report, null, 2) + '\n' : pruneSummary(report, out));
  },
};


/**
 * `ken prune --eval --compare`: the other methods at the same k, evaluated in memory on the same data (random and
 * dare over `seeds` seeds), then the chosen method pruned into `out`; its report keeps the comparison.
 */
async function pruneCompared(finetuned: string, out: string, common: CommonPrune, spec: EvalSpec, methodsText: string | undefined, seeds: number, json: boolean, io: Parameters<Command['run']>[1]): Promise<void> {
  const others = methodsText !== undefined ? parseMethods(methodsText).map((m) => m.name) : COMPARE_METHODS.filter((m) => m !== 'wanda' || common.calibration);
  const methods = [...new Set([common.method, ...others])];
  const bar = progressBar('compare', 'steps', io.progress);
  let done: SweepAndPrune;
  try {
    done = await sweepAndPrune({
      finetuned, ...common, ks: [common.k], methods, seeds, eval: spec, signal: io.signal, out,
      choice: { method: common.method, k: common.k, seed: common.seed },
      onWarning: (w) => io.err(`warning: ${w}\n`),
      onProgress: (p) => bar.update(p.done, p.total, `${p.phase}${p.method ? ` ${p.method}` : ''}`),
      onPruneProgress: (p) => bar.update(p.rowsDone, p.rowsTotal, `pruning ${common.method}`),
    });
  } finally {
    bar.stop();
  }
  const { result, report } = done;
  if (json) {
    io.out(JSON.stringify(report, null, 2) + '\n');
    return;
  }
  const show = metricShow(result.metric);
  io.out(pruneSummary(report!, out) + comparisonLine(result, common.k, show, show(1).endsWith('%') ? 100 : 1) + '\n');
}
