// Entry of the webview bundle (dist/webview.js, with dist/webview.css). Runs in VS Code's webview
// (acquireVsCodeApi present) and in the self-contained HTML report (embedded data).
import '@vscode-elements/elements/dist/vscode-badge/index.js';
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-tab-header/index.js';
import '@vscode-elements/elements/dist/vscode-tab-panel/index.js';
import '@vscode-elements/elements/dist/vscode-tabs/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import './styles.css';
import { App } from './app';
import { installCspStyleShim } from './csp-shim';
import { StaticTransport, VsCodeTransport, type Transport } from './transport';

function pickTransport(): Transport {
  if (typeof acquireVsCodeApi === 'function') return new VsCodeTransport(acquireVsCodeApi());
  const t = StaticTransport.fromDocument(document);
  if (!t) throw new Error('no host and no embedded report data');
  return t;
}

function boot(): void {
  installCspStyleShim();
  const root = document.getElementById('app') ?? document.body.appendChild(document.createElement('div'));
  let transport: Transport;
  try {
    transport = pickTransport();
  } catch (e) {
    root.textContent = `KEN: ${e instanceof Error ? e.message : String(e)}`;
    return;
  }
  const log = (message: string): void => transport.post({ type: 'log', level: 'error', message: message.slice(0, 16000) });
  window.addEventListener('error', (e) => log(`webview error: ${e.message} (${e.filename}:${e.lineno})`));
  window.addEventListener('unhandledrejection', (e) => log(`webview: unhandled rejection: ${e.reason instanceof Error ? e.reason.message : String(e.reason)}`));
  new App(root, transport).start();
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', boot);
else boot();
