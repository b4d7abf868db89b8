// `ken sweep`: kept ratio and accuracy at several k, and the smallest k within an accuracy budget.
import { pruneToFolder } from '../ken/prune';
import { parseKs, sweep, type SweepResult } from '../ken/sweep';
import type { KenReport } from '../report/report';
import { onePositional, required, str } from './args';
import { EVAL_OPTIONS, PRUNE_OPTIONS, commonPrune, evalSpec, pruneSummary } from './prune';
import type { Command } from './main';
import { sweepTable } from '../report/text';
import { progressBar } from './progress';
import { UsageError } from '../errors';
import { OutputReservation } from '../formats/output';

export const sweepCommand: Command = {
  summary: 'prune and evaluate at several k (in memory); find the smallest k within an accuracy budget',
  usage: 'ken sweep <finetuned> --base <pretrained> --data <file> -k 8,16,32,64 [--metric accuracy|macro_f1|weighted_f1|mcc|f1] [--max-drop POINTS] [--out DIR] [--text-field text] [--label-field label] [--batch-size N] [--scope ..] [--kernel NAME] [--backend ..] [--device ..] [--json]',
  options: { ...PRUNE_OPTIONS, ...EVAL_OPTIONS, data: { type: 'string', short: 'd' }, 'max-drop': { type: 'string' }, metric: { type: 'string' }, out: { type: 'string', short: 'o' } },
  async run({ values, positionals }, io) {
    const finetuned = onePositional(positionals, 'fine-tuned model folder');
    const ksText = required(values, 'k', 'the k values, e.g. -k 8,16,32,64');
    const ks = parseKs(ksText);
    const common = commonPrune({ ...values, k: String(ks[0]) });
    const data = required(values, 'data', 'the labelled data set: .jsonl, .csv or .tsv');
    const dropText = str(values, 'max-drop');
    const maxDrop = dropText === undefined ? undefined : Number(dropText);
    if (maxDrop !== undefined && !(Number.isFinite(maxDrop) && maxDrop >= 0)) throw new UsageError(`--max-drop must be a number >= 0 (points of the metric; got '${dropText}')`);
    const out = str(values, 'out');
    const spec = evalSpec(values, data, common.device, common.threads);
    const onWarning = (w: string): void => io.err(`warning: ${w}\n`);
    // the output name is taken before the sweep: a clash is told at once, not after all the work
    const reservation = out === undefined ? undefined : await OutputReservation.take(out, { inputs: [finetuned, common.base], onNotice: onWarning });
    let result: SweepResult;
    let report: KenReport | undefined;
    try {
      const bar = progressBar('sweep', 'steps', io.progress);
      try {
        result = await sweep({
          finetuned, ...common, ks, maxDrop, metric: str(values, 'metric'), eval: spec, signal: io.signal, onWarning,
          onProgress: (p) => bar.update(p.done, p.total, `${p.phase}${p.k ? ` k=${p.k}` : ''}`),
        });
      } finally {
        bar.stop();
      }
      if (out !== undefined) {
        const k = result.recommended ?? ks[ks.length - 1]!;
        report = await pruneToFolder({
          finetuned, out, ...common, k, signal: io.signal, eval: spec, evalBefore: result.before, reservation,
          sweep: { finetunedAccuracy: result.finetunedAccuracy, points: result.points, metric: result.metric, finetunedValue: result.finetunedValue },
        });
      }
    } finally {
      await reservation?.release();
    }
    if (values['json']) {
      io.out(JSON.stringify({ ...result, ...(report ? { out, report } : {}) }, null, 2) + '\n');
      return;
    }
    io.out(sweepTable(result, maxDrop));
    if (report && out) io.out(`\n${pruneSummary(report, out)}`);
  },
};
