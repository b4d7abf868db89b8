// Every data-free pruning method against its independent NumPy/torch computation
// (test/data/methods/make_methods.py), seeds, restore, and the one-line errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readSafetensorsHeader } from '../../src/formats/safetensors';
import { readSubnetwork } from '../../src/formats/subnetwork';
import { fmix32, TensorDraws } from '../../src/methods/draws';
import { markTopK } from '../../src/methods/topk';
import { METHOD_NAMES } from '../../src/methods/registry';
import type { KenReport } from '../../src/shared/report';
import { ROOT, ken, tmp } from '../helpers';

const DATA = join(ROOT, 'test', 'data', 'methods');
const FT = join(DATA, 'pair', 'finetuned');
const BASE = join(DATA, 'pair', 'base');
interface Case { method: string; k: number; seed?: number; file: string }
const CASES = JSON.parse(readFileSync(join(DATA, 'expected', 'cases.json'), 'utf8')) as Case[];

async function tensors(file: string): Promise<Map<string, Buffer>> {
  const h = await readSafetensorsHeader(file);
  const bytes = readFileSync(file);
  return new Map(h.tensors.map((t) => [t.name, bytes.subarray(t.begin, t.end)]));
}

async function prune(args: string[]): Promise<{ out: string; code: number; stdout: string; stderr: string }> {
  const out = join(tmp(), 'out');
  const r = await ken(['prune', FT, '--base', BASE, '--out', out, ...args]);
  return { out, ...r };
}

test('the methods registry names ken first and every method file', () => {
  assert.deepEqual(METHOD_NAMES, ['ken', 'delta-magnitude', 'magnitude', 'random', 'dare', 'wanda']);
});

test('delta-magnitude, magnitude, random and dare equal the NumPy computation bit for bit (F32, BF16, F16, a BF16 tensor on an F32 base; planted ties)', async () => {
  assert.ok(CASES.length >= 30);
  for (const c of CASES) {
    const r = await prune(['-k', String(c.k), '--method', c.method, ...(c.seed !== undefined ? ['--seed', String(c.seed)] : [])]);
    assert.equal(r.code, 0, r.stderr);
    const got = await tensors(join(r.out, 'model.safetensors'));
    const want = await tensors(join(DATA, 'expected', c.file));
    for (const [name, bytes] of want) assert.ok(Buffer.compare(got.get(name)!, bytes) === 0, `${c.file}: ${name}`);
    // the head is not pruned: it stays the fine-tuned one
    const ft = await tensors(join(FT, 'model.safetensors'));
    assert.ok(Buffer.compare(got.get('classifier.weight')!, ft.get('classifier.weight')!) === 0);
    const report = JSON.parse(readFileSync(join(r.out, 'ken-report.json'), 'utf8')) as KenReport;
    assert.equal(report.method, c.method);
    assert.equal(report.seed, c.seed);
    assert.equal(report.rescaled, c.method === 'dare' ? true : undefined);
    assert.equal(report.kernel, undefined);
    const sub = await readSubnetwork(join(r.out, 'ken-subnetwork.safetensors'));
    assert.equal(sub.meta.method, c.method);
    assert.equal(sub.meta.seed, c.seed);
  }
});

test('exactly min(k, n) values per row are kept (KEN may keep more where values repeat)', async () => {
  const r = await prune(['-k', '5', '--method', 'delta-magnitude']);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(readFileSync(join(r.out, 'ken-report.json'), 'utf8')) as KenReport;
  for (const t of report.tensors.filter((x) => x.status === 'pruned')) {
    const n = t.shape.length === 1 ? t.shape[0]! : t.shape.slice(1).reduce((a, b) => a * b, 1);
    assert.equal(t.kept, t.rows * Math.min(5, n), t.name);
  }
});

test('a seed gives the same bytes at any thread count; another seed other columns', async () => {
  const a = await prune(['-k', '12', '--method', 'random', '--seed', '3', '--threads', '1']);
  const b = await prune(['-k', '12', '--method', 'random', '--seed', '3', '--threads', '2']);
  const c = await prune(['-k', '12', '--method', 'random', '--seed', '4']);
  for (const r of [a, b, c]) assert.equal(r.code, 0, r.stderr);
  const bytes = (r: { out: string }): Buffer => readFileSync(join(r.out, 'model.safetensors'));
  assert.ok(bytes(a).equals(bytes(b)));
  assert.ok(!bytes(a).equals(bytes(c)));
});

test('dare and random restore bit for bit from their subnetworks (rescaled values are the stored ones)', async () => {
  for (const method of ['dare', 'random', 'delta-magnitude']) {
    const r = await prune(['-k', '5', '--method', method, '--seed', '7']);
    assert.equal(r.code, 0, r.stderr);
    const restored = join(tmp(), 'restored');
    const rr = await ken(['restore', join(r.out, 'ken-subnetwork.safetensors'), '--base', BASE, '--out', restored]);
    assert.equal(rr.code, 0, rr.stderr);
    assert.ok(readFileSync(join(restored, 'model.safetensors')).equals(readFileSync(join(r.out, 'model.safetensors'))), method);
  }
});

test('the summary names the method, its seed and DARE\'s rescaling', async () => {
  const r = await prune(['-k', '5', '--method', 'dare', '--seed', '2']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^dare k=5 \(seed 2\): pruned 5 of 6 tensors/m);
  assert.match(r.stdout, /rescaled by n\/k/);
  assert.match(r.stdout, /selection on cpu \(main thread\)/);
});

test('bad method choices are one line and write nothing', async () => {
  const cases: [string[], RegExp][] = [
    [['--method', 'sparsegpt'], /^ken prune: unknown method 'sparsegpt'; the methods are ken, delta-magnitude, magnitude, random, dare, wanda$/],
    [['--method', 'random', '--seed=-1'], /--seed must be a non-negative integer \(got '-1'\)/],
    [['--method', 'random', '--seed', '1.5'], /--seed must be a non-negative integer \(got '1.5'\)/],
    [['--method', 'wanda'], /wanda needs --calibration FILE/],
  ];
  for (const [args, re] of cases) {
    const r = await prune(['-k', '5', ...args]);
    assert.notEqual(r.code, 0);
    // one line, then the command's usage line (exit 2)
    const lines = r.stderr.trim().split('\n');
    assert.match(lines[0]!, re);
    assert.equal(r.code, 2);
    assert.ok(lines.length === 1 || (lines.length === 2 && lines[1]!.startsWith('usage: ken prune')), r.stderr);
    assert.ok(!existsSync(r.out));
  }
});

test('top-k keeps the largest scores and the first of tied ones in column order', () => {
  const scores = Float32Array.from([1, 3, 3, 2, 3, 0]);
  const mask = new Uint8Array(6);
  assert.equal(markTopK(scores, 6, 2, mask, 0), 2);
  assert.deepEqual([...mask], [0, 1, 1, 0, 0, 0]);
  mask.fill(0);
  markTopK(scores, 6, 4, mask, 0);
  assert.deepEqual([...mask], [0, 1, 1, 1, 1, 0]);
  // scores that share their high bits (the radix passes must narrow down to the last bit), and zeros
  const close = Float32Array.from([1.0000001, 1.0000002, 1, 0, 1.0000002, 0]);
  for (let k = 1; k <= 6; k++) {
    mask.fill(0);
    markTopK(close, 6, k, mask, 0);
    const want = [...close.keys()].sort((a, b) => close[b]! - close[a]! || a - b).slice(0, k);
    assert.deepEqual([...mask.keys()].filter((j) => mask[j]), want.sort((a, b) => a - b), `k=${k}`);
  }
});

test('the draws are uniform: every column is chosen about k/n of the time over many rows', () => {
  const n = 20;
  const k = 5;
  const rows = 4000;
  const d = new TensorDraws(0, 't');
  const mask = new Uint8Array(rows * n);
  for (let r = 0; r < rows; r++) d.columns(r, n, k, mask, r * n);
  const counts = new Array<number>(n).fill(0);
  for (let i = 0; i < mask.length; i++) counts[i % n]! += mask[i]!;
  const expected = (rows * k) / n;
  // chi-square with 19 degrees of freedom: 43.8 is its 0.999 quantile
  const chi = counts.reduce((s, c) => s + (c - expected) ** 2 / expected, 0);
  assert.ok(chi < 43.8, `chi-square ${chi}`);
  assert.equal(fmix32(0), 0);
  assert.equal(fmix32(1), 0x514e28b7);
});
