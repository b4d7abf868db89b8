import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { columnRowInitializers, readInitializerBytes, readOnnxModel } from '../../src/formats/onnx';
import { readSafetensorsHeader } from '../../src/formats/safetensors';
import { toFloat32 } from '../../src/formats/dtype';
import { transposeBytes } from '../../src/formats/layout';
import { RowPruner } from '../../src/ken/row';
import type { KenReport } from '../../src/shared/report';
import { fixture, ken, normals, tmp } from '../helpers';
import { initBytes, linearModel, type InitSpec } from '../onnx-builder';

type Ort = typeof import('onnxruntime-node');
const ort: Ort = require('onnxruntime-node');

async function onnxTensors(path: string): Promise<Map<string, { dims: number[]; bytes: Buffer }>> {
  const m = await readOnnxModel(path);
  const out = new Map<string, { dims: number[]; bytes: Buffer }>();
  for (const i of m.initializers) out.set(i.name, { dims: i.dims, bytes: Buffer.from(await readInitializerBytes(m, i)) });
  return out;
}

async function stTensors(path: string): Promise<Map<string, { shape: number[]; bytes: Buffer }>> {
  const h = await readSafetensorsHeader(path);
  const buf = readFileSync(path);
  return new Map(h.tensors.map((t) => [t.name, { shape: t.shape, bytes: buf.subarray(t.begin, t.end) }]));
}

function transposed(b: Buffer, dims: number[]): Buffer {
  return Buffer.from(transposeBytes(new Uint8Array(b), dims[0]!, dims[1]!, 4));
}

async function prune(ft: string, base: string, k: number, ...extra: string[]): Promise<string> {
  const out = join(tmp(), 'out');
  const r = await ken(['prune', ft, '--base', base, '-k', String(k), '--out', out, ...extra]);
  assert.equal(r.code, 0, r.stderr);
  return out;
}

test('the fixture export: MatMul weights are transposed under generated names, Gemm weights keep their layout', async () => {
  const m = await readOnnxModel(join(fixture('finetuned', ['onnx']), 'model.onnx'));
  const cols = columnRowInitializers(m);
  assert.equal(cols.size, 24);
  assert.ok([...cols].every((n) => n.startsWith('onnx::MatMul_')));
  assert.ok(!cols.has('bert.pooler.dense.weight') && !cols.has('classifier.weight'));
  assert.deepEqual(m.inputs.map((i) => i.name), ['input_ids', 'attention_mask', 'token_type_ids']);
});

test('pruning the ONNX pair gives, tensor by tensor, exactly the weights pruning the safetensors pair gives', async () => {
  const k = 32;
  const stOut = await prune(fixture('finetuned', ['safetensors']), fixture('pretrained', ['safetensors']), k);
  const onnxOut = await prune(fixture('finetuned', ['onnx']), fixture('pretrained', ['onnx']), k);
  const ftOnnx = await onnxTensors(join(fixture('finetuned', ['onnx']), 'model.onnx'));
  const ftSt = await stTensors(join(fixture('finetuned', ['safetensors']), 'model.safetensors'));
  const prunedOnnx = await onnxTensors(join(onnxOut, 'model.onnx'));
  const prunedSt = await stTensors(join(stOut, 'model.safetensors'));
  // Pair each ONNX initializer with its safetensors tensor independently of the tool: equal input bytes, as stored or transposed.
  let compared = 0;
  let transposedCount = 0;
  for (const [name, init] of ftOnnx) {
    let match: string | undefined;
    let isT = false;
    for (const [sname, st] of ftSt) {
      if (st.bytes.equals(init.bytes) && st.shape.join() === init.dims.join()) match = sname;
      else if (init.dims.length === 2 && st.shape.join() === [...init.dims].reverse().join() && transposed(init.bytes, init.dims).equals(st.bytes)) {
        match = sname;
        isT = true;
      }
      if (match) break;
    }
    assert.ok(match, `initializer ${name} has a safetensors counterpart`);
    const got = prunedOnnx.get(name)!.bytes;
    const want = prunedSt.get(match)!.bytes;
    assert.ok((isT ? transposed(got, init.dims) : got).equals(want), `${name} (${match}) differs`);
    assert.ok(!got.equals(init.bytes) || match.startsWith('classifier'), `${name} was pruned`);
    compared++;
    if (isT) transposedCount++;
  }
  assert.equal(compared, 73);
  assert.equal(transposedCount, 24);
});

test('fine-tuned ONNX with a safetensors base (weights found by content) prunes the same as the ONNX pair', async () => {
  const a = await prune(fixture('finetuned', ['onnx']), fixture('pretrained', ['onnx']), 16);
  const b = await prune(fixture('finetuned', ['onnx']), fixture('pretrained', ['safetensors']), 16);
  assert.ok(readFileSync(join(a, 'model.onnx')).equals(readFileSync(join(b, 'model.onnx'))));
  const report = JSON.parse(readFileSync(join(b, 'ken-report.json'), 'utf8')) as KenReport;
  const q = report.tensors.find((t) => t.name === 'bert.encoder.layer.0.attention.self.query.weight')!;
  assert.equal(q.status, 'pruned');
  assert.deepEqual(q.stored, [{ format: 'onnx', name: 'onnx::MatMul_606', transposed: true }]);
  assert.match(q.note ?? '', /matched to base .* by content/);
});

test('a folder with model.safetensors and model.onnx is pruned in both, consistently', async () => {
  const both = await prune(fixture('finetuned', ['safetensors', 'onnx']), fixture('pretrained', ['safetensors']), 8);
  const onlySt = await prune(fixture('finetuned', ['safetensors']), fixture('pretrained', ['safetensors']), 8);
  const onlyOnnx = await prune(fixture('finetuned', ['onnx']), fixture('pretrained', ['onnx']), 8);
  assert.ok(readFileSync(join(both, 'model.safetensors')).equals(readFileSync(join(onlySt, 'model.safetensors'))));
  assert.ok(readFileSync(join(both, 'model.onnx')).equals(readFileSync(join(onlyOnnx, 'model.onnx'))));
  const report = JSON.parse(readFileSync(join(both, 'ken-report.json'), 'utf8')) as KenReport;
  assert.deepEqual(report.formats, ['safetensors', 'onnx']);
  assert.equal(report.tensors.length, 73);
  assert.ok(report.tensors.filter((t) => t.stored?.length === 2).length === 73);
});

test('the pruned model.onnx loads and runs in onnxruntime-node, and only initializer bytes changed', async () => {
  const ftDir = fixture('finetuned', ['onnx']);
  const out = await prune(ftDir, fixture('pretrained', ['safetensors']), 32);
  const input = readFileSync(join(ftDir, 'model.onnx'));
  const pruned = readFileSync(join(out, 'model.onnx'));
  assert.equal(pruned.length, input.length);
  const m = await readOnnxModel(join(ftDir, 'model.onnx'));
  const inInit = new Uint8Array(input.length);
  for (const i of m.initializers) if (i.storage.kind === 'bytes') inInit.fill(1, i.storage.begin, i.storage.end);
  let outside = 0;
  for (let p = 0; p < input.length; p++) if (!inInit[p] && input[p] !== pruned[p]) outside++;
  assert.equal(outside, 0, 'bytes outside initializers changed');
  const session = await ort.InferenceSession.create(pruned, { executionProviders: ['cpu'] });
  const ids = BigInt64Array.from([2n, 250n, 1000n, 3n]);
  const feeds = {
    input_ids: new ort.Tensor('int64', ids, [1, 4]),
    attention_mask: new ort.Tensor('int64', BigInt64Array.from([1n, 1n, 1n, 1n]), [1, 4]),
    token_type_ids: new ort.Tensor('int64', new BigInt64Array(4), [1, 4]),
  };
  const res = await session.run(feeds);
  const logits = res['logits']!;
  assert.deepEqual(logits.dims, [1, 8]);
  assert.ok([...(logits.data as Float32Array)].every(Number.isFinite));
  const original = await (await ort.InferenceSession.create(input, { executionProviders: ['cpu'] })).run(feeds);
  assert.notDeepEqual([...(original['logits']!.data as Float32Array)], [...(logits.data as Float32Array)]);
});

async function linearPair(storage: InitSpec['storage'], dtype: 'F32' | 'F16'): Promise<{ ft: string; base: string; ftW: Float32Array; baseW: Float32Array; b: Float32Array }> {
  const root = tmp();
  const baseW = normals(12 * 6, 21, 0.02);
  const ftW = baseW.map((v, i) => v + normals(72, 22, 0.01)[i]!);
  const b = normals(6, 23, 0.02);
  const write = (dir: string, w: Float32Array): void => {
    mkdirSync(dir);
    const wSpec: InitSpec = { name: 'onnx::MatMul_7', dims: [12, 6], values: w, dtype, storage, location: 'weights.bin', offset: 16 };
    const bSpec: InitSpec = { name: 'layer.0.bias', dims: [6], values: b, dtype, storage: storage === 'int32' ? 'raw' : storage, location: 'weights.bin', offset: 16 + 72 * (dtype === 'F32' ? 4 : 2) };
    if (storage === 'external') writeFileSync(join(dir, 'weights.bin'), Buffer.concat([Buffer.alloc(16), initBytes(wSpec), initBytes(bSpec)]));
    writeFileSync(join(dir, 'model.onnx'), linearModel(wSpec, bSpec));
  };
  write(join(root, 'ft'), ftW);
  write(join(root, 'base'), baseW);
  return { ft: join(root, 'ft'), base: join(root, 'base'), ftW, baseW, b };
}

test('initializers as raw_data, float_data, float16 int32_data and external data are pruned and the models run', async () => {
  for (const [storage, dtype] of [['raw', 'F32'], ['typed', 'F32'], ['int32', 'F16'], ['external', 'F32'], ['external', 'F16'], ['raw', 'F16']] as const) {
    const pair = await linearPair(storage, dtype);
    const out = await prune(pair.ft, pair.base, 3);
    const m = await readOnnxModel(join(out, 'model.onnx'));
    const w = m.initializers.find((i) => i.name === 'onnx::MatMul_7')!;
    const got = toFloat32(await readInitializerBytes(m, w), dtype);
    // expected: KEN on the columns (the export stores W as [in, out])
    const ftQ = toFloat32(initBytes({ name: '', dims: [], values: pair.ftW, dtype, storage }), dtype);
    const baseQ = toFloat32(initBytes({ name: '', dims: [], values: pair.baseW, dtype, storage }), dtype);
    const pruner = new RowPruner();
    for (let c = 0; c < 6; c++) {
      const col = new Float32Array(12);
      for (let r = 0; r < 12; r++) col[r] = ftQ[r * 6 + c]!;
      const mask = new Uint8Array(12);
      pruner.prune(col, 3, mask, 0);
      for (let r = 0; r < 12; r++) assert.equal(got[r * 6 + c], mask[r] ? ftQ[r * 6 + c] : baseQ[r * 6 + c], `${storage}/${dtype} W[${r},${c}]`);
    }
    if (storage === 'external') assert.deepEqual(m.externalFiles, ['weights.bin']);
    const session = await ort.InferenceSession.create(join(out, 'model.onnx'), { executionProviders: ['cpu'] });
    const x = Float32Array.from({ length: 12 }, (_, i) => (i % 3) - 1);
    const xHalf = new Uint16Array(initBytes({ name: 'X', dims: [1, 12], values: x, dtype: 'F16', storage: 'raw' }).buffer);
    const feedX = dtype === 'F32' ? new ort.Tensor('float32', x, [1, 12]) : new ort.Tensor('float16', xHalf, [1, 12]);
    const y = (await session.run({ X: feedX }))['Y']!;
    assert.deepEqual(y.dims, [1, 6]);
    if (dtype === 'F32') {
      const bias = toFloat32(await readInitializerBytes(m, m.initializers.find((i) => i.name === 'layer.0.bias')!), 'F32');
      for (let c = 0; c < 6; c++) {
        let s = bias[c]!;
        for (let r = 0; r < 12; r++) s += x[r]! * got[r * 6 + c]!;
        assert.ok(Math.abs((y.data as Float32Array)[c]! - s) < 1e-5, `${storage} Y[${c}]`);
      }
    }
  }
});

test('external data that leaves the model folder is refused, naming the initializer', async () => {
  const root = tmp();
  writeFileSync(join(root, 'secret.bin'), Buffer.alloc(512));
  for (const [label, location] of [['dotdot', '../secret.bin'], ['absolute', join(root, 'secret.bin')], ['symlink', 'link.bin']] as const) {
    const dir = join(root, label);
    mkdirSync(dir);
    if (label === 'symlink') symlinkSync(join(root, 'secret.bin'), join(dir, 'link.bin'));
    const w: InitSpec = { name: 'onnx::MatMul_9', dims: [4, 2], values: normals(8, 1), dtype: 'F32', storage: 'external', location, offset: 0 };
    const b: InitSpec = { name: 'bias', dims: [2], values: normals(2, 2), dtype: 'F32', storage: 'raw' };
    writeFileSync(join(dir, 'model.onnx'), linearModel(w, b));
    await assert.rejects(readOnnxModel(join(dir, 'model.onnx')), (e: Error) => {
      assert.equal(e.name, 'CheckpointError');
      assert.match(e.message, /model\.onnx: initializer onnx::MatMul_9 points outside the model's folder/);
      return true;
    });
  }
});

test('truncated or inconsistent ONNX files get one-line errors', async () => {
  const dir = tmp();
  const good = linearModel(
    { name: 'W', dims: [4, 2], values: normals(8, 1), dtype: 'F32', storage: 'raw' },
    { name: 'B', dims: [2], values: normals(2, 2), dtype: 'F32', storage: 'raw' },
  );
  writeFileSync(join(dir, 'truncated.onnx'), good.subarray(0, good.length - 30));
  await assert.rejects(readOnnxModel(join(dir, 'truncated.onnx')), /truncated\.onnx: not a valid ONNX model \(truncated/);
  const sizeBad = linearModel(
    { name: 'W', dims: [4, 3], values: normals(8, 1), dtype: 'F32', storage: 'raw' },
    { name: 'B', dims: [2], values: normals(2, 2), dtype: 'F32', storage: 'raw' },
  );
  writeFileSync(join(dir, 'size.onnx'), sizeBad);
  await assert.rejects(readOnnxModel(join(dir, 'size.onnx')), /size\.onnx: initializer W holds 32 bytes but F32\[4,3\] needs 48/);
  writeFileSync(join(dir, 'text.onnx'), 'this is not a protobuf at all, just text');
  await assert.rejects(readOnnxModel(join(dir, 'text.onnx')), (e: Error) => e.name === 'CheckpointError' && /text\.onnx: not/.test(e.message) && !e.message.includes('\n'));
});

test('an ONNX weight whose base cannot be told apart is refused, never guessed', async () => {
  const root = tmp();
  const w = normals(16, 5, 0.02);
  const ft = join(root, 'ft');
  mkdirSync(ft);
  writeFileSync(join(ft, 'model.onnx'), linearModel(
    { name: 'onnx::MatMul_1', dims: [4, 4], values: w, dtype: 'F32', storage: 'raw' },
    { name: 'B', dims: [4], values: normals(4, 6), dtype: 'F32', storage: 'raw' },
  ));
  const { synthModel } = await import('../helpers');
  // two base tensors equally far from the fine-tuned weight
  const base = await synthModel(join(root, 'base'), [
    { name: 'layer.0.a.weight', shape: [4, 4], values: w.map((v) => v * 1.5) },
    { name: 'layer.0.b.weight', shape: [4, 4], values: w.map((v) => v * 0.5) },
  ]);
  const r = await ken(['prune', ft, '--base', base, '-k', '2', '--out', join(root, 'out')]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /cannot tell which base tensor initializer onnx::MatMul_1 comes from/);
});
