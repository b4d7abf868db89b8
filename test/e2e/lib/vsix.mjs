// Packages the extension as a .vsix with vsce (run on Node 24, from test/e2e's dependencies) and
// checks what an installed copy holds.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { cleanEnv } from './deps.mjs';

export const MAX_VSIX_BYTES = 25_000_000;

/** `vsce package` into `out`; returns its size in bytes. */
export function packageVsix({ root, e2eDir, node24, out }) {
  const vsce = join(e2eDir, 'node_modules', '@vscode', 'vsce', 'vsce');
  const r = spawnSync(node24, [vsce, 'package', '--out', out, '--skip-license', '--allow-missing-repository'], {
    cwd: root,
    encoding: 'utf8',
    input: '',
    timeout: 180_000,
    env: { ...cleanEnv(), PATH: `${dirname(node24)}:${process.env.PATH}` },
  });
  if (r.status !== 0 || !existsSync(out)) {
    const tail = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n').slice(-8).join('\n');
    throw new Error(`vsce package failed (exit ${r.status ?? r.signal})\n${tail}`);
  }
  return statSync(out).size;
}

/** The packages onnxruntime-node needs at run time, from the lock file (npm's own resolution order). */
export function runtimeClosure(root, top = 'onnxruntime-node') {
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')).packages;
  const seen = new Set();
  const visit = (path) => {
    if (seen.has(path)) return;
    seen.add(path);
    const deps = { ...(lock[path]?.dependencies ?? {}), ...(lock[path]?.optionalDependencies ?? {}) };
    for (const dep of Object.keys(deps)) {
      let at = path;
      let found;
      for (;;) {
        const candidate = `${at}/node_modules/${dep}`;
        if (lock[candidate]) {
          found = candidate;
          break;
        }
        const up = at.lastIndexOf('/node_modules/');
        if (up < 0) break;
        at = at.slice(0, up);
      }
      found ??= lock[`node_modules/${dep}`] ? `node_modules/${dep}` : undefined;
      if (found && !lock[found].dev) visit(found);
    }
  };
  visit(`node_modules/${top}`);
  return [...seen].map((p) => p.replace(/^node_modules\//, '')).sort();
}

function walk(dir, base = dir) {
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...walk(p, base));
    else out.push(relative(base, p));
  }
  return out;
}

/** Problems with an installed extension folder's contents (empty when it holds what it should). */
export function checkInstalledContents(extDir, root) {
  const files = walk(extDir).sort();
  const problems = [];
  const banned = files.filter((f) =>
    /^(src|test|bench|demo|scripts|webview|dist\/test|dist\/bench|dist\/e2e)\//.test(f) || f.endsWith('.map') || /(^|\/)tsconfig.*\.json$/.test(f),
  );
  if (banned.length) problems.push(`not needed at run time: ${banned.slice(0, 5).join(', ')}${banned.length > 5 ? ` and ${banned.length - 5} more` : ''}`);
  const binaries = files.filter((f) => f.startsWith('node_modules/onnxruntime-node/bin/')).map((f) => f.split('/').slice(3, 6).join('/'));
  const platforms = [...new Set(binaries.map((b) => b.split('/').slice(0, 3).join('/')))];
  if (platforms.join() !== 'napi-v6/linux/x64') problems.push(`onnxruntime-node binaries for ${platforms.join(', ') || 'no platform'} (want napi-v6/linux/x64 only)`);
  for (const f of ['package.json', 'dist/extension.js', 'dist/job-worker.js', 'dist/worker.js', 'dist/cli.js', 'dist/notebook-renderer.js', 'bin/ken.js']) {
    if (!files.includes(f)) problems.push(`missing ${f}`);
  }
  const modules = [
    ...new Set(
      files
        .filter((f) => f.startsWith('node_modules/'))
        .map((f) => f.split('/'))
        .map((p) => (p[1].startsWith('@') ? `${p[1]}/${p[2]}` : p[1])),
    ),
  ].sort();
  const want = runtimeClosure(root);
  const extra = modules.filter((m) => !want.includes(m));
  const missing = want.filter((m) => !modules.includes(m));
  if (extra.length) problems.push(`node_modules not needed at run time: ${extra.join(', ')}`);
  if (missing.length) problems.push(`node_modules missing (onnxruntime-node needs them): ${missing.join(', ')}`);
  return { problems, files: files.length, modules };
}
