// How the app talks to whoever holds the data: the VS Code extension host (postMessage), or, in the
// self-contained HTML report, the embedded data answered right here.
import {
  PROTOCOL_VERSION, STATIC_DATA_ID, isHostMessage, isStaticReportData,
  type HostMessage, type StaticReportData, type StaticTile, type WebviewMessage,
} from '../src/shared/protocol';
import { decodeStaticTile, reduceStaticTile, type DecodedStaticTile } from './logic/tiles';

export interface Transport {
  readonly kind: 'vscode' | 'static';
  post(message: WebviewMessage): void;
  /** Valid host messages only; anything else is dropped (and logged). */
  onMessage(handler: (message: HostMessage) => void): void;
  getState<T>(): T | undefined;
  setState<T>(state: T): void;
}

/** Inside VS Code: acquireVsCodeApi, window message events, getState/setState for reloads. */
export class VsCodeTransport implements Transport {
  readonly kind = 'vscode';
  constructor(private readonly api: VsCodeApi) {}

  post(message: WebviewMessage): void {
    this.api.postMessage(message);
  }

  onMessage(handler: (message: HostMessage) => void): void {
    window.addEventListener('message', (e: MessageEvent) => {
      if (isHostMessage(e.data)) handler(e.data);
      else this.api.postMessage({ type: 'log', level: 'warn', message: `webview: ignored a message that is no KEN host message (${describe(e.data)})` });
    });
  }

  getState<T>(): T | undefined {
    return (this.api.getState() as T | null) ?? undefined;
  }

  setState<T>(state: T): void {
    this.api.setState(state);
  }
}

function describe(x: unknown): string {
  if (typeof x === 'object' && x !== null && 'type' in x) return `type ${String((x as { type: unknown }).type).slice(0, 40)}`;
  return typeof x;
}

async function gunzip(base64: string): Promise<Uint8Array> {
  const bin = atob(base64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** Starts a download of `blob` as `name` (the HTML report has no host to save files). */
function download(href: string, name: string): void {
  const a = document.createElement('a');
  a.href = href;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
}

/** The HTML report: answers from the embedded StaticReportData, asynchronously like a host would. */
export class StaticTransport implements Transport {
  readonly kind = 'static';
  private handlers: ((m: HostMessage) => void)[] = [];
  private readonly tiles: Map<string, StaticTile>;
  private readonly decoded = new Map<string, Promise<DecodedStaticTile>>();
  private state: unknown;

  constructor(private readonly data: StaticReportData) {
    this.tiles = new Map(data.tiles.map((t) => [t.tensor, t]));
  }

  /** Reads the data the HTML report embeds; undefined when the page has none. */
  static fromDocument(doc: Document): StaticTransport | undefined {
    const el = doc.getElementById(STATIC_DATA_ID);
    if (!el?.textContent) return undefined;
    const data: unknown = JSON.parse(el.textContent);
    if (!isStaticReportData(data)) throw new Error('the report data embedded in this page is not valid');
    return new StaticTransport(data);
  }

  private emit(m: HostMessage): void {
    setTimeout(() => {
      for (const h of this.handlers) h(m);
    }, 0);
  }

  private tile(name: string): Promise<DecodedStaticTile> {
    let p = this.decoded.get(name);
    if (!p) {
      const st = this.tiles.get(name);
      if (!st) return Promise.reject(new Error(`no data for tensor ${name} in this report`));
      p = gunzip(st.data).then((bytes) => decodeStaticTile(st, bytes));
      this.decoded.set(name, p);
    }
    return p;
  }

  post(m: WebviewMessage): void {
    switch (m.type) {
      case 'ready':
        this.emit({ ...this.data.init, protocolVersion: PROTOCOL_VERSION });
        return;
      case 'request-tile':
        this.tile(m.tensor)
          .then((st) => this.emit({ type: 'tile', inReplyTo: m.requestId, tile: reduceStaticTile(st, m.kind, m.window, m.maxRows, m.maxCols) }))
          .catch((e: unknown) => this.emit({ type: 'error', inReplyTo: m.requestId, message: e instanceof Error ? e.message : String(e) }));
        return;
      case 'export-json': {
        const url = URL.createObjectURL(new Blob([JSON.stringify(this.data.init.report, null, 2) + '\n'], { type: 'application/json' }));
        download(url, m.suggestedName);
        setTimeout(() => URL.revokeObjectURL(url), 10_000);
        this.emit({ type: 'done', inReplyTo: m.requestId, message: `downloaded ${m.suggestedName}` });
        return;
      }
      case 'export-png':
        download(m.dataUrl, m.suggestedName);
        this.emit({ type: 'done', inReplyTo: m.requestId, message: `downloaded ${m.suggestedName}` });
        return;
      case 'log':
        (m.level === 'error' ? console.error : m.level === 'warn' ? console.warn : console.info)(`[ken] ${m.message}`);
        return;
      case 'open-file':
        return;
    }
  }

  onMessage(handler: (message: HostMessage) => void): void {
    this.handlers.push(handler);
  }

  getState<T>(): T | undefined {
    return this.state as T | undefined;
  }

  setState<T>(state: T): void {
    this.state = state;
  }
}
