// `ken watch`: one line per checkpoint of a fine-tuning run, as each completes.
import { setPriority, constants } from 'node:os';
import { watchRun, type WatchUpdate } from '../workflows/watch';
import { parseKernel } from '../ken/kernels';
import { choice, intOption, onePositional, pct, required, str } from './args';
import type { Command } from './command';

export function watchLine(u: WatchUpdate): string {
  const inLayers = u.layers.filter((l) => l.layer !== null);
  const drift = inLayers.length ? inLayers.reduce((s, l) => s + l.meanAbsDelta, 0) / inLayers.length : 0;
  const moved = inLayers.length ? inLayers.reduce((s, l) => s + l.fractionMoved, 0) / inLayers.length : 0;
  const parts = [
    `step ${String(u.step).padStart(6)}`,
    `kept ${pct(u.keptRatio)}`,
    `drift ${drift.toExponential(2)} (moved ${pct(moved)})`,
    `overlap ${u.meanJaccard === null ? '  -  ' : u.meanJaccard.toFixed(3)}`,
  ];
  if (u.accuracy !== undefined) parts.push(`accuracy ${pct(u.accuracy, 2)}`);
  parts.push(`(${u.seconds.toFixed(1)} s${u.skipped.length ? `, skipped ${u.skipped.join(',')}` : ''})`);
  return parts.join('  ');
}

export const watch: Command = {
  summary: 'print KEN for each checkpoint of a fine-tuning run as it completes',
  usage: 'ken watch <run-dir> --base <pretrained> -k <K> [--eval <data>] [--scope all|attention] [--kernel NAME] [--threads N] [--poll-ms MS] [--json]',
  options: {
    base: { type: 'string', short: 'b' },
    k: { type: 'string', short: 'k' },
    scope: { type: 'string' },
    kernel: { type: 'string' },
    threads: { type: 'string' },
    'poll-ms': { type: 'string' },
    eval: { type: 'string' },
    json: { type: 'boolean' },
  },
  async run({ values, positionals }, io) {
    const runDir = onePositional(positionals, 'run folder');
    const base = required(values, 'base', 'the pre-trained model');
    const k = intOption(values, 'k', '-k');
    const scope = choice(values, 'scope', ['all', 'attention'] as const, 'all');
    const kernel = parseKernel(str(values, 'kernel'));
    const threads = str(values, 'threads') === undefined ? 1 : intOption(values, 'threads', '--threads');
    const pollMs = intOption(values, 'poll-ms', '--poll-ms', 1000);
    try {
      setPriority(constants.priority.PRIORITY_LOW); // stay out of the training run's way
    } catch {
      // not permitted: normal priority
    }
    if (!values['json']) io.err(`watching ${runDir} (k=${k}${kernel === 'gaussian' ? '' : `, ${kernel} kernel`}); Ctrl-C stops\n`);
    const data = str(values, 'eval');
    const result = await watchRun(runDir, {
      base, k, scope, kernel, threads, pollMs, signal: io.signal,
      eval: data === undefined ? undefined : { data, device: 'cpu', threads: 1 },
      onLog: (level, message) => io.err(`${level === 'warn' ? 'warning: ' : ''}${message}\n`),
      onUpdate: (u) => io.out(values['json'] ? JSON.stringify(u) + '\n' : watchLine(u) + '\n'),
    });
    if (!values['json']) io.err(`stopped after ${result.updates} checkpoint${result.updates === 1 ? '' : 's'}${result.reason === 'folder-removed' ? ' (the run folder was removed)' : ''}\n`);
  },
};
