#!/usr/bin/env node
// `npm run package`: builds the extension and packages ken-vscode-<version>.vsix in the repository
// root with vsce (from test/e2e's dependencies, on Node 24), and says its size. The end-to-end run
// (`npm run test:e2e`) packages it too, installs it into a fresh VS Code server and tests it there.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureDeps } from './lib/deps.mjs';
import { MAX_VSIX_BYTES, packageVsix } from './lib/vsix.mjs';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const E2E = join(ROOT, 'test', 'e2e');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
try {
  const { node24 } = ensureDeps(E2E, (m) => console.log(m));
  const b = spawnSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs')], { cwd: ROOT, stdio: 'inherit' });
  if (b.status !== 0) throw new Error('node scripts/build.mjs failed');
  const out = join(ROOT, `${pkg.name}-${pkg.version}.vsix`);
  const size = packageVsix({ root: ROOT, e2eDir: E2E, node24, out });
  console.log(`packaged ${out}: ${(size / 1e6).toFixed(2)} MB`);
  if (size > MAX_VSIX_BYTES) throw new Error(`the .vsix is ${(size / 1e6).toFixed(2)} MB, over the ${MAX_VSIX_BYTES / 1e6} MB limit`);
} catch (e) {
  console.error(`package: ${String(e?.message ?? e)}`);
  process.exit(1);
}
