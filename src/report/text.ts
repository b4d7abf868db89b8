// Plain-text renderings of results, shared by the CLI and the extension's log.
import { providerLabel } from '../runtime/webgpu';
import type { SweepResult } from '../shared/report';
import { dropUnit, higherIsBetter, metricDrop } from '../shared/metrics';
import type { TaskMetrics } from '../shared/metrics';
import type { EvalResult } from '../shared/report';

const fmt = (n: number): string => n.toLocaleString('en-US');
const pct = (x: number, digits = 1): string => `${(x * 100).toFixed(digits)}%`;

/** A readable table of an evaluation: headline, per-class figures, confusion matrix. */
export function evalSummary(r: EvalResult): string {
  if (r.metrics && r.metrics.kind !== 'single_label') {
    return `${fmt(r.samples)} samples${r.skipped ? `, ${fmt(r.skipped)} bad lines skipped` : ''} | ${r.executionProvider}, ${r.seconds.toFixed(2)} s\n${metricsText(r.metrics)}`;
  }
  const right = r.confusion.reduce((a, row, i) => a + (row[i] ?? 0), 0);
  const lines = [
    `accuracy ${pct(r.accuracy, 2)} (${fmt(right)}/${fmt(r.samples)}), macro-F1 ${r.macroF1.toFixed(4)}` +
      (r.metrics?.kind === 'single_label' ? `, weighted-F1 ${r.metrics.weighted_f1.toFixed(4)}, MCC ${r.metrics.mcc.toFixed(4)}${r.metrics.f1 !== undefined ? `, F1 (${r.labels[1]}) ${r.metrics.f1.toFixed(4)}` : ''}` : '') +
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

/** Shows a value of `metric` (percent for fractions, 4 decimals otherwise). */
export function metricShow(metric: string): (x: number | undefined) => string {
  const asPct = higherIsBetter(metric) && metric !== 'mcc' && metric !== 'pearson' && metric !== 'spearman';
  return (x) => (x === undefined || Number.isNaN(x) ? 'n/a' : asPct ? pct(x, 2) : x.toFixed(4));
}

function mib(bytes: number | undefined): string {
  return bytes === undefined ? 'n/a' : `${(bytes / 1e6).toFixed(1)} MB`;
}

/** A sweep over several methods: one row per k, one column per method (mean +- spread over seeds). */
function methodsTable(r: SweepResult, maxDrop: number | undefined): string {
  const metric = r.metric ?? 'accuracy';
  const show = metricShow(metric);
  const ks = r.ks;
  const seeded = new Set(r.aggregates.map((a) => a.method));
  const cell = (m: string, k: number): string => {
    const agg = r.aggregates.find((a) => a.method === m && a.k === k);
    if (agg) return agg.runs > 1 ? `${show(agg.mean)} ±${(agg.spread * (show(1).endsWith('%') ? 100 : 1)).toFixed(2)}` : show(agg.mean);
    const p = r.points.find((q) => q.method === m && q.k === k);
    return p ? show(p.value ?? p.accuracy) : '';
  };
  const heads = r.methods.map((m) => {
    const runs = r.aggregates.find((a) => a.method === m)?.runs ?? 1;
    return seeded.has(m) && runs > 1 ? `${m} (${runs} seeds)` : m;
  });
  const widths = heads.map((h, i) => Math.max(h.length, ...ks.map((k) => cell(r.methods[i]!, k).length)));
  const lines = [
    `fine-tuned ${metric} ${show(r.finetunedValue ?? r.finetunedAccuracy)} on ${fmt(r.before.samples)} samples (KEN: ${r.backend} on ${r.executionProvider}; eval on ${r.evalProvider}; ${r.seconds.toFixed(1)} s)`,
    '',
    `     k     kept   kept params  ${heads.map((h, i) => h.padStart(widths[i]!)).join('  ')}`,
  ];
  for (const k of ks) {
    const first = r.points.find((p) => p.k === k)!;
    lines.push(`${String(k).padStart(6)}  ${pct(first.keptRatio).padStart(7)}  ${fmt(first.keptParams).padStart(12)}  ${r.methods.map((m, i) => cell(m, k).padStart(widths[i]!)).join('  ')}`);
  }
  if (r.adapter) {
    const a = r.adapter;
    lines.push('', `adapter ${a.path}: ${metric} ${show(a.value)}, trains ${fmt(a.trainableParams)} parameters (${pct(a.trainableParams / r.totalParams)} of the model), adapter file ${mib(a.bytes)}`);
  }
  if (maxDrop !== undefined && r.recommendations) {
    if (r.points.some((p) => !ks.includes(p.k))) lines.push(`(the search for the budget also tried k=${[...new Set(r.points.map((p) => p.k).filter((k) => !ks.includes(k)))].sort((a, b) => a - b).join(', ')}: in --json)`);
    lines.push('', `the smallest k within ${maxDrop} ${dropUnit(metric)} of ${show(r.finetunedValue)}:`);
    const w = Math.max(...r.methods.map((m) => m.length));
    for (const rec of r.recommendations) {
      lines.push(rec.k !== undefined
        ? `  ${rec.method.padEnd(w)}  k=${rec.k}: ${show(rec.value)}${seeded.has(rec.method) ? ' (mean)' : ''}, keeps ${fmt(rec.keptParams!)} parameters (${pct(rec.keptParams! / r.totalParams)}), subnetwork ${mib(rec.subnetworkBytes)}`
        : `  ${rec.method.padEnd(w)}  ${rec.note}`);
    }
    if (r.best) {
      const b = r.best;
      lines.push(b.fewestParams.method === b.smallestSubnetwork.method
        ? `fewest parameters and smallest subnetwork within the budget: ${b.fewestParams.method} (k=${b.fewestParams.k})`
        : `fewest parameters within the budget: ${b.fewestParams.method} (k=${b.fewestParams.k}); smallest subnetwork: ${b.smallestSubnetwork.method} (k=${b.smallestSubnetwork.k})`);
    } else lines.push('no method stays within the budget at these k; try larger k');
  }
  return lines.join('\n') + '\n';
}

export function sweepTable(r: SweepResult, maxDrop: number | undefined): string {
  if (r.methods.length > 1 || r.methods[0] !== 'ken' || r.aggregates.some((a) => a.runs > 1) || r.adapter) return methodsTable(r, maxDrop);
  const metric = r.metric ?? 'accuracy';
  const show = metricShow(metric);
  const lines = [
    `fine-tuned ${metric} ${show(r.finetunedValue ?? r.finetunedAccuracy)} on ${fmt(r.before.samples)} samples (KEN: ${r.backend} on ${r.executionProvider}; eval on ${r.evalProvider}; ${r.seconds.toFixed(1)} s)`,
    '',
    `     k     kept   kept params  ${metric.padStart(9)}   change`,
  ];
  for (const p of r.points) {
    const value = p.value ?? p.accuracy;
    const d = -metricDrop(metric, r.finetunedValue ?? r.finetunedAccuracy, value);
    const mark = r.recommended === p.k ? '  <- smallest k within the budget' : '';
    lines.push(`${String(p.k).padStart(6)}  ${pct(p.keptRatio).padStart(7)}  ${fmt(p.keptParams).padStart(12)}  ${show(value).padStart(9)}  ${(d >= 0 ? '+' : '') + d.toFixed(2)}${mark}`);
  }
  if (maxDrop !== undefined) {
    lines.push('');
    const rec = r.points.find((p) => p.k === r.recommended);
    lines.push(rec
      ? `use k=${rec.k}: the smallest k whose ${metric} stays within ${maxDrop} ${dropUnit(metric)} (${show(rec.value ?? rec.accuracy)}, keeps ${pct(rec.keptRatio)} of the parameters)`
      : (r.note ?? 'no recommendation'));
  }
  return lines.join('\n') + '\n';
}

const f4 = (x: number | undefined): string => (x === undefined || Number.isNaN(x) ? 'n/a' : x.toFixed(4));

/** A readable rendering of any task's metrics (the single-label table is evalSummary's). */
export function metricsText(m: TaskMetrics): string {
  switch (m.kind) {
    case 'single_label':
      return `accuracy ${pct(m.accuracy, 2)}, macro-F1 ${f4(m.macro_f1)}, weighted-F1 ${f4(m.weighted_f1)}, MCC ${f4(m.mcc)}${m.f1 !== undefined ? `, F1 ${f4(m.f1)}` : ''}\n`;
    case 'multi_label':
      return `micro-F1 ${f4(m.micro_f1)}, macro-F1 ${f4(m.macro_f1)}, subset accuracy ${pct(m.subset_accuracy, 2)}\n`;
    case 'regression':
      return `Pearson ${f4(m.pearson)}, Spearman ${f4(m.spearman)}, MSE ${f4(m.mse)}\n`;
    case 'question_answering':
      return `exact match ${pct(m.exact_match, 2)}, F1 ${pct(m.f1, 2)} (${m.version === 'squad_v2' ? 'SQuAD 2.0' : 'SQuAD 1.1'})` +
        (m.version === 'squad_v2' ? `; answerable ${m.has_answer_total ?? 0}: EM ${pct(m.has_answer_exact_match ?? 0, 2)}, F1 ${pct(m.has_answer_f1 ?? 0, 2)}; unanswerable ${m.no_answer_total ?? 0}: ${pct(m.no_answer_exact_match ?? 0, 2)}` : '') + '\n';
    case 'causal_lm':
      return `perplexity ${m.perplexity.toFixed(3)} (mean NLL ${m.mean_nll.toFixed(4)} nats over ${fmt(m.n_predicted_tokens)} predicted tokens)\n`;
    case 'token_classification': {
      const types = Object.keys(m.per_type);
      const w = Math.max(6, ...types.map((t) => t.length));
      const lines = [`entity F1 ${f4(m.overall_f1)} (precision ${f4(m.overall_precision)}, recall ${f4(m.overall_recall)}), token accuracy ${pct(m.overall_accuracy, 2)}`, ''];
      lines.push(`${'entity'.padEnd(w)}  precision  recall      f1   number`);
      for (const t of types) {
        const c = m.per_type[t]!;
        lines.push(`${t.padEnd(w)}  ${f4(c.precision).padStart(9)}  ${f4(c.recall).padStart(6)}  ${f4(c.f1).padStart(6)}  ${String(c.number).padStart(7)}`);
      }
      return lines.join('\n') + '\n';
    }
  }
}
