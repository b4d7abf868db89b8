// The VS Code server from the code-server package, run on Node 24 in its own process group with a
// fresh state folder and port, so one kill stops it and its extension hosts.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, openSync, closeSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

export const QUIET_SETTINGS = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'chat.disableAIFeatures': true,
  'telemetry.telemetryLevel': 'off',
  'git.enabled': false,
  'extensions.autoUpdate': false,
  'extensions.autoCheckUpdates': false,
  'extensions.ignoreRecommendations': true,
  'update.mode': 'none',
  'security.workspace.trust.enabled': false,
};

export function serverMain(e2eDir) {
  return join(e2eDir, 'node_modules', 'code-server', 'lib', 'vscode', 'out', 'server-main.js');
}

function stateArgs(state) {
  return ['--server-data-dir', join(state, 'server'), '--user-data-dir', join(state, 'ud'), '--extensions-dir', join(state, 'ext')];
}

/** A port nobody listens on right now. */
function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Installs a .vsix into a state folder with the server's own CLI; returns its output. */
export function installVsix({ node24, e2eDir, state, vsix }) {
  const r = spawnSync(node24, [serverMain(e2eDir), '--accept-server-license-terms', ...stateArgs(state), '--install-extension', vsix], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  const output = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim();
  if (r.status !== 0) throw new Error(`--install-extension failed (exit ${r.status ?? r.signal}): ${output.split('\n').slice(-3).join(' | ')}`);
  return output;
}

/** Starts the server; resolves once it answers HTTP. `stop()` kills the whole process group. */
export async function startServer({ node24, e2eDir, state, env, logFile, timeoutMs = 90_000 }) {
  for (const d of ['server/data/Machine', 'ud/User', 'ext']) mkdirSync(join(state, d), { recursive: true });
  writeFileSync(join(state, 'ud', 'User', 'settings.json'), JSON.stringify(QUIET_SETTINGS, null, 2));
  writeFileSync(join(state, 'server', 'data', 'Machine', 'settings.json'), JSON.stringify(QUIET_SETTINGS, null, 2));
  const port = await freePort();
  const log = openSync(logFile, 'a');
  const child = spawn(
    node24,
    [
      serverMain(e2eDir), '--host', '127.0.0.1', '--port', String(port), '--without-connection-token',
      '--accept-server-license-terms', '--enable-smoke-test-driver', '--disable-telemetry', '--disable-workspace-trust',
      ...stateArgs(state),
    ],
    { detached: true, stdio: ['ignore', log, log], env: { ...process.env, ...env } },
  );
  closeSync(log);
  let exited = null;
  const exitedPromise = new Promise((resolve) => child.once('exit', (code, signal) => resolve((exited = { code, signal }))));
  const stop = async () => {
    if (exited) return;
    for (const [sig, waitMs] of [['SIGTERM', 5000], ['SIGKILL', 5000]]) {
      try {
        process.kill(-child.pid, sig);
      } catch {
        return; // the group is gone
      }
      if (await Promise.race([exitedPromise.then(() => true), new Promise((r) => setTimeout(() => r(false), waitMs))])) break;
    }
    // the extension hosts live in the same group: make sure none is left behind
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  const base = `http://127.0.0.1:${port}`;
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (exited) throw new Error(`the VS Code server exited before answering (${JSON.stringify(exited)}); see ${logFile}`);
    try {
      const res = await fetch(`${base}/version`, { signal: AbortSignal.timeout(2000) });
      if (res.ok || res.status === 404) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > end) {
      await stop();
      throw new Error(`the VS Code server did not answer within ${timeoutMs / 1000} s; see ${logFile}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    port,
    pid: child.pid,
    stop,
    /** The workbench URL for a folder, with development/test paths for the payload when given. */
    url(folder, { extensionDevelopmentPath, extensionTestsPath } = {}) {
      const remote = (p) => `vscode-remote://127.0.0.1:${port}${p}`;
      const payload = [['skipWelcome', 'true']];
      if (extensionDevelopmentPath) payload.push(['extensionDevelopmentPath', remote(extensionDevelopmentPath)]);
      if (extensionTestsPath) payload.push(['extensionTestsPath', remote(extensionTestsPath)]);
      return `${base}/?folder=${encodeURIComponent(folder)}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
    },
  };
}
