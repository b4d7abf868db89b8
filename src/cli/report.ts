// `ken report`: the summary of an existing KEN output folder, and its self-contained HTML report.
import { writeHtmlReport } from '../report/html';
import { readReport } from '../report/viz-data';
import { formatBytes, onePositional, str } from './args';
import type { Command } from './command';
import { progressBar } from './progress';
import { pruneSummary } from './prune';

export const reportCommand: Command = {
  summary: 'summarize a KEN output folder; --html writes the KEN_viz views as one offline HTML file',
  usage: 'ken report <ken-output-dir> [--html <file>] [--theme dark|light] [--overwrite] [--json]',
  options: { html: { type: 'string' }, theme: { type: 'string' }, overwrite: { type: 'boolean' }, json: { type: 'boolean' } },
  async run({ values, positionals }, io) {
    const folder = onePositional(positionals, 'KEN output folder (holding ken-report.json)');
    const report = await readReport(folder);
    const html = str(values, 'html');
    if (values['json']) io.out(JSON.stringify(report, null, 2) + '\n');
    else io.out(pruneSummary(report, folder));
    if (html !== undefined) {
      const bar = progressBar('html', 'tensors', io.progress);
      try {
        const theme = str(values, 'theme') === 'light' ? 'light' : 'dark';
        const r = await writeHtmlReport(folder, html, { theme, overwrite: values['overwrite'] === true, signal: io.signal, onProgress: (d, t, n) => bar.update(d, t, n) });
        bar.stop();
        if (!values['json']) io.out(`HTML report: ${r.path} (${formatBytes(r.bytes)}, ${r.tensors} tensors; opens offline in any browser)\n`);
      } finally {
        bar.stop();
      }
    }
  },
};
