import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readMask, readSubnetwork } from '../../src/formats/subnetwork';
import { readSafetensorsHeader } from '../../src/formats/safetensors';
import type { KenReport } from '../../src/shared/report';
import { fixture, ken, tmp } from '../helpers';

const sha = (p: string): string => createHash('sha256').update(readFileSync(p)).digest('hex');

async function pruneAndRestore(ftFormats: ('safetensors' | 'onnx')[], baseFormats: ('safetensors' | 'onnx')[], k: number): Promise<{ out: string; restored: string; base: string }> {
  const base = fixture('pretrained', baseFormats);
  const out = join(tmp(), 'pruned');
  const r = await ken(['prune', fixture('finetuned', ftFormats), '--base', base, '-k', String(k), '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  const restored = join(tmp(), 'restored');
  const rr = await ken(['restore', join(out, 'ken-subnetwork.safetensors'), '--base', base, '--out', restored]);
  assert.equal(rr.code, 0, rr.stderr);
  assert.match(rr.stdout, /every file matches its recorded sha256/);
  return { out, restored, base };
}

test('restore reproduces the pruned checkpoint bit for bit: safetensors', async () => {
  const { out, restored } = await pruneAndRestore(['safetensors'], ['safetensors'], 32);
  const files = readdirSync(restored).sort();
  assert.deepEqual(files, ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json', 'vocab.txt']);
  for (const f of files) assert.equal(sha(join(restored, f)), sha(join(out, f)), f);
});

test('restore reproduces the pruned checkpoint bit for bit: ONNX (with a safetensors base) and both formats at once', async () => {
  for (const [ft, base] of [[['onnx'], ['safetensors']], [['onnx'], ['onnx']], [['safetensors', 'onnx'], ['safetensors']]] as const) {
    const { out, restored } = await pruneAndRestore([...ft], [...base], 16);
    for (const f of ['model.onnx', ...(ft.length === 2 ? ['model.safetensors'] : [])]) assert.equal(sha(join(restored, f)), sha(join(out, f)), `${ft}/${base}: ${f}`);
  }
});

test('the subnetwork is a safetensors file any reader can open, at most 40% of the checkpoint at k=32', async () => {
  const base = fixture('pretrained', ['safetensors']);
  const ft = fixture('finetuned', ['safetensors']);
  const out = join(tmp(), 'pruned');
  const r = await ken(['prune', ft, '--base', base, '-k', '32', '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(readFileSync(join(out, 'ken-report.json'), 'utf8')) as KenReport;
  const subPath = join(out, 'ken-subnetwork.safetensors');
  const ftBytes = readFileSync(join(ft, 'model.safetensors')).length;
  assert.equal(report.bytes!.checkpoint, ftBytes);
  assert.equal(report.bytes!.subnetwork, readFileSync(subPath).length);
  assert.ok(report.bytes!.subnetwork <= 0.4 * ftBytes, `${report.bytes!.subnetwork} > 40% of ${ftBytes}`);
  assert.match(r.stdout, /subnetwork .* of the .* checkpoint \(saves/);
  const header = await readSafetensorsHeader(subPath);
  assert.equal(header.metadata!['format'], 'ken-subnetwork');
  const sub = await readSubnetwork(subPath);
  assert.equal(sub.meta.k, 32);
  assert.equal(sub.meta.scope, 'all');
  assert.match(sub.meta.tool, /^ken \d/);
  const q = sub.meta.tensors.find((t) => t.name === 'bert.encoder.layer.0.attention.self.query.weight')!;
  assert.match(q.base!.sha256, /^[0-9a-f]{64}$/);
  assert.equal(sub.meta.tensors.find((t) => t.name === 'classifier.weight')!.layout, 'whole');
  // the stored positions decode to the kept count the report gives, in both layouts
  const layouts = new Set<string>();
  for (const t of sub.meta.tensors) {
    const mask = await readMask(sub, t);
    const kept = mask.reduce((s, m) => s + m, 0);
    assert.equal(kept, report.tensors.find((x) => x.name === t.name)!.kept, t.name);
    layouts.add(t.layout);
  }
  assert.ok(layouts.has('mask') && layouts.has('whole'));
});

test('both position layouts (column indices at small k, a bitmask at large k) round-trip', async () => {
  const base = fixture('pretrained', ['safetensors']);
  for (const [k, layout] of [['4', 'index'], ['96', 'mask']] as const) {
    const out = join(tmp(), 'pruned');
    assert.equal((await ken(['prune', fixture('finetuned', ['safetensors']), '--base', base, '-k', k, '--out', out])).code, 0);
    const sub = await readSubnetwork(join(out, 'ken-subnetwork.safetensors'));
    assert.ok(sub.meta.tensors.some((t) => t.layout === layout), `k=${k} uses ${layout}`);
    const restored = join(tmp(), 'restored');
    assert.equal((await ken(['restore', join(out, 'ken-subnetwork.safetensors'), '--base', base, '--out', restored])).code, 0);
    assert.equal(sha(join(restored, 'model.safetensors')), sha(join(out, 'model.safetensors')));
  }
});

test('a base whose tensor differs from the one used is refused, naming the tensor, and nothing is written', async () => {
  const base = fixture('pretrained', ['safetensors']);
  const out = join(tmp(), 'pruned');
  assert.equal((await ken(['prune', fixture('finetuned', ['safetensors']), '--base', base, '-k', '8', '--out', out])).code, 0);
  const other = join(tmp(), 'other-base');
  mkdirSync(other);
  copyFileSync(join(base, 'model.safetensors'), join(other, 'model.safetensors'));
  const header = await readSafetensorsHeader(join(other, 'model.safetensors'));
  const t = header.tensors.find((x) => x.name === 'bert.encoder.layer.2.output.dense.bias')!;
  const bytes = readFileSync(join(other, 'model.safetensors'));
  bytes[t.begin + 1]! ^= 0xff;
  writeFileSync(join(other, 'model.safetensors'), bytes);
  const restored = join(tmp(), 'restored');
  const r = await ken(['restore', join(out, 'ken-subnetwork.safetensors'), '--base', other, '--out', restored]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /base tensor bert\.encoder\.layer\.2\.output\.dense\.bias differs from the one the subnetwork was pruned against/);
  assert.ok(!existsSync(restored));
});

test('restore refuses a file that is not a subnetwork, and usage errors exit 2', async () => {
  const base = fixture('pretrained', ['safetensors']);
  const r = await ken(['restore', join(base, 'model.safetensors'), '--base', base, '--out', join(tmp(), 'x')]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /not a KEN subnetwork file/);
  const u = await ken(['restore', join(base, 'model.safetensors'), '--out', join(tmp(), 'x')]);
  assert.equal(u.code, 2);
  assert.match(u.stderr, /--base is required/);
});
