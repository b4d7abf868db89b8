// A small fake of the `vscode` API for unit tests of the extension host logic (bundled in place of
// `vscode` for test builds). It records what the extension shows and answers prompts from queues.
/* eslint-disable @typescript-eslint/no-unused-vars */
import { stat } from 'node:fs/promises';

export class Disposable {
  constructor(private readonly fn: () => void = () => undefined) {}
  dispose(): void {
    this.fn();
  }
  static from(...items: { dispose(): unknown }[]): Disposable {
    return new Disposable(() => items.forEach((i) => i.dispose()));
  }
}

export class EventEmitter<T> {
  private listeners: ((e: T) => void)[] = [];
  event = (l: (e: T) => void): Disposable => {
    this.listeners.push(l);
    return new Disposable(() => (this.listeners = this.listeners.filter((x) => x !== l)));
  };
  fire(e: T): void {
    for (const l of [...this.listeners]) l(e);
  }
  dispose(): void {
    this.listeners = [];
  }
}

export class Uri {
  private constructor(readonly scheme: string, readonly fsPath: string) {}
  static file(p: string): Uri {
    return new Uri('file', p);
  }
  static joinPath(base: Uri, ...parts: string[]): Uri {
    return new Uri(base.scheme, require('node:path').join(base.fsPath, ...parts));
  }
  get path(): string {
    return this.fsPath;
  }
  toString(): string {
    return `${this.scheme}://${this.fsPath}`;
  }
  with(_: unknown): Uri {
    return this;
  }
}

export class ThemeColor {
  constructor(readonly id: string) {}
}

/** A text document for fake editors: its text, language and line ends. */
export class FakeTextDocument {
  constructor(readonly uri: Uri, public text: string, readonly languageId = 'python') {}
  getText(): string {
    return this.text;
  }
  lineAt(line: number): { text: string } {
    return { text: this.text.split('\n')[line] ?? '' };
  }
}

/** A fake text editor: records its decorations (type -> ranges with their after-text). */
export class FakeTextEditor {
  readonly decorations = new Map<unknown, { line: number; after: string | undefined }[]>();
  constructor(readonly document: FakeTextDocument) {}
  setDecorations(type: unknown, items: { range: Range; renderOptions?: { after?: { contentText?: string } } }[]): void {
    this.decorations.set(type, items.map((i) => ({ line: i.range.start.line, after: i.renderOptions?.after?.contentText })));
  }
}

/** Renderer messaging: what the host posted, and a way to deliver a renderer's message. */
export const rendererMessaging: { id: string; posted: { message: unknown; editor: unknown }[]; deliver: (editor: unknown, message: unknown) => void }[] = [];

export const notebooks = {
  createRendererMessaging: (id: string) => {
    const emitter = new EventEmitter<{ editor: unknown; message: unknown }>();
    const m = { id, posted: [] as { message: unknown; editor: unknown }[], deliver: (editor: unknown, message: unknown) => emitter.fire({ editor, message }) };
    rendererMessaging.push(m);
    return {
      onDidReceiveMessage: emitter.event,
      postMessage: async (message: unknown, editor?: unknown) => {
        m.posted.push({ message, editor });
        return true;
      },
    };
  },
};

export const editorEvents = { visibleEditors: new EventEmitter<unknown>(), textChanged: new EventEmitter<{ document: unknown }>() };

export class MarkdownString {
  constructor(public value = '') {}
}

export class CancellationTokenSource {
  private emitter = new EventEmitter<void>();
  isCancellationRequested = false;
  token = {
    isCancellationRequested: false,
    onCancellationRequested: this.emitter.event,
  };
  cancel(): void {
    this.isCancellationRequested = true;
    this.token.isCancellationRequested = true;
    this.emitter.fire();
  }
  dispose(): void {
    this.emitter.dispose();
  }
}

export enum ProgressLocation {
  SourceControl = 1,
  Window = 10,
  Notification = 15,
}
export enum StatusBarAlignment {
  Left = 1,
  Right = 2,
}
export enum ColorThemeKind {
  Light = 1,
  Dark = 2,
  HighContrast = 3,
  HighContrastLight = 4,
}
export enum ViewColumn {
  Active = -1,
  Beside = -2,
  One = 1,
}

export class Range {
  constructor(readonly startLine: number, readonly startCharacter: number, readonly endLine: number, readonly endCharacter: number) {}
  get start(): { line: number; character: number } {
    return { line: this.startLine, character: this.startCharacter };
  }
}
export class Position {
  constructor(readonly line: number, readonly character: number) {}
}
export class CodeLens {
  constructor(readonly range: Range, public command?: { title: string; command: string; arguments?: unknown[] }) {}
}
export class RelativePattern {
  constructor(readonly base: unknown, readonly pattern: string) {}
}

/** A webview panel that records what the host posts and lets a test play the webview. */
export class FakeWebviewPanel {
  readonly posted: unknown[] = [];
  private readonly fromWebview = new EventEmitter<unknown>();
  private readonly disposeEmitter = new EventEmitter<void>();
  iconPath: unknown;
  disposed = false;
  readonly webview = {
    cspSource: 'vscode-webview://fake',
    options: {} as Record<string, unknown>,
    html: '',
    asWebviewUri: (u: Uri) => Uri.file(`/webview${u.fsPath}`),
    postMessage: async (m: unknown) => {
      this.posted.push(m);
      return true;
    },
    onDidReceiveMessage: this.fromWebview.event,
  };
  readonly onDidDispose = this.disposeEmitter.event;
  constructor(readonly viewType: string, readonly title: string, readonly options: Record<string, unknown>) {}
  /** The webview sends a message to the host. */
  send(m: unknown): void {
    this.fromWebview.fire(m);
  }
  reveal(): void {}
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.disposeEmitter.fire();
  }
}
export const panels: FakeWebviewPanel[] = [];
export const opened: string[] = [];

/** What the extension showed, for assertions. */
export const shown: { level: 'info' | 'warn' | 'error'; message: string; actions: string[] }[] = [];
export const logLines: string[] = [];
/** Answers for the next prompts, consumed in order. `undefined` = the user dismissed it. */
/** A quick pick's answer: an index; for a many-pick also indices or 'picked' (accept what was checked). */
export type PickAnswer = number | number[] | 'picked' | undefined;
export const answers: { inputBox: (string | undefined)[]; quickPick: PickAnswer[]; openDialog: (string | undefined)[]; message: (string | undefined)[] } = {
  inputBox: [],
  quickPick: [],
  openDialog: [],
  message: [],
};
/** Every quick pick shown: its title, item labels, the items checked beforehand, and whether many could be picked. */
export const quickPicks: { title: string; labels: string[]; picked: string[]; many: boolean }[] = [];
export const progressReports: { title: string; increments: number[]; messages: string[] }[] = [];
/** When set, the next withProgress cancels after this many ms. */
export const control: { cancelAfterMs: number | undefined; trusted: boolean; config: Record<string, unknown> } = {
  cancelAfterMs: undefined,
  trusted: true,
  config: {},
};

export function resetFake(): void {
  shown.length = 0;
  logLines.length = 0;
  progressReports.length = 0;
  quickPicks.length = 0;
  answers.inputBox.length = 0;
  answers.quickPick.length = 0;
  answers.openDialog.length = 0;
  answers.message.length = 0;
  control.cancelAfterMs = undefined;
  control.trusted = true;
  control.config = {};
}

function message(level: 'info' | 'warn' | 'error') {
  return (msg: string, ...actions: unknown[]): Promise<string | undefined> => {
    const names = actions.filter((a): a is string => typeof a === 'string');
    shown.push({ level, message: msg, actions: names });
    return Promise.resolve(answers.message.shift());
  };
}

function logChannel(name: string): Record<string, unknown> {
  const put = (level: string) => (m: string): void => {
    logLines.push(`[${level}] ${m}`);
  };
  return { name, info: put('info'), warn: put('warn'), error: put('error'), debug: put('debug'), trace: put('trace'), appendLine: put('info'), show: () => undefined, dispose: () => undefined };
}

export const statusItems: { text: string; tooltip: unknown; command: unknown; visible: boolean }[] = [];

export const window = {
  showInformationMessage: message('info'),
  showWarningMessage: message('warn'),
  showErrorMessage: message('error'),
  showInputBox: async (_opts: { validateInput?: (s: string) => string | undefined }): Promise<string | undefined> => answers.inputBox.shift(),
  showQuickPick: async <T>(items: T[] | Promise<T[]>, opts?: { title?: string; canPickMany?: boolean }): Promise<T | T[] | undefined> => {
    const list = await items;
    const labelOf = (x: T): string => (typeof x === 'string' ? x : String((x as { label?: unknown }).label));
    const checked = list.filter((x) => typeof x === 'object' && x !== null && (x as { picked?: boolean }).picked === true);
    quickPicks.push({ title: opts?.title ?? '', labels: list.map(labelOf), picked: checked.map(labelOf), many: opts?.canPickMany === true });
    const a = answers.quickPick.shift();
    if (a === undefined) return undefined;
    if (opts?.canPickMany) return a === 'picked' ? checked : (Array.isArray(a) ? a : [a]).map((i) => list[i]!);
    if (typeof a !== 'number') throw new Error(`fake quick pick "${opts?.title ?? ''}": a single pick needs an index, got ${JSON.stringify(a)}`);
    return list[a];
  },
  showOpenDialog: async (_opts: unknown): Promise<Uri[] | undefined> => {
    const p = answers.openDialog.shift();
    return p === undefined ? undefined : [Uri.file(p)];
  },
  showSaveDialog: async (_opts: unknown): Promise<Uri | undefined> => {
    const p = answers.openDialog.shift();
    return p === undefined ? undefined : Uri.file(p);
  },
  createOutputChannel: (name: string, _opts?: unknown) => logChannel(name),
  createStatusBarItem: (_id?: string, _align?: StatusBarAlignment, _prio?: number) => {
    const item = { text: '', tooltip: undefined as unknown, command: undefined as unknown, name: '', visible: false, show() { this.visible = true; }, hide() { this.visible = false; }, dispose() { this.visible = false; } };
    statusItems.push(item);
    return item;
  },
  withProgress: async <R>(opts: { title?: string }, task: (progress: { report(v: { increment?: number; message?: string }): void }, token: CancellationTokenSource['token']) => Promise<R>): Promise<R> => {
    const rec = { title: opts.title ?? '', increments: [] as number[], messages: [] as string[] };
    progressReports.push(rec);
    const source = new CancellationTokenSource();
    if (control.cancelAfterMs !== undefined) setTimeout(() => source.cancel(), control.cancelAfterMs);
    return task({ report: (v) => { if (v.increment !== undefined) rec.increments.push(v.increment); if (v.message) rec.messages.push(v.message); } }, source.token);
  },
  registerWebviewPanelSerializer: (_type: string, _s: unknown) => new Disposable(),
  createWebviewPanel: (viewType: string, title: string, _column: unknown, options: Record<string, unknown>) => {
    const panel = new FakeWebviewPanel(viewType, title, options);
    panels.push(panel);
    return panel;
  },
  activeTextEditor: undefined,
  visibleTextEditors: [] as FakeTextEditor[],
  onDidChangeVisibleTextEditors: editorEvents.visibleEditors.event,
  onDidChangeVisibleNotebookEditors: (_l: unknown) => new Disposable(),
  createTextEditorDecorationType: (_opts: unknown) => ({ key: Symbol('decoration'), dispose: () => undefined }),
  activeColorTheme: { kind: ColorThemeKind.Dark },
  onDidChangeActiveColorTheme: (_l: unknown) => new Disposable(),
  showTextDocument: async (uri: Uri) => {
    opened.push(uri.fsPath);
    return undefined;
  },
};

const commandHandlers = new Map<string, (...args: unknown[]) => unknown>();
export const executed: { id: string; args: unknown[] }[] = [];
export const commands = {
  registerCommand: (id: string, fn: (...args: unknown[]) => unknown) => {
    commandHandlers.set(id, fn);
    return new Disposable(() => commandHandlers.delete(id));
  },
  executeCommand: async (id: string, ...args: unknown[]): Promise<unknown> => {
    executed.push({ id, args });
    const fn = commandHandlers.get(id);
    return fn ? fn(...args) : undefined;
  },
  getCommands: async () => [...commandHandlers.keys()],
};

export const workspace = {
  get isTrusted(): boolean {
    return control.trusted;
  },
  workspaceFolders: undefined as { uri: Uri; name: string; index: number }[] | undefined,
  getWorkspaceFolder: (_uri: Uri) => undefined,
  getConfiguration: (section?: string, _scope?: unknown) => ({
    get: <T>(key: string, fallback?: T): T => {
      const full = section ? `${section}.${key}` : key;
      return (full in control.config ? control.config[full] : fallback) as T;
    },
  }),
  onDidChangeConfiguration: (_l: unknown) => new Disposable(),
  onDidChangeTextDocument: editorEvents.textChanged.event,
  notebookDocuments: [] as unknown[],
  onDidGrantWorkspaceTrust: (_l: unknown) => new Disposable(),
  createFileSystemWatcher: () => ({ onDidChange: () => new Disposable(), onDidCreate: () => new Disposable(), onDidDelete: () => new Disposable(), dispose: () => undefined }),
  fs: {
    stat: async (uri: Uri) => {
      const s = await stat(uri.fsPath);
      return { type: s.isDirectory() ? 2 : 1, size: s.size, mtime: s.mtimeMs, ctime: s.ctimeMs };
    },
    writeFile: async (uri: Uri, data: Uint8Array) => require('node:fs/promises').writeFile(uri.fsPath, data),
  },
};

export const languages = {
  registerCodeLensProvider: (_sel: unknown, _p: unknown) => new Disposable(),
};

export const env = { clipboard: { writeText: async (_s: string) => undefined }, openExternal: async () => true };

export function fakeContext(extensionPath: string): Record<string, unknown> {
  const state = new Map<string, unknown>();
  const memento = { get: <T>(k: string, d?: T): T => (state.has(k) ? state.get(k) : d) as T, update: async (k: string, v: unknown) => void state.set(k, v), keys: () => [...state.keys()] };
  return {
    subscriptions: [] as { dispose(): unknown }[],
    extensionPath,
    extensionUri: Uri.file(extensionPath),
    globalState: memento,
    workspaceState: memento,
    extension: { packageJSON: { version: '0.0.0-test' } },
    asAbsolutePath: (p: string) => require('node:path').join(extensionPath, p),
  };
}
