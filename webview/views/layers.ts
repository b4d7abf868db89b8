// Layers view: the same matrix pattern in every layer, side by side (any depth), one colour scale.
import { tileArrays, type Tile } from '../../src/shared/protocol';
import { Chart } from '../chart';
import type { View, ViewContext } from '../context';
import { clear, h, select } from '../dom';
import { divergingScale, neighbourScale, robustAbsMax } from '../logic/colors';
import { pct } from '../logic/format';
import { defaultPattern, gridFor, type PatternGroup } from '../logic/shape';
import { cellBudget, tileAxes, tileRows } from '../logic/tiles';
import { colorbarTheme } from '../logic/theme-layout';

export class LayersView implements View {
  readonly id = 'layers' as const;
  readonly label = 'Layers';
  readonly el: HTMLElement;
  private readonly controls: HTMLElement;
  private readonly plotEl: HTMLElement;
  private readonly note: HTMLElement;
  private readonly chart: Chart;
  private tiles: Tile[] = [];
  private group: PatternGroup | undefined;
  private latest = 0;
  private dirty = true;

  constructor(private readonly ctx: ViewContext) {
    this.controls = h('div', { class: 'ken-controls' });
    this.note = h('div', { class: 'ken-info' });
    this.plotEl = h('div', { class: 'ken-plot ken-plot-layers' });
    this.el = h('div', { class: 'ken-view' }, this.controls, this.note, this.plotEl);
    this.chart = new Chart(this.plotEl, () => ctx.theme());
  }

  private layered(): PatternGroup[] {
    const groups = this.ctx.data().groups;
    const multi = groups.filter((g) => g.layers.length > 1);
    return multi.length ? multi : groups.filter((g) => g.layers.length > 0);
  }

  private pick(): PatternGroup | undefined {
    const groups = this.layered();
    const st = this.ctx.state();
    return groups.find((g) => g.pattern === st.layersPattern) ?? groups.find((g) => g.pattern === st.pattern)
      ?? groups.find((g) => g.pattern === defaultPattern(groups)) ?? groups[0];
  }

  update(): void {
    this.dirty = true;
    this.tiles = [];
    if (this.el.isConnected && this.el.offsetParent !== null) this.show();
  }

  show(): void {
    if (!this.dirty) {
      this.chart.resize();
      this.ctx.rendered(this.id, { why: 'shown', ms: 0 });
      return;
    }
    this.dirty = false;
    this.renderControls();
    void this.load();
  }

  private kind(): 'values' | 'neighbours' {
    return this.ctx.state().layersKind ?? 'values';
  }

  private renderControls(): void {
    clear(this.controls);
    const groups = this.layered();
    const g = this.pick();
    if (!g) {
      this.controls.append(h('div', { class: 'ken-empty' }, 'No tensor of this model sits in numbered layers, so there is nothing to compare across layers.'));
      return;
    }
    this.controls.append(
      h('label', { class: 'ken-field' }, h('span', {}, 'Matrix'), select(groups.map((x) => ({ value: x.pattern, label: `${x.pattern}  (${x.layers.length} layers)` })), g.pattern, (v) => {
        this.ctx.setState({ layersPattern: v });
        void this.load();
      }, { class: 'ken-select-wide', 'aria-label': 'matrix pattern' })),
      h('label', { class: 'ken-field' }, h('span', {}, 'Show'), select([{ value: 'values', label: 'kept values' }, { value: 'neighbours', label: 'kept neighbours' }], this.kind(), (v) => {
        this.ctx.setState({ layersKind: v === 'neighbours' ? 'neighbours' : 'values' });
        void this.load();
      }, { 'aria-label': 'what to show', class: 'ken-select-kind' })),
    );
  }

  private async load(): Promise<void> {
    const g = this.pick();
    if (!g) return;
    const id = ++this.latest;
    const started = performance.now();
    const n = g.tensors.length;
    const w = Math.max(300, this.plotEl.clientWidth - 120);
    const hgt = Math.max(200, this.plotEl.clientHeight - 20);
    const grid = gridFor(n, g.cols / Math.max(1, g.rows), w / hgt);
    const per = cellBudget(w / grid.cols, hgt / grid.rows - 18, Math.min(2, window.devicePixelRatio || 1));
    this.el.classList.add('ken-loading');
    try {
      const kind = this.kind();
      const tiles = await Promise.all(g.tensors.map((t) => this.ctx.requestTile({ tensor: t.name, kind, maxRows: per.maxRows, maxCols: per.maxCols, reduce: 'absmax' })));
      if (id !== this.latest) return;
      this.tiles = tiles;
      this.group = g;
      await this.draw();
      const kept = g.tensors.reduce((s, t) => s + t.kept, 0);
      const total = g.tensors.reduce((s, t) => s + t.total, 0);
      clear(this.note);
      this.note.append(`${n} layers of ${g.rows}×${g.cols}; kept ${pct(total ? kept / total : 1, 2)} overall. Same colour scale in every panel.`);
      this.ctx.rendered(this.id, { pattern: g.pattern, ms: performance.now() - started, panels: n });
    } catch (e) {
      if (id === this.latest) this.ctx.notify(e instanceof Error ? e.message : String(e), 'error');
    } finally {
      if (id === this.latest) this.el.classList.remove('ken-loading');
    }
  }

  private async draw(): Promise<void> {
    const g = this.group;
    if (!g || !this.tiles.length) return;
    const theme = this.ctx.theme();
    const kind = this.tiles[0]!.kind;
    const n = this.tiles.length;
    const grid = gridFor(n, g.cols / Math.max(1, g.rows), Math.max(300, this.plotEl.clientWidth - 120) / Math.max(200, this.plotEl.clientHeight - 20));
    let zmax = 4;
    if (kind === 'values') {
      const all = this.tiles.map((t) => robustAbsMax(tileArrays(t).values));
      zmax = Math.max(...all);
    }
    const gapX = 0.02;
    const gapY = 0.06;
    const layout: Record<string, unknown> = {
      margin: { l: 8, r: 8, t: 22, b: 8 },
      coloraxis: {
        cmin: kind === 'values' ? -zmax : 0, cmax: zmax, ...(kind === 'values' ? { cmid: 0 } : {}),
        colorscale: kind === 'values' ? divergingScale(theme.background, theme.foreground) : neighbourScale(theme.background, theme.foreground),
        colorbar: { ...colorbarTheme(theme), title: { text: kind === 'values' ? 'value' : 'kept<br>neighbours', font: { color: theme.muted } } },
      },
      annotations: [] as object[],
      showlegend: false,
    };
    const data: object[] = [];
    this.tiles.forEach((tile, i) => {
      const r = Math.floor(i / grid.cols);
      const c = i % grid.cols;
      const sfx = i === 0 ? '' : String(i + 1);
      const x0 = c / grid.cols + gapX / 2;
      const x1 = (c + 1) / grid.cols - gapX / 2;
      const y1 = 1 - r / grid.rows - gapY / 2;
      const y0 = 1 - (r + 1) / grid.rows + gapY / 2;
      const t = g.tensors[i]!;
      const ax = tileAxes(tile);
      const { values } = tileArrays(tile);
      data.push({
        type: 'heatmap', z: tileRows(values, tile.rows, tile.cols), x0: ax.x0, dx: ax.dx, y0: ax.y0, dy: ax.dy,
        coloraxis: 'coloraxis', xaxis: `x${sfx}`, yaxis: `y${sfx}`, hoverongaps: false, zsmooth: false,
        hovertemplate: `layer ${t.layer}<br>rows ≈ %{y:.0f}, cols ≈ %{x:.0f}<br>${kind === 'values' ? 'value %{z:.4g}' : 'kept neighbours %{z:.2f}'}<extra></extra>`,
      });
      layout[`xaxis${sfx}`] = { domain: [x0, x1], range: [-0.5, t.cols - 0.5], showticklabels: false, showgrid: false, zeroline: false, ticks: '', anchor: `y${sfx}`, fixedrange: true };
      layout[`yaxis${sfx}`] = { domain: [y0, y1], range: [t.rows - 0.5, -0.5], showticklabels: false, showgrid: false, zeroline: false, ticks: '', anchor: `x${sfx}`, fixedrange: true };
      (layout['annotations'] as object[]).push({
        text: `layer ${t.layer} · ${pct(t.total ? t.kept / t.total : 1, 1)}`, xref: 'paper', yref: 'paper', x: (x0 + x1) / 2, y: y1, yanchor: 'bottom',
        showarrow: false, font: { size: theme.fontSize - 1, color: theme.muted },
      });
    });
    await this.chart.draw(data, layout);
  }

  retheme(): void {
    if (this.chart.isDrawn) void this.draw();
  }

  exportChart(): Chart | undefined {
    return this.chart.isDrawn ? this.chart : undefined;
  }
}
