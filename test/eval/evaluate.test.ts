import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeDataset, evaluate, loadDataset, openClassifier, type Classifier } from '../../src/eval';
import { CancelledError } from '../../src/errors';
import { DEMO, EXPECTED, fixture, ken, tmp } from '../helpers';

const FT = join(DEMO, 'finetuned');
/** The same model with its PyTorch ONNX export instead of safetensors. */
const FT_ONNX = fixture('finetuned', ['onnx']);
const TEST = join(DEMO, 'test.jsonl');

async function withClassifier<T>(model: string | Uint8Array, folder: string | undefined, f: (c: Classifier) => Promise<T>): Promise<T> {
  const c = await openClassifier(model, folder, { device: 'cpu' });
  try {
    return await f(c);
  } finally {
    await c.close();
  }
}

test('finetuned on test.jsonl: accuracy equals the PyTorch figure in expected.json within 0.1 points', async () => {
  await withClassifier(FT, undefined, async (clf) => {
    assert.deepEqual(clf.labels, ['admin', 'games', 'graphics', 'net', 'science', 'sound', 'text', 'web']);
    const data = await loadDataset(TEST, { labels: clf.labels });
    const progress: [number, number][] = [];
    const r = await evaluate(clf, data, { batchSize: 64, onProgress: (p) => progress.push([p.done, p.total]) });
    assert.equal(r.samples, 903);
    assert.ok(Math.abs(r.accuracy - EXPECTED.finetunedAccuracy) <= 0.001, `accuracy ${r.accuracy} vs ${EXPECTED.finetunedAccuracy}`);
    assert.equal(r.executionProvider, 'cpu');
    // consistency of the report: confusion sums to the samples, its diagonal is the accuracy
    assert.equal(r.confusion.flat().reduce((a, b) => a + b, 0), 903);
    assert.equal(r.confusion.reduce((a, row, i) => a + row[i]!, 0) / 903, r.accuracy);
    assert.deepEqual(r.labels.map((l) => r.perClass[l]!.support), r.confusion.map((row) => row.reduce((a, b) => a + b, 0)));
    assert.deepEqual(progress[0], [0, 903]);
    assert.deepEqual(progress.at(-1), [903, 903]);
    assert.equal(progress.length, 1 + Math.ceil(903 / 64));
  });
});

test('bytes in memory, batch size, order: the same predictions; one tokenization serves two models', async () => {
  const bytes = new Uint8Array(readFileSync(join(FT_ONNX, 'model.onnx')));
  await withClassifier(FT, undefined, async (fromPath) => {
    await withClassifier(bytes, FT, async (fromBytes) => {
      assert.match(fromBytes.model, /in memory/);
      const data = await loadDataset(TEST, { labels: fromPath.labels });
      const encoded = await encodeDataset(fromPath.tokenizer, data);
      const a = await evaluate(fromPath, encoded, { batchSize: 1, sortByLength: false });
      const b = await evaluate(fromBytes, encoded, { batchSize: 100 });
      assert.deepEqual(b.confusion, a.confusion);
      assert.equal(b.accuracy, a.accuracy);
    });
  });
  await assert.rejects(openClassifier(bytes), { name: 'UsageError' });
});

test('evaluation stops with CancelledError when the signal aborts mid-way', async () => {
  await withClassifier(FT, undefined, async (clf) => {
    const data = await loadDataset(TEST, { labels: clf.labels });
    const c = new AbortController();
    let batches = 0;
    await assert.rejects(
      evaluate(clf, data, { batchSize: 16, signal: c.signal, onProgress: (p) => { if (p.done > 0 && ++batches === 2) c.abort(); } }),
      CancelledError,
    );
    assert.equal(batches, 2);
  });
});

test('a model folder without ONNX runs the built graph; --graph export says how to export one', async () => {
  const dir = fixture('finetuned', ['safetensors']);
  await withClassifier(dir, undefined, async (clf) => assert.equal(clf.graph, 'built'));
  await withClassifier(FT_ONNX, undefined, async (clf) => assert.equal(clf.graph, 'export'));
  await assert.rejects(openClassifier(dir, undefined, { graph: 'export' }), {
    name: 'CheckpointError',
    message: /no ONNX model to evaluate \(looked for model\.onnx, \*\.onnx; found model\.safetensors\); export one, e\.g\. `optimum-cli export onnx --model .* --task text-classification <out-dir>` \(or torch\.onnx\.export/,
  });
  await assert.rejects(openClassifier(join(tmp(), 'nothing')), { name: 'CheckpointError', message: /no such file or folder$/ });
});

test('a text-pair data set runs through the model (type ids reach the graph)', async () => {
  const lines = readFileSync(TEST, 'utf8').trim().split('\n').slice(0, 20).map((l) => JSON.parse(l) as { text: string; label: string });
  const p = join(tmp(), 'pairs.jsonl');
  writeFileSync(p, lines.map((l) => JSON.stringify({ a: l.text, b: 'a second text', label: l.label })).join('\n'));
  await withClassifier(FT, undefined, async (clf) => {
    const data = await loadDataset(p, { labels: clf.labels, textField: 'a', textPairField: 'b' });
    const encoded = await encodeDataset(clf.tokenizer, data);
    assert.ok(encoded.samples.every((s) => s.typeIds.includes(1)));
    const r = await evaluate(clf, encoded);
    assert.equal(r.samples, 20);
  });
});

test('ken eval --json prints the contract object: task, samples, graph, executionProvider, metrics; --outputs one line per input', async () => {
  const outputs = join(tmp(), 'out.jsonl');
  const r = await ken(['eval', FT, '--data', TEST, '--json', '--device', 'cpu', '--outputs', outputs]);
  assert.equal(r.code, 0, r.stderr);
  const obj = JSON.parse(r.stdout) as { task: string; samples: number; graph: string; executionProvider: string; metrics: Record<string, unknown> };
  assert.deepEqual(Object.keys(obj).slice(0, 5), ['task', 'samples', 'graph', 'executionProvider', 'metrics']);
  assert.deepEqual([obj.task, obj.samples, obj.graph, obj.executionProvider], ['text-classification', 903, 'built', 'cpu']);
  assert.equal(obj.metrics['accuracy'], EXPECTED.finetunedAccuracy);
  for (const k of ['macro_f1', 'per_class', 'confusion']) assert.ok(k in obj.metrics, k);
  const lines = readFileSync(outputs, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { logits: number[] });
  assert.equal(lines.length, 903);
  // the export, line by line in input order, gives the same logits (to float rounding)
  const e = await ken(['eval', FT_ONNX, '--data', TEST, '--json', '--outputs', join(tmp(), 'e.jsonl'), '--task', 'text-classification']);
  assert.equal(e.code, 0, e.stderr);
  assert.equal((JSON.parse(e.stdout) as { graph: string }).graph, 'export');
});

test('ken eval prints a table; bad data exits 1 with the line, bad options exit 2', async () => {
  const r = await ken(['eval', FT, '--data', TEST, '--device', 'cpu']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^accuracy 69\.\d\d% \(\d+\/903\), macro-F1 0\.\d{4}, weighted-F1 0\.\d{4}, MCC 0\.\d{4} \| cpu/);
  assert.match(r.stdout, /\nweb +0\.\d{4} +0\.\d{4} +0\.\d{4} +36\n/);
  assert.match(r.stdout, /confusion \(rows: true class, columns: predicted\)/);

  const bad = join(tmp(), 'bad.csv');
  writeFileSync(bad, 'text,label\nfine,net\nodd,nonsense\n');
  const b = await ken(['eval', FT, '--data', bad]);
  assert.equal(b.code, 1);
  assert.equal(b.stderr, `ken eval: ${bad} line 3: unknown label "nonsense" (the model's labels: admin, games, graphics, net, science, sound, text, web; or an id 0-7)\n`);
  assert.equal(b.stdout, '');

  const s = await ken(['eval', FT, '--data', bad, '--skip-bad-lines', '--json']);
  assert.equal(s.code, 0, s.stderr);
  assert.deepEqual([JSON.parse(s.stdout).samples, JSON.parse(s.stdout).skipped], [1, 1]);

  assert.equal((await ken(['eval', FT])).code, 2);
  assert.equal((await ken(['eval', FT, '--data', TEST, '--batch-size', '0'])).code, 2);
  assert.equal((await ken(['eval', FT, '--data', TEST, '--device', 'tpu'])).code, 2);
  const long = join(tmp(), 'long.jsonl');
  const words = readFileSync(TEST, 'utf8').trim().split('\n').slice(0, 30).map((l) => (JSON.parse(l) as { text: string }).text).join(' ');
  writeFileSync(long, `${JSON.stringify({ text: words, label: 'net' })}\n${JSON.stringify({ text: 'short', label: 'net' })}\n`);
  const t = await ken(['eval', FT, '--data', long, '--device', 'cpu']);
  assert.equal(t.code, 0, t.stderr);
  assert.match(t.stdout, /\n1 of 2 samples were cut to 64 tokens\n$/);

  const noOnnx = fixture('finetuned', ['safetensors']);
  const m = await ken(['eval', noOnnx, '--data', TEST, '--graph', 'export']);
  assert.equal(m.code, 1);
  assert.match(m.stderr, /^ken eval: .*no ONNX model to evaluate.*optimum-cli export onnx/);
});

test('an .onnx file path works and takes its folder\'s tokenizer', async () => {
  const d = join(tmp(), 'm');
  require('node:fs').mkdirSync(d);
  for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json']) symlinkSync(join(FT, f), join(d, f));
  symlinkSync(join(FT_ONNX, 'model.onnx'), join(d, 'classifier.onnx'));
  await withClassifier(join(d, 'classifier.onnx'), undefined, async (clf) => {
    assert.equal(clf.folder, d);
    assert.equal(clf.tokenizer.maxLength, 64);
  });
});
