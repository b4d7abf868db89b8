// `ken sweep --methods` and `ken prune --compare` on the demo pair (a short slice of its test set).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KenReport, SweepResult } from '../../src/shared/report';
import { DEMO, ken, tmp } from '../helpers';

const FT = join(DEMO, 'finetuned');
const BASE = join(DEMO, 'pretrained');
const DATA = (() => {
  const p = join(tmp(), 'slice.jsonl');
  writeFileSync(p, readFileSync(join(DEMO, 'test.jsonl'), 'utf8').split('\n').filter(Boolean).slice(0, 120).join('\n') + '\n');
  return p;
})();

test('sweep --methods --seeds --json: a point per method, k and seed, with kept parameters, subnetwork bytes and metrics; seeded methods aggregated', async () => {
  const r = await ken(['sweep', FT, '--base', BASE, '--data', DATA, '-k', '1,48', '--methods', 'ken,delta-magnitude,random', '--seeds', '2', '--seed', '5', '--max-drop', '100', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout) as SweepResult;
  assert.deepEqual(s.methods, ['ken', 'delta-magnitude', 'random']);
  assert.deepEqual(s.points.map((p) => `${p.method}:${p.k}:${p.seed ?? '-'}`), ['ken:1:-', 'ken:48:-', 'delta-magnitude:1:-', 'delta-magnitude:48:-', 'random:1:5', 'random:1:6', 'random:48:5', 'random:48:6']);
  for (const p of s.points) {
    assert.equal(typeof p.metrics?.['accuracy'], 'number');
    assert.equal(p.value, p.metrics!['accuracy']);
    assert.ok(p.subnetworkBytes! > 0 && p.keptParams > 0);
  }
  for (const k of [1, 48]) {
    const runs = s.points.filter((p) => p.method === 'random' && p.k === k).map((p) => p.value!);
    const agg = s.aggregates.find((a) => a.method === 'random' && a.k === k)!;
    assert.equal(agg.runs, 2);
    assert.ok(Math.abs(agg.mean - (runs[0]! + runs[1]!) / 2) < 1e-12);
    assert.ok(Math.abs(agg.spread - Math.abs(runs[0]! - runs[1]!) / Math.SQRT2) < 1e-12);
  }
  // a 100-point budget: every method's smallest k is the grid's first, 1 (no search below it)
  assert.deepEqual(s.recommendations!.map((x) => [x.method, x.k]), [['ken', 1], ['delta-magnitude', 1], ['random', 1]]);
  const fewest = Math.min(...s.recommendations!.map((x) => x.keptParams!));
  assert.equal(s.best!.fewestParams.keptParams, fewest);
  assert.equal(s.recommended, 1);
});

test('a sweep point keeps what ken prune keeps at the same method, k and seed, and its subnetwork bytes are the file\'s less its header', async () => {
  const r = await ken(['sweep', FT, '--base', BASE, '--data', DATA, '-k', '24', '--methods', 'dare,magnitude', '--seed', '3', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout) as SweepResult;
  for (const method of ['dare', 'magnitude']) {
    const out = join(tmp(), method);
    const p = await ken(['prune', FT, '--base', BASE, '-k', '24', '--method', method, '--seed', '3', '--out', out, '--eval', DATA, '--json']);
    assert.equal(p.code, 0, p.stderr);
    const report = JSON.parse(p.stdout) as KenReport;
    const point = s.points.find((x) => x.method === method)!;
    assert.equal(point.keptParams, report.keptParams);
    assert.equal(point.value, report.accuracy!.after.accuracy, method);
    const file = statSync(join(out, 'ken-subnetwork.safetensors')).size;
    assert.ok(file > point.subnetworkBytes! && file - point.subnetworkBytes! < 64 * 1024, `${method}: ${file} vs ${point.subnetworkBytes}`);
  }
});

test('prune --compare: one line with every method at the pruned k, the comparison kept in the report', async () => {
  const out = join(tmp(), 'cmp');
  const r = await ken(['prune', FT, '--base', BASE, '-k', '32', '--out', out, '--eval', DATA, '--compare', '--methods', 'delta-magnitude,random', '--seeds', '2']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^KEN k=32: pruned/m);
  assert.match(r.stdout, /^at k=32: ken \d+\.\d\d%, delta-magnitude \d+\.\d\d%, random \d+\.\d\d% ±\d+\.\d\d \(2 seeds\); fine-tuned \d+\.\d\d% \(accuracy\)$/m);
  const report = JSON.parse(readFileSync(join(out, 'ken-report.json'), 'utf8')) as KenReport;
  assert.equal(report.method, 'ken');
  assert.deepEqual(report.sweep!.methods, ['ken', 'delta-magnitude', 'random']);
  assert.equal(report.sweep!.points.find((p) => p.method === 'ken')!.value, report.accuracy!.after.accuracy);
});

test('bad sweep choices are one line', async () => {
  const cases: [string[], RegExp][] = [
    [['--methods', 'ken,obd'], /unknown method 'obd'; the methods are ken, delta-magnitude/],
    [['--methods', 'random', '--seeds', '0'], /--seeds must be a whole number >= 1 \(got '0'\)/],
    [['--methods', 'ken,wanda'], /wanda needs --calibration FILE/],
  ];
  for (const [args, re] of cases) {
    const r = await ken(['sweep', FT, '--base', BASE, '--data', DATA, '-k', '8', ...args]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr.split('\n')[0]!, re);
  }
  const c = await ken(['prune', FT, '--base', BASE, '-k', '8', '--out', join(tmp(), 'x'), '--compare']);
  assert.equal(c.code, 2);
  assert.match(c.stderr, /--compare needs --eval <data>/);
});

test('sweep --adapter: a LoRA adapter of the same task is one more point, scored as the merged model and counted by its trainable parameters', async () => {
  const { readSafetensorsHeader, writeSafetensors } = await import('../../src/formats/safetensors');
  const { copyFileSync, mkdirSync } = await import('node:fs');
  const read = async (file: string): Promise<Map<string, { dtype: string; shape: number[]; data: Uint8Array }>> => {
    const h = await readSafetensorsHeader(file);
    const bytes = readFileSync(file);
    return new Map(h.tensors.map((t) => [t.name, { dtype: t.dtype, shape: t.shape, data: new Uint8Array(bytes.subarray(t.begin, t.end)) }]));
  };
  const ft = await read(join(FT, 'model.safetensors'));
  const base = await read(join(BASE, 'model.safetensors'));
  const root = tmp();
  // the adapter: LoRA on every query with B = 0 (no change), the pooler and the classifier saved whole
  const adapter = join(root, 'adapter');
  mkdirSync(adapter);
  writeFileSync(join(adapter, 'adapter_config.json'), JSON.stringify({ peft_type: 'LORA', task_type: 'SEQ_CLS', r: 2, lora_alpha: 4, target_modules: ['query'], modules_to_save: ['classifier', 'pooler'], base_model_name_or_path: BASE }));
  const tensors: { name: string; dtype: string; shape: number[]; data: Uint8Array }[] = [];
  let trainable = 0;
  for (const [name, t] of ft) {
    if (/\.query\.weight$/.test(name)) {
      const [out, inp] = t.shape as [number, number];
      const a = new Float32Array(2 * inp).map((_, i) => Math.sin(i) * 0.1);
      tensors.push({ name: `base_model.model.${name.replace(/\.weight$/, '.lora_A.weight')}`, dtype: 'F32', shape: [2, inp], data: new Uint8Array(a.buffer) });
      tensors.push({ name: `base_model.model.${name.replace(/\.weight$/, '.lora_B.weight')}`, dtype: 'F32', shape: [out, 2], data: new Uint8Array(out * 2 * 4) });
      trainable += 2 * inp + out * 2;
    } else if (/^(classifier|bert\.pooler)\./.test(name)) {
      tensors.push({ name: `base_model.model.${name}`, ...t });
      trainable += t.shape.reduce((x, y) => x * y, 1);
    }
  }
  await writeSafetensors(join(adapter, 'adapter_model.safetensors'), tensors);
  // what the merged model must be: the base's encoder with the fine-tuned pooler and classifier
  const expected = join(root, 'expected');
  mkdirSync(expected);
  await writeSafetensors(join(expected, 'model.safetensors'), [...ft].map(([name, t]) => ({ name, ...(/^(classifier|bert\.pooler)\./.test(name) ? t : base.get(name)!) })));
  for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'vocab.txt']) copyFileSync(join(FT, f), join(expected, f));
  const e = await ken(['eval', expected, '--data', DATA, '--json']);
  assert.equal(e.code, 0, e.stderr);
  const want = (JSON.parse(e.stdout) as { metrics: { accuracy: number } }).metrics.accuracy;

  const r = await ken(['sweep', FT, '--base', BASE, '--data', DATA, '-k', '8', '--methods', 'delta-magnitude', '--adapter', adapter, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout) as SweepResult;
  assert.equal(s.adapter!.value, want);
  assert.equal(s.adapter!.metrics['accuracy'], want);
  assert.equal(s.adapter!.trainableParams, trainable);
  assert.equal(s.adapter!.bytes, statSync(join(adapter, 'adapter_model.safetensors')).size);
  const t = await ken(['sweep', FT, '--base', BASE, '--data', DATA, '-k', '8', '--methods', 'delta-magnitude', '--adapter', adapter]);
  assert.match(t.stdout, new RegExp(`^adapter .*adapter: accuracy ${(want * 100).toFixed(2)}%, trains ${trainable.toLocaleString('en-US')} parameters`, 'm'));
});
