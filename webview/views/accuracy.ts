// Metrics view: the task's measures before/after (cards), per-class or per-entity-type figures,
// confusion matrices (classification), and the k sweep curve in the metric the sweep followed.
import type { EvalResult } from '../../src/shared/report';
import { Chart } from '../chart';
import type { View, ViewContext } from '../context';
import { clear, h } from '../dom';
import { fmtInt, pct, points } from '../logic/format';
import { normaliseConfusion } from '../logic/shape';
import { isFraction, metricCards, metricsOf, metricSweepSeries, scoreRows, type MetricCard } from '../logic/metrics';
import { colorbarTheme } from '../logic/theme-layout';
import { mix, toCss } from '../logic/colors';
import { showMethodsView, sweepMethods } from '../logic/methods';

export class AccuracyView implements View {
  readonly id = 'accuracy' as const;
  readonly label = 'Metrics';
  readonly el: HTMLElement;
  private charts: Chart[] = [];
  private sweepChart: Chart | undefined;
  private dirty = true;

  constructor(private readonly ctx: ViewContext) {
    this.el = h('div', { class: 'ken-view ken-scroll' });
  }

  update(): void {
    this.dirty = true;
    if (this.el.offsetParent !== null) this.show();
  }

  show(): void {
    if (!this.dirty) {
      for (const c of this.charts) c.resize();
      this.ctx.rendered(this.id, { why: 'shown', ms: 0 });
      return;
    }
    this.dirty = false;
    const started = performance.now();
    for (const c of this.charts) c.dispose();
    this.charts = [];
    this.sweepChart = undefined;
    clear(this.el);
    const { accuracy, sweep } = this.ctx.data();
    if (!accuracy && !sweep) {
      this.el.append(h('div', { class: 'ken-empty-state' },
        h('div', { class: 'ken-empty-title' }, 'No metrics in this report'),
        h('p', {}, 'Evaluate the fine-tuned and the pruned model on a labelled data set (JSONL, CSV, TSV, Parquet, Arrow or a datasets folder) to compare them here in the task\'s measures: accuracy, F1 and MCC with per-class figures and confusion matrices; entity F1 per type; exact match and F1; perplexity.'),
        h('p', {}, 'A sweep over several k values draws the chosen metric against the share of parameters kept.')));
      this.ctx.rendered(this.id, { ms: performance.now() - started, empty: true });
      return;
    }
    const draws: Promise<unknown>[] = [];
    if (accuracy) {
      const before = metricsOf(accuracy.before);
      const after = metricsOf(accuracy.after);
      this.el.append(this.cards(accuracy.before, accuracy.after, metricCards(before, after)));
      const rows = scoreRows(before, after);
      if (rows.length) {
        const title = after.kind === 'token_classification' ? 'Per entity type' : after.kind === 'multi_label' ? 'Per label' : 'Per class';
        this.el.append(h('section', { class: 'ken-section' }, h('h3', {}, title), this.classTable(rows, after.kind === 'token_classification' ? 'Entity type' : 'Class')));
      }
      if (after.kind === 'single_label' && accuracy.after.confusion.length) {
        const row = h('div', { class: 'ken-row2' });
        for (const [title, r] of [['Confusion before (fine-tuned)', accuracy.before], ['Confusion after (KEN)', accuracy.after]] as const) {
          const plot = h('div', { class: 'ken-plot ken-plot-confusion' });
          row.append(h('section', { class: 'ken-section' }, h('h3', {}, title), plot));
          const chart = new Chart(plot, () => this.ctx.theme());
          this.charts.push(chart);
          draws.push(this.drawConfusion(chart, r));
        }
        this.el.append(row);
      }
      if (after.kind === 'regression' && accuracy.after.scatter) {
        const plot = h('div', { class: 'ken-plot ken-plot-small' });
        this.el.append(h('section', { class: 'ken-section' }, h('h3', {}, 'Predicted against true (regression)'), plot));
        const chart = new Chart(plot, () => this.ctx.theme());
        this.charts.push(chart);
        draws.push(this.drawScatter(chart, accuracy.before, accuracy.after));
      }
    }
    if (sweep && showMethodsView(sweep)) {
      // a comparison of methods has its own view; one curve here would mix them
      this.el.append(h('section', { class: 'ken-section' }, h('h3', {}, 'k sweep'),
        h('p', { class: 'ken-hint', 'data-testid': 'sweep-methods-hint' }, `This sweep compares ${sweepMethods(sweep).length} methods${sweep.adapter ? ' and an adapter' : ''}: see the Methods tab.`)));
    } else if (sweep && sweep.points.length) {
      const plot = h('div', { class: 'ken-plot ken-plot-small' });
      this.el.append(h('section', { class: 'ken-section' }, h('h3', {}, `${metricSweepSeries(sweep).metric} against parameters kept (k sweep)`), plot));
      this.sweepChart = new Chart(plot, () => this.ctx.theme());
      this.charts.push(this.sweepChart);
      draws.push(this.drawSweep(this.sweepChart));
    }
    void Promise.all(draws).then(() => this.ctx.rendered(this.id, { ms: performance.now() - started }));
  }

  private cards(before: EvalResult, after: EvalResult, cards: MetricCard[]): HTMLElement {
    const card = (c: MetricCard): HTMLElement => {
      const show = (x: number): string => (c.format === 'pct' ? pct(x, 2) : Number.isInteger(x) ? fmtInt(x) : x.toFixed(4));
      const d = c.before === undefined ? 0 : c.after - c.before;
      const better = c.higherIsBetter ? d > 0 : d < 0;
      const worse = c.higherIsBetter ? d < 0 : d > 0;
      const delta = c.before === undefined ? '' : c.format === 'pct' ? points(d) : `${d > 0 ? '+' : d < 0 ? '' : '±'}${Math.abs(d) >= 100 ? d.toFixed(1) : d.toFixed(4)}`;
      return h('div', { class: 'ken-card', 'data-metric': c.name },
        h('div', { class: 'ken-card-label' }, `${c.label} after KEN`),
        h('div', { class: 'ken-card-value' }, show(c.after), h('span', { class: `ken-delta ${worse ? 'ken-neg' : better ? 'ken-pos' : ''}` }, delta)),
        h('div', { class: 'ken-card-sub' }, c.before === undefined ? '' : `before ${show(c.before)}`));
    };
    return h('div', { class: 'ken-cards' },
      ...cards.map(card),
      h('div', { class: 'ken-card' }, h('div', { class: 'ken-card-label' }, 'Samples'), h('div', { class: 'ken-card-value' }, fmtInt(after.samples)),
        h('div', { class: 'ken-card-sub' }, `${after.skipped ? `${fmtInt(after.skipped)} skipped · ` : ''}${after.data ?? ''}`)),
      h('div', { class: 'ken-card' }, h('div', { class: 'ken-card-label' }, 'Evaluated on'), h('div', { class: 'ken-card-value ken-card-value-sm' }, after.executionProvider),
        h('div', { class: 'ken-card-sub' }, `${before.seconds.toFixed(1)} s before · ${after.seconds.toFixed(1)} s after`)),
    );
  }

  private classTable(rows: ReturnType<typeof scoreRows>, first: string): HTMLElement {
    const cell = (b: number | undefined, a: number | undefined): HTMLElement => {
      if (a === undefined) return h('td', { class: 'ken-num' }, '–');
      const d = b === undefined ? 0 : a - b;
      return h('td', { class: 'ken-num' }, pct(a, 1), b === undefined ? '' : h('span', { class: `ken-delta ${d < 0 ? 'ken-neg' : d > 0 ? 'ken-pos' : ''}` }, points(d, 1)));
    };
    return h('div', { class: 'ken-table-wrap' }, h('table', { class: 'ken-table' },
      h('thead', {}, h('tr', {}, h('th', {}, first), h('th', { class: 'ken-num' }, 'Support'), h('th', { class: 'ken-num' }, 'Precision'), h('th', { class: 'ken-num' }, 'Recall'), h('th', { class: 'ken-num' }, 'F1'))),
      h('tbody', {}, ...rows.map((r) => h('tr', {},
        h('td', {}, r.label), h('td', { class: 'ken-num' }, fmtInt(r.support)),
        cell(r.before?.precision, r.after?.precision), cell(r.before?.recall, r.after?.recall), cell(r.before?.f1, r.after?.f1)))),
    ));
  }

  private async drawScatter(chart: Chart, before: EvalResult, after: EvalResult): Promise<void> {
    const theme = this.ctx.theme();
    const data: object[] = [];
    for (const [name, r] of [['fine-tuned', before], ['KEN', after]] as const) {
      if (!r.scatter) continue;
      data.push({ type: 'scattergl', mode: 'markers', name, x: r.scatter.truth, y: r.scatter.predicted, marker: { size: 5, opacity: 0.6 },
        hovertemplate: `${name}<br>true %{x:.3f}<br>predicted %{y:.3f}<extra></extra>` });
    }
    const all = [...(after.scatter?.truth ?? []), ...(after.scatter?.predicted ?? [])];
    const lo = Math.min(...all);
    const hi = Math.max(...all);
    await chart.draw(data, {
      margin: { l: 60, r: 16, t: 8, b: 48 },
      xaxis: { title: { text: 'true' } }, yaxis: { title: { text: 'predicted' } },
      shapes: [{ type: 'line', x0: lo, x1: hi, y0: lo, y1: hi, line: { dash: 'dash', color: theme.muted, width: 1 } }],
      legend: { orientation: 'h', y: -0.25 },
    });
  }

  private async drawConfusion(chart: Chart, r: EvalResult): Promise<void> {
    const theme = this.ctx.theme();
    const norm = normaliseConfusion(r.confusion);
    const lo = toCss(mix(theme.background, theme.foreground, 0.06));
    await chart.draw([{
      type: 'heatmap', z: norm, x: r.labels, y: r.labels, text: r.confusion.map((row) => row.map(String)), texttemplate: '%{text}',
      textfont: { color: theme.text }, colorscale: [[0, lo], [1, theme.colorway[0]]], zmin: 0, zmax: 1, showscale: true,
      colorbar: { ...colorbarTheme(theme), tickformat: '.0%', title: { text: 'of true', font: { color: theme.muted } } },
      hovertemplate: 'true %{y}<br>predicted %{x}<br>%{text} samples (%{z:.1%} of true)<extra></extra>', xgap: 1, ygap: 1,
    }], {
      margin: { l: 80, r: 12, t: 8, b: 56 },
      xaxis: { title: { text: 'predicted' }, type: 'category', showgrid: false, automargin: true },
      yaxis: { title: { text: 'true' }, type: 'category', autorange: 'reversed', showgrid: false, automargin: true },
    });
  }

  private async drawSweep(chart: Chart): Promise<void> {
    const { sweep, report } = this.ctx.data();
    if (!sweep) return;
    const s = metricSweepSeries(sweep);
    const theme = this.ctx.theme();
    const current = sweep.points.find((p) => p.k === report.k);
    const frac = isFraction(s.metric);
    const fmt = frac ? ':.2%' : ':.4f';
    const data: object[] = [
      { type: 'scatter', mode: 'lines+markers+text', name: s.metric, x: s.keptRatio, y: s.value, text: s.k.map((k) => `k=${k}`), textposition: 'top center',
        textfont: { color: theme.muted, size: theme.fontSize - 2 }, customdata: s.k, hovertemplate: `k=%{customdata}<br>kept %{x:.2%}<br>${s.metric} %{y${fmt}}<extra></extra>` },
    ];
    if (s.metric === 'accuracy') {
      const pts = [...sweep.points].sort((a, b) => a.keptRatio - b.keptRatio);
      data.push({ type: 'scatter', mode: 'lines+markers', name: 'macro F1', x: s.keptRatio, y: pts.map((p) => p.macroF1), customdata: s.k, line: { dash: 'dot' },
        hovertemplate: 'k=%{customdata}<br>kept %{x:.2%}<br>macro F1 %{y:.2%}<extra></extra>' });
    }
    if (current) {
      data.push({ type: 'scatter', mode: 'markers', name: `this report (k=${current.k})`, x: [current.keptRatio], y: [current.value ?? current.accuracy],
        marker: { size: 14, symbol: 'circle-open', line: { width: 2, color: theme.accent } }, hoverinfo: 'skip' });
    }
    await chart.draw(data, {
      margin: { l: 60, r: 16, t: 8, b: 48 },
      xaxis: { title: { text: 'parameters kept' }, tickformat: '.1%', type: s.keptRatio.length > 1 && s.keptRatio[s.keptRatio.length - 1]! / Math.max(1e-9, s.keptRatio[0]!) > 20 ? 'log' : 'linear' },
      yaxis: { title: { text: s.metric }, tickformat: frac ? '.0%' : '' },
      shapes: [{ type: 'line', xref: 'paper', x0: 0, x1: 1, y0: s.finetuned, y1: s.finetuned, line: { dash: 'dash', color: theme.muted, width: 1 } }],
      annotations: [{ xref: 'paper', x: 1, y: s.finetuned, xanchor: 'right', yanchor: 'bottom', showarrow: false, text: `fine-tuned ${frac ? pct(s.finetuned, 2) : s.finetuned.toFixed(4)}`, font: { color: theme.muted } }],
      legend: { orientation: 'h', y: -0.25 },
    });
  }

  retheme(): void {
    this.dirty = true;
    if (this.el.offsetParent !== null) this.show();
  }

  exportChart(): Chart | undefined {
    return this.sweepChart ?? this.charts[0];
  }
}
