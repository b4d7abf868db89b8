// `ken viz <model> --base <base>`: KEN_viz for any pair of checkpoints (kept = where the model differs
// from the base); no pruning runs. --html writes the views as one offline HTML file, --out keeps the
// comparison as a KEN output folder (what the panel opens).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { compareToFolder, unpairedLines } from '../workflows/compare';
import { writeHtmlReport } from '../report/html';
import type { KenReport } from '../shared/report';
import { fmt, formatBytes, onePositional, pct, required, str } from './args';
import type { Command } from './command';
import { progressBar } from './progress';
import { trackTemporary } from '../formats/output';

export function compareSummary(report: KenReport): string {
  const differs = report.tensors.filter((t) => t.status === 'pruned' || t.status === 'kept-all');
  const lines = [
    `${report.compare?.model ?? report.finetuned} against ${report.compare?.base ?? report.base}: ${fmt(report.keptParams)} of ${fmt(report.totalParams)} parameters differ from the base or have none (${pct(report.keptRatio)})`,
    `${differs.length} tensors compared, ${report.tensors.filter((t) => t.status === 'kept-all').length} differ everywhere`,
  ];
  const unpaired = unpairedLines(report.compare?.unpaired ?? []);
  if (unpaired.length > 0) lines.push(`could not pair ${unpaired.length}: ${unpaired.slice(0, 8).join('; ')}${unpaired.length > 8 ? `; … (${unpaired.length - 8} more in ken-report.json)` : ''}`);
  return lines.join('\n') + '\n';
}

export const vizCommand: Command = {
  summary: 'KEN_viz for any pair: kept = where <model> differs from --base (no pruning runs)',
  usage: 'ken viz <model> --base <base> [--html FILE] [--out DIR] [--theme dark|light] [--overwrite] [--json]',
  options: {
    base: { type: 'string', short: 'b' }, html: { type: 'string' }, out: { type: 'string', short: 'o' },
    theme: { type: 'string' }, overwrite: { type: 'boolean' }, json: { type: 'boolean' },
  },
  async run({ values, positionals }, io) {
    const model = onePositional(positionals, 'model folder or file');
    const base = required(values, 'base', 'the model to compare with (the pre-trained one)');
    const html = str(values, 'html');
    const keep = str(values, 'out');
    const scratch = keep === undefined ? await mkdtemp(join(tmpdir(), 'ken-viz-')) : undefined;
    const untrack = scratch ? trackTemporary(scratch) : undefined; // removed by a forced stop too
    const out = keep ?? join(scratch!, basename(model.replace(/[\\/]+$/, '')) || 'model');
    const bar = progressBar('compare', 'tensors', io.progress);
    try {
      const report = await compareToFolder({ model, base, out, signal: io.signal, onProgress: (d, t, n) => bar.update(d, t, n) });
      bar.stop();
      io.out(values['json'] ? JSON.stringify(report, null, 2) + '\n' : compareSummary(report));
      if (html !== undefined) {
        const theme = str(values, 'theme') === 'light' ? 'light' : 'dark';
        const r = await writeHtmlReport(out, html, {
          theme, overwrite: values['overwrite'] === true, signal: io.signal, title: `${basename(model)} vs ${basename(base)}`,
        });
        if (!values['json']) io.out(`HTML report: ${r.path} (${formatBytes(r.bytes)}, ${r.tensors} tensors; opens offline in any browser)\n`);
      }
      if (keep !== undefined && !values['json']) io.out(`wrote ${keep}/ (open it with KEN: Open Visualization, or ken report ${keep} --html FILE)\n`);
    } finally {
      bar.stop();
      if (scratch) await rm(scratch, { recursive: true, force: true });
      untrack?.();
    }
  },
};
