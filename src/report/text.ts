// Plain-text renderings of results, shared by the CLI and the extension's log.
import { providerLabel } from '../ken/adapter';
import type { SweepResult } from '../ken/sweep';
import type { EvalResult } from './report';

const fmt = (n: number): string => n.toLocaleString('en-US');
const pct = (x: number, digits = 1): string => `${(x * 100).toFixed(digits)}%`;

/** A readable table of an evaluation: headline, per-class figures, confusion matrix. */
export function evalSummary(r: EvalResult): string {
  const right = r.confusion.reduce((a, row, i) => a + (row[i] ?? 0), 0);
  const lines = [
    `accuracy ${pct(r.accuracy, 2)} (${fmt(right)}/${fmt(r.samples)}), macro-F1 ${r.macroF1.toFixed(4)}` +
      `${r.skipped ? `, ${fmt(r.skipped)} bad lines skipped` : ''} | ${providerLabel(r.executionProvider, r.adapter)}, ${r.seconds.toFixed(2)} s`,
    '',
  ];
  const w = Math.max(5, ...r.labels.map((l) => l.length));
  lines.push(`${'class'.padEnd(w)}  precision  recall      f1  support`);
  for (const l of r.labels) {
    const c = r.perClass[l]!;
    lines.push(`${l.padEnd(w)}  ${c.precision.toFixed(4).padStart(9)}  ${c.recall.toFixed(4).padStart(6)}  ${c.f1.toFixed(4).padStart(6)}  ${String(c.support).padStart(7)}`);
  }
  lines.push('', 'confusion (rows: true class, columns: predicted)');
  const cw = Math.max(4, ...r.confusion.flat().map((v) => String(v).length), ...r.labels.map((l) => Math.min(l.length, 8)));
  lines.push(`${''.padEnd(w)}  ${r.labels.map((l) => l.slice(0, cw).padStart(cw)).join(' ')}`);
  r.confusion.forEach((row, i) => lines.push(`${r.labels[i]!.padEnd(w)}  ${row.map((v) => String(v).padStart(cw)).join(' ')}`));
  return lines.join('\n') + '\n';
}

export function sweepTable(r: SweepResult, maxDrop: number | undefined): string {
  const lines = [
    `fine-tuned accuracy ${pct(r.finetunedAccuracy, 2)} on ${fmt(r.before.samples)} samples (KEN: ${r.backend} on ${r.executionProvider}; eval on ${r.evalProvider}; ${r.seconds.toFixed(1)} s)`,
    '',
    '     k     kept   kept params   accuracy   change',
  ];
  for (const p of r.points) {
    const d = (p.accuracy - r.finetunedAccuracy) * 100;
    const mark = r.recommended === p.k ? '  <- smallest k within the budget' : '';
    lines.push(`${String(p.k).padStart(6)}  ${pct(p.keptRatio).padStart(7)}  ${fmt(p.keptParams).padStart(12)}  ${pct(p.accuracy, 2).padStart(9)}  ${(d >= 0 ? '+' : '') + d.toFixed(2)}${mark}`);
  }
  if (maxDrop !== undefined) {
    lines.push('');
    const rec = r.points.find((p) => p.k === r.recommended);
    lines.push(rec
      ? `use k=${rec.k}: the smallest k whose accuracy stays within ${maxDrop} points (${pct(rec.accuracy, 2)}, keeps ${pct(rec.keptRatio)} of the parameters)`
      : (r.note ?? 'no recommendation'));
  }
  return lines.join('\n') + '\n';
}
