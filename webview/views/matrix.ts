// Matrix and Neighbours views: one weight matrix as a heatmap, kept values coloured by value (or by how
// many of their 4 neighbours are kept), pruned positions blank. Zooming pulls finer tiles.
import { tileArrays, type TensorInfo, type Tile, type TileKind, type TileWindow } from '../../src/shared/protocol';
import { Chart } from '../chart';
import type { TabId, View, ViewContext } from '../context';
import { clear, debounce, h, select } from '../dom';
import { divergingScale, neighbourScale, robustAbsMax } from '../logic/colors';
import { fmtInt, pct } from '../logic/format';
import { patternOptions, tensorAt, defaultPattern } from '../logic/shape';
import { cellBudget, containsWindow, fullRanges, tileAxes, tileRows, windowFromRanges } from '../logic/tiles';
import { colorbarTheme } from '../logic/theme-layout';

const MARGIN = { l: 64, r: 24, t: 8, b: 44 };

interface PlotLayoutState {
  layout?: { xaxis?: { range?: [number, number] }; yaxis?: { range?: [number, number] } };
}

export class MatrixView implements View {
  readonly el: HTMLElement;
  private readonly controls: HTMLElement;
  private readonly info: HTMLElement;
  private readonly chart: Chart;
  private readonly plotEl: HTMLElement;
  private current: Tile | undefined;
  private latest = 0;
  private colourRange = new Map<string, number>();
  private visible = false;
  private dirty = true;

  constructor(readonly id: TabId, readonly label: string, private readonly kind: TileKind, private readonly ctx: ViewContext) {
    this.controls = h('div', { class: 'ken-controls' });
    this.info = h('div', { class: 'ken-info' });
    this.plotEl = h('div', { class: 'ken-plot ken-plot-matrix' });
    this.el = h('div', { class: 'ken-view' }, this.controls, this.info, this.plotEl);
    this.chart = new Chart(this.plotEl, () => ctx.theme());
  }

  private selection(): { tensor: TensorInfo | undefined; pattern: string | undefined; layer: number | undefined } {
    const { groups } = this.ctx.data();
    const st = this.ctx.state();
    const group = groups.find((g) => g.pattern === st.pattern) ?? groups.find((g) => g.pattern === defaultPattern(groups));
    if (!group) return { tensor: undefined, pattern: undefined, layer: undefined };
    const layer = group.layers.length ? (st.layer !== undefined && group.layers.includes(st.layer) ? st.layer : group.layers[0]) : undefined;
    return { tensor: tensorAt(group, layer), pattern: group.pattern, layer };
  }

  update(): void {
    this.current = undefined;
    this.colourRange.clear();
    this.dirty = true;
    if (this.visible) this.render();
  }

  show(): void {
    this.visible = true;
    if (this.dirty) this.render();
    else {
      this.chart.resize();
      this.ctx.rendered(this.id, { why: 'shown', ms: 0 });
    }
  }

  private render(): void {
    this.dirty = false;
    this.renderControls();
    void this.load(undefined, 'switch');
  }

  private renderControls(): void {
    const { groups } = this.ctx.data();
    const sel = this.selection();
    clear(this.controls);
    if (!sel.pattern) {
      this.controls.append(h('div', { class: 'ken-empty' }, 'This report lists no tensors.'));
      return;
    }
    const group = groups.find((g) => g.pattern === sel.pattern)!;
    const patternSelect = select(patternOptions(groups).map((o) => ({ value: o.pattern, label: o.label })), sel.pattern, (v) => {
      this.ctx.setState({ pattern: v });
      this.render();
    }, { class: 'ken-select-wide', 'aria-label': 'matrix' });
    this.controls.append(h('label', { class: 'ken-field' }, h('span', {}, 'Matrix'), patternSelect));
    if (group.layers.length) {
      const layerSelect = select(group.layers.map((l) => ({ value: String(l), label: `layer ${l}` })), String(sel.layer), (v) => {
        this.ctx.setState({ layer: Number(v) });
        this.renderControls();
        void this.load(undefined, 'switch');
      }, { 'aria-label': 'layer', class: 'ken-select-layer' });
      this.controls.append(h('label', { class: 'ken-field' }, h('span', {}, 'Layer'), layerSelect));
    }
    if (this.kind === 'values' && !this.ctx.staticMode) {
      const reduce = select([{ value: 'absmax', label: 'largest |value|' }, { value: 'mean', label: 'mean' }], this.ctx.state().reduce ?? 'absmax', (v) => {
        this.ctx.setState({ reduce: v === 'mean' ? 'mean' : 'absmax' });
        void this.load(this.current?.window, 'reduce');
      }, { 'aria-label': 'block value', class: 'ken-select-reduce' });
      this.controls.append(h('label', { class: 'ken-field', title: 'What a block of many positions shows when zoomed out' }, h('span', {}, 'Blocks show'), reduce));
    }
    const reset = h('vscode-button', { secondary: true, title: 'Show the whole matrix' }, 'Reset zoom');
    reset.addEventListener('click', () => void this.load(undefined, 'reset'));
    this.controls.append(h('div', { class: 'ken-spacer' }), reset);
  }

  private describe(t: TensorInfo, tile: Tile | undefined): void {
    clear(this.info);
    const parts: (string | HTMLElement)[] = [
      h('span', { class: 'ken-mono' }, t.name),
      `${t.rows}×${t.cols}`,
      `kept ${fmtInt(t.kept)} of ${fmtInt(t.total)} (${pct(t.total ? t.kept / t.total : 1, 2)})`,
      h('vscode-badge', { class: `ken-status ken-status-${t.status}` }, t.status),
    ];
    if (tile) {
      const w = tile.window;
      const res = tile.rowStep === 1 && tile.colStep === 1 ? 'full resolution' : `blocks of ${tile.rowStep}×${tile.colStep}`;
      parts.push(`rows ${w.row0}–${w.row1 - 1}, cols ${w.col0}–${w.col1 - 1}: ${tile.rows}×${tile.cols} cells, ${res}`);
    }
    parts.forEach((p, i) => {
      if (i) this.info.append(h('span', { class: 'ken-sep' }, '·'));
      this.info.append(p);
    });
  }

  private budget(): { maxRows: number; maxCols: number } {
    const w = Math.max(200, this.plotEl.clientWidth - MARGIN.l - MARGIN.r - 90);
    const hgt = Math.max(150, this.plotEl.clientHeight - MARGIN.t - MARGIN.b);
    return cellBudget(w, hgt, Math.min(2, window.devicePixelRatio || 1));
  }

  /** Fetches and draws a tile for `window` (undefined: whole matrix). */
  private async load(window: TileWindow | undefined, why: 'switch' | 'zoom' | 'reset' | 'reduce'): Promise<void> {
    const { tensor } = this.selection();
    if (!tensor) return;
    const started = performance.now();
    const id = ++this.latest;
    this.describe(tensor, undefined);
    this.el.classList.add('ken-loading');
    try {
      const budget = this.budget();
      const reduce = this.kind === 'values' ? (this.ctx.state().reduce ?? 'absmax') : 'mean';
      const query = { tensor: tensor.name, kind: this.kind, maxRows: budget.maxRows, maxCols: budget.maxCols, reduce, ...(window ? { window } : {}) };
      const tile = await this.ctx.requestTile(query);
      if (id !== this.latest) return;
      const fetched = performance.now();
      await this.draw(tensor, tile, why !== 'zoom');
      if (id !== this.latest) return;
      this.current = tile;
      this.describe(tensor, tile);
      const done = performance.now();
      this.ctx.rendered(this.id, { tensor: tensor.name, why, ms: done - started, fetchMs: fetched - started, drawMs: done - fetched, cells: tile.rows * tile.cols });
    } catch (e) {
      if (id === this.latest) this.ctx.notify(e instanceof Error ? e.message : String(e), 'error');
    } finally {
      if (id === this.latest) this.el.classList.remove('ken-loading');
    }
  }

  private async draw(t: TensorInfo, tile: Tile, resetAxes: boolean): Promise<void> {
    const theme = this.ctx.theme();
    const { values } = tileArrays(tile);
    let zmax: number;
    if (this.kind === 'neighbours') zmax = 4;
    else {
      let r = this.colourRange.get(t.name);
      if (r === undefined) {
        r = robustAbsMax(values);
        this.colourRange.set(t.name, r);
      }
      zmax = r;
    }
    const ax = tileAxes(tile);
    const block = tile.rowStep > 1 || tile.colStep > 1;
    const what = this.kind === 'neighbours'
      ? (block ? 'mean kept neighbours %{z:.2f}' : 'kept neighbours %{z}')
      : (block ? `${this.ctx.state().reduce === 'mean' && !this.ctx.staticMode ? 'mean' : 'largest |value|'} %{z:.4g}` : 'value %{z:.4g}');
    const where = block ? `rows ≈ %{y:.0f}, cols ≈ %{x:.0f} (block ${tile.rowStep}×${tile.colStep})` : 'row %{y}, col %{x}';
    const trace = {
      type: 'heatmap',
      z: tileRows(values, tile.rows, tile.cols),
      x0: ax.x0, dx: ax.dx, y0: ax.y0, dy: ax.dy,
      zmin: this.kind === 'neighbours' ? 0 : -zmax,
      zmax,
      ...(this.kind === 'values' ? { zmid: 0 } : {}),
      colorscale: this.kind === 'neighbours' ? neighbourScale(theme.background, theme.foreground) : divergingScale(theme.background, theme.foreground),
      hoverongaps: false,
      hovertemplate: `${where}<br>${what}<extra></extra>`,
      colorbar: { ...colorbarTheme(theme), title: { text: this.kind === 'neighbours' ? 'kept<br>neighbours' : 'value', font: { color: theme.muted } } },
      zsmooth: false,
    };
    const ranges = fullRanges(t.rows, t.cols);
    const gd = this.plotEl as HTMLElement & PlotLayoutState;
    const keep = !resetAxes && gd.layout?.xaxis?.range && gd.layout?.yaxis?.range;
    const layout: Record<string, unknown> = {
      margin: MARGIN,
      uirevision: resetAxes ? `${t.name}:${performance.now()}` : t.name,
      xaxis: { range: keep ? gd.layout!.xaxis!.range : ranges.x, showgrid: false, zeroline: false, title: { text: 'input (column)' }, ticks: 'outside', constrain: 'domain' },
      yaxis: { range: keep ? gd.layout!.yaxis!.range : ranges.y, showgrid: false, zeroline: false, title: { text: 'output unit (row)' }, ticks: 'outside' },
      dragmode: 'zoom',
    };
    const first = !this.chart.isDrawn;
    const el = await this.chart.draw([trace], layout, { doubleClick: 'reset' });
    if (first) el.on('plotly_relayout', (ev) => this.onRelayout(ev));
  }

  private readonly zoomed = debounce(() => {
    const gd = this.plotEl as HTMLElement & PlotLayoutState;
    const { tensor } = this.selection();
    const xr = gd.layout?.xaxis?.range;
    const yr = gd.layout?.yaxis?.range;
    if (!tensor || !xr || !yr) return;
    const w = windowFromRanges(xr, yr, tensor.rows, tensor.cols);
    if (!w) return;
    const full = w.row0 === 0 && w.col0 === 0 && w.row1 === tensor.rows && w.col1 === tensor.cols;
    const cur = this.current;
    // Already at full resolution over a window that holds this one: nothing finer to fetch.
    if (cur && cur.tensor === tensor.name && cur.rowStep === 1 && cur.colStep === 1 && containsWindow(cur.window, w)) {
      this.ctx.rendered(this.id, { tensor: tensor.name, why: 'zoom', ms: 0, fetched: false });
      return;
    }
    void this.load(full ? undefined : w, 'zoom');
  }, 120);

  private onRelayout(ev: unknown): void {
    if (typeof ev !== 'object' || ev === null) return;
    const keys = Object.keys(ev);
    if (keys.some((k) => k.startsWith('xaxis.range') || k.startsWith('yaxis.range') || k.endsWith('autorange'))) this.zoomed();
  }

  retheme(): void {
    const { tensor } = this.selection();
    if (tensor && this.current && this.chart.isDrawn) void this.draw(tensor, this.current, false);
  }

  exportChart(): Chart | undefined {
    return this.chart.isDrawn ? this.chart : undefined;
  }

  hide(): void {
    this.visible = false;
  }
}
