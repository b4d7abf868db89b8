// KEN: Watch Fine-tuning Run… — the watcher runs as a job in a worker thread (low priority, one
// checkpoint at a time); each checkpoint's figures go to the status bar, the log and any listener
// (the KEN_viz timeline). The CodeLens offers it above TrainingArguments(...) / Trainer(...) calls.
import * as vscode from 'vscode';
import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { describeError } from '../errors';
import type { WatchUpdate } from '../workflows/watch';
import { baseCandidates } from './detect';
import { JobError, runJob } from './jobs';
import { readSettings } from './settings';
import { findTrainerCalls } from './trainer-calls';
import { requireTrust } from './commands';
import { type Services } from './services';

export interface WatchStart {
  runDir: string;
  base?: string;
  k?: number;
}

export class RunWatcher implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('ken.watch', vscode.StatusBarAlignment.Left, 50);
  private readonly emitter = new vscode.EventEmitter<{ runDir: string; update: WatchUpdate }>();
  private readonly stopEmitter = new vscode.EventEmitter<{ runDir: string; reason: string }>();
  private cancel: vscode.CancellationTokenSource | undefined;
  private current: { runDir: string; base: string; k: number; updates: WatchUpdate[] } | undefined;

  /** Each checkpoint's figures, as they come. */
  readonly onDidUpdate = this.emitter.event;
  readonly onDidStop = this.stopEmitter.event;

  /** Where each checkpoint's report and subnetwork are kept for the panel (removed on dispose). */
  private readonly recordRoot = join(tmpdir(), `ken-watch-${process.pid}`);

  constructor(private readonly s: Services) {
    this.item.name = 'KEN watcher';
    this.item.command = 'ken.stopWatch';
  }

  get active(): { runDir: string; base: string; k: number; updates: readonly WatchUpdate[] } | undefined {
    return this.current;
  }

  /** Starts watching (stopping any other watch); resolves when the watch ends. */
  async start(runDir: string, base: string, k: number): Promise<{ updates: number; reason: string }> {
    this.stop();
    const settings = readSettings(vscode.Uri.file(runDir));
    const cancel = new vscode.CancellationTokenSource();
    this.cancel = cancel;
    const current = { runDir, base, k, updates: [] as WatchUpdate[] };
    this.current = current;
    void vscode.commands.executeCommand('setContext', 'ken.watching', true);
    this.item.text = `$(eye) KEN: watching ${basename(runDir)}`;
    this.item.tooltip = `KEN watches ${runDir} (k=${k}); click to stop`;
    this.item.show();
    this.s.log.info(`watching ${runDir} against ${base}, k=${k}`);
    try {
      const result = await runJob(this.s.context.extensionPath, 'watch', {
        runDir, base, k, scope: settings.scope, includeHead: settings.includeHead, kernel: settings.kernel, backend: 'js', device: 'cpu', threads: 1, pollMs: 1000,
        recordDir: join(this.recordRoot, createHash('sha1').update(runDir).digest('hex').slice(0, 12)),
        ...(settings.evalDataset ? { eval: { data: settings.evalDataset, batchSize: settings.evalBatchSize, device: 'cpu' as const, threads: 1 } } : {}),
      }, cancel.token, {
        log: this.s.log,
        onEvent: (e) => {
          if (e.type !== 'watch-update' || this.current !== current) return;
          const u = e.update;
          current.updates.push(u);
          this.item.text = `$(eye) KEN step ${u.step} · kept ${(u.keptRatio * 100).toFixed(1)}%`;
          this.item.tooltip = `KEN watches ${runDir} (k=${k}): latest step ${u.step}, kept ${(u.keptRatio * 100).toFixed(1)}%` +
            `${u.meanJaccard === null ? '' : `, overlap with previous ${u.meanJaccard.toFixed(3)}`}. Click to stop.`;
          this.s.log.info(`step ${u.step}: kept ${(u.keptRatio * 100).toFixed(2)}%, overlap ${u.meanJaccard ?? '-'}, ${u.seconds.toFixed(1)} s`);
          this.emitter.fire({ runDir, update: u });
        },
      });
      if (result.reason === 'folder-removed') void vscode.window.showInformationMessage(`KEN: ${basename(runDir)} was removed; stopped watching.`);
      this.finish(current, result.reason);
      return result;
    } catch (e) {
      this.finish(current, 'failed');
      if (e instanceof JobError && e.kind === 'CancelledError') return { updates: current.updates.length, reason: 'stopped' };
      const message = e instanceof JobError ? e.message : describeError(e).message;
      this.s.log.error(`watch: ${message}`);
      void vscode.window.showErrorMessage(`KEN: watching failed: ${message}`, 'Open log').then((a) => a && this.s.log.show(true));
      return { updates: current.updates.length, reason: 'failed' };
    }
  }

  private finish(current: NonNullable<RunWatcher['current']>, reason: string): void {
    if (this.current !== current) return;
    this.current = undefined;
    this.cancel = undefined;
    this.item.hide();
    void vscode.commands.executeCommand('setContext', 'ken.watching', false);
    this.stopEmitter.fire({ runDir: current.runDir, reason });
  }

  stop(): void {
    this.cancel?.cancel();
  }

  dispose(): void {
    this.stop();
    void rm(this.recordRoot, { recursive: true, force: true });
    this.item.dispose();
    this.emitter.dispose();
    this.stopEmitter.dispose();
  }
}

export async function watchCommand(s: Services, watcher: RunWatcher, uri?: vscode.Uri, options: { base?: string; k?: number } = {}): Promise<{ updates: number; reason: string } | undefined> {
  if (!requireTrust()) return undefined;
  const runDir = uri?.fsPath ?? (await vscode.window.showOpenDialog({ title: 'Fine-tuning output folder to watch', canSelectFolders: true, canSelectFiles: false }))?.[0]?.fsPath;
  if (!runDir) return undefined;
  let base = options.base;
  if (!base) {
    const candidates = await baseCandidates(runDir, s.context.globalState.get<string[]>('ken.recentBases', []));
    const items = [...candidates.map((c) => ({ label: basename(c.path), description: c.detail, path: c.path })), { label: '$(folder-opened) Browse…', description: '', path: '' }];
    const pick = await vscode.window.showQuickPick(items, { title: 'KEN: the pre-trained (base) model the run fine-tunes' });
    if (!pick) return undefined;
    base = pick.path || (await vscode.window.showOpenDialog({ title: 'Pre-trained (base) model', canSelectFolders: true, canSelectFiles: true }))?.[0]?.fsPath;
  }
  if (!base) return undefined;
  const k = options.k ?? readSettings(vscode.Uri.file(runDir)).k;
  return watcher.start(runDir, base, k);
}

/** "KEN: watch this run" above Trainer calls whose output_dir is a literal path. */
export class TrainerCodeLens implements vscode.CodeLensProvider {
  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    const folder = vscode.workspace.getWorkspaceFolder(document.uri)?.uri.fsPath ?? dirname(document.uri.fsPath);
    return findTrainerCalls(document.getText()).map((c) => {
      const dir = isAbsolute(c.outputDir) ? c.outputDir : resolve(folder, c.outputDir);
      const range = new vscode.Range(c.line, c.character, c.line, c.character + c.callee.length);
      return new vscode.CodeLens(range, { title: 'KEN: watch this run', command: 'ken.watch', arguments: [vscode.Uri.file(dir)], tooltip: `Watch ${dir} with KEN as checkpoints arrive` });
    });
  }
}
