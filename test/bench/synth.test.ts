import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BERT_BASE, NormalStream, bertTensors, paramCount, writeSyntheticPair, type BertShape } from '../../bench/synth';
import { readSafetensorsHeader } from '../../src/formats/safetensors';
import { openModel } from '../../src/checkpoint/folder';
import { planPrune } from '../../src/ken/plan';
import { tmp } from '../helpers';

const TINY: BertShape = { vocabSize: 50, hiddenSize: 8, layers: 2, heads: 2, intermediateSize: 16, maxPositions: 12, typeVocabSize: 2, labels: 3 };

/** BertModel's parameter count from its definition (embeddings, layers, pooler). */
function bertModelParams(c: BertShape): number {
  const H = c.hiddenSize;
  const I = c.intermediateSize;
  const embeddings = (c.vocabSize + c.maxPositions + c.typeVocabSize) * H + 2 * H;
  const layer = 4 * (H * H + H) + 2 * H + (I * H + I) + (H * I + H) + 2 * H;
  return embeddings + c.layers * layer + (H * H + H);
}

test('bert-base shapes: 109,482,240 encoder parameters, a classifier only in the fine-tuned side, an MLM head only in the base', () => {
  const ft = bertTensors(BERT_BASE, 'finetuned');
  const base = bertTensors(BERT_BASE, 'base');
  // the published size of bert-base-uncased's BertModel, and the formula agree
  assert.equal(bertModelParams(BERT_BASE), 109_482_240);
  assert.equal(paramCount(ft), bertModelParams(BERT_BASE) + 2 * 768 + 2);
  const shapes = new Map(ft.map((t) => [t.name, t.shape]));
  assert.deepEqual(shapes.get('bert.embeddings.word_embeddings.weight'), [30522, 768]);
  assert.deepEqual(shapes.get('bert.embeddings.position_embeddings.weight'), [512, 768]);
  assert.deepEqual(shapes.get('bert.embeddings.token_type_embeddings.weight'), [2, 768]);
  assert.deepEqual(shapes.get('bert.encoder.layer.11.attention.self.value.weight'), [768, 768]);
  assert.deepEqual(shapes.get('bert.encoder.layer.11.intermediate.dense.weight'), [3072, 768]);
  assert.deepEqual(shapes.get('bert.encoder.layer.11.output.dense.weight'), [768, 3072]);
  assert.deepEqual(shapes.get('bert.encoder.layer.0.output.LayerNorm.weight'), [768]);
  assert.deepEqual(shapes.get('bert.pooler.dense.weight'), [768, 768]);
  assert.deepEqual(shapes.get('classifier.weight'), [2, 768]);
  assert.deepEqual(shapes.get('classifier.bias'), [2]);
  assert.equal(shapes.has('bert.encoder.layer.12.output.dense.weight'), false);
  assert.equal(ft.some((t) => t.name.startsWith('cls.')), false);
  const baseNames = new Set(base.map((t) => t.name));
  assert.ok(baseNames.has('cls.predictions.bias'));
  assert.ok(baseNames.has('cls.predictions.transform.dense.weight'));
  assert.ok(baseNames.has('bert.encoder.layer.3.attention.output.LayerNorm.gamma'));
  assert.equal(baseNames.has('classifier.weight'), false);
  // KEN rows of the fine-tuned side (the classifier is a head, not pruned by default)
  let rows768 = 0;
  let rows3072 = 0;
  for (const t of ft) {
    if (t.name.startsWith('classifier.') || t.shape.length !== 2) continue;
    if (t.shape[1] === 768) rows768 += t.shape[0]!;
    if (t.shape[1] === 3072) rows3072 += t.shape[0]!;
  }
  assert.deepEqual([rows768, rows3072], [105_532, 9_216]);
});

test('the normal stream does not depend on how it is read, and has the asked spread', () => {
  const whole = new Float32Array(10_001);
  new NormalStream('s').fill(whole, 0.02);
  const parts = new Float32Array(10_001);
  const s = new NormalStream('s');
  for (const [a, b] of [[0, 1], [1, 4], [4, 777], [777, 10_001]] as const) s.fill(parts.subarray(a, b), 0.02);
  assert.deepEqual(parts, whole);
  const other = new Float32Array(10_001);
  new NormalStream('t').fill(other, 0.02);
  assert.notDeepEqual(other, whole);
  const mean = whole.reduce((x, v) => x + v, 0) / whole.length;
  const sd = Math.sqrt(whole.reduce((x, v) => x + (v - mean) ** 2, 0) / whole.length);
  assert.ok(Math.abs(mean) < 0.001, `mean ${mean}`);
  assert.ok(Math.abs(sd - 0.02) < 0.0006, `sd ${sd}`);
});

test('a tiny pair is byte-for-byte deterministic, whatever the chunk size, and has the bert names and shapes', async () => {
  const root = tmp();
  const a = await writeSyntheticPair(join(root, 'a'), { shape: TINY, seed: 7, chunk: 1 << 20 });
  const b = await writeSyntheticPair(join(root, 'b'), { shape: TINY, seed: 7, chunk: 13 });
  const c = await writeSyntheticPair(join(root, 'c'), { shape: TINY, seed: 8 });
  const bytes = (dir: string): Buffer => readFileSync(join(dir, 'model.safetensors'));
  assert.ok(bytes(a.finetuned).equals(bytes(b.finetuned)));
  assert.ok(bytes(a.base).equals(bytes(b.base)));
  assert.ok(!bytes(a.finetuned).equals(bytes(c.finetuned)));

  assert.equal(a.finetunedParams, bertModelParams(TINY) + TINY.labels * TINY.hiddenSize + TINY.labels);
  const header = await readSafetensorsHeader(join(a.finetuned, 'model.safetensors'));
  assert.deepEqual(header.tensors.map((t) => [t.name, t.shape]), bertTensors(TINY, 'finetuned').map((t) => [t.name, t.shape]));
  assert.ok(header.tensors.every((t) => t.dtype === 'F32'));
  assert.equal(header.tensors.reduce((s, t) => s + (t.end - t.begin) / 4, 0), a.finetunedParams);
  const baseHeader = await readSafetensorsHeader(join(a.base, 'model.safetensors'));
  assert.equal(baseHeader.tensors.reduce((s, t) => s + (t.end - t.begin) / 4, 0), a.baseParams);
  assert.equal(JSON.parse(readFileSync(join(a.finetuned, 'config.json'), 'utf8')).num_hidden_layers, 2);

  // fine-tuned = base + small noise, tensor by tensor (LayerNorm gamma/beta on the base side)
  const ftBytes = bytes(a.finetuned);
  const baseBytes = bytes(a.base);
  const values = (buf: Buffer, e: { begin: number; end: number }): Float32Array =>
    new Float32Array(buf.buffer.slice(buf.byteOffset + e.begin, buf.byteOffset + e.end));
  const q = 'bert.encoder.layer.1.attention.self.query.weight';
  const f = values(ftBytes, header.tensors.find((t) => t.name === q)!);
  const g = values(baseBytes, baseHeader.tensors.find((t) => t.name === q)!);
  const diff = f.map((v, i) => v - g[i]!);
  const rms = (x: Float32Array): number => Math.sqrt(x.reduce((s, v) => s + v * v, 0) / x.length);
  assert.ok(rms(g) > 0.01 && rms(g) < 0.03, `base rms ${rms(g)}`);
  assert.ok(rms(diff) > 0.0010 && rms(diff) < 0.0030, `noise rms ${rms(diff)}`);
  const ln = values(baseBytes, baseHeader.tensors.find((t) => t.name === 'bert.encoder.layer.0.output.LayerNorm.gamma')!);
  const lnFt = values(ftBytes, header.tensors.find((t) => t.name === 'bert.encoder.layer.0.output.LayerNorm.weight')!);
  assert.ok(rms(lnFt.map((v, i) => v - ln[i]!)) < 0.003);

  // the KEN plan pairs every fine-tuned tensor with its base, except the head
  const plan = await planPrune(await openModel(a.finetuned, 'fine-tuned'), await openModel(a.base, 'base'), { scope: 'all' });
  assert.deepEqual(plan.tensors.filter((t) => t.status !== 'pruned').map((t) => [t.name, t.status]), [['classifier.bias', 'head'], ['classifier.weight', 'head']]);
  assert.ok(plan.baseOnly.includes('cls.predictions.bias'));
});
