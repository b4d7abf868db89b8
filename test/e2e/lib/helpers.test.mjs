// Unit tests of the end-to-end run's own helpers (run first by run.mjs; also `node --test test/e2e/lib/`).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, test } from 'node:test';
import { median, sameAtShownPrecision } from './figures.mjs';
import { checkInstalledContents, runtimeClosure } from './vsix.mjs';
import { SWEEP_METHODS, keptAt, syntheticMethodsSweep } from './methods-sweep.mjs';

const dirs = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
function tmp() {
  const d = mkdtempSync(join(tmpdir(), 'ken-e2e-lib-'));
  dirs.push(d);
  return d;
}
function files(root, paths) {
  for (const p of paths) {
    mkdirSync(dirname(join(root, p)), { recursive: true });
    writeFileSync(join(root, p), 'x');
  }
}

test('sameAtShownPrecision: a shown figure matches the fraction it rounds, at its own precision', () => {
  assert.ok(sameAtShownPrecision('21.9%', 0.21943833));
  assert.ok(sameAtShownPrecision(' 21.94 % ', 0.21943833));
  assert.ok(sameAtShownPrecision('0.4341', 0.43410852));
  assert.ok(sameAtShownPrecision('22%', 0.21943833));
  assert.ok(!sameAtShownPrecision('22.0%', 0.21943833));
  assert.ok(!sameAtShownPrecision('21.8%', 0.21943833));
  assert.ok(!sameAtShownPrecision('0.434', 0.4346));
  assert.ok(!sameAtShownPrecision('n/a', 0.2));
});

test('median of an odd count', () => {
  assert.equal(median([43, 12, 200]), 43);
});

const LOCK = {
  packages: {
    '': { dependencies: { 'onnxruntime-node': '^1', 'cli-progress': '^3' } },
    'node_modules/onnxruntime-node': { version: '1.30.0', dependencies: { 'onnxruntime-common': '1.30.0', 'global-agent': '^4' } },
    'node_modules/onnxruntime-common': { version: '1.30.0' },
    'node_modules/global-agent': { version: '4.1.3', dependencies: { semver: '^7' } },
    'node_modules/global-agent/node_modules/semver': { version: '7.7.0' },
    'node_modules/semver': { version: '6.0.0', dev: true },
    'node_modules/cli-progress': { version: '3.12.0' },
  },
};

test('runtimeClosure: what onnxruntime-node needs, nested copies resolved as npm does', () => {
  const root = tmp();
  writeFileSync(join(root, 'package-lock.json'), JSON.stringify(LOCK));
  assert.deepEqual(runtimeClosure(root), ['global-agent', 'global-agent/node_modules/semver', 'onnxruntime-common', 'onnxruntime-node']);
});

test('checkInstalledContents: passes a lean copy, names what a leaky one holds', () => {
  const root = tmp();
  writeFileSync(
    join(root, 'package-lock.json'),
    JSON.stringify({ packages: { 'node_modules/onnxruntime-node': { dependencies: { 'onnxruntime-common': '1' } }, 'node_modules/onnxruntime-common': {} } }),
  );
  const lean = join(root, 'lean');
  const runtime = ['package.json', 'dist/extension.js', 'dist/job-worker.js', 'dist/worker.js', 'dist/cli.js', 'dist/notebook-renderer.js', 'bin/ken.js'];
  const ort = ['node_modules/onnxruntime-node/package.json', 'node_modules/onnxruntime-node/bin/napi-v6/linux/x64/onnxruntime_binding.node', 'node_modules/onnxruntime-common/package.json'];
  files(lean, [...runtime, ...ort]);
  assert.deepEqual(checkInstalledContents(lean, root).problems, []);

  const leaky = join(root, 'leaky');
  files(leaky, [...runtime.slice(1), ...ort, 'src/extension/extension.ts', 'dist/extension.js.map', 'node_modules/onnxruntime-node/bin/napi-v6/win32/x64/onnxruntime.dll', 'node_modules/cli-progress/index.js']);
  const { problems } = checkInstalledContents(leaky, root);
  assert.equal(problems.length, 4, problems.join('\n'));
  assert.match(problems[0], /not needed at run time: dist\/extension\.js\.map, src\/extension\/extension\.ts/);
  assert.match(problems[1], /binaries for napi-v6\/linux\/x64, napi-v6\/win32\/x64/);
  assert.match(problems[2], /missing package\.json/);
  assert.match(problems[3], /node_modules not needed at run time: cli-progress/);

  const missing = join(root, 'missing');
  files(missing, [...runtime, ...ort.slice(0, 2)]);
  assert.match(checkInstalledContents(missing, root).problems.join(), /node_modules missing \(onnxruntime-node needs them\): onnxruntime-common/);
});

test('the made-up 3-method sweep: every method at every k, random per seed with its aggregates, kept counts from the tensors', () => {
  const report = {
    totalParams: 1000,
    tensors: [
      { name: 'a.weight', rows: 4, total: 400, kept: 0, status: 'pruned' },
      { name: 'a.bias', rows: 1, total: 100, kept: 100, status: 'kept-all' },
      { name: 'head.weight', rows: 5, total: 500, kept: 500, status: 'head' },
    ],
  };
  assert.equal(keptAt(report, 8), 4 * 8 + 100 + 500);
  assert.equal(keptAt(report, 1000), 400 + 100 + 500, 'never more than the row');
  const s = syntheticMethodsSweep(report, { ks: [8, 32], seeds: 3 });
  assert.deepEqual(s.methods, SWEEP_METHODS);
  assert.equal(s.points.length, 2 * (2 + 3));
  assert.deepEqual(s.points.filter((p) => p.method === 'random').map((p) => [p.k, p.seed]), [[8, 0], [8, 1], [8, 2], [32, 0], [32, 1], [32, 2]]);
  assert.equal(s.points.filter((p) => p.method !== 'random').every((p) => p.seed === undefined), true);
  for (const a of s.aggregates) {
    const vs = s.points.filter((p) => p.method === 'random' && p.k === a.k).map((p) => p.value);
    assert.ok(Math.abs(a.mean - vs.reduce((x, y) => x + y, 0) / vs.length) < 1e-12);
    assert.deepEqual([a.min, a.max, a.runs], [Math.min(...vs), Math.max(...vs), 3]);
  }
  assert.deepEqual(s.recommendations.map((r) => r.method), SWEEP_METHODS);
  assert.ok(s.adapter.trainableParams > 0 && s.adapter.bytes > 0);
});
