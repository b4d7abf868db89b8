// Timeline view (live fine-tuning watcher): step on x; kept ratio and accuracy, per-layer drift,
// moved fraction, and the Jaccard overlap of kept sets with the previous checkpoint. Updates as
// timeline-point messages arrive.
import { Chart } from '../chart';
import type { View, ViewContext } from '../context';
import { clear, h } from '../dom';
import { pct } from '../logic/format';
import { timelineSeries } from '../logic/shape';

export class TimelineView implements View {
  readonly id = 'timeline' as const;
  readonly label = 'Timeline';
  readonly el: HTMLElement;
  private readonly summary: HTMLElement;
  private readonly charts: Chart[];
  private dirty = true;

  constructor(private readonly ctx: ViewContext) {
    this.summary = h('div', { class: 'ken-info', 'data-testid': 'timeline-summary' });
    const plots = [0, 1, 2, 3].map(() => h('div', { class: 'ken-plot ken-plot-small' }));
    this.charts = plots.map((p) => new Chart(p, () => ctx.theme()));
    const titles = ['Kept ratio and accuracy', 'Drift from the base per layer (mean |Δ|)', 'Share of weights moved from the base, per layer', 'Kept-set overlap with previous checkpoint (Jaccard)'];
    this.el = h('div', { class: 'ken-view ken-scroll' }, this.summary,
      h('div', { class: 'ken-row2' }, ...plots.slice(0, 2).map((p, i) => h('section', { class: 'ken-section' }, h('h3', {}, titles[i]!), p))),
      h('div', { class: 'ken-row2' }, ...plots.slice(2).map((p, i) => h('section', { class: 'ken-section' }, h('h3', {}, titles[i + 2]!), p))));
  }

  update(): void {
    this.dirty = true;
    if (this.el.offsetParent !== null) this.show();
  }

  timelinePoint(): void {
    this.update();
  }

  show(): void {
    if (!this.dirty) {
      for (const c of this.charts) c.resize();
      this.ctx.rendered(this.id, { why: 'shown', ms: 0 });
      return;
    }
    this.dirty = false;
    void this.draw();
  }

  private async draw(): Promise<void> {
    const started = performance.now();
    const points = this.ctx.data().timeline ?? [];
    clear(this.summary);
    this.summary.dataset['points'] = String(points.length);
    this.summary.dataset['steps'] = [...points].sort((a, b) => a.step - b.step).map((p) => p.step).join(',');
    if (points.length === 0) {
      this.summary.append('Watching for checkpoints… each one saved by the training run appears here.');
    } else {
      const last = [...points].sort((a, b) => a.step - b.step).at(-1)!;
      this.summary.append(`${points.length} checkpoint${points.length === 1 ? '' : 's'}; latest step ${last.step}${last.label ? ` (${last.label})` : ''}: kept ${pct(last.keptRatio, 2)}${last.accuracy !== undefined ? `, accuracy ${pct(last.accuracy, 2)}` : ''}`);
    }
    const s = timelineSeries(points);
    const x = { title: { text: 'step' }, rangemode: 'tozero' };
    const margin = { l: 56, r: 56, t: 8, b: 44 };
    const legend = { orientation: 'h', y: -0.3 };
    const hasAcc = s.accuracy.some((a) => a !== null);
    // KEN keeps about k values per row whatever the weights, so the kept ratio barely moves between
    // checkpoints: give its axis at least a percentage point of room instead of repeating one tick label
    const kr = s.keptRatio.filter((v): v is number => typeof v === 'number');
    const krMid = kr.length ? (Math.min(...kr) + Math.max(...kr)) / 2 : 0.5;
    const krHalf = Math.max(0.01, kr.length ? (Math.max(...kr) - Math.min(...kr)) * 0.6 : 0.01);
    const keptAxis = { title: { text: 'kept ratio' }, tickformat: '.1%', range: [Math.max(0, krMid - krHalf), Math.min(1, krMid + krHalf)] };
    await Promise.all([
      this.charts[0]!.draw([
        { type: 'scatter', mode: 'lines+markers', name: 'kept ratio', x: s.step, y: s.keptRatio, hovertemplate: 'step %{x}<br>kept %{y:.2%}<extra></extra>' },
        ...(hasAcc ? [{ type: 'scatter', mode: 'lines+markers', name: 'accuracy', x: s.step, y: s.accuracy, yaxis: 'y2', connectgaps: true, hovertemplate: 'step %{x}<br>accuracy %{y:.2%}<extra></extra>' }] : []),
      ], { margin, xaxis: x, yaxis: keptAxis, ...(hasAcc ? { yaxis2: { overlaying: 'y', side: 'right', tickformat: '.0%', title: { text: 'accuracy' }, showgrid: false } } : {}), legend }),
      this.charts[1]!.draw([...s.drift].map(([label, d]) => ({ type: 'scatter', mode: 'lines', name: label, x: s.step, y: d.meanAbsDelta, hovertemplate: `${label}<br>step %{x}<br>mean |Δ| %{y:.3g}<extra></extra>` })),
        { margin, xaxis: x, yaxis: { title: { text: 'mean |Δ|' }, exponentformat: 'e' }, legend }),
      this.charts[2]!.draw([...s.drift].map(([label, d]) => ({ type: 'scatter', mode: 'lines', name: label, x: s.step, y: d.movedFraction, hovertemplate: `${label}<br>step %{x}<br>moved %{y:.1%}<extra></extra>` })),
        { margin, xaxis: x, yaxis: { title: { text: 'fraction moved' }, tickformat: '.0%', range: [0, 1.02] }, legend }),
      this.charts[3]!.draw([
        { type: 'scatter', mode: 'lines+markers', name: 'mean over tensors', x: s.step, y: s.jaccardMean, hovertemplate: 'step %{x}<br>mean Jaccard %{y:.3f}<extra></extra>' },
        { type: 'scatter', mode: 'lines', name: 'lowest tensor', x: s.step, y: s.jaccardMin, line: { dash: 'dot' }, hovertemplate: 'step %{x}<br>lowest Jaccard %{y:.3f}<extra></extra>' },
      ], { margin, xaxis: x, yaxis: { title: { text: 'Jaccard' }, range: [0, 1.02] }, legend }),
    ]);
    this.ctx.rendered(this.id, { ms: performance.now() - started, points: points.length });
  }

  retheme(): void {
    this.update();
  }

  exportChart(): Chart | undefined {
    return this.charts[0]!.isDrawn ? this.charts[0] : undefined;
  }
}
