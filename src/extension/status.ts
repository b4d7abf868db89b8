// The status bar item that always says which execution provider KEN uses (CUDA, WebGPU or CPU) and,
// for WebGPU, on which adapter.
import * as vscode from 'vscode';
import { adapterLabel, providerLabel } from '../runtime/webgpu';
import { probeWebGpu, type WebGpuProbe } from '../runtime/webgpu';
import { cudaProviderInstalled } from '../runtime/session';
import { readSettings } from './settings';

const NAMES: Record<string, string> = { cuda: 'CUDA', webgpu: 'WebGPU', cpu: 'CPU' };
const short = (provider: string): string => NAMES[provider] ?? provider.toUpperCase();

export class ProviderStatus implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('ken.provider', vscode.StatusBarAlignment.Right, 100);
  private last: { backend: string; provider: string; adapter: string | undefined } | undefined;
  private webgpu: WebGpuProbe | undefined;

  /** `probe`: the WebGPU adapter, found in the background (in a child process), says what `auto` will use. */
  constructor(probe: Promise<WebGpuProbe> = probeWebGpu()) {
    this.item.name = 'KEN execution provider';
    this.refresh();
    this.item.show();
    void probe.then((p) => {
      this.webgpu = p;
      this.refresh();
    });
  }

  /** What will run next, from the settings, the installed provider files and the WebGPU adapter. */
  refresh(): void {
    const setting = readSettings().executionProvider;
    const cuda = cudaProviderInstalled();
    const gpu = this.webgpu?.ok ? this.webgpu.adapter : undefined;
    const webgpuNext = gpu ? `WebGPU (${adapterLabel(gpu)})` : this.webgpu ? 'WebGPU (no adapter)' : 'WebGPU';
    let next: string;
    if (setting === 'cpu') next = 'CPU';
    else if (setting === 'cuda') next = cuda ? 'CUDA' : 'CUDA (not installed)';
    else if (setting === 'webgpu') next = webgpuNext;
    else next = cuda ? 'CUDA' : gpu && !gpu.software ? webgpuNext : 'CPU';
    const ran = this.last ? `last run: ${this.last.backend} on ${providerLabel(short(this.last.provider), this.last.adapter)}` : 'nothing run yet';
    const shown = this.last ? short(this.last.provider) : next.split(' ')[0]!;
    this.item.text = `$(${shown === 'CPU' ? 'server-process' : 'zap'}) KEN: ${shown}`;
    const webgpuLine = this.webgpu
      ? this.webgpu.ok
        ? `\n\nWebGPU adapter: ${adapterLabel(this.webgpu.adapter)}${this.webgpu.adapter.software ? ' (used only when `ken.executionProvider` is `webgpu`)' : ''}.`
        : `\n\nWebGPU: ${this.webgpu.reason}.`
      : '';
    const tip = new vscode.MarkdownString(
      `**KEN execution provider**\n\nNext run: ${next} (setting \`ken.executionProvider\`: ${setting}).\n\n${ran}.` + webgpuLine +
        (cuda ? '' : '\n\nThe CUDA provider is not installed: run **KEN: Enable CUDA…** (needs network, CUDA 12 and cuDNN 9).'),
    );
    this.item.tooltip = tip;
    this.item.command = cuda || setting === 'webgpu' || gpu ? { title: 'KEN settings', command: 'workbench.action.openSettings', arguments: ['ken.executionProvider'] } : 'ken.enableCuda';
  }

  /** Records the backend, provider and WebGPU adapter that actually ran. */
  ran(backend: string, provider: string, adapter?: string): void {
    this.last = { backend, provider, adapter };
    this.refresh();
  }

  get text(): string {
    return this.item.text;
  }

  get tooltip(): string {
    const t = this.item.tooltip;
    return typeof t === 'string' ? t : (t?.value ?? '');
  }

  dispose(): void {
    this.item.dispose();
  }
}
