// Kept ratios view: totals, per-layer and per-tensor bars, checkpoint vs subnetwork bytes, and a
// sortable, filterable table of every tensor.
import { Chart } from '../chart';
import type { View, ViewContext } from '../context';
import { clear, debounce, h } from '../dom';
import { fmtBytes, fmtInt, pct, shapeLabel, tensorLabel } from '../logic/format';
import { layerRatios, statusCounts } from '../logic/shape';
import { SORT_KEYS, filterRows, nextSort, sortRows, tensorRows, type SortKey } from '../logic/table';

const HEADERS: Record<SortKey, string> = { name: 'Tensor', shape: 'Shape', kept: 'Kept', total: 'Total', ratio: 'Ratio', status: 'Status' };

export class RatiosView implements View {
  readonly id = 'ratios' as const;
  readonly label = 'Kept ratios';
  readonly el: HTMLElement;
  private readonly cards: HTMLElement;
  private readonly layerChart: Chart;
  private readonly tensorChart: Chart;
  private readonly tableWrap: HTMLElement;
  private readonly filterEl: HTMLElement & { value: string };
  private dirty = true;

  constructor(private readonly ctx: ViewContext) {
    this.cards = h('div', { class: 'ken-cards' });
    const layerEl = h('div', { class: 'ken-plot ken-plot-small' });
    const tensorEl = h('div', { class: 'ken-plot ken-plot-small' });
    this.layerChart = new Chart(layerEl, () => ctx.theme());
    this.tensorChart = new Chart(tensorEl, () => ctx.theme());
    this.filterEl = h('vscode-textfield', { placeholder: 'Filter tensors (name parts or a status)', class: 'ken-filter', 'aria-label': 'filter tensors' }) as HTMLElement & { value: string };
    this.filterEl.addEventListener('input', debounce(() => {
      this.ctx.setState({ filter: this.filterEl.value });
      this.renderTable();
    }, 150));
    this.tableWrap = h('div', { class: 'ken-table-wrap' });
    this.el = h('div', { class: 'ken-view ken-scroll' },
      this.cards,
      h('div', { class: 'ken-row2' },
        h('section', { class: 'ken-section' }, h('h3', {}, 'Kept per layer (pruned tensors)'), layerEl),
        h('section', { class: 'ken-section' }, h('h3', {}, 'Kept per tensor'), tensorEl)),
      h('section', { class: 'ken-section' }, h('div', { class: 'ken-section-head' }, h('h3', {}, 'Tensors'), this.filterEl), this.tableWrap),
    );
  }

  update(): void {
    this.dirty = true;
    if (this.el.offsetParent !== null) this.show();
  }

  show(): void {
    if (!this.dirty) {
      this.layerChart.resize();
      this.tensorChart.resize();
      this.ctx.rendered(this.id, { why: 'shown', ms: 0 });
      return;
    }
    this.dirty = false;
    const started = performance.now();
    this.renderCards();
    this.filterEl.value = this.ctx.state().filter ?? '';
    this.renderTable();
    void Promise.all([this.drawLayers(), this.drawTensors()]).then(() => this.ctx.rendered(this.id, { ms: performance.now() - started }));
  }

  private renderCards(): void {
    const { report } = this.ctx.data();
    clear(this.cards);
    const counts = statusCounts(report);
    const whole = [...counts.entries()].filter(([s]) => s !== 'pruned').map(([s, c]) => `${c} ${s}`).join(', ');
    const card = (label: string, value: string, sub: string, cls = ''): HTMLElement =>
      h('div', { class: `ken-card ${cls}` }, h('div', { class: 'ken-card-label' }, label), h('div', { class: 'ken-card-value' }, value), h('div', { class: 'ken-card-sub' }, sub));
    this.cards.append(
      card('Parameters kept', pct(report.keptRatio, 2), `${fmtInt(report.keptParams)} of ${fmtInt(report.totalParams)}`, 'ken-card-accent'),
      card('Tensors pruned', `${counts.get('pruned') ?? 0} of ${report.tensors.length}`, whole ? `kept whole: ${whole}` : 'every tensor pruned'),
    );
    if (report.compare) {
      const unpaired = report.compare.unpaired;
      this.cards.append(card('Compared with', report.compare.base.split(/[\\/]/).pop() ?? report.compare.base,
        unpaired.length ? `could not pair ${unpaired.length}: ${unpaired.slice(0, 3).map((u) => u.name).join(', ')}${unpaired.length > 3 ? ', …' : ''}` : 'every tensor paired'));
    } else {
      this.cards.append(card('k', String(report.k), `values kept per row${report.kernel ? ` · ${report.kernel} kernel` : ''}${report.scope ? ` · scope ${report.scope}` : ''}`));
    }
    if (report.bytes) {
      const b = report.bytes;
      this.cards.append(card('Subnetwork file', fmtBytes(b.subnetwork), `${pct(b.subnetwork / b.checkpoint)} of the ${fmtBytes(b.checkpoint)} checkpoint`));
    }
    this.cards.append(card('Time', `${report.seconds.toFixed(1)} s`, `${report.backend} · ${report.executionProvider}${report.threads ? ` · ${report.threads} threads` : ''}`));
  }

  private async drawLayers(): Promise<void> {
    const { report, tensors } = this.ctx.data();
    const rows = layerRatios(tensors);
    const theme = this.ctx.theme();
    const data: object[] = [{
      type: 'bar', x: rows.map((r) => r.label), y: rows.map((r) => r.ratio), marker: { color: theme.colorway[0] },
      customdata: rows.map((r) => [fmtInt(r.kept), fmtInt(r.total)]),
      hovertemplate: '%{x}<br>kept %{y:.2%}<br>%{customdata[0]} of %{customdata[1]}<extra></extra>',
    }];
    if (report.bytes) {
      data.push({
        type: 'bar', x: ['checkpoint', 'subnet'], customdata: ['checkpoint (weights files)', 'KEN subnetwork file'], y: [report.bytes.checkpoint, report.bytes.subnetwork], xaxis: 'x2', yaxis: 'y2',
        marker: { color: [theme.line, theme.colorway[1]] }, hovertemplate: '%{customdata}: %{y:.3s}B<extra></extra>', width: 0.6,
      });
    }
    const layout: Record<string, unknown> = {
      margin: { l: 56, r: 12, t: 8, b: 48 }, showlegend: false, bargap: 0.25,
      xaxis: { domain: report.bytes ? [0, 0.74] : [0, 1], tickangle: rows.length > 8 ? -45 : 0, automargin: true },
      yaxis: { tickformat: '.1%', title: { text: 'kept ratio' }, rangemode: 'tozero' },
    };
    if (report.bytes) {
      layout['xaxis2'] = { domain: [0.84, 1], anchor: 'y2', tickangle: 0, automargin: true };
      layout['yaxis2'] = { anchor: 'x2', tickformat: '.2s', ticksuffix: 'B', rangemode: 'tozero', title: { text: 'bytes' } };
    }
    await this.layerChart.draw(data, layout);
  }

  private async drawTensors(): Promise<void> {
    const { report, tensors } = this.ctx.data();
    const theme = this.ctx.theme();
    const layers = new Map(tensors.map((t) => [t.name, t.layer]));
    const rows = tensorRows(report).filter((r) => r.status === 'pruned');
    await this.tensorChart.draw([{
      type: 'bar', x: rows.map((r) => r.name), y: rows.map((r) => r.ratio), marker: { color: theme.colorway[2] ?? theme.colorway[0] },
      customdata: rows.map((r) => [shapeLabel(r.shape), fmtInt(r.kept), fmtInt(r.total)]),
      hovertemplate: '%{x}<br>%{customdata[0]}: kept %{customdata[1]} of %{customdata[2]} (%{y:.2%})<extra></extra>',
    }], {
      margin: { l: 56, r: 12, t: 8, b: 48 }, showlegend: false, bargap: 0.15,
      xaxis: { tickvals: rows.map((r) => r.name), ticktext: rows.map((r) => tensorLabel(r.name, layers.get(r.name))), showticklabels: rows.length <= 24, tickangle: -45, automargin: true },
      yaxis: { tickformat: '.1%', title: { text: 'kept ratio' }, rangemode: 'tozero' },
    });
  }

  private renderTable(): void {
    const { report } = this.ctx.data();
    const sort = this.ctx.state().sort ?? { key: 'name', dir: 'asc' };
    const rows = sortRows(filterRows(tensorRows(report), this.ctx.state().filter ?? ''), sort.key, sort.dir);
    const head = h('tr', {}, ...SORT_KEYS.map((k) => {
      const th = h('th', {
        class: `ken-sortable ${k === sort.key ? 'ken-sorted' : ''} ${k === 'name' || k === 'status' || k === 'shape' ? '' : 'ken-num'}`,
        'aria-sort': k === sort.key ? (sort.dir === 'asc' ? 'ascending' : 'descending') : 'none', tabindex: 0, scope: 'col',
      }, HEADERS[k], h('span', { class: 'ken-sort-arrow' }, k === sort.key ? (sort.dir === 'asc' ? '▲' : '▼') : ''));
      const go = (): void => {
        this.ctx.setState({ sort: nextSort(sort, k) });
        this.renderTable();
      };
      th.addEventListener('click', go);
      th.addEventListener('keydown', (e) => {
        if ((e as KeyboardEvent).key === 'Enter' || (e as KeyboardEvent).key === ' ') {
          e.preventDefault();
          go();
        }
      });
      return th;
    }));
    const body = h('tbody');
    for (const r of rows) {
      body.append(h('tr', {},
        h('td', { class: 'ken-mono', title: r.name }, r.name),
        h('td', {}, shapeLabel(r.shape)),
        h('td', { class: 'ken-num' }, fmtInt(r.kept)),
        h('td', { class: 'ken-num' }, fmtInt(r.total)),
        h('td', { class: 'ken-num' }, h('span', { class: 'ken-ratio' }, h('span', { class: 'ken-ratio-track' }, h('span', { class: 'ken-ratio-bar', 'data-ratio': r.ratio.toFixed(4) })), pct(r.ratio, 2))),
        h('td', {}, h('span', { class: `ken-pill ken-status-${r.status}` }, r.status)),
      ));
    }
    clear(this.tableWrap);
    const table = h('table', { class: 'ken-table' }, h('thead', {}, head), body);
    this.tableWrap.append(table, h('div', { class: 'ken-table-foot' }, `${rows.length} of ${report.tensors.length} tensors`));
    // widths through the CSSOM (allowed by the panel's CSP, unlike style attributes in markup)
    for (const bar of this.tableWrap.querySelectorAll<HTMLElement>('.ken-ratio-bar')) bar.style.width = `${Math.max(1, Number(bar.dataset['ratio']) * 100)}%`;
  }

  retheme(): void {
    if (this.layerChart.isDrawn) void this.drawLayers();
    if (this.tensorChart.isDrawn) void this.drawTensors();
  }

  exportChart(): Chart | undefined {
    return this.layerChart.isDrawn ? this.layerChart : undefined;
  }
}
