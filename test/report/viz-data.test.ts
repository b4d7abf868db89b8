import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { CheckpointError } from '../../src/errors';
import { pruneToFolder } from '../../src/workflows/prune';
import { SUBNETWORK_FILE } from '../../src/formats/subnetwork';
import { REPORT_FILE } from '../../src/shared/report';
import { ByteLru, VizDataSource, maskJaccard, scatterKept } from '../../src/report/viz-data';
import { synthPair, tmp } from '../helpers';

const BIG = 'bert.encoder.layer.0.output.dense.weight';
const BIG2 = 'bert.encoder.layer.1.output.dense.weight';
const K = 32;
let out = '';
const ft = new Map<string, Float32Array>();

before(async () => {
  const root = tmp('ken-viz-');
  const pair = await synthPair(root, {
    seed: 10,
    shapes: [
      [BIG, [768, 3072]],
      [BIG2, [768, 3072]],
      ['bert.encoder.layer.0.attention.self.query.weight', [48, 40]],
      ['bert.encoder.layer.0.attention.self.query.bias', [48]],
      ['classifier.weight', [3, 40]],
    ],
  });
  for (const [name, v] of pair.values) ft.set(name, v);
  out = join(root, 'out');
  await pruneToFolder({ finetuned: pair.ft, base: pair.base, out, k: K, backend: 'js', threads: 2 });
});

test('lists every tensor of the subnetwork as a grid (1-D tensors are one row) with its layer and pattern', async () => {
  const d = await VizDataSource.open(out);
  const big = d.tensors.find((t) => t.name === BIG)!;
  assert.deepEqual([big.rows, big.cols, big.status, big.layer, big.pattern], [768, 3072, 'pruned', 0, 'bert.encoder.layer.*.output.dense.weight']);
  const bias = d.tensors.find((t) => t.name.endsWith('query.bias'))!;
  assert.deepEqual([bias.rows, bias.cols], [1, 48]);
  const head = d.tensors.find((t) => t.name === 'classifier.weight')!;
  assert.notEqual(head.status, 'pruned');
  assert.equal(head.layer, undefined);
  const init = d.initMessage({ title: 'T' });
  assert.equal(init.type, 'init');
  assert.equal(init.title, 'T');
  assert.equal(init.backend, 'js');
  assert.equal(init.tensors.length, d.report.tensors.length);
});

test('a full-resolution tile holds the fine-tuned value at each kept position, NaN elsewhere, k per row', async () => {
  const d = await VizDataSource.open(out);
  const w = { row0: 100, row1: 110, col0: 0, col1: 3072 };
  const t = await d.tile(BIG, { kind: 'values', window: w, maxRows: 10, maxCols: 3072 });
  assert.deepEqual([t.rows, t.cols, t.rowStep, t.colStep], [10, 3072, 1, 1]);
  const src = ft.get(BIG)!;
  for (let i = 0; i < 10; i++) {
    let kept = 0;
    for (let c = 0; c < 3072; c++) {
      const v = t.values[i * 3072 + c]!;
      if (Number.isNaN(v)) continue;
      kept++;
      assert.equal(v, src[(100 + i) * 3072 + c]);
    }
    assert.equal(kept, K, `row ${100 + i}`);
  }
  assert.equal(t.stats.kept, 768 * K);
  assert.equal(t.stats.total, 768 * 3072);
});

test('a tensor kept whole comes back whole', async () => {
  const d = await VizDataSource.open(out);
  const t = await d.tile('classifier.weight', { kind: 'values', maxRows: 10, maxCols: 100 });
  assert.deepEqual([...t.values], [...ft.get('classifier.weight')!]);
  assert.ok([...t.keptFraction].every((f) => f === 1));
});

test('768x3072: request to response timings (printed, not asserted), within the cell budget', async () => {
  const d = await VizDataSource.open(out);
  let t0 = performance.now();
  const cold = await d.handle({ type: 'request-tile', requestId: 7, tensor: BIG, kind: 'values', maxRows: 600, maxCols: 1100 });
  const coldMs = performance.now() - t0;
  assert.equal(cold.type, 'tile');
  assert.equal(cold.inReplyTo, 7);
  if (cold.type !== 'tile') return;
  assert.ok(cold.tile.rows <= 600 && cold.tile.cols <= 1100);
  assert.ok(cold.tile.values instanceof Float32Array, 'typed arrays, not number lists');
  t0 = performance.now();
  await d.handle({ type: 'request-tile', requestId: 8, tensor: BIG2, kind: 'values', maxRows: 600, maxCols: 1100 });
  const switchMs = performance.now() - t0;
  t0 = performance.now();
  await d.handle({ type: 'request-tile', requestId: 9, tensor: BIG, kind: 'values', maxRows: 600, maxCols: 1100 });
  const warmMs = performance.now() - t0;
  t0 = performance.now();
  await d.handle({ type: 'request-tile', requestId: 10, tensor: BIG, kind: 'neighbours', maxRows: 600, maxCols: 1100 });
  const nbMs = performance.now() - t0;
  t0 = performance.now();
  await d.handle({ type: 'request-tile', requestId: 11, tensor: BIG, kind: 'values', window: { row0: 300, row1: 400, col0: 1000, col1: 1400 }, maxRows: 600, maxCols: 1100 });
  const zoomMs = performance.now() - t0;
  console.log(`# 768x3072 tile, request to response: first ${coldMs.toFixed(1)} ms, switch to another (cold) ${switchMs.toFixed(1)} ms, back (cached) ${warmMs.toFixed(1)} ms, neighbours ${nbMs.toFixed(1)} ms, zoomed window ${zoomMs.toFixed(1)} ms`);
  const stats = d.cacheStats();
  assert.equal(stats.tensors, 2);
});

test('the cache of decoded tensors stays within its byte bound', async () => {
  const d = await VizDataSource.open(out, { cacheBytes: 768 * 3072 * 4 + 1000 });
  await d.tile(BIG, { kind: 'values', maxRows: 8, maxCols: 8 });
  assert.equal(d.cacheStats().tensors, 1);
  await d.tile(BIG2, { kind: 'values', maxRows: 8, maxCols: 8 });
  assert.equal(d.cacheStats().tensors, 1, 'the first one was evicted');
  assert.ok(d.cacheStats().bytes <= d.cacheStats().maxBytes);
  // neighbours add their counts to the entry; too big for the bound, so it is not kept, but still answered
  const nb = await d.tile(BIG2, { kind: 'neighbours', maxRows: 8, maxCols: 8 });
  assert.equal(nb.kind, 'neighbours');
  assert.ok(d.cacheStats().bytes <= d.cacheStats().maxBytes);
});

test('ByteLru evicts the least recently used first', () => {
  const lru = new ByteLru<string, number>(10);
  lru.set('a', 1, 4);
  lru.set('b', 2, 4);
  assert.equal(lru.get('a'), 1);
  lru.set('c', 3, 4);
  assert.equal(lru.has('b'), false);
  assert.equal(lru.has('a'), true);
  assert.equal(lru.bytes, 8);
  lru.set('big', 4, 11);
  assert.equal(lru.has('big'), false);
});

test('errors are one-line CheckpointErrors naming the folder, file or tensor', async () => {
  const d = await VizDataSource.open(out);
  await assert.rejects(d.tile('no.such.weight', { kind: 'values', maxRows: 1, maxCols: 1 }), (e: unknown) => e instanceof CheckpointError && /no\.such\.weight/.test(e.message));
  const answer = await d.handle({ type: 'request-tile', requestId: 3, tensor: 'no.such.weight', kind: 'values', maxRows: 1, maxCols: 1 });
  assert.equal(answer.type, 'error');
  assert.equal(answer.inReplyTo, 3);
  assert.match(answer.type === 'error' ? answer.message : '', /no\.such\.weight/);
  const empty = tmp('ken-viz-empty-');
  await assert.rejects(VizDataSource.open(empty), (e: unknown) => e instanceof CheckpointError && e.message.includes(REPORT_FILE) && !e.message.includes('\n'));
  const noSub = tmp('ken-viz-nosub-');
  copyFileSync(join(out, REPORT_FILE), join(noSub, REPORT_FILE));
  await assert.rejects(VizDataSource.open(noSub), (e: unknown) => e instanceof CheckpointError && e.message.includes(SUBNETWORK_FILE));
  const badJson = tmp('ken-viz-bad-');
  mkdirSync(badJson, { recursive: true });
  writeFileSync(join(badJson, REPORT_FILE), '{"k": 3');
  await assert.rejects(VizDataSource.open(badJson), (e: unknown) => e instanceof CheckpointError && /not JSON/.test(e.message));
});

test('kept sets compare by Jaccard overlap; kept values scatter into place', () => {
  assert.equal(maskJaccard(Uint8Array.of(1, 1, 0, 0), Uint8Array.of(1, 0, 1, 0)), 1 / 3);
  assert.equal(maskJaccard(Uint8Array.of(0, 0), Uint8Array.of(0, 0)), 1);
  assert.throws(() => maskJaccard(Uint8Array.of(1), Uint8Array.of(1, 0)), RangeError);
  const s = scatterKept(Uint8Array.of(0, 1, 1, 0), Float32Array.of(5, 6), 'x');
  assert.ok(Number.isNaN(s[0]!) && Number.isNaN(s[3]!));
  assert.deepEqual([s[1], s[2]], [5, 6]);
  assert.throws(() => scatterKept(Uint8Array.of(1, 1), Float32Array.of(5), 'model: tensor w'), /tensor w/);
});

test('mask() gives the kept set of a tensor, k per row', async () => {
  const d = await VizDataSource.open(out);
  const m = await d.mask('bert.encoder.layer.0.attention.self.query.weight');
  assert.equal(m.length, 48 * 40);
  for (let r = 0; r < 48; r++) assert.equal(m.subarray(r * 40, (r + 1) * 40).reduce((a, b) => a + b, 0), K);
});
