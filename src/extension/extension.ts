// Activation: the KEN log, the provider status item, the commands and the panel serializer.
// The extension is a thin shell: every piece of work is a core job run in a worker thread.
import * as vscode from 'vscode';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compareCommand, evaluateCommand, findReport, pruneCommand, reportFailure, restoreCommand, sweepCommand, type CompareOptions, type PruneOptions, type SweepOptions } from './commands';
import { type Services } from './services';
import { KenPanels, VIEW_TYPE } from './panel';
import { enableCudaCommand } from './cuda';
import { ProviderStatus } from './status';
import { RunWatcher, TrainerCodeLens, watchCommand } from './watch';
import { InlineRunStatus } from './inline';
import { NotebookVizBridge } from './notebook';

export interface KenApi {
  services: Services;
  watcher: RunWatcher;
  panels: KenPanels;
  /** The inline decorations after the Trainer lines of a watched run (what each editor shows). */
  inline: InlineRunStatus;
}

export function activate(context: vscode.ExtensionContext): KenApi {
  const log = vscode.window.createOutputChannel('KEN', { log: true });
  const status = new ProviderStatus();
  context.subscriptions.push(log, status);
  const services: Services = { context, log, status };
  const register = (id: string, fn: (...args: never[]) => unknown): void => {
    context.subscriptions.push(vscode.commands.registerCommand(id, fn as (...args: unknown[]) => unknown));
  };
  register('ken.prune', (uri?: vscode.Uri, options?: PruneOptions) => pruneCommand(services, uri, options));
  register('ken.pruneWithKen', (uri?: vscode.Uri, options?: PruneOptions) => pruneCommand(services, uri, options));
  register('ken.evaluate', (uri?: vscode.Uri, options?: { dataset?: string }) => evaluateCommand(services, uri, options));
  register('ken.sweep', (uri?: vscode.Uri, options?: SweepOptions) => sweepCommand(services, uri, options));
  register('ken.restore', (uri?: vscode.Uri, options?: { base?: string; out?: string }) => restoreCommand(services, uri, options));
  register('ken.enableCuda', (options?: { env?: Record<string, string> }) => enableCudaCommand(services, options));
  register('ken.showLog', () => log.show(true));
  const panels = new KenPanels(services);
  services.panels = panels;
  context.subscriptions.push(panels, vscode.window.registerWebviewPanelSerializer(VIEW_TYPE, panels));
  register('ken.openVisualization', async (uri?: vscode.Uri) => {
    const folder = await findReport(uri);
    if (!folder) return undefined;
    try {
      await panels.open(folder);
      return folder;
    } catch (e) {
      reportFailure(services, 'open visualization', e);
      return undefined;
    }
  });
  const watcher = new RunWatcher(services);
  context.subscriptions.push(watcher);
  context.subscriptions.push(watcher.onDidUpdate(({ runDir, update }) => {
    panels.watchUpdate(runDir, update).catch((e: unknown) => services.log.warn(`watch panel: ${e instanceof Error ? e.message : String(e)}`));
  }));
  register('ken.watch', (uri?: vscode.Uri, options?: { base?: string; k?: number }) => watchCommand(services, watcher, uri, options));
  register('ken.stopWatch', () => watcher.stop());
  const compareRoot = join(tmpdir(), `ken-compare-${process.pid}`);
  context.subscriptions.push({ dispose: () => void rm(compareRoot, { recursive: true, force: true }) });
  register('ken.compareWithBase', (uri?: vscode.Uri, options?: CompareOptions) => compareCommand(services, compareRoot, uri, options));
  const inline = new InlineRunStatus(watcher);
  context.subscriptions.push(inline, new NotebookVizBridge(services, watcher));
  context.subscriptions.push(vscode.languages.registerCodeLensProvider({ language: 'python', scheme: 'file' }, new TrainerCodeLens()));
  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('ken')) status.refresh();
    }),
  );
  log.info(`KEN activated (${context.extension.packageJSON.version as string})`);
  return { services, watcher, panels, inline };
}

export function deactivate(): void {
  // everything is disposed through context.subscriptions
}
