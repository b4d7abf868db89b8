// The status bar item that always says which execution provider KEN uses (CUDA or CPU).
import * as vscode from 'vscode';
import { cudaProviderInstalled } from '../ken/ort-densities';
import { readSettings } from './settings';

export class ProviderStatus implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('ken.provider', vscode.StatusBarAlignment.Right, 100);
  private last: { backend: string; provider: string } | undefined;

  constructor() {
    this.item.name = 'KEN execution provider';
    this.refresh();
    this.item.show();
  }

  /** What will run next, from the settings and the installed provider files. */
  refresh(): void {
    const setting = readSettings().executionProvider;
    const cuda = cudaProviderInstalled();
    const next = setting === 'cpu' ? 'CPU' : cuda ? 'CUDA' : setting === 'cuda' ? 'CUDA (not installed)' : 'CPU';
    const ran = this.last ? `last run: ${this.last.backend} on ${this.last.provider.toUpperCase()}` : 'nothing run yet';
    this.item.text = `$(${next.startsWith('CUDA') ? 'zap' : 'server-process'}) KEN: ${this.last ? this.last.provider.toUpperCase() : next}`;
    const tip = new vscode.MarkdownString(
      `**KEN execution provider**\n\nNext run: ${next} (setting \`ken.executionProvider\`: ${setting}).\n\n${ran}.` +
        (cuda ? '' : '\n\nThe CUDA provider is not installed: run **KEN: Enable CUDA…** (needs network, CUDA 12 and cuDNN 9).'),
    );
    this.item.tooltip = tip;
    this.item.command = cuda ? { title: 'KEN settings', command: 'workbench.action.openSettings', arguments: ['ken.executionProvider'] } : 'ken.enableCuda';
  }

  /** Records the backend and provider that actually ran. */
  ran(backend: string, provider: string): void {
    this.last = { backend, provider };
    this.refresh();
  }

  get text(): string {
    return this.item.text;
  }

  dispose(): void {
    this.item.dispose();
  }
}
