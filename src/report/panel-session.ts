// The host side of one KEN panel, without VS Code: validates what the webview sends, holds messages
// until the webview said `ready` (and re-sends `init` when it reloads), answers tile requests from a
// VizDataSource, and hands exports, logs and file opens to the host's callbacks.
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { oneLine } from '../errors';
import {
  isWebviewMessage,
  type PendingMessage,
  type ExportJsonMessage, type ExportPngMessage, type HostMessage, type LogMessage, type ThemeKind, type TimelinePoint, type WebviewMessage,
} from '../shared/protocol';
import type { InitExtras, VizDataSource } from './viz-data';

export interface PanelSessionOptions {
  /** Posts to the webview (VS Code: `panel.webview.postMessage`). Typed arrays travel as they are. */
  post: (message: HostMessage) => unknown;
  /** The output folder's data; absent while it is being made (see pending() and setData()). */
  data?: VizDataSource | undefined;
  /** Title, accuracy, sweep, timeline, theme for `init`; called on every (re)load of the webview. */
  extras?: () => InitExtras;
  /** Save the report JSON; resolve with a note to show (e.g. the path written), reject to show an error. */
  onExportJson?: (message: ExportJsonMessage, json: string) => Promise<string | void>;
  /** Save a PNG (bytes already decoded from the data URL). */
  onExportPng?: (message: ExportPngMessage, png: Uint8Array) => Promise<string | void>;
  /** Errors and notes from the webview. */
  onLog?: (message: LogMessage) => void;
  /** Open a file of the output folder (an absolute path already checked to lie inside it). */
  onOpenFile?: (path: string) => unknown;
  /** Something posted that is no valid message (logged by the host, otherwise ignored). */
  onInvalid?: (raw: unknown) => void;
}

/** One webview panel's conversation. Call receive() from onDidReceiveMessage. */
export class PanelSession {
  private ready = false;
  private queue: HostMessage[] = [];
  private timeline: TimelinePoint[] | undefined;
  private readonly aborter = new AbortController();
  private data: VizDataSource | undefined;
  private pendingMessage: PendingMessage | undefined;

  constructor(private readonly opts: PanelSessionOptions) {
    this.data = opts.data;
  }

  get folder(): string | undefined {
    return this.data?.folder;
  }

  /** While the report is being made: what the panel shows meanwhile (the latest wins). */
  pending(message: Omit<PendingMessage, 'type'>): void {
    if (this.data) return;
    this.pendingMessage = { type: 'pending', ...message };
    if (this.ready) this.opts.post(this.pendingMessage);
  }

  /** The report exists now: the webview gets its first `init`. */
  setData(data: VizDataSource): void {
    const first = !this.data;
    this.data = data;
    this.pendingMessage = undefined;
    if (!this.ready) return;
    if (first) this.opts.post(data.initMessage(this.initExtras()));
    else this.reportUpdated(data);
  }

  get isReady(): boolean {
    return this.ready;
  }

  /** Sends now when the webview is ready, otherwise once it is. */
  send(message: HostMessage): void {
    if (this.ready) this.opts.post(message);
    else this.queue.push(message);
  }

  /** Handles one raw message from the webview; resolves once it is answered. */
  async receive(raw: unknown): Promise<void> {
    if (!isWebviewMessage(raw)) {
      this.opts.onInvalid?.(raw);
      return;
    }
    await this.dispatch(raw);
  }

  private async dispatch(m: WebviewMessage): Promise<void> {
    switch (m.type) {
      case 'ready': {
        // A reloaded webview says ready again: it needs init again; queued messages follow it.
        this.ready = true;
        if (!this.data) {
          if (this.pendingMessage) this.opts.post(this.pendingMessage);
          return;
        }
        const init = this.data.initMessage(this.initExtras());
        this.opts.post(init);
        const queued = this.queue.filter((q) => q.type !== 'report-updated' && q.type !== 'timeline-point');
        this.queue = [];
        for (const q of queued) this.opts.post(q);
        return;
      }
      case 'request-tile':
        if (!this.data) this.send({ type: 'error', inReplyTo: m.requestId, message: 'the report is not ready yet' });
        else this.send(await this.data.handle(m, this.aborter.signal));
        return;
      case 'export-json': {
        const report = this.data?.report;
        await this.answer(m.requestId, async () => {
          if (!report) throw new Error('the report is not ready yet');
          return this.opts.onExportJson?.(m, JSON.stringify(report, null, 2) + '\n');
        });
        return;
      }
      case 'export-png':
        await this.answer(m.requestId, async () => this.opts.onExportPng?.(m, decodePngDataUrl(m.dataUrl)));
        return;
      case 'log':
        this.opts.onLog?.(m);
        return;
      case 'open-file': {
        const path = this.data ? insideFolder(this.data.folder, m.path) : undefined;
        if (path) await this.opts.onOpenFile?.(path);
        else this.opts.onInvalid?.(m);
        return;
      }
    }
  }

  private async answer(requestId: number, work: () => Promise<string | void>): Promise<void> {
    try {
      const note = await work();
      this.send(note ? { type: 'done', inReplyTo: requestId, message: note } : { type: 'done', inReplyTo: requestId });
    } catch (e) {
      this.send({ type: 'error', inReplyTo: requestId, message: oneLine(e) });
    }
  }

  private initExtras(): InitExtras {
    const extras = { ...(this.opts.extras?.() ?? {}) };
    if (this.timeline && !extras.timeline) extras.timeline = { points: this.timeline };
    return extras;
  }

  /** A live watcher saw a checkpoint: kept for reloads and sent to the webview. */
  timelinePoint(point: TimelinePoint): void {
    (this.timeline ??= []).push(point);
    if (this.ready) this.opts.post({ type: 'timeline-point', point });
  }

  /** The output folder was pruned again: switch to the new data and tell the webview. */
  reportUpdated(data: VizDataSource): void {
    this.data = data;
    const init = data.initMessage(this.initExtras());
    const msg: HostMessage = {
      type: 'report-updated', report: init.report, tensors: init.tensors, backend: init.backend, executionProvider: init.executionProvider,
      title: init.title, source: init.source,
    };
    if (init.accuracy) msg.accuracy = init.accuracy;
    if (init.sweep) msg.sweep = init.sweep;
    if (this.ready) this.opts.post(msg);
  }

  theme(kind: ThemeKind): void {
    if (this.ready) this.opts.post({ type: 'theme-changed', kind });
  }

  /** The panel closed (or its webview is going away): stop answering. */
  dispose(): void {
    this.aborter.abort();
    this.ready = false;
    this.queue = [];
  }
}

/** The bytes of a data:image/png;base64 URL (the guard already checked its prefix). */
export function decodePngDataUrl(url: string): Uint8Array {
  const comma = url.indexOf(',');
  const bytes = Buffer.from(url.slice(comma + 1), 'base64');
  const PNG = [0x89, 0x50, 0x4e, 0x47];
  if (bytes.length < 8 || PNG.some((b, i) => bytes[i] !== b)) throw new Error('the chart image is not a PNG');
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** `path` (absolute, or relative to `folder`) resolved, when it lies inside `folder`. */
export function insideFolder(folder: string, path: string): string | undefined {
  const abs = isAbsolute(path) ? resolve(path) : resolve(folder, path);
  const rel = relative(resolve(folder), abs);
  if (rel === '' || rel.startsWith('..') || rel.startsWith(sep) || isAbsolute(rel)) return undefined;
  return abs;
}
