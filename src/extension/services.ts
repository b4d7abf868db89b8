// What every command and view of the extension is handed at activation: the context, the log, the provider
// status and (once they exist) the panels. Declared apart from the commands so the panels need not import them.
import type * as vscode from 'vscode';
import type { ProviderStatus } from './status';

/** The extension's services, built once in activate(). */
export interface Services {
  context: vscode.ExtensionContext;
  log: vscode.LogOutputChannel;
  status: ProviderStatus;
  /** Set once the panels exist (activation order). */
  panels?: PanelHost;
}

/** What the commands need of the panels (src/extension/panel.ts `KenPanels`): a panel showing a job until it ends. */
export interface PanelHost {
  openPending(folder: string): { pending(title: string, message: string, progress?: number): void; dispose(): void };
}
