// KEN: Enable CUDA… — runs onnxruntime-node's own installer for the CUDA provider files.
import * as vscode from 'vscode';
import { installCudaProvider } from '../runtime/cuda-install';
import { cudaProviderInstalled } from '../runtime/session';
import type { Services } from './services';

export async function enableCudaCommand(s: Services, options: { env?: Record<string, string> } = {}): Promise<boolean> {
  if (cudaProviderInstalled()) {
    void vscode.window.showInformationMessage('KEN: the CUDA provider is already installed; KEN uses it when a GPU session opens.');
    return true;
  }
  const result = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: 'KEN: installing the CUDA provider (needs network, CUDA 12, cuDNN 9)', cancellable: true },
    (_progress, token) => {
      const controller = new AbortController();
      token.onCancellationRequested(() => controller.abort());
      return installCudaProvider({ signal: controller.signal, env: options.env, onOutput: (line) => s.log.info(`[cuda installer] ${line}`) });
    },
  );
  s.status.refresh();
  if (result.ok) {
    s.log.info(`CUDA provider installed in ${result.dir}`);
    void vscode.window.showInformationMessage('KEN: CUDA provider installed. The next run uses the GPU when a CUDA session opens.');
    return true;
  }
  if (result.reason === 'cancelled') return false;
  s.log.warn(`Enable CUDA: ${result.message}`);
  void vscode.window.showErrorMessage(`KEN: ${result.message}`, 'Open log').then((a) => {
    if (a) s.log.show(true);
  });
  return false;
}
