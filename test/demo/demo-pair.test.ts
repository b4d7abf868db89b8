// The shipped demo pair (demo/debdesc-bert, scripts/demo-pair/make_demo_pair.py) has what issue 20 asks of it:
// a BERT base and a BertForSequenceClassification fine-tune saved as save_pretrained writes them, 8-12 labels,
// both folders under 15 MB, a test set of at least 2,000 labelled lines, and a fine-tune that moved the
// encoder's layer matrices by at most 5% of their norm (the regime KEN's claim is about).
import { strict as assert } from 'node:assert';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ROOT } from '../helpers';

const PAIR = join(ROOT, 'demo', 'debdesc-bert');

function tensors(path: string): Map<string, { shape: number[]; data: Float32Array }> {
  const b = readFileSync(path);
  const n = Number(b.readBigUInt64LE(0));
  const header = JSON.parse(b.subarray(8, 8 + n).toString('utf8')) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [name, t] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    assert.equal(t.dtype, 'F32', name);
    const bytes = b.subarray(8 + n + t.data_offsets[0], 8 + n + t.data_offsets[1]);
    out.set(name, { shape: t.shape, data: new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)) });
  }
  return out;
}

test('the demo pair: bert configs, 8-12 labels, folders under 15 MB, a test set of >= 2,000 lines with known labels', () => {
  const ft = JSON.parse(readFileSync(join(PAIR, 'finetuned', 'config.json'), 'utf8')) as { model_type: string; architectures: string[]; id2label: Record<string, string>; label2id: Record<string, number> };
  const base = JSON.parse(readFileSync(join(PAIR, 'pretrained', 'config.json'), 'utf8')) as { model_type: string };
  assert.equal(ft.model_type, 'bert');
  assert.equal(base.model_type, 'bert');
  assert.deepEqual(ft.architectures, ['BertForSequenceClassification']);
  const labels = Object.values(ft.id2label);
  assert.ok(labels.length >= 8 && labels.length <= 12, `${labels.length} labels`);
  for (const [id, l] of Object.entries(ft.id2label)) assert.equal(ft.label2id[l], Number(id));
  let bytes = 0;
  for (const d of ['finetuned', 'pretrained']) for (const f of readdirSync(join(PAIR, d))) bytes += statSync(join(PAIR, d, f)).size;
  assert.ok(bytes < 15e6, `${bytes} bytes`);
  const lines = readFileSync(join(PAIR, 'test.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { text: string; label: string });
  assert.ok(lines.length >= 2000, `${lines.length} lines`);
  for (const [i, l] of lines.entries()) {
    assert.ok(typeof l.text === 'string' && l.text.length > 0, `line ${i + 1}: text`);
    assert.ok(l.label in ft.label2id, `line ${i + 1}: label ${l.label}`);
  }
  // every label has test lines, and no label has most of them (the majority-class baseline stays low)
  const count = new Map<string, number>();
  for (const l of lines) count.set(l.label, (count.get(l.label) ?? 0) + 1);
  assert.deepEqual([...count.keys()].sort(), [...labels].sort());
  const top = Math.max(...count.values());
  assert.ok(top / lines.length < 0.3, `majority class ${top} of ${lines.length} lines`);
});

test('the demo fine-tune moved the encoder\'s 2-D weights by at most 5% of their norm (and not zero)', () => {
  const ft = tensors(join(PAIR, 'finetuned', 'model.safetensors'));
  const base = tensors(join(PAIR, 'pretrained', 'model.safetensors'));
  assert.ok(ft.has('classifier.weight') && base.has('cls.predictions.bias'));
  assert.deepEqual([...ft.keys()].filter((k) => k.startsWith('bert.')).sort(), [...base.keys()].filter((k) => k.startsWith('bert.')).sort());
  let num = 0;
  let den = 0;
  let count = 0;
  for (const [name, t] of ft) {
    if (!name.startsWith('bert.encoder.') || t.shape.length !== 2) continue;
    const b = base.get(name)!;
    assert.deepEqual(b.shape, t.shape, name);
    for (let i = 0; i < t.data.length; i++) {
      const d = t.data[i]! - b.data[i]!;
      num += d * d;
      den += b.data[i]! * b.data[i]!;
    }
    count++;
  }
  assert.ok(count >= 6, `${count} encoder matrices`);
  const rel = Math.sqrt(num / den);
  assert.ok(rel > 0 && rel <= 0.05, `relative change ${rel}`);
});
