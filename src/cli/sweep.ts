// `ken sweep`: every method at several k (in memory): kept parameters, subnetwork bytes and the metric,
// and per method the smallest k within a budget.
import { parseKs, sweepAndPrune, type SweepAndPrune } from '../workflows/sweep';
import { intOption, onePositional, required, str } from './args';
import { EVAL_OPTIONS, PRUNE_OPTIONS, commonPrune, evalSpec, pruneSummary } from './prune';
import type { Command } from './command';
import { sweepTable } from '../report/text';
import { progressBar } from './progress';
import { UsageError } from '../errors';
import { METHOD_NAMES, parseMethods } from '../methods/registry';

export const sweepCommand: Command = {
  summary: 'prune and evaluate every method at several k (in memory); find the smallest k within a budget',
  usage: `ken sweep <finetuned> --base <pretrained> --data <file> -k 8,16,32,64 [--methods ${METHOD_NAMES.join(',')}] [--seeds N] [--seed N] [--calibration FILE] [--adapter DIR] [--metric accuracy|macro_f1|weighted_f1|mcc|f1|...] [--max-drop POINTS] [--out DIR] [--text-field text] [--label-field label] [--batch-size N] [--scope ..] [--kernel NAME] [--backend ..] [--device ..] [--json]`,
  options: { ...PRUNE_OPTIONS, ...EVAL_OPTIONS, data: { type: 'string', short: 'd' }, 'max-drop': { type: 'string' }, metric: { type: 'string' }, out: { type: 'string', short: 'o' }, methods: { type: 'string' }, seeds: { type: 'string' }, adapter: { type: 'string' } },
  async run({ values, positionals }, io) {
    const finetuned = onePositional(positionals, 'fine-tuned model folder');
    const ksText = required(values, 'k', 'the k values, e.g. -k 8,16,32,64');
    const ks = parseKs(ksText);
    const common = commonPrune({ ...values, k: String(ks[0]) });
    const methodsText = str(values, 'methods');
    const methods = methodsText !== undefined ? parseMethods(methodsText).map((m) => m.name) : [common.method];
    const seeds = intOption(values, 'seeds', '--seeds', 1);
    const data = required(values, 'data', 'the labelled data set: .jsonl, .csv or .tsv');
    const dropText = str(values, 'max-drop');
    const maxDrop = dropText === undefined ? undefined : Number(dropText);
    if (maxDrop !== undefined && !(Number.isFinite(maxDrop) && maxDrop >= 0)) throw new UsageError(`--max-drop must be a number >= 0 (points of the metric; got '${dropText}')`);
    const out = str(values, 'out');
    const spec = evalSpec(values, data, common.device, common.threads);
    const onWarning = (w: string): void => io.err(`warning: ${w}\n`);
    let done: SweepAndPrune;
    const bar = progressBar('sweep', 'steps', io.progress);
    try {
      done = await sweepAndPrune({
        finetuned, ...common, ks, methods, seeds, maxDrop, metric: str(values, 'metric'), adapter: str(values, 'adapter'), eval: spec, signal: io.signal, onWarning, out,
        onProgress: (p) => bar.update(p.done, p.total, `${p.phase}${p.method && methods.length > 1 ? ` ${p.method}` : ''}${p.k ? ` k=${p.k}` : ''}`),
        onPruneProgress: (p, k) => bar.update(p.rowsDone, p.rowsTotal, `pruning at k=${k}`),
      });
    } finally {
      bar.stop();
    }
    const { result, report } = done;
    if (values['json']) {
      io.out(JSON.stringify({ ...result, ...(report ? { out, report } : {}) }, null, 2) + '\n');
      return;
    }
    io.out(sweepTable(result, maxDrop));
    if (report && out) io.out(`\n${pruneSummary(report, out)}`);
  },
};
