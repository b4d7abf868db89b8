// The KEN panel app: header (title, what ran, exports), tabs of views, the conversation with the host.
import { PROTOCOL_VERSION, type HostMessage, type InitMessage, type ReportUpdatedMessage, type Tile } from '../src/shared/protocol';
import type { ChartTheme } from './logic/theme-layout';
import type { AppData, PersistedState, TabId, TileQuery, View, ViewContext } from './context';
import { clear, h } from './dom';
import { backendBadge, fmtBytes, fmtInt, pct } from './logic/format';
import { Requests } from './logic/requests';
import { patternGroups } from './logic/shape';
import { readTheme, watchTheme } from './theme';
import type { Transport } from './transport';
import { AccuracyView } from './views/accuracy';
import { metricCards } from './logic/metrics';
import { LayersView } from './views/layers';
import { MatrixView } from './views/matrix';
import { RatiosView } from './views/ratios';
import { TimelineView } from './views/timeline';
import { MethodsView } from './views/methods';
import { showMethodsView } from './logic/methods';

const TILE_CACHE = 48;

export class App implements ViewContext {
  private dataValue: AppData | undefined;
  private themeValue: ChartTheme;
  private persisted: PersistedState;
  private readonly requests = new Requests();
  private readonly tileCache = new Map<string, Promise<Tile>>();
  private views: View[] = [];
  private tabs: HTMLElement | undefined;
  private readonly header: HTMLElement;
  private readonly note: HTMLElement;
  private readonly main: HTMLElement;
  private noteTimer: ReturnType<typeof setTimeout> | undefined;
  private firstView = true;

  constructor(root: HTMLElement, private readonly transport: Transport) {
    this.persisted = transport.getState<PersistedState>() ?? {};
    if (transport.kind === 'static' && this.persisted.theme) this.applyStaticTheme(this.persisted.theme);
    this.themeValue = readTheme();
    this.note = h('span', { class: 'ken-note', role: 'status', 'aria-live': 'polite' });
    this.header = h('header', { class: 'ken-header' });
    this.main = h('main', { class: 'ken-main' }, h('div', { class: 'ken-loading-state' }, 'Loading the KEN report…'));
    clear(root);
    root.append(this.header, this.main);
    transport.onMessage((m) => this.onMessage(m));
    watchTheme(() => this.retheme());
  }

  /** Says `ready`; the host answers with `init`. */
  start(): void {
    this.transport.post({ type: 'ready', protocolVersion: PROTOCOL_VERSION });
  }

  get staticMode(): boolean {
    return this.transport.kind === 'static';
  }

  data(): AppData {
    if (!this.dataValue) throw new Error('no report yet');
    return this.dataValue;
  }

  theme(): ChartTheme {
    return this.themeValue;
  }

  state(): PersistedState {
    return this.persisted;
  }

  setState(patch: Partial<PersistedState>): void {
    this.persisted = { ...this.persisted, ...patch };
    this.transport.setState(this.persisted);
  }

  requestTile(q: TileQuery): Promise<Tile> {
    const key = JSON.stringify([q.tensor, q.kind, q.reduce ?? '', q.window ?? null, q.maxRows, q.maxCols]);
    const hit = this.tileCache.get(key);
    if (hit) {
      this.tileCache.delete(key);
      this.tileCache.set(key, hit);
      return hit;
    }
    const { requestId, answer } = this.requests.open();
    const p = answer.then((m) => {
      if (m.type !== 'tile') throw new Error('the host answered a tile request with no tile');
      return m.tile;
    });
    p.catch(() => this.tileCache.delete(key));
    this.tileCache.set(key, p);
    while (this.tileCache.size > TILE_CACHE) this.tileCache.delete(this.tileCache.keys().next().value!);
    this.transport.post({ type: 'request-tile', requestId, ...q });
    return p;
  }

  notify(message: string, kind: 'info' | 'error' = 'info'): void {
    this.note.textContent = message;
    this.note.className = `ken-note ken-note-${kind}`;
    if (this.noteTimer) clearTimeout(this.noteTimer);
    this.noteTimer = setTimeout(() => (this.note.textContent = ''), kind === 'error' ? 12000 : 5000);
    if (kind === 'error') this.transport.post({ type: 'log', level: 'error', message: `webview: ${message}`.slice(0, 16000) });
  }

  rendered(view: TabId, detail: Record<string, unknown>): void {
    const at = performance.now();
    if (this.firstView) {
      this.firstView = false;
      performance.mark('ken-first-view');
    }
    document.body.dataset['readyView'] = view;
    document.body.dataset['ready'] = 'true';
    document.dispatchEvent(new CustomEvent('ken:rendered', { detail: { view, at, ...detail } }));
  }

  private onMessage(m: HostMessage): void {
    if (this.requests.settle(m)) {
      if (m.type === 'done' && m.message) this.notify(m.message);
      return;
    }
    switch (m.type) {
      case 'init':
        this.setData(m, true);
        return;
      case 'pending':
        if (!this.dataValue) this.showPending(m.title, m.message, m.progress);
        return;
      case 'report-updated':
        this.requests.cancelAll('the report changed');
        this.tileCache.clear();
        this.setData(m, false);
        this.notify('Report updated');
        return;
      case 'timeline-point': {
        const d = this.dataValue;
        if (!d) return;
        const fresh = d.timeline === undefined;
        d.timeline = [...(d.timeline ?? []), m.point];
        if (fresh) this.buildTabs();
        this.views.find((v) => v.id === 'timeline')?.timelinePoint?.();
        return;
      }
      case 'theme-changed':
        this.retheme();
        return;
      case 'error':
        this.notify(m.message, 'error');
        return;
      default:
        return;
    }
  }

  /** Before the report exists (a prune still running): what is happening, and how far it is. */
  private showPending(title: string, message: string, progress: number | undefined): void {
    clear(this.main);
    const bar = h('div', { class: 'ken-pending-bar' }, h('div', { class: 'ken-pending-fill' }));
    if (progress !== undefined) (bar.firstElementChild as HTMLElement).style.width = `${Math.round(progress * 100)}%`;
    else bar.classList.add('ken-pending-indeterminate');
    this.main.append(h('div', { class: 'ken-loading-state', 'data-testid': 'pending' },
      h('div', { class: 'ken-pending-title' }, title), h('div', {}, message), bar));
  }

  private setData(m: InitMessage | ReportUpdatedMessage, first: boolean): void {
    const prev = this.dataValue;
    const report = m.report;
    this.dataValue = {
      report, tensors: m.tensors, groups: patternGroups(m.tensors),
      title: m.title ?? prev?.title ?? 'KEN', source: m.source ?? prev?.source ?? '',
      backend: m.backend, executionProvider: m.executionProvider,
      accuracy: m.accuracy ?? report.accuracy, sweep: m.sweep ?? report.sweep,
      timeline: m.type === 'init' ? m.timeline?.points : prev?.timeline,
    };
    if (this.persisted.source !== this.dataValue.source) this.setState({ source: this.dataValue.source });
    this.renderHeader();
    // a report that gains (or loses) a comparison of methods or a timeline gets its tabs again
    if (first || !this.tabs || this.tabIds().join() !== this.views.map((v) => v.id).join()) this.buildTabs();
    else for (const v of this.views) v.update();
  }

  private renderHeader(): void {
    const d = this.data();
    clear(this.header);
    const exportPng = h('vscode-button', { secondary: true, title: 'Save the chart of this tab as PNG' }, 'Export PNG');
    exportPng.addEventListener('click', () => void this.exportPng());
    const exportJson = h('vscode-button', { secondary: true, title: 'Save ken-report.json' }, 'Export JSON');
    exportJson.addEventListener('click', () => {
      const { requestId, answer } = this.requests.open();
      answer.catch((e: unknown) => this.notify(e instanceof Error ? e.message : String(e), 'error'));
      this.transport.post({ type: 'export-json', requestId, suggestedName: 'ken-report.json' });
    });
    const actions = h('div', { class: 'ken-actions' }, this.note, exportPng, exportJson);
    if (!this.staticMode) {
      const open = h('vscode-button', { secondary: true, title: 'Open ken-report.json in an editor' }, 'Open JSON');
      open.addEventListener('click', () => this.transport.post({ type: 'open-file', path: 'ken-report.json' }));
      actions.insertBefore(open, exportPng);
    }
    if (this.staticMode) {
      const toggle = h('vscode-button', { secondary: true, title: 'Switch between the light and the dark theme' }, 'Light / Dark');
      toggle.addEventListener('click', () => {
        const next = document.body.classList.contains('vscode-dark') ? 'light' : 'dark';
        this.applyStaticTheme(next);
        this.setState({ theme: next });
      });
      actions.append(toggle);
    }
    this.header.append(
      h('div', { class: 'ken-title-block' },
        h('div', { class: 'ken-title-row' },
          h('h1', { class: 'ken-title' }, d.title),
          h('vscode-badge', { class: 'ken-ep', 'data-testid': 'provider', title: `KEN ran on backend ${d.backend} with ${d.executionProvider}` }, backendBadge(d.backend, d.executionProvider)),
          d.report.compare
            ? h('vscode-badge', { class: 'ken-k', 'data-testid': 'compare', title: `kept = where the model differs from ${d.report.compare.base}` }, 'compared with base')
            : h('vscode-badge', { class: 'ken-k', title: `values kept per row${d.report.kernel && d.report.kernel !== 'gaussian' ? `, ${d.report.kernel} kernel` : ''}` }, `k = ${d.report.k}${d.report.kernel && d.report.kernel !== 'gaussian' ? ` · ${d.report.kernel}` : ''}`)),
        this.summaryLine(),
        h('div', { class: 'ken-source', title: d.source }, d.source)),
      actions);
  }

  /** Kept ratio, subnetwork size and accuracy before/after: the figures a user looks for first. */
  private summaryLine(): HTMLElement {
    const d = this.data();
    const r = d.report;
    const parts: (HTMLElement | string)[] = [
      'kept ', h('strong', { 'data-testid': 'kept-ratio' }, pct(r.keptRatio)),
      ` (${fmtInt(r.keptParams)} of ${fmtInt(r.totalParams)} parameters)`,
    ];
    if (r.bytes) parts.push(` · subnetwork ${fmtBytes(r.bytes.subnetwork)} of ${fmtBytes(r.bytes.checkpoint)}`);
    const after = d.accuracy?.after.metrics;
    if (d.accuracy && after && after.kind !== 'single_label') {
      // other tasks: their first measure (entity F1, exact match, perplexity, ...)
      const card = metricCards(d.accuracy.before.metrics, after)[0];
      if (card) {
        const show = (x: number | undefined): string => (x === undefined ? '–' : card.format === 'pct' ? pct(x, 2) : x.toFixed(4));
        parts.push(` · ${card.label.toLowerCase()} `, h('strong', {}, show(card.before)), ' → ', h('strong', {}, show(card.after)));
      }
    } else if (d.accuracy) {
      parts.push(' · accuracy ', h('strong', { 'data-testid': 'accuracy-before' }, pct(d.accuracy.before.accuracy, 2)), ' → ',
        h('strong', { 'data-testid': 'accuracy-after' }, pct(d.accuracy.after.accuracy, 2)));
    }
    return h('div', { class: 'ken-summary' }, ...parts);
  }

  private applyStaticTheme(theme: 'light' | 'dark'): void {
    document.body.classList.remove('vscode-light', 'vscode-dark');
    document.body.classList.add(`vscode-${theme}`);
    document.body.dataset['vscodeThemeKind'] = `vscode-${theme}`;
  }

  /** The tabs the data calls for, in order. */
  private tabIds(): TabId[] {
    const d = this.data();
    const ids: TabId[] = ['matrix', 'neighbours', 'layers', 'ratios', 'accuracy'];
    if (showMethodsView(d.sweep)) ids.push('methods');
    if (d.timeline !== undefined) ids.push('timeline');
    return ids;
  }

  private buildTabs(): void {
    const views: View[] = this.tabIds().map((id): View => {
      switch (id) {
        case 'matrix': return new MatrixView('matrix', 'Matrix', 'values', this);
        case 'neighbours': return new MatrixView('neighbours', 'Neighbours', 'neighbours', this);
        case 'layers': return new LayersView(this);
        case 'ratios': return new RatiosView(this);
        case 'accuracy': return new AccuracyView(this);
        case 'methods': return new MethodsView(this);
        case 'timeline': return new TimelineView(this);
      }
    });
    this.views = views;
    const tabs = h('vscode-tabs', { panel: true, class: 'ken-tabs' });
    for (const v of views) {
      tabs.append(h('vscode-tab-header', { slot: 'header', 'data-view': v.id, 'data-testid': `tab-${v.id}` }, v.label));
      tabs.append(h('vscode-tab-panel', { class: 'ken-panel', 'data-view': v.id }, v.el));
    }
    const wanted = this.persisted.tab && views.some((v) => v.id === this.persisted.tab) ? this.persisted.tab : 'matrix';
    const index = Math.max(0, views.findIndex((v) => v.id === wanted));
    tabs.setAttribute('selected-index', String(index));
    tabs.addEventListener('vsc-tabs-select', (e) => {
      const i = (e as CustomEvent<{ selectedIndex: number }>).detail.selectedIndex;
      const v = this.views[i];
      if (!v) return;
      this.setState({ tab: v.id });
      document.body.dataset['ready'] = 'false';
      requestAnimationFrame(() => v.show());
    });
    clear(this.main);
    this.main.append(tabs);
    this.tabs = tabs;
    requestAnimationFrame(() => views[index]!.show());
  }

  private current(): View | undefined {
    const i = Number((this.tabs as (HTMLElement & { selectedIndex?: number }) | undefined)?.selectedIndex ?? 0);
    return this.views[i];
  }

  private async exportPng(): Promise<void> {
    const v = this.current();
    const chart = v?.exportChart();
    if (!v || !chart) {
      this.notify('This tab has no chart to export yet', 'error');
      return;
    }
    try {
      const dataUrl = await chart.toPng();
      const { requestId, answer } = this.requests.open();
      answer.catch((e: unknown) => this.notify(e instanceof Error ? e.message : String(e), 'error'));
      const base = (this.persisted.pattern ?? this.data().title).replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._]+/, '').slice(0, 80) || 'chart';
      this.transport.post({ type: 'export-png', requestId, dataUrl, suggestedName: `ken-${v.id}-${base}.png` });
    } catch (e) {
      this.notify(`PNG export failed: ${e instanceof Error ? e.message : String(e)}`, 'error');
    }
  }

  private retheme(): void {
    this.themeValue = readTheme();
    for (const v of this.views) v.retheme();
  }
}
