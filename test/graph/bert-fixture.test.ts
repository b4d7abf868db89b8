// The shared fixture's fine-tuned BERT as a safetensors-only folder: the built graph gives PyTorch's
// accuracy (expected.json) and the same predictions as the folder's PyTorch ONNX export on every line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openModel } from '../../src/checkpoint/folder';
import { buildGraph, sessionExternalData } from '../../src/models/build';
import { openSession } from '../../src/runtime/session';
import { loadTokenizer } from '../../src/eval/tokenize';
import { DEMO, EXPECTED, fixture } from '../helpers';

test('built BERT graph on the safetensors-only fixture: PyTorch accuracy, the export\'s predictions on all 903 lines', async () => {
  const st = fixture('finetuned', ['safetensors']);
  const onnx = fixture('finetuned', ['onnx']);
  const built = buildGraph(await openModel(st, 'fine-tuned'));
  assert.equal(built.task, 'text-classification');
  assert.equal(built.architecture, 'BertForSequenceClassification');
  assert.deepEqual(built.outputs, ['logits']);
  assert.equal(built.numLabels, 8);
  assert.ok(built.model.byteLength < 100_000, `the graph holds no weights (${built.model.byteLength} bytes)`);
  const a = await openSession(built.model, 'cpu', sessionExternalData(built));
  const b = await openSession(join(onnx, 'model.onnx'), 'cpu');
  try {
    const tok = await loadTokenizer(st);
    const config = JSON.parse(readFileSync(join(st, 'config.json'), 'utf8')) as { id2label: Record<string, string> };
    const lines = readFileSync(join(DEMO, 'test.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { text: string; label: string });
    assert.equal(lines.length, 903);
    const { ort } = a;
    let correct = 0;
    let maxDiff = 0;
    const argmax = (v: Float32Array): number => v.reduce((best, x, i) => (x > v[best]! ? i : best), 0);
    for (const [n, line] of lines.entries()) {
      const e = tok.encode(line.text);
      const len = e.ids.length;
      const feeds = {
        input_ids: new ort.Tensor('int64', BigInt64Array.from(e.ids, BigInt), [1, len]),
        attention_mask: new ort.Tensor('int64', new BigInt64Array(len).fill(1n), [1, len]),
        token_type_ids: new ort.Tensor('int64', BigInt64Array.from(e.typeIds, BigInt), [1, len]),
      };
      const ours = (await a.session.run(feeds))['logits']!.data as Float32Array;
      const theirs = (await b.session.run(feeds))['logits']!.data as Float32Array;
      for (let i = 0; i < 8; i++) maxDiff = Math.max(maxDiff, Math.abs(ours[i]! - theirs[i]!));
      assert.equal(argmax(ours), argmax(theirs), `line ${n + 1}: prediction differs from the export`);
      if (config.id2label[String(argmax(ours))] === line.label) correct++;
    }
    assert.equal(correct / 903, EXPECTED.finetunedAccuracy);
    assert.ok(maxDiff <= 1e-4, `logits differ from the export by ${maxDiff}`);
  } finally {
    await a.session.release();
    await b.session.release();
  }
});
