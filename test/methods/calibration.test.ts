// Wanda's activation norms against PyTorch forward passes with hooks on every Linear / Conv1D
// (test/data/methods/make_wanda.py): a tiny BERT classifier (packed tokens, pooler) and GPT-2 (Conv1D,
// an LM head of its own, padded batches), and Wanda's kept columns from those norms.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openModel } from '../../src/checkpoint/folder';
import { readSafetensorsHeader } from '../../src/formats/safetensors';
import { buildGraph } from '../../src/models/build';
import { calibrationGraph, calibrationTexts, inputActivationNorms, type ActivationNorms } from '../../src/methods/calibration';
import { wanda } from '../../src/methods/wanda';
import { loadTokenizer } from '../../src/eval/tokenize';
import { keptIndices, ROOT } from '../helpers';

const DIR = join(ROOT, 'test', 'data', 'methods', 'wanda');
const GPT2 = join(ROOT, 'test', 'data', 'decoders', 'gpt2-lm');

interface ModelExpected {
  lines: number;
  ids: number[][];
  k: number;
  norms: Record<string, number[]>;
  kept: Record<string, number[][]>;
  conv1d: string[];
  fallback: string[];
}
const EXPECTED = JSON.parse(readFileSync(join(DIR, 'expected.json'), 'utf8')) as { bert: ModelExpected; gpt2: ModelExpected };

const CASES = [
  { name: 'bert', ft: join(DIR, 'bert-ft'), base: join(DIR, 'bert-base'), data: join(DIR, 'bert-ft', 'data.jsonl'), task: 'text-classification' as const, batchSize: 3 },
  { name: 'gpt2', ft: GPT2, base: join(DIR, 'gpt2-base'), data: join(GPT2, 'data.jsonl'), task: 'causal-lm' as const, batchSize: 4 },
];

async function tensors(file: string): Promise<Map<string, { shape: number[]; values: Float32Array }>> {
  const h = await readSafetensorsHeader(file);
  const bytes = readFileSync(file);
  const out = new Map<string, { shape: number[]; values: Float32Array }>();
  for (const e of h.tensors) {
    const b = bytes.subarray(e.begin, e.end);
    out.set(e.name, { shape: e.shape, values: new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)) });
  }
  return out;
}

function closeRel(got: Float32Array, want: readonly number[], what: string): void {
  assert.equal(got.length, want.length, what);
  for (let j = 0; j < want.length; j++) {
    const tol = 1e-5 * Math.max(Math.abs(want[j]!), 1e-3);
    assert.ok(Math.abs(got[j]! - want[j]!) <= tol, `${what}[${j}]: ${got[j]} vs PyTorch ${want[j]}`);
  }
}

/** Kept columns of every measured tensor at k, per row, by the wanda selector on these norms. */
function keptBy(norms: Pick<ActivationNorms, 'norms' | 'rowNorms'>, ft: Map<string, { shape: number[]; values: Float32Array }>, base: typeof ft, names: readonly string[], k: number): Record<string, number[][]> {
  const fallback: string[] = [];
  const select = wanda.selector!({ seed: 0, inputNorms: norms.norms, inputRowNorms: norms.rowNorms, onFallback: (t) => fallback.push(t) });
  const out: Record<string, number[][]> = {};
  for (const name of names) {
    const f = ft.get(name)!;
    const [rows, n] = f.shape as [number, number];
    const sel = select({ tensor: name, rows, n, k, finetuned: f.values, base: base.get(name)!.values });
    assert.equal(sel.kept, rows * Math.min(k, n));
    out[name] = Array.from({ length: rows }, (_, r) => keptIndices(sel.mask, r * n, n));
  }
  assert.deepEqual(fallback, [], 'every measured tensor is scored with its norms');
  return out;
}

for (const c of CASES) {
  const exp = EXPECTED[c.name as 'bert' | 'gpt2'];

  test(`${c.name}: the calibration lines are the first ${exp.lines} lines, tokenized (and cut in windows) as ken eval reads them`, async () => {
    const tokenizer = await loadTokenizer(c.ft);
    const got = await calibrationTexts(c.task, tokenizer, { data: c.data, lines: exp.lines });
    assert.equal(got.lines, exp.lines);
    assert.deepEqual(got.texts.map((t) => Array.from(t.ids)), exp.ids);
  });

  test(`${c.name}: input-activation norms over the real tokens equal PyTorch's (hooks on every Linear/Conv1D), batches padded`, async () => {
    const ft = await openModel(c.ft, 'fine-tuned');
    const names = [...ft.safetensors!.tensors.keys()];
    const a = await inputActivationNorms(ft, names, { data: c.data, lines: exp.lines, batchSize: c.batchSize, device: 'cpu' });
    assert.equal(a.lines, exp.lines);
    // Linear weights along KEN columns, GPT-2's Conv1D ([in, out]) along KEN rows
    assert.deepEqual([...a.rowNorms.keys()].sort(), exp.conv1d);
    assert.deepEqual([...a.norms.keys(), ...a.rowNorms.keys()].sort(), Object.keys(exp.norms).sort());
    for (const [name, want] of Object.entries(exp.norms)) closeRel((a.norms.get(name) ?? a.rowNorms.get(name))!, want, name);
    // what has no activation input is absent: embeddings (a tied or gathered table), norms, biases
    const absent = names.filter((n) => !a.norms.has(n) && !a.rowNorms.has(n)).sort();
    assert.deepEqual(absent.filter((n) => !n.startsWith('classifier.')), exp.fallback);
  });

  test(`${c.name}: wanda keeps per row the k largest |ft - base| x input norm (PyTorch's norms, and the graph's), ties to the lower column`, async () => {
    const ft = await tensors(join(c.ft, 'model.safetensors'));
    const base = await tensors(join(c.base, 'model.safetensors'));
    const names = Object.keys(exp.kept);
    const conv = new Set(exp.conv1d);
    const py = { norms: new Map<string, Float32Array>(), rowNorms: new Map<string, Float32Array>() };
    for (const [n, v] of Object.entries(exp.norms)) (conv.has(n) ? py.rowNorms : py.norms).set(n, Float32Array.from(v));
    assert.deepEqual(keptBy(py, ft, base, names, exp.k), exp.kept);
    const folder = await openModel(c.ft, 'fine-tuned');
    const measured = await inputActivationNorms(folder, names, { data: c.data, lines: exp.lines, batchSize: c.batchSize, device: 'cpu' });
    assert.deepEqual(keptBy(measured, ft, base, names, exp.k), exp.kept);
  });
}

test('the measurement is an option: without it the graph has the task outputs only; with it one output per measured weight', async () => {
  const ft = await openModel(join(DIR, 'bert-ft'), 'fine-tuned');
  const plain = buildGraph(ft);
  assert.deepEqual(plain.weightInputs, []);
  assert.deepEqual(plain.outputs, ['logits']);
  const measured = calibrationGraph(ft);
  assert.deepEqual(measured.outputs.slice(1), measured.weightInputs.map((w) => w.output));
  assert.ok(measured.weightInputs.every((w) => w.storedAxis === 1 && w.features === ft.safetensors!.tensors.get(w.weight)!.entry.shape[1]));
});
