// ken eval on a PEFT LoRA adapter folder evaluates the merged model; a SEQ_CLS adapter over a
// pre-training checkpoint (BertForPreTraining) takes its head from its saved modules (modules_to_save).
// The adapter is made here from the demo's fine-tuned BERT: its base is the fine-tune minus the
// classifier, with one adapted weight moved by -delta, so the merged model is the fine-tune again
// (to float32 rounding of W - delta + delta) and must give its logits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readRange, readSafetensorsHeader, writeSafetensors } from '../../src/formats/safetensors';
import { loraDelta } from '../../src/checkpoint/lora';
import { DEMO, ken, normals, tmp } from '../helpers';

const FT = join(DEMO, 'finetuned');
const TARGET = 'bert.encoder.layer.0.attention.self.query';

interface Made { root: string; adapter: string; base: string; data: string; idData: string }

async function makeAdapter(opts: { adapterConfigJson: boolean }): Promise<Made> {
  const root = tmp('ken-adapter-test-');
  const base = join(root, 'base');
  const adapter = join(root, 'adapter');
  mkdirSync(base);
  mkdirSync(adapter);
  const cfg = JSON.parse(readFileSync(join(FT, 'config.json'), 'utf8')) as Record<string, unknown>;
  const id2label = cfg['id2label'] as Record<string, string>;
  const baseCfg: Record<string, unknown> = { ...cfg, architectures: ['BertForPreTraining'] };
  delete baseCfg['id2label'];
  delete baseCfg['label2id'];
  writeFileSync(join(base, 'config.json'), JSON.stringify(baseCfg));
  for (const f of ['tokenizer.json', 'tokenizer_config.json', 'vocab.txt']) copyFileSync(join(FT, f), join(base, f));
  if (opts.adapterConfigJson) writeFileSync(join(adapter, 'config.json'), JSON.stringify(cfg));

  const path = join(FT, 'model.safetensors');
  const header = await readSafetensorsHeader(path);
  const r = 2;
  const alpha = 4;
  const baseTensors: { name: string; dtype: string; shape: number[]; data: Uint8Array }[] = [];
  const adapterTensors: typeof baseTensors = [];
  for (const e of header.tensors) {
    const data = await readRange(path, e.begin, e.end - e.begin);
    if (e.name.startsWith('classifier.')) {
      adapterTensors.push({ name: `base_model.model.${e.name}`, dtype: e.dtype, shape: e.shape, data });
      continue;
    }
    if (e.name === `${TARGET}.weight`) {
      const [out, inF] = e.shape as [number, number];
      const A = normals(r * inF, 11, 0.3);
      const B = normals(out * r, 12, 0.3);
      const delta = loraDelta(A, B, r, inF, out, alpha / r, false);
      const w = new Float32Array(data.slice().buffer);
      for (let i = 0; i < w.length; i++) w[i] = w[i]! - delta[i]!;
      baseTensors.push({ name: e.name, dtype: e.dtype, shape: e.shape, data: new Uint8Array(w.buffer) });
      adapterTensors.push({ name: `base_model.model.${TARGET}.lora_A.weight`, dtype: 'F32', shape: [r, inF], data: new Uint8Array(A.buffer) });
      adapterTensors.push({ name: `base_model.model.${TARGET}.lora_B.weight`, dtype: 'F32', shape: [out, r], data: new Uint8Array(B.buffer) });
      continue;
    }
    baseTensors.push({ name: e.name, dtype: e.dtype, shape: e.shape, data });
  }
  await writeSafetensors(join(base, 'model.safetensors'), baseTensors, { format: 'pt' });
  await writeSafetensors(join(adapter, 'adapter_model.safetensors'), adapterTensors, { format: 'pt' });
  writeFileSync(join(adapter, 'adapter_config.json'), JSON.stringify({
    peft_type: 'LORA', task_type: 'SEQ_CLS', r, lora_alpha: alpha, target_modules: ['query'], modules_to_save: ['classifier'], base_model_name_or_path: '../base',
  }));
  const lines = readFileSync(join(DEMO, 'test.jsonl'), 'utf8').trim().split('\n').slice(0, 40);
  const data = join(root, 'data.jsonl');
  writeFileSync(data, lines.join('\n') + '\n');
  const byName = new Map(Object.entries(id2label).map(([k, v]) => [v, Number(k)]));
  const idData = join(root, 'ids.jsonl');
  writeFileSync(idData, lines.map((l) => { const o = JSON.parse(l) as { text: string; label: string }; return JSON.stringify({ text: o.text, label: byName.get(o.label) }); }).join('\n') + '\n');
  return { root, adapter, base, data, idData };
}

function logits(file: string): number[][] {
  return readFileSync(file, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { logits: number[] }).logits);
}

function mergedFolders(): string[] {
  return readdirSync(tmpdir()).filter((n) => n.startsWith('ken-adapter-') && !n.startsWith('ken-adapter-test-'));
}

test('ken eval on a SEQ_CLS LoRA adapter over BertForPreTraining: the merged model\'s logits, labels from the adapter\'s config.json, temporary folder removed', async () => {
  const m = await makeAdapter({ adapterConfigJson: true });
  const before = new Set(mergedFolders());
  const ref = join(m.root, 'ref.jsonl');
  const got = join(m.root, 'got.jsonl');
  const a = await ken(['eval', FT, '--data', m.data, '--json', '--device', 'cpu', '--outputs', ref]);
  assert.equal(a.code, 0, a.stderr);
  const b = await ken(['eval', m.adapter, '--data', m.data, '--json', '--device', 'cpu', '--outputs', got]);
  assert.equal(b.code, 0, b.stderr);
  const ra = JSON.parse(a.stdout) as { metrics: { accuracy: number } };
  const rb = JSON.parse(b.stdout) as { task: string; model: string; note: string; metrics: { accuracy: number } };
  assert.equal(rb.task, 'text-classification');
  assert.equal(rb.model, m.adapter);
  assert.match(rb.note, /LoRA adapter .* merged into .*base/);
  assert.match(rb.note, new RegExp(`labels from ${join(m.adapter, 'config.json').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  assert.equal(rb.metrics.accuracy, ra.metrics.accuracy);
  const x = logits(ref);
  const y = logits(got);
  assert.equal(y.length, x.length);
  let worst = 0;
  x.forEach((row, i) => row.forEach((v, j) => (worst = Math.max(worst, Math.abs(v - y[i]![j]!)))));
  assert.ok(worst < 1e-4, `largest logit difference ${worst}`);
  assert.deepEqual(mergedFolders().filter((n) => !before.has(n)), [], 'the temporary merged folder is removed');
});

test('a SEQ_CLS adapter with no id2label for its classifier: labels are the data\'s ids, and the report says so', async () => {
  const m = await makeAdapter({ adapterConfigJson: false });
  const r = await ken(['eval', m.adapter, '--data', m.idData, '--json', '--device', 'cpu']);
  assert.equal(r.code, 0, r.stderr);
  const o = JSON.parse(r.stdout) as { note: string; metrics: { accuracy: number } };
  assert.match(o.note, /labels are the data's ids 0\.\.7/);
  assert.ok(o.metrics.accuracy > 0.5, `accuracy ${o.metrics.accuracy}`);
  assert.ok(!existsSync(join(m.adapter, 'config.json')), 'the adapter folder is left as it was');
});

test('ken prune --eval of a SEQ_CLS adapter over BertForPreTraining: the pruned config.json names the head the adapter evaluation chose, so "after" evaluates too', async () => {
  const m = await makeAdapter({ adapterConfigJson: false });
  const out = join(m.root, 'pruned');
  const r = await ken(['prune', m.adapter, '--base', m.base, '-k', '64', '--out', out, '--eval', m.idData, '--json', '--device', 'cpu']);
  assert.equal(r.code, 0, r.stderr);
  const cfg = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as Record<string, unknown>;
  assert.deepEqual(cfg['architectures'], ['BertForSequenceClassification']);
  assert.equal(cfg['num_labels'], 8);
  const base = JSON.parse(readFileSync(join(m.base, 'config.json'), 'utf8')) as Record<string, unknown>;
  assert.deepEqual(base['architectures'], ['BertForPreTraining'], 'the base folder is left as it was');
  const report = JSON.parse(readFileSync(join(out, 'ken-report.json'), 'utf8')) as { accuracy?: { before: { metrics: Record<string, number> }; after: { metrics: Record<string, number> } } };
  assert.ok(report.accuracy, 'the report holds before and after');
  assert.ok(report.accuracy.after.metrics['accuracy']! > 0.3, `after: ${JSON.stringify(report.accuracy.after.metrics)}`);
  // the pruned checkpoint restores to the same bytes, config.json included
  const restored = join(m.root, 'restored');
  const x = await ken(['restore', join(out, 'ken-subnetwork.safetensors'), '--base', m.base, '--out', restored]);
  assert.equal(x.code, 0, x.stderr);
  assert.equal(readFileSync(join(restored, 'config.json'), 'utf8'), readFileSync(join(out, 'config.json'), 'utf8'));
});

test('ken prune of an adapter whose config.json already names its head and labels: the pruned config.json is that file, byte for byte', async () => {
  const m = await makeAdapter({ adapterConfigJson: true });
  const out = join(m.root, 'pruned');
  const r = await ken(['prune', m.adapter, '--base', m.base, '-k', '64', '--out', out, '--json', '--device', 'cpu']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(readFileSync(join(out, 'config.json'), 'utf8'), readFileSync(join(m.adapter, 'config.json'), 'utf8'));
});
