import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { KenReport } from '../../src/shared/report';
import type { SweepResult } from '../../src/shared/report';
import { DEMO, EXPECTED, fixture, ken, tmp } from '../helpers';

const data = join(DEMO, 'test.jsonl');

test('sweep: after KEN at each listed k, accuracy within 0.3 points of the reference figure; fine-tuned within 0.1', async () => {
  const ks = Object.keys(EXPECTED.ken);
  const r = await ken(['sweep', join(DEMO, 'finetuned'), '--base', join(DEMO, 'pretrained'), '--data', data, '-k', ks.join(','), '--json']);
  assert.equal(r.code, 0, r.stderr);
  const result = JSON.parse(r.stdout) as SweepResult;
  assert.ok(Math.abs(result.finetunedAccuracy - EXPECTED.finetunedAccuracy) <= 0.001, `fine-tuned ${result.finetunedAccuracy}`);
  for (const k of ks) {
    const p = result.points.find((x) => x.k === Number(k))!;
    const want = EXPECTED.ken[k]!;
    assert.equal(p.keptParams, want.keptParams, `k=${k} kept params`);
    assert.ok(Math.abs(p.accuracy - want.accuracy) <= 0.003, `k=${k}: ${p.accuracy} vs ${want.accuracy}`);
  }
});

test('sweep --max-drop finds the smallest k within the budget by grid then bisection', async () => {
  const r = await ken(['sweep', join(DEMO, 'finetuned'), '--base', join(DEMO, 'pretrained'), '--data', data, '-k', '96,160', '--max-drop', '4', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const result = JSON.parse(r.stdout) as SweepResult;
  const floor = result.finetunedAccuracy - 0.04;
  assert.ok(result.recommended !== undefined, result.note);
  const rec = result.points.find((p) => p.k === result.recommended)!;
  assert.ok(rec.accuracy >= floor);
  const below = result.points.find((p) => p.k === result.recommended! - 1);
  assert.ok(below && below.accuracy < floor, 'the k just below the recommendation misses the budget');
  assert.ok(result.points.length > 2, 'bisection evaluated more k than the grid');
  const table = await ken(['sweep', join(DEMO, 'finetuned'), '--base', join(DEMO, 'pretrained'), '--data', data, '-k', '96,160', '--max-drop', '4']);
  assert.match(table.stdout, new RegExp(`use k=${result.recommended}: the smallest k whose accuracy stays within 4 points`));
});

test('prune --eval records accuracy before and after in ken-report.json', async () => {
  const out = join(tmp(), 'pruned');
  const r = await ken(['prune', join(DEMO, 'finetuned'), '--base', join(DEMO, 'pretrained'), '-k', '64', '--out', out, '--eval', data]);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(readFileSync(join(out, 'ken-report.json'), 'utf8')) as KenReport;
  const { before, after } = report.accuracy!;
  assert.ok(Math.abs(before.accuracy - EXPECTED.finetunedAccuracy) <= 0.001);
  assert.ok(Math.abs(after.accuracy - EXPECTED.ken['64']!.accuracy) <= 0.003);
  for (const e of [before, after]) for (const key of ['accuracy', 'macroF1', 'perClass', 'confusion', 'labels', 'samples', 'executionProvider', 'seconds']) assert.ok(key in e, key);
  assert.match(r.stdout, /accuracy 69\.88% -> 55\.04%/);
});

test('prune --eval on a safetensors-only folder runs the built graph; with the export beside it, the export (same figures)', async () => {
  const built = join(tmp(), 'pruned');
  const r = await ken(['prune', fixture('finetuned', ['safetensors']), '--base', join(DEMO, 'pretrained'), '-k', '32', '--out', built, '--eval', data]);
  assert.equal(r.code, 0, r.stderr);
  const a = (JSON.parse(readFileSync(join(built, 'ken-report.json'), 'utf8')) as KenReport).accuracy!;
  assert.deepEqual([a.before.graph, a.after.graph], ['built', 'built']);
  assert.equal(a.before.accuracy, EXPECTED.finetunedAccuracy);
  const exported = join(tmp(), 'pruned');
  const e = await ken(['prune', fixture('finetuned', ['safetensors', 'onnx']), '--base', join(DEMO, 'pretrained'), '-k', '32', '--out', exported, '--eval', data]);
  assert.equal(e.code, 0, e.stderr);
  const b = (JSON.parse(readFileSync(join(exported, 'ken-report.json'), 'utf8')) as KenReport).accuracy!;
  assert.deepEqual([b.before.graph, b.after.graph], ['export', 'export']);
  assert.deepEqual([a.before.confusion, a.after.confusion], [b.before.confusion, b.after.confusion]);
  const s = await ken(['prune', fixture('finetuned', ['safetensors']), '--base', join(DEMO, 'pretrained'), '-k', '8', '--out', join(tmp(), 'x'), '--eval', data, '--graph', 'export']);
  assert.equal(s.code, 1);
  assert.match(s.stderr, /no ONNX model to evaluate .*optimum-cli export onnx/);
});

test('sweep on the safetensors-only folder equals the sweep on its export, and never writes into the folder', async () => {
  const st = fixture('finetuned', ['safetensors']);
  const before = readdirSync(st).map((f) => [f, statSync(join(st, f)).mtimeMs]);
  const a = await ken(['sweep', st, '--base', join(DEMO, 'pretrained'), '--data', data, '-k', '16,64', '--json']);
  assert.equal(a.code, 0, a.stderr);
  const b = await ken(['sweep', fixture('finetuned', ['onnx', 'safetensors']), '--base', join(DEMO, 'pretrained'), '--data', data, '-k', '16,64', '--json']);
  assert.equal(b.code, 0, b.stderr);
  const [ra, rb] = [JSON.parse(a.stdout) as SweepResult, JSON.parse(b.stdout) as SweepResult];
  assert.equal(ra.before.graph, 'built');
  assert.equal(rb.before.graph, 'export');
  // the same pruned tensors and metrics; the subnetwork of the folder with an export also holds model.onnx's other bytes
  const without = (ps: typeof ra.points): unknown[] => ps.map(({ subnetworkBytes, ...p }) => { void subnetworkBytes; return p; });
  assert.deepEqual(without(ra.points), without(rb.points));
  for (let i = 0; i < ra.points.length; i++) assert.ok(ra.points[i]!.subnetworkBytes! !== rb.points[i]!.subnetworkBytes!);
  assert.deepEqual(readdirSync(st).map((f) => [f, statSync(join(st, f)).mtimeMs]), before);
});

test('sweep --metric weighted_f1 --max-drop: the budget is in weighted-F1 points; an unknown metric names the ones there are', async () => {
  const r = await ken(['sweep', join(DEMO, 'finetuned'), '--base', join(DEMO, 'pretrained'), '--data', data, '-k', '96,160', '--metric', 'weighted_f1', '--max-drop', '4', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const result = JSON.parse(r.stdout) as SweepResult;
  assert.equal(result.metric, 'weighted_f1');
  assert.equal(result.finetunedValue, (result.before.metrics as { weighted_f1: number }).weighted_f1);
  assert.ok(result.recommended !== undefined, result.note);
  const rec = result.points.find((p) => p.k === result.recommended)!;
  assert.equal(rec.value, rec.metrics!['weighted_f1']);
  assert.ok(rec.value! >= result.finetunedValue - 0.04);
  const below = result.points.find((p) => p.k === result.recommended! - 1);
  assert.ok(below && below.value! < result.finetunedValue - 0.04, 'the k just below the recommendation misses the weighted-F1 budget');
  const bad = await ken(['sweep', join(DEMO, 'finetuned'), '--base', join(DEMO, 'pretrained'), '--data', data, '-k', '96', '--metric', 'bleu']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--metric bleu: not a metric of this task \(accuracy, macro_f1, weighted_f1, mcc\)/);
});
