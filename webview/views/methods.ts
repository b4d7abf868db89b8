// Methods view: a sweep over several pruning methods at the same budget. The metric against kept
// parameters or subnetwork bytes, one line per method (random/DARE: the mean over seeds with the
// spread, each seed's points faint), a PEFT adapter as a labelled point, the fine-tuned model as a
// reference line; below, what each method recommends within --max-drop and the figures per k.
import { Chart } from '../chart';
import type { View, ViewContext } from '../context';
import { clear, h, select } from '../dom';
import { fmtInt, pct } from '../logic/format';
import { isFraction } from '../logic/metrics';
import { allXs, formatBytes, logAxis, methodsSeries, methodTraces, type MethodsAxis, type MethodsSeries } from '../logic/methods';

const AXES: { value: MethodsAxis; label: string }[] = [
  { value: 'params', label: 'kept parameters' },
  { value: 'bytes', label: 'subnetwork bytes' },
];

export class MethodsView implements View {
  readonly id = 'methods' as const;
  readonly label = 'Methods';
  readonly el: HTMLElement;
  private chart: Chart | undefined;
  private dirty = true;

  constructor(private readonly ctx: ViewContext) {
    this.el = h('div', { class: 'ken-view ken-scroll', 'data-testid': 'methods-view' });
  }

  update(): void {
    this.dirty = true;
    if (this.el.offsetParent !== null) this.show();
  }

  private axis(s: MethodsSeries): MethodsAxis {
    return this.ctx.state().methodsAxis === 'bytes' && s.hasBytes ? 'bytes' : 'params';
  }

  show(): void {
    if (!this.dirty && this.chart) {
      this.chart.resize();
      this.ctx.rendered(this.id, { why: 'shown', ms: 0 });
      return;
    }
    this.dirty = false;
    const started = performance.now();
    this.chart?.dispose();
    this.chart = undefined;
    clear(this.el);
    const { sweep } = this.ctx.data();
    if (!sweep) {
      this.el.append(h('div', { class: 'ken-empty-state' }, h('div', { class: 'ken-empty-title' }, 'No sweep in this report'),
        h('p', {}, 'ken sweep --methods ken,delta-magnitude,random draws every method at every k here.')));
      this.ctx.rendered(this.id, { ms: performance.now() - started, empty: true });
      return;
    }
    const s = methodsSeries(sweep);
    const axis = this.axis(s);
    const plot = h('div', { class: 'ken-plot ken-plot-methods', 'data-testid': 'methods-plot' });
    const axisSelect = select(AXES.map((a) => ({ value: a.value, label: a.label })), axis, (v) => {
      this.ctx.setState({ methodsAxis: v === 'bytes' ? 'bytes' : 'params' });
      this.dirty = true;
      this.show();
    }, { 'aria-label': 'x axis', 'data-testid': 'methods-axis' });
    if (!s.hasBytes) axisSelect.setAttribute('disabled', '');
    const head = h('div', { class: 'ken-section-head ken-wrap' },
      h('h3', {}, `${s.metric} by method against ${axis === 'params' ? 'parameters kept' : 'subnetwork bytes'}`),
      h('label', { class: 'ken-field' }, h('span', {}, 'Against'), axisSelect));
    const parts: HTMLElement[] = [h('section', { class: 'ken-section' }, head, plot)];
    if (!s.hasBytes) parts.push(h('p', { class: 'ken-hint' }, 'This sweep did not record the subnetworks\' bytes; only kept parameters can be drawn.'));
    const rec = this.recommendations();
    if (rec) parts.push(rec);
    parts.push(this.perK(s));
    this.el.append(...parts);
    this.chart = new Chart(plot, () => this.ctx.theme());
    void this.draw(this.chart, s, axis).then((lines) => {
      plot.dataset['methodLines'] = String(lines);
      this.ctx.rendered(this.id, { ms: performance.now() - started, methodLines: lines, axis });
    });
  }

  /** Draws; returns how many method lines were drawn. */
  private async draw(chart: Chart, s: MethodsSeries, axis: MethodsAxis): Promise<number> {
    const theme = this.ctx.theme();
    const { report } = this.ctx.data();
    const frac = isFraction(s.metric);
    const fmt = (v: number): string => (frac ? pct(v, 2) : v.toFixed(4));
    const traces = methodTraces(s, axis, { colors: theme.colorway, muted: theme.muted, accent: theme.accent, fmt },
      report.compare ? undefined : { method: report.method ?? 'ken', k: report.k, seed: report.seed });
    const xs = allXs(s, axis);
    const log = logAxis(xs);
    await chart.draw(traces, {
      margin: { l: 60, r: 16, t: 8, b: 48 },
      xaxis: {
        title: { text: axis === 'params' ? 'parameters kept (adapter: trainable parameters)' : 'bytes (subnetwork file; adapter: its weight files)' },
        type: log ? 'log' : 'linear', tickformat: '.2s', ticksuffix: axis === 'bytes' ? 'B' : '',
      },
      yaxis: { title: { text: s.metric }, tickformat: frac ? '.0%' : '' },
      shapes: [{ type: 'line', xref: 'paper', x0: 0, x1: 1, y0: s.finetuned, y1: s.finetuned, line: { dash: 'dash', color: theme.muted, width: 1 } }],
      annotations: [{ xref: 'paper', x: 1, y: s.finetuned, xanchor: 'right', yanchor: 'bottom', showarrow: false, text: `fine-tuned ${fmt(s.finetuned)}`, font: { color: theme.muted } }],
      legend: { orientation: 'h', y: -0.22 },
      hoverlabel: { align: 'left' },
      uirevision: axis,
    });
    return traces.filter((t) => t.meta.role === 'method').length;
  }

  /** Per method, the smallest k within --max-drop; the one keeping the fewest parameters marked. */
  private recommendations(): HTMLElement | undefined {
    const sweep = this.ctx.data().sweep;
    const recs = sweep?.recommendations;
    if (!sweep || !recs || recs.length === 0) return undefined;
    const frac = isFraction(sweep.metric ?? 'accuracy');
    const within = recs.filter((r) => r.keptParams !== undefined);
    const fewest = within.length ? within.reduce((a, b) => (b.keptParams! < a.keptParams! ? b : a)) : undefined;
    return h('section', { class: 'ken-section' }, h('h3', {}, 'Smallest k within the budget, per method'),
      h('div', { class: 'ken-table-wrap' }, h('table', { class: 'ken-table', 'data-testid': 'methods-recommendations' },
        h('thead', {}, h('tr', {}, h('th', {}, 'Method'), h('th', { class: 'ken-num' }, 'k'), h('th', { class: 'ken-num' }, 'Kept'), h('th', { class: 'ken-num' }, 'Bytes'), h('th', { class: 'ken-num' }, sweep.metric ?? 'accuracy'))),
        h('tbody', {}, ...recs.map((r) => h('tr', { class: r === fewest ? 'ken-best' : '' },
          h('td', {}, r.method, r === fewest ? h('span', { class: 'ken-best-tag', title: 'keeps the fewest parameters within the budget' }, ' fewest') : ''),
          ...(r.k === undefined
            ? [h('td', { colspan: 4, class: 'ken-muted' }, r.note ?? 'none within the budget')]
            : [h('td', { class: 'ken-num' }, String(r.k)), h('td', { class: 'ken-num' }, r.keptParams === undefined ? '–' : fmtInt(r.keptParams)),
              h('td', { class: 'ken-num' }, r.subnetworkBytes === undefined ? '–' : formatBytes(r.subnetworkBytes)),
              h('td', { class: 'ken-num' }, r.value === undefined ? '–' : frac ? pct(r.value, 2) : r.value.toFixed(4))])))))));
  }

  /** The figures per k, a column per method (seeded: mean ± spread). */
  private perK(s: MethodsSeries): HTMLElement {
    const frac = isFraction(s.metric);
    const fmt = (v: number): string => (frac ? pct(v, 2) : v.toFixed(4));
    const ks = [...new Set(s.lines.flatMap((l) => l.points.map((p) => p.k)))].sort((a, b) => a - b);
    const cell = (method: string, k: number): HTMLElement => {
      const line = s.lines.find((l) => l.method === method)!;
      const i = line.points.findIndex((p) => p.k === k);
      if (i < 0) return h('td', { class: 'ken-num ken-muted' }, '–');
      const p = line.points[i]!;
      const sp = line.spread?.[i];
      return h('td', { class: 'ken-num', title: `kept ${fmtInt(p.keptParams)}${p.bytes === undefined ? '' : `, ${formatBytes(p.bytes)}`}` },
        fmt(p.value), sp ? h('span', { class: 'ken-muted' }, ` ± ${frac ? pct(sp.spread, 2) : sp.spread.toFixed(4)}`) : '');
    };
    return h('section', { class: 'ken-section' }, h('h3', {}, `${s.metric} per k`),
      h('div', { class: 'ken-table-wrap' }, h('table', { class: 'ken-table', 'data-testid': 'methods-table' },
        h('thead', {}, h('tr', {}, h('th', { class: 'ken-num' }, 'k'), ...s.lines.map((l) => h('th', { class: 'ken-num' }, l.seeded ? `${l.method} (mean ± sd)` : l.method)))),
        h('tbody', {}, ...ks.map((k) => h('tr', {}, h('td', { class: 'ken-num' }, String(k)), ...s.lines.map((l) => cell(l.method, k))))))));
  }

  retheme(): void {
    this.dirty = true;
    if (this.el.offsetParent !== null) this.show();
  }

  exportChart(): Chart | undefined {
    return this.chart;
  }
}
