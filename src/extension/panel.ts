// The KEN_viz panel: a webview with a strict CSP whose resources come only from the extension's
// dist/ folder, talking the typed protocol through a PanelSession (which answers tile requests from
// the output folder's subnetwork). Panels survive reloads through the serializer.
import * as vscode from 'vscode';
import { randomBytes } from 'node:crypto';
import { basename, join } from 'node:path';
import type { ThemeKind, TimelinePoint } from '../shared/protocol';
import { PanelSession } from '../report/panel-session';
import { VizDataSource } from '../report/viz-data';
import { webviewHtml } from '../report/webview-html';
import type { WatchUpdate } from '../workflows/watch';
import type { Services } from './services';

export const VIEW_TYPE = 'kenViz';

function themeKind(kind: vscode.ColorThemeKind): ThemeKind {
  switch (kind) {
    case vscode.ColorThemeKind.Light:
      return 'light';
    case vscode.ColorThemeKind.HighContrast:
      return 'high-contrast';
    case vscode.ColorThemeKind.HighContrastLight:
      return 'high-contrast-light';
    default:
      return 'dark';
  }
}

/** A watcher update as the timeline shows it. */
export function timelinePoint(u: WatchUpdate): TimelinePoint {
  const p: TimelinePoint = {
    step: u.step,
    keptRatio: u.keptRatio,
    drift: u.layers.map((l) => ({ layer: l.layer, meanAbsDelta: l.meanAbsDelta, movedFraction: l.fractionMoved })),
    overlap: Object.entries(u.jaccard).map(([tensor, jaccard]) => ({ tensor, jaccard })),
    time: new Date().toISOString(),
    label: basename(u.path),
  };
  if (u.accuracy !== undefined) p.accuracy = u.accuracy;
  return p;
}

export class KenPanel implements vscode.Disposable {
  private session: PanelSession;
  private readonly disposables: vscode.Disposable[] = [];
  private disposed = false;

  constructor(
    private readonly s: Services,
    readonly panel: vscode.WebviewPanel,
    data: VizDataSource | undefined,
    readonly folder: string,
    private readonly onDispose: (p: KenPanel) => void,
    readonly watchRun?: string,
  ) {
    const dist = vscode.Uri.joinPath(s.context.extensionUri, 'dist');
    panel.webview.options = { enableScripts: true, localResourceRoots: [dist] };
    this.session = this.makeSession(data);
    const asset = (f: string): string => panel.webview.asWebviewUri(vscode.Uri.joinPath(dist, f)).toString();
    panel.webview.html = webviewHtml({
      cspSource: panel.webview.cspSource,
      nonce: randomBytes(18).toString('base64url'),
      scriptUris: [asset('plotly.min.js'), asset('webview.js')],
      styleUris: [asset('webview.css')],
      title: `KEN: ${basename(folder)}`,
    });
    this.disposables.push(
      panel.webview.onDidReceiveMessage((raw) => void this.session.receive(raw)),
      vscode.window.onDidChangeActiveColorTheme((t) => this.session.theme(themeKind(t.kind))),
      panel.onDidDispose(() => this.dispose()),
    );
  }

  private makeSession(data: VizDataSource | undefined): PanelSession {
    const folder = this.folder;
    return new PanelSession({
      post: (m) => this.panel.webview.postMessage(m),
      data,
      extras: () => ({ theme: themeKind(vscode.window.activeColorTheme.kind), ...(this.watchRun ? { source: `watching ${this.watchRun}`, title: `KEN watch: ${basename(this.watchRun)}` } : {}) }),
      onExportJson: async (m, json) => {
        const target = await vscode.window.showSaveDialog({ defaultUri: vscode.Uri.file(join(folder, m.suggestedName ?? 'ken-report.json')), filters: { JSON: ['json'] } });
        if (!target) return;
        await vscode.workspace.fs.writeFile(target, Buffer.from(json));
        return `saved ${basename(target.fsPath)}`;
      },
      onExportPng: async (m, png) => {
        const target = await vscode.window.showSaveDialog({ defaultUri: vscode.Uri.file(join(folder, m.suggestedName)), filters: { PNG: ['png'] } });
        if (!target) return;
        await vscode.workspace.fs.writeFile(target, png);
        return `saved ${basename(target.fsPath)}`;
      },
      onLog: (m) => this.s.log[m.level](`panel: ${m.message}`),
      onOpenFile: (path) => vscode.window.showTextDocument(vscode.Uri.file(path), { preview: true }),
      onInvalid: (raw) => this.s.log.warn(`panel: ignored a malformed message (${JSON.stringify(raw).slice(0, 120)})`),
    });
  }

  /** A watcher checkpoint: its point on the timeline, and its matrices as the panel's data. */
  async watchUpdate(u: WatchUpdate): Promise<void> {
    if (u.record) this.session.reportUpdated(await VizDataSource.open(u.record));
    this.session.timelinePoint(timelinePoint(u));
  }

  /** The report exists now (a pending panel), or the output folder was pruned again. */
  async load(folder: string): Promise<void> {
    this.session.setData(await VizDataSource.open(folder));
  }

  /** While the prune runs: its progress, in the panel. */
  pending(title: string, message: string, progress?: number): void {
    this.session.pending(progress === undefined ? { title, message } : { title, message, progress });
  }

  reveal(): void {
    this.panel.reveal(undefined, false);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.session.dispose();
    for (const d of this.disposables) d.dispose();
    this.onDispose(this);
    this.panel.dispose();
  }
}

/** All KEN panels: one per output folder, one per watched run; restored after a reload. */
export class KenPanels implements vscode.Disposable, vscode.WebviewPanelSerializer {
  private readonly byFolder = new Map<string, KenPanel>();
  private readonly byRun = new Map<string, KenPanel>();

  constructor(private readonly s: Services) {}

  private column(): vscode.ViewColumn {
    return vscode.window.activeTextEditor ? vscode.ViewColumn.Beside : vscode.ViewColumn.Active;
  }

  /** Opens (or reveals) the panel of a KEN output folder. */
  async open(folder: string): Promise<KenPanel> {
    const existing = this.byFolder.get(folder);
    if (existing) {
      await existing.load(folder);
      existing.reveal();
      return existing;
    }
    const data = await VizDataSource.open(folder);
    return this.adopt(this.createPanel(`KEN: ${basename(folder)}`, false), data, folder);
  }

  /**
   * Opens the panel of an output folder that a running prune is about to write, so the webview has
   * loaded by the time the report exists; open() then fills it.
   */
  openPending(folder: string): KenPanel {
    return this.byFolder.get(folder) ?? this.adopt(this.createPanel(`KEN: ${basename(folder)}`, true), undefined, folder);
  }

  private createPanel(title: string, preserveFocus: boolean): vscode.WebviewPanel {
    return vscode.window.createWebviewPanel(VIEW_TYPE, title, { viewColumn: this.column(), preserveFocus }, {
      enableScripts: true,
      localResourceRoots: [vscode.Uri.joinPath(this.s.context.extensionUri, 'dist')],
    });
  }

  private adopt(panel: vscode.WebviewPanel, data: VizDataSource | undefined, folder: string, watchRun?: string): KenPanel {
    panel.iconPath = vscode.Uri.joinPath(this.s.context.extensionUri, 'media', 'ken.svg');
    const p = new KenPanel(this.s, panel, data, folder, (gone) => {
      if (this.byFolder.get(folder) === gone) this.byFolder.delete(folder);
      if (watchRun && this.byRun.get(watchRun) === gone) this.byRun.delete(watchRun);
    }, watchRun);
    if (watchRun) this.byRun.set(watchRun, p);
    else this.byFolder.set(folder, p);
    return p;
  }

  /** A watcher update: the run's panel shows it (opened on the first checkpoint). */
  async watchUpdate(runDir: string, u: WatchUpdate): Promise<void> {
    let p = this.byRun.get(runDir);
    if (!p) {
      if (!u.record) return;
      const data = await VizDataSource.open(u.record);
      p = this.adopt(this.createPanel(`KEN watch: ${basename(runDir)}`, true), data, u.record, runDir);
    }
    await p.watchUpdate(u);
  }

  panelFor(folder: string): KenPanel | undefined {
    return this.byFolder.get(folder);
  }

  /** Restores a panel after a window reload from the folder the webview remembered. */
  async deserializeWebviewPanel(panel: vscode.WebviewPanel, state: unknown): Promise<void> {
    const folder = typeof state === 'object' && state !== null ? (state as { source?: unknown }).source : undefined;
    try {
      if (typeof folder !== 'string') throw new Error('no folder remembered');
      this.adopt(panel, await VizDataSource.open(folder), folder);
    } catch (e) {
      this.s.log.info(`could not restore a KEN panel (${e instanceof Error ? e.message : String(e)})`);
      panel.dispose();
    }
  }

  dispose(): void {
    for (const p of [...this.byFolder.values(), ...this.byRun.values()]) p.dispose();
  }
}
