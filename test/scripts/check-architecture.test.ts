// scripts/check-architecture.mjs (npm run check:architecture) run on a temporary copy of src/ and webview/ with a
// fault planted: each planted fault must fail the check with a line naming the file and the line of the import.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, writeFileSync, readFileSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { ROOT, tmp } from '../helpers';

const SCRIPT = join(ROOT, 'scripts', 'check-architecture.mjs');

function copy(): string {
  const d = tmp('ken-arch-');
  cpSync(join(ROOT, 'src'), join(d, 'src'), { recursive: true });
  cpSync(join(ROOT, 'webview'), join(d, 'webview'), { recursive: true });
  cpSync(join(ROOT, 'package.json'), join(d, 'package.json'));
  return d;
}

function check(root: string): { status: number | null; problems: string[] } {
  const r = spawnSync(process.execPath, [SCRIPT, '--root', root, '--json'], { encoding: 'utf8' });
  const out = JSON.parse(r.stdout) as { problems: string[] };
  return { status: r.status, problems: out.problems };
}

/** The problems the planted fault adds to those of the unplanted copy. */
function added(before: string[], after: string[]): string[] {
  const seen = new Set(before);
  return after.filter((p) => !seen.has(p));
}

test('a planted two-file cycle fails the check, naming both files and their import lines', () => {
  const d = copy();
  const before = check(d).problems;
  writeFileSync(join(d, 'src', 'formats', 'planted-a.ts'), "// a\nimport { b } from './planted-b';\nexport const a = (): number => b();\n");
  writeFileSync(join(d, 'src', 'formats', 'planted-b.ts'), "// b\n// b\nimport type { a } from './planted-a';\nexport const b = (): number => 1 as unknown as ReturnType<typeof a>;\n");
  const r = check(d);
  assert.equal(r.status, 1);
  assert.deepEqual(added(before, r.problems), ['import cycle (2 files knotted): src/formats/planted-a.ts:2 -> src/formats/planted-b.ts:3 -> src/formats/planted-a.ts']);
});

test('every kind of import line is an edge: re-export, dynamic import, typeof import(), require', () => {
  const d = copy();
  const before = check(d).problems;
  const kinds = [
    "export { x } from './planted-1';",
    "export const x = async (): Promise<unknown> => import('./planted-2');",
    "export type x = typeof import('./planted-3');",
    "// eslint-disable-next-line\nexport const x = require('./planted-0') as unknown;",
  ];
  kinds.forEach((line, i) => writeFileSync(join(d, 'src', 'formats', `planted-${i}.ts`), line + '\n'));
  const r = check(d);
  const cycles = added(before, r.problems).filter((p) => p.startsWith('import cycle'));
  assert.equal(r.status, 1);
  assert.equal(cycles.length, 1, cycles.join('\n'));
  assert.match(cycles[0]!, /^import cycle \(4 files knotted\): src\/formats\/planted-0\.ts:1 -> src\/formats\/planted-1\.ts:1 -> src\/formats\/planted-2\.ts:1 -> src\/formats\/planted-3\.ts:2 -> src\/formats\/planted-0\.ts$/);
});

test('an import from a format reader up to the CLI fails the check, naming the file and line', () => {
  const d = copy();
  const before = check(d).problems;
  const file = join(d, 'src', 'formats', 'safetensors.ts');
  const lines = readFileSync(file, 'utf8').split('\n').length;
  appendFileSync(file, "import type { Command } from '../cli/main';\nexport type Planted = Command;\n");
  const r = check(d);
  assert.equal(r.status, 1);
  // The CLI imports the formats, so the planted line also closes a cycle: that is reported apart.
  const got = added(before, r.problems).filter((p) => !p.startsWith('import cycle'));
  assert.equal(got.length, 1, got.join('\n'));
  assert.match(got[0]!, new RegExp(`^src/formats/safetensors\\.ts:${lines}: upward import: formats \\(layer \\d+\\) imports src/cli/main\\.ts \\(cli, layer \\d+\\)$`));
});

test('vscode outside src/extension, a webview import outside src/shared, and a same-layer import fail', () => {
  const d = copy();
  const before = check(d).problems;
  writeFileSync(join(d, 'src', 'ken', 'planted-vscode.ts'), "import * as vscode from 'vscode';\nexport const v = vscode;\n");
  writeFileSync(join(d, 'webview', 'planted.ts'), "\nimport { LAYER } from '../src/ken/planted-layer';\nexport const p = LAYER;\n");
  writeFileSync(join(d, 'src', 'ken', 'planted-layer.ts'), "import type { X } from '../eval/planted-eval';\nexport const LAYER = 1 as X;\n");
  writeFileSync(join(d, 'src', 'eval', 'planted-eval.ts'), 'export type X = number;\n');
  const r = check(d);
  assert.equal(r.status, 1);
  assert.deepEqual(added(before, r.problems).sort(), [
    "src/ken/planted-layer.ts:1: same-layer import: ken imports src/eval/planted-eval.ts (eval); folders of one layer do not import each other",
    "src/ken/planted-vscode.ts:1: imports 'vscode' outside src/extension/",
    'webview/planted.ts:2: the webview imports src/ken/planted-layer.ts; it may import src/shared/ only',
  ]);
});

test('a folder of src/ in no layer fails the check', () => {
  const d = copy();
  const before = check(d).problems;
  writeFileSync(join(d, 'src', 'planted.ts'), '');
  cpSync(join(d, 'src', 'planted.ts'), join(d, 'src', 'plantedfolder', 'x.ts'));
  const r = check(d);
  assert.equal(r.status, 1);
  assert.deepEqual(added(before, r.problems), ['src/plantedfolder/x.ts: folder src/plantedfolder/ is in no layer (add it to LAYERS in scripts/check-architecture.mjs)']);
});
