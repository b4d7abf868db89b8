import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readSafetensorsHeader } from '../../src/formats/safetensors';
import { differingPositions } from '../../src/workflows/compare';
import { RowPruner } from '../../src/ken/row';
import type { KenReport } from '../../src/shared/report';
import { VizDataSource } from '../../src/report/viz-data';
import { fixture, ken, synthModel, synthPair, tmp, type SynthTensor } from '../helpers';

async function f32Tensors(dir: string): Promise<Map<string, { shape: number[]; values: Float32Array }>> {
  const file = join(dir, 'model.safetensors');
  const h = await readSafetensorsHeader(file);
  const bytes = readFileSync(file);
  const out = new Map<string, { shape: number[]; values: Float32Array }>();
  for (const t of h.tensors) {
    const b = bytes.subarray(t.begin, t.end);
    out.set(t.name, { shape: t.shape, values: new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)) });
  }
  return out;
}

function readReport(dir: string): KenReport {
  return JSON.parse(readFileSync(join(dir, 'ken-report.json'), 'utf8')) as KenReport;
}

test('a reference-style output (the base with only the kept fine-tuned values written back) gives our prune\'s kept counts per tensor', async () => {
  const root = tmp();
  const pair = await synthPair(root);
  const k = 4;
  // our own prune of the pair
  const ours = join(root, 'ours');
  assert.equal((await ken(['prune', pair.ft, '--base', pair.base, '-k', String(k), '--out', ours])).code, 0);
  const pruned = readReport(ours).tensors.filter((t) => t.status === 'pruned');
  assert.ok(pruned.length >= 5);
  // the reference's way: every tensor of the fine-tuned state dict, KEN row by row, written back into the base
  const ft = await f32Tensors(pair.ft);
  const base = await f32Tensors(pair.base);
  const refTensors: SynthTensor[] = [];
  const pruner = new RowPruner();
  for (const [name, t] of ft) {
    const b = base.get(name);
    if (!b || name.startsWith('classifier')) {
      refTensors.push({ name, shape: t.shape, values: t.values });
      continue;
    }
    const n = t.shape.length === 1 ? t.shape[0]! : t.values.length / t.shape[0]!;
    const rows = t.values.length / n;
    const mask = new Uint8Array(t.values.length);
    for (let r = 0; r < rows; r++) pruner.prune(t.values.subarray(r * n, (r + 1) * n), k, mask, r * n);
    refTensors.push({ name, shape: t.shape, values: t.values.map((v, i) => (mask[i] ? v : b.values[i]!)) });
  }
  const reference = await synthModel(join(root, 'reference-output'), refTensors);
  const r = await ken(['viz', reference, '--base', pair.base, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const cmp = JSON.parse(r.stdout) as KenReport;
  for (const t of pruned) assert.equal(cmp.tensors.find((c) => c.name === t.name)?.kept, t.kept, t.name);
  assert.equal(cmp.k, 0);
  // the head (no base counterpart) and the base's MLM head are named as unpaired
  assert.deepEqual(cmp.compare?.unpaired.map((u) => [u.side, u.name]), [['model', 'classifier.weight'], ['base', 'cls.predictions.bias']]);
});

test('ken prune output against its base: the same kept counts, whatever the output\'s format (ONNX fixture)', async () => {
  const root = tmp();
  const ftDir = fixture('finetuned', ['onnx']);
  const baseDir = fixture('pretrained', ['safetensors']);
  const out = join(root, 'k32');
  const p = await ken(['prune', ftDir, '--base', baseDir, '-k', '32', '--out', out]);
  assert.equal(p.code, 0, p.stderr);
  const r = await ken(['viz', out, '--base', baseDir, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const cmp = JSON.parse(r.stdout) as KenReport;
  const ours = readReport(out).tensors.filter((t) => t.status === 'pruned');
  assert.ok(ours.length > 50);
  // (a kept value equal to the base's could not show as a difference; none is, in this fixture)
  for (const t of ours) assert.equal(cmp.tensors.find((x) => x.name === t.name)?.kept, t.kept, t.name);
});

test('a pair with other tensor sets or shapes says what it could not pair, and still shows the rest', async () => {
  const root = tmp();
  const pair = await synthPair(root);
  const base = await f32Tensors(pair.base);
  const other: SynthTensor[] = [];
  for (const [name, t] of base) {
    if (name === 'bert.encoder.layer.1.output.LayerNorm.weight') other.push({ name, shape: [8], values: t.values.subarray(0, 8) });
    else if (name !== 'bert.encoder.layer.0.attention.self.query.bias') other.push({ name, shape: t.shape, values: t.values });
  }
  const otherBase = await synthModel(join(root, 'other'), other);
  const r = await ken(['viz', pair.ft, '--base', otherBase]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /could not pair 4: /);
  assert.match(r.stdout, /bert\.encoder\.layer\.1\.output\.LayerNorm\.weight \(shape \[16\] here but \[8\] in the base\)/);
  assert.match(r.stdout, /bert\.encoder\.layer\.0\.attention\.self\.query\.bias \(no tensor of this name in the base model\)/);
  assert.match(r.stdout, /base only: cls\.predictions\.bias/);
});

test('ken viz --html writes the offline report; --out keeps a folder the panel opens; nothing else is left', async () => {
  const root = tmp();
  const pair = await synthPair(root);
  const html = join(root, 'viz.html');
  const out = join(root, 'cmp');
  const r = await ken(['viz', pair.ft, '--base', pair.base, '--html', html, '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(readFileSync(html, 'utf8'), /<title>ft vs base<\/title>/);
  const data = await VizDataSource.open(out);
  assert.equal(data.report.compare?.base, pair.base);
  const q = data.tensors.find((t) => t.name === 'bert.encoder.layer.0.attention.self.query.weight')!;
  assert.equal(q.kept, 256); // every fine-tuned value moved
  assert.deepEqual(readdirSync(root).sort(), ['base', 'cmp', 'ft', 'viz.html']);
  // an existing output is refused, untouched
  const again = await ken(['viz', pair.ft, '--base', pair.base, '--out', out]);
  assert.equal(again.code, 2);
  assert.ok(existsSync(join(out, 'ken-report.json')));
  // a comparison's subnetwork holds no checkpoint files: restore says so instead of writing an empty folder
  const r2 = await ken(['restore', join(out, 'ken-subnetwork.safetensors'), '--base', pair.base, '--out', join(root, 'restored')]);
  assert.equal(r2.code, 1);
  assert.match(r2.stderr, /holds no checkpoint files to rebuild \(a comparison/);
  assert.ok(!existsSync(join(root, 'restored')));
});

test('differingPositions compares stored bytes: a kept value equal to the base is not a difference, -0 vs 0 is', () => {
  const a = new Float32Array([1, 2, 3, -0]);
  const b = new Float32Array([1, 2.5, 3, 0]);
  const { mask, kept } = differingPositions(new Uint8Array(a.buffer), new Uint8Array(b.buffer), 4);
  assert.deepEqual([...mask], [0, 1, 0, 1]);
  assert.equal(kept, 2);
});
