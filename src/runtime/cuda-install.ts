// Installs onnxruntime-node's CUDA execution provider files by running the package's own installer
// (`script/install.js --onnxruntime-node-install=cuda12`), which downloads them: it needs network,
// and CUDA 12 with cuDNN 9 to be of use. Offline it fails, and we say so plainly.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { cudaProviderInstalled, ortBinaryDir } from './session';

export type CudaInstallResult =
  | { ok: true; dir: string }
  | { ok: false; reason: 'offline' | 'unsupported' | 'failed' | 'cancelled'; message: string };

export interface CudaInstallOptions {
  signal?: AbortSignal | undefined;
  onOutput?: ((line: string) => void) | undefined;
  /** Extra environment (tests point the installer's proxy at a closed port). */
  env?: Record<string, string> | undefined;
  /** The Node binary to run the installer with (the extension host passes its own, as node). */
  node?: string | undefined;
}

const OFFLINE = /ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|EHOSTUNREACH|socket hang up|getaddrinfo/;

/**
 * The environment without install settings: ONNXRUNTIME_NODE_INSTALL(_CUDA) and everything an
 * enclosing npm run leaves (npm_config_onnxruntime_node_install=skip from an .npmrc, npm's own
 * settings), which would turn the installer into a silent no-op.
 */
function withoutInstallSettings(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([k]) => !/^onnxruntime_node_install(_cuda)?$/i.test(k) && !/^npm_/i.test(k)));
}

export function installCudaProvider(opts: CudaInstallOptions = {}): Promise<CudaInstallResult> {
  const dir = ortBinaryDir();
  if (!(process.platform === 'linux' || process.platform === 'win32') || process.arch !== 'x64') {
    return Promise.resolve({ ok: false, reason: 'unsupported', message: `onnxruntime-node has no CUDA provider for ${process.platform}/${process.arch}` });
  }
  const pkgDir = dirname(require.resolve('onnxruntime-node/package.json'));
  return new Promise((resolve) => {
    const child = spawn(opts.node ?? process.execPath, [join(pkgDir, 'script', 'install.js'), '--onnxruntime-node-install=cuda12'], {
      cwd: pkgDir,
      // the user asked for CUDA: a skip setting (ONNXRUNTIME_NODE_INSTALL=skip, as for offline installs) must not win
      env: { ...withoutInstallSettings(process.env), ELECTRON_RUN_AS_NODE: '1', ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const onData = (b: Buffer): void => {
      const text = b.toString();
      output += text;
      for (const line of text.split('\n')) if (line.trim()) opts.onOutput?.(line.trimEnd());
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    const onAbort = (): void => {
      child.kill();
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    child.on('close', (code) => {
      opts.signal?.removeEventListener('abort', onAbort);
      if (opts.signal?.aborted) resolve({ ok: false, reason: 'cancelled', message: 'cancelled' });
      else if (code === 0 && cudaProviderInstalled()) resolve({ ok: true, dir });
      else if (OFFLINE.test(output)) {
        resolve({
          ok: false,
          reason: 'offline',
          message: 'could not download the CUDA provider: this machine has no network access to the package feed. Enable CUDA needs network, CUDA 12 and cuDNN 9; KEN keeps running on the CPU.',
        });
      } else if (code === 0) {
        resolve({ ok: false, reason: 'failed', message: `the CUDA provider installer finished without installing its files in ${dir}; KEN keeps running on the CPU` });
      } else {
        const last = output.trim().split('\n').filter((l) => /error/i.test(l)).pop() ?? `installer exit code ${code}`;
        resolve({ ok: false, reason: 'failed', message: `the CUDA provider installer failed (${last.trim().slice(0, 200)}); KEN keeps running on the CPU` });
      }
    });
    child.on('error', (e) => resolve({ ok: false, reason: 'failed', message: `could not start the installer (${e.message})` }));
  });
}
