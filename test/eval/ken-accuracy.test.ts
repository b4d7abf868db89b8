import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KenReport } from '../../src/report/report';
import type { SweepResult } from '../../src/ken/sweep';
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

test('prune --eval without an ONNX model says how to export one, before any pruning', async () => {
  const out = join(tmp(), 'pruned');
  const r = await ken(['prune', fixture('finetuned', ['safetensors']), '--base', join(DEMO, 'pretrained'), '-k', '8', '--out', out, '--eval', data]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /no ONNX model to evaluate .*optimum-cli export onnx/);
});
