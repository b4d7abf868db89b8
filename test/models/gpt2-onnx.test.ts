// GPT-2 stores Conv1D weights [in, out], the orientation its ONNX export feeds to MatMul: KEN rows are the
// first stored axis, and every ONNX copy is pruned to equal the pruned safetensors tensor value for value.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readInitializerBytes, readOnnxModel, rewriteInitializers } from '../../src/formats/onnx';
import { EvalBench } from '../../src/eval/bench';
import { openClassifier } from '../../src/eval/classifier';
import { readSafetensorsHeader } from '../../src/formats/safetensors';
import { pruneToFolder } from '../../src/workflows/prune';
import { matmulModel, type InitSpec } from '../onnx-builder';
import { ROOT, tmp } from '../helpers';

const GPT2 = join(ROOT, 'test', 'data', 'arch', 'gpt2');
const CONV1D = /\.(attn\.c_attn|attn\.c_proj|mlp\.c_fc|mlp\.c_proj)\.weight$/;

async function safetensorsOf(dir: string): Promise<Map<string, { shape: number[]; bytes: Buffer }>> {
  const path = join(dir, 'model.safetensors');
  const h = await readSafetensorsHeader(path);
  const all = readFileSync(path);
  return new Map(h.tensors.map((e) => [e.name, { shape: e.shape, bytes: all.subarray(e.begin, e.end) }]));
}

/** The ONNX export of a GPT-2 folder's weights: the same names, Conv1D weights feeding MatMul as stored. */
async function writeOnnx(from: string, to: string): Promise<void> {
  const st = await safetensorsOf(from);
  const inits: InitSpec[] = [...st].map(([name, t]) => ({
    name, dims: t.shape, dtype: 'F32', storage: 'raw', values: new Float32Array(t.bytes.buffer.slice(t.bytes.byteOffset, t.bytes.byteOffset + t.bytes.byteLength)),
  }));
  writeFileSync(join(to, 'model.onnx'), matmulModel(inits, [...st.keys()].filter((n) => CONV1D.test(n))));
}

async function onnxInits(dir: string): Promise<Map<string, Buffer>> {
  const model = await readOnnxModel(join(dir, 'model.onnx'));
  const out = new Map<string, Buffer>();
  for (const i of model.initializers) out.set(i.name, Buffer.from(await readInitializerBytes(model, i)));
  return out;
}

test('GPT-2 with model.safetensors and model.onnx: both pruned files hold the same values (the square c_proj too)', async () => {
  const ft = join(tmp('ken-gpt2-'), 'mixed');
  cpSync(join(GPT2, 'seq-cls'), ft, { recursive: true });
  await writeOnnx(ft, ft);
  const out = join(tmp('ken-gpt2-'), 'out');
  const report = await pruneToFolder({ finetuned: ft, base: join(GPT2, 'pretrained'), out, k: 2, backend: 'js', threads: 1 });
  const proj = report.tensors.find((t) => t.name === 'transformer.h.0.attn.c_proj.weight')!;
  assert.deepEqual(proj.stored, [{ format: 'safetensors', name: 'transformer.h.0.attn.c_proj.weight', transposed: false }, { format: 'onnx', name: 'transformer.h.0.attn.c_proj.weight', transposed: false }]);
  const st = await safetensorsOf(out);
  const ox = await onnxInits(out);
  const before = await safetensorsOf(ft);
  let changed = 0;
  for (const [name, t] of st) {
    assert.ok(ox.get(name)!.equals(t.bytes), `${name}: the ONNX copy differs from the pruned safetensors tensor`);
    if (!t.bytes.equals(before.get(name)!.bytes)) changed++;
  }
  assert.ok(changed > 10, 'KEN pruned the weights');
});

test('ONNX-only GPT-2: the layout is inferred from the graph (MatMul takes Conv1D weights as stored), said in the report, and equals the mixed folder\'s result', async () => {
  const root = tmp('ken-gpt2-');
  const only = join(root, 'onnx-only');
  mkdirSync(only);
  cpSync(join(GPT2, 'seq-cls', 'config.json'), join(only, 'config.json'));
  await writeOnnx(join(GPT2, 'seq-cls'), only);
  const out = join(root, 'out');
  const report = await pruneToFolder({ finetuned: only, base: join(GPT2, 'pretrained'), out, k: 2, backend: 'js', threads: 1 });
  assert.ok(report.notes!.some((n) => /ONNX only: gpt2 Conv1D weights taken as PyTorch stores them \(\[in, out\]/.test(n)));
  const attn = report.tensors.find((t) => t.name === 'transformer.h.0.attn.c_attn.weight')!;
  assert.equal(attn.status, 'pruned');
  assert.deepEqual(attn.shape, [8, 24]);
  // the same fine-tuned values pruned from safetensors alone give the same tensors
  const ref = join(root, 'ref');
  await pruneToFolder({ finetuned: join(GPT2, 'seq-cls'), base: join(GPT2, 'pretrained'), out: ref, k: 2, backend: 'js', threads: 1 });
  const st = await safetensorsOf(ref);
  const ox = await onnxInits(out);
  for (const [name, t] of st) assert.ok(ox.get(name)!.equals(t.bytes), name);
});

test('GPT-2 --eval: the ONNX graph gives PyTorch\'s figures, and the pruned ONNX evaluates as the pruned safetensors do', async () => {
  const dir = join(GPT2, 'seq-cls-eval');
  const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as { accuracy: number; logits: number[][] };
  const data = join(dir, 'test.jsonl');
  const bench = await EvalBench.open(dir, { data, device: 'cpu', threads: 1 });
  // the fine-tuned graph against our PyTorch re-implementation (scripts/gen-arch-fixtures.py)
  const classifier = await openClassifier(dir, undefined, { device: 'cpu', threads: 1 });
  try {
    assert.ok(bench.encoded, 'a single-label classifier keeps its tokenization');
    const logits = await classifier.logits(bench.encoded.samples, bench.encoded.padId);
    expected.logits.forEach((row, i) => row.forEach((v, j) => assert.ok(Math.abs(logits[i * 2 + j]! - v) < 1e-4, `sample ${i}: ${logits[i * 2 + j]} vs PyTorch ${v}`)));
  } finally {
    await classifier.close();
  }
  const out = join(tmp('ken-gpt2-eval-'), 'out');
  const report = await pruneToFolder({ finetuned: dir, base: join(GPT2, 'pretrained'), out, k: 2, backend: 'js', threads: 1, eval: { data, device: 'cpu', threads: 1 } });
  assert.equal(report.accuracy!.before.accuracy, expected.accuracy);
  // an ONNX model holding the pruned safetensors values, built independently of the prune's ONNX rewrite
  const st = await safetensorsOf(out);
  const fromSafetensors = join(tmp('ken-gpt2-eval-'), 'from-safetensors.onnx');
  await rewriteInitializers(await readOnnxModel(join(dir, 'model.onnx')), new Map([...st].map(([n, t]) => [n, new Uint8Array(t.bytes)])), fromSafetensors);
  const after = await bench.evaluate(fromSafetensors);
  assert.equal(report.accuracy!.after.accuracy, after.accuracy);
  assert.deepEqual(report.accuracy!.after.confusion, after.confusion);
  const ft = await safetensorsOf(dir);
  assert.ok([...st].some(([n, t]) => !t.bytes.equals(ft.get(n)!.bytes)), 'pruning changed the weights');
});
