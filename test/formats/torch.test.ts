// PyTorch checkpoints written by Debian's torch 1.13 (scripts/gen-arch-fixtures.py): read without running
// anything, equal to the same tensors written as safetensors; pickles naming other globals are refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { CheckpointError } from '../../src/errors';
import { openModel } from '../../src/checkpoint/folder';
import { readStateDictPickle } from '../../src/formats/pickle';
import { readSafetensorsHeader } from '../../src/formats/safetensors';
import { readTorchFile } from '../../src/formats/torch';
import { safetensorsViews } from '../../src/checkpoint/tensors';
import { pruneToFolder } from '../../src/workflows/prune';
import { restoreSubnetwork } from '../../src/workflows/restore';
import { ROOT, tmp } from '../helpers';

const T = join(ROOT, 'test', 'data', 'arch', 'torch');

async function reference(): Promise<Map<string, { dtype: string; shape: number[]; bytes: Buffer }>> {
  const path = join(T, 'reference', 'model.safetensors');
  const h = await readSafetensorsHeader(path);
  const all = readFileSync(path);
  return new Map(h.tensors.map((e) => [e.name, { dtype: e.dtype, shape: e.shape, bytes: all.subarray(e.begin, e.end) }]));
}

test('a state dict saved by torch.save (zip) reads equal to its safetensors: names, order, dtypes (F32, F16, I64), shapes, bytes, a view at an offset', async () => {
  const ref = await reference();
  const tensors = await readTorchFile(join(T, 'bin', 'pytorch_model.bin'));
  assert.deepEqual(tensors.map((t) => t.name), [...ref.keys()]);
  for (const t of tensors) {
    const r = ref.get(t.name)!;
    assert.equal(t.dtype, r.dtype, t.name);
    assert.deepEqual(t.shape, r.shape, t.name);
    assert.ok(Buffer.from(await t.read()).equals(r.bytes), t.name);
  }
  assert.ok(tensors.some((t) => t.dtype === 'F16') && tensors.some((t) => t.dtype === 'I64'));
});

test('a sharded pytorch_model.bin.index.json folder opens as the safetensors shards it is written as', async () => {
  const ref = await reference();
  const folder = await openModel(join(T, 'sharded'), 'fine-tuned');
  assert.deepEqual(folder.safetensors!.files.map((f) => f.path.split('/').pop()), ['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors']);
  const views = safetensorsViews(folder);
  assert.deepEqual(views.map((v) => v.name).sort(), [...ref.keys()].sort());
  for (const v of views) assert.ok(Buffer.from(await v.read()).equals(ref.get(v.name)!.bytes), v.name);
  assert.match(folder.safetensors!.virtual!.index!, /"weight_map"/);
});

test('pruning a pytorch_model.bin writes safetensors (never a pickle) that load with the same names, and restore rebuilds them', async () => {
  const ref = await reference();
  const root = tmp('ken-torch-');
  const out = join(root, 'out');
  // the base is the reference safetensors; the fine-tuned model the .bin holding the same values
  const report = await pruneToFolder({ finetuned: join(T, 'bin'), base: join(T, 'reference'), out, k: 2, backend: 'js', threads: 1 });
  assert.ok(!readdirSync(out).some((n) => n.endsWith('.bin')));
  const h = await readSafetensorsHeader(join(out, 'model.safetensors'));
  assert.deepEqual(h.tensors.map((e) => [e.name, e.dtype, e.shape]), [...ref.entries()].map(([n, r]) => [n, r.dtype, r.shape]));
  // same values on both sides: KEN keeps or resets each value to an equal one
  const all = readFileSync(join(out, 'model.safetensors'));
  for (const e of h.tensors) assert.ok(all.subarray(e.begin, e.end).equals(ref.get(e.name)!.bytes), e.name);
  assert.ok(report.tensors.some((t) => t.status === 'pruned'));
  assert.ok(existsSync(join(out, 'config.json')));
  const restored = join(root, 'restored');
  await restoreSubnetwork({ subnetwork: join(out, 'ken-subnetwork.safetensors'), base: join(T, 'reference'), out: restored });
  assert.ok(readFileSync(join(restored, 'model.safetensors')).equals(all));
});

test('pickles naming os.system or builtins.eval are refused by name, and nothing runs', async () => {
  for (const [dir, global] of [['evil-os-system', /os\.system|posix\.system/], ['evil-builtins-eval', /(builtins|__builtin__)\.eval/]] as const) {
    await assert.rejects(openModel(join(T, dir), 'fine-tuned'), (e: unknown) => {
      assert.ok(e instanceof CheckpointError);
      assert.match(e.message, /pytorch_model\.bin: the pickle names the global /);
      assert.match(e.message, global);
      assert.doesNotMatch(e.message, /\n/);
      return true;
    });
  }
  assert.ok(!existsSync('KEN_PWNED') && !existsSync(join(ROOT, 'KEN_PWNED')) && !existsSync(join(T, 'KEN_PWNED')));
});

test('the reader refuses every global a state dict does not use, and opcodes it does not use, before any effect', () => {
  // protocol-0 GLOBAL "os\nsystem\n", then a string, TUPLE1, REDUCE, STOP
  const evil = Buffer.concat([Buffer.from('cos\nsystem\n', 'latin1'), Buffer.from([0x8c, 4]), Buffer.from('true'), Buffer.from([0x85, 0x52, 0x2e])]);
  assert.throws(() => readStateDictPickle(evil, 'data.pkl'), /data\.pkl: the pickle names the global os\.system, which a state dict never uses; refused/);
  const sub = Buffer.concat([Buffer.from([0x80, 2]), Buffer.from('csubprocess\nPopen\n', 'latin1'), Buffer.from([0x2e])]);
  assert.throws(() => readStateDictPickle(sub, 'data.pkl'), /global subprocess\.Popen/);
  // INST (protocol 0 object creation) is an opcode a state dict never uses
  assert.throws(() => readStateDictPickle(Buffer.from('(ios\nsystem\n.', 'latin1'), 'data.pkl'), /opcode 0x69 at byte 1/);
  assert.throws(() => readStateDictPickle(Buffer.from([0x80, 2, 0x7d]), 'data.pkl'), /the pickle ends early/);
});

test('a legacy (non-zip) torch.save file is refused in one line', async () => {
  await assert.rejects(openModel(join(T, 'legacy'), 'fine-tuned'), /pytorch_model\.bin: a legacy \(pre-1\.6, non-zip\) PyTorch file; KEN reads only the zip format/);
});
