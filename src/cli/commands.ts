// The `ken` subcommands: argument checks, then one call into the core each.
import { UsageError } from '../errors';
import type { Scope } from '../ken/plan';
import { REPORT_FILE, SUBNETWORK_FILE, pruneToFolder } from '../ken/prune';
import type { BackendChoice, DeviceChoice } from '../ken/worker-protocol';
import type { KenReport } from '../report/report';
import type { Command } from './main';
import { progressBar } from './progress';
import { restore } from './restore';

type Values = Record<string, string | boolean | string[] | undefined>;

export function str(values: Values, key: string): string | undefined {
  const v = values[key];
  return typeof v === 'string' ? v : undefined;
}

export function required(values: Values, key: string, what: string): string {
  const v = str(values, key);
  if (v === undefined || v === '') throw new UsageError(`--${key} is required (${what})`);
  return v;
}

export function intOption(values: Values, key: string, flag: string, fallback?: number): number {
  const v = str(values, key);
  if (v === undefined) {
    if (fallback === undefined) throw new UsageError(`${flag} is required`);
    return fallback;
  }
  if (!/^\d+$/.test(v.trim())) throw new UsageError(`${flag} must be a whole number >= 1 (got '${v}')`);
  const n = Number(v);
  if (n < 1) throw new UsageError(`${flag} must be a whole number >= 1 (got '${v}')`);
  return n;
}

export function choice<T extends string>(values: Values, key: string, allowed: readonly T[], fallback: T): T {
  const v = str(values, key);
  if (v === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(v)) throw new UsageError(`--${key} must be one of ${allowed.join(', ')} (got '${v}')`);
  return v as T;
}

export function onePositional(positionals: string[], what: string): string {
  if (positionals.length === 0) throw new UsageError(`name the ${what}`);
  if (positionals.length > 1) throw new UsageError(`expected one ${what}, got ${positionals.length} arguments: ${positionals.join(' ')}`);
  return positionals[0]!;
}

export function formatBytes(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} GB`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} MB`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} kB`;
  return `${n} B`;
}

export const fmt = (n: number): string => n.toLocaleString('en-US');
export const pct = (x: number, digits = 1): string => `${(x * 100).toFixed(digits)}%`;

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

export function commonPrune(values: Values): CommonPrune {
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
    `backend ${report.backend} on ${report.executionProvider}${report.threads ? ` (${report.threads} threads)` : ''}, ${report.seconds.toFixed(1)} s`,
  ];
  if (report.bytes) {
    const b = report.bytes;
    lines.push(`subnetwork ${formatBytes(b.subnetwork)} = ${pct(b.subnetwork / b.checkpoint)} of the ${formatBytes(b.checkpoint)} checkpoint (saves ${formatBytes(b.checkpoint - b.subnetwork)})`);
  }
  if (report.accuracy) {
    const { before, after } = report.accuracy;
    lines.push(`accuracy ${pct(before.accuracy, 2)} -> ${pct(after.accuracy, 2)} (${((after.accuracy - before.accuracy) * 100).toFixed(2)} points) on ${fmt(after.samples)} samples`);
  }
  lines.push(`wrote ${out}/ (${SUBNETWORK_FILE}, ${REPORT_FILE})`);
  return lines.join('\n') + '\n';
}

const prune: Command = {
  summary: 'prune a fine-tuned model against its pre-trained base',
  usage: 'ken prune <finetuned> --base <pretrained> -k <K> --out <dir> [--scope all|attention] [--include REGEX] [--exclude REGEX] [--include-head] [--backend auto|ort|js] [--device auto|cuda|cpu] [--threads N] [--json]',
  options: { ...PRUNE_OPTIONS, out: { type: 'string', short: 'o' } },
  async run({ values, positionals }, io) {
    const finetuned = onePositional(positionals, 'fine-tuned model folder or file');
    const common = commonPrune(values);
    const out = required(values, 'out', 'the folder to write');
    const bar = progressBar('KEN', 'rows', io.progress);
    let report: KenReport;
    try {
      report = await pruneToFolder({
        finetuned, out, ...common, signal: io.signal,
        onProgress: (p) => bar.update(p.rowsDone, p.rowsTotal, p.tensor),
      });
    } finally {
      bar.stop();
    }
    io.out(values['json'] ? JSON.stringify(report, null, 2) + '\n' : pruneSummary(report, out));
  },
};

export const commands: Record<string, Command> = { prune, restore };
