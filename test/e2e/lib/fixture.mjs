// The workspace the end-to-end run opens: the debdesc-bert-mini pair and its test set, plus a
// synthetic pair holding one 768x3072 matrix (the panel's matrix view is timed on that size).
import { copyFileSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';

/** Copies the fixture into `ws`: models/finetuned (safetensors only, as Trainer writes it: evaluated on the built graph), models/pretrained, data/test.jsonl. */
export function makeWorkspace(root, ws) {
  const demo = join(root, 'test', 'data', 'demo-v1', 'debdesc-bert-mini');
  const ft = join(ws, 'models', 'finetuned');
  const pre = join(ws, 'models', 'pretrained');
  const data = join(ws, 'data');
  for (const d of [ft, pre, data]) mkdirSync(d, { recursive: true });
  for (const f of readdirSync(join(demo, 'finetuned'))) copyFileSync(join(demo, 'finetuned', f), join(ft, f));
  for (const f of readdirSync(join(demo, 'pretrained'))) copyFileSync(join(demo, 'pretrained', f), join(pre, f));
  copyFileSync(join(demo, 'test.jsonl'), join(data, 'test.jsonl'));
  // the data set the prune offers first (and the UI drive picks): accuracy before and after
  mkdirSync(join(ws, '.vscode'), { recursive: true });
  writeFileSync(join(ws, '.vscode', 'settings.json'), JSON.stringify({ 'ken.evalDataset': join(data, 'test.jsonl') }, null, 2));
  // an empty fine-tuning output folder for the watcher; run.mjs plays the trainer into it
  const run = join(ws, 'runs', 'demo-run');
  mkdirSync(run, { recursive: true });
  // the training script that owns the run (KEN's inline decoration goes after its Trainer( line)
  const script = join(ws, 'train.py');
  writeFileSync(script, [
    'from transformers import Trainer, TrainingArguments',
    '',
    'args = TrainingArguments(output_dir="runs/demo-run", save_steps=10)',
    'trainer = Trainer(model=model, args=args)',
    'trainer.train()',
    '',
  ].join('\n'));
  // a notebook whose saved output shows the run with KEN's MIME type (rendered with no kernel)
  const notebook = join(ws, 'ken-viz.ipynb');
  writeFileSync(notebook, JSON.stringify(kenVizNotebook('runs/demo-run'), null, 1));
  return { finetuned: ft, pretrained: pre, data, testSet: join(data, 'test.jsonl'), run, script, notebook };
}

/** An .ipynb with the README's three lines and their saved output (MIME application/vnd.ken.viz+json). */
export function kenVizNotebook(run) {
  return {
    cells: [{
      cell_type: 'code',
      execution_count: 1,
      metadata: {},
      source: ['from IPython.display import display\n', `run = {"run": "${run}"}\n`, 'display({"application/vnd.ken.viz+json": run}, raw=True)'],
      outputs: [{ output_type: 'display_data', metadata: {}, data: { 'application/vnd.ken.viz+json': { run }, 'text/plain': [`KEN_viz: ${run}`] } }],
    }],
    metadata: { kernelspec: { display_name: 'Python 3', language: 'python', name: 'python3' }, language_info: { name: 'python' } },
    nbformat: 4,
    nbformat_minor: 5,
  };
}

/** Reads an F32 safetensors file: name -> { shape, values }. */
function readF32Safetensors(path) {
  const buf = readFileSync(path);
  const len = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + len).toString('utf8'));
  const out = new Map();
  for (const [name, t] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const [b, e] = t.data_offsets;
    const bytes = buf.subarray(8 + len + b, 8 + len + e);
    out.set(name, { shape: t.shape, values: new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)) });
  }
  return out;
}

/**
 * Plays a Trainer saving checkpoint-<step>/: the weights base + alpha (fine-tuned - base), written in
 * chunks, then config.json, then trainer_state.json last (what makes the checkpoint complete).
 */
export async function writeTrainerCheckpoint(runDir, step, alpha, finetunedDir, pretrainedDir) {
  const ft = readF32Safetensors(join(finetunedDir, 'model.safetensors'));
  const base = readF32Safetensors(join(pretrainedDir, 'model.safetensors'));
  const tensors = [...ft].map(([name, t]) => {
    const b = base.get(name);
    const values = b && b.values.length === t.values.length ? t.values.map((v, i) => b.values[i] + alpha * (v - b.values[i])) : t.values;
    return { name, shape: t.shape, values };
  });
  const dir = join(runDir, `checkpoint-${step}`);
  mkdirSync(dir, { recursive: true });
  const tmp = join(dir, 'model.safetensors.tmp-build');
  writeF32Safetensors(tmp, tensors);
  const bytes = readFileSync(tmp);
  rmSync(tmp);
  const fh = await open(join(dir, 'model.safetensors'), 'w');
  const chunk = Math.ceil(bytes.length / 4);
  for (let at = 0; at < bytes.length; at += chunk) {
    await fh.write(bytes, at, Math.min(chunk, bytes.length - at), at);
    await new Promise((r) => setTimeout(r, 150));
  }
  await fh.close();
  copyFileSync(join(finetunedDir, 'config.json'), join(dir, 'config.json'));
  writeFileSync(join(dir, 'trainer_state.json'), JSON.stringify({ global_step: step }));
}

/** Deterministic N(0, scale) values (xorshift32 + Box-Muller). */
function normals(count, seed, scale) {
  const out = new Float32Array(count);
  let s = seed >>> 0 || 1;
  const uni = () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return (s + 0.5) / 4294967296;
  };
  for (let i = 0; i < count; i++) out[i] = Math.sqrt(-2 * Math.log(uni())) * Math.cos(2 * Math.PI * uni()) * scale;
  return out;
}

/** A safetensors file of F32 tensors: 8-byte little-endian header length, JSON header, data. */
function writeF32Safetensors(path, tensors) {
  const header = { __metadata__: { format: 'pt' } };
  let offset = 0;
  for (const t of tensors) {
    header[t.name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + t.values.byteLength] };
    offset += t.values.byteLength;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  writeFileSync(path, Buffer.concat([len, Buffer.from(json), ...tensors.map((t) => Buffer.from(t.values.buffer, t.values.byteOffset, t.values.byteLength))]));
}

/** A base/fine-tuned pair with one [768, 3072] weight (fine-tuned = base + small noise). */
export function makeLargePair(dir) {
  const name = 'bert.encoder.layer.0.output.dense.weight';
  const shape = [768, 3072];
  const n = shape[0] * shape[1];
  const base = normals(n, 11, 0.02);
  const noise = normals(n, 29, 0.004);
  const ft = base.map((v, i) => v + noise[i]);
  const config = JSON.stringify({ model_type: 'bert', hidden_size: 768, intermediate_size: 3072, num_hidden_layers: 1 });
  const out = {};
  // names found nowhere else in the workspace, so the explorer rows are unambiguous
  for (const [which, values] of [['finetuned', ft], ['pretrained', base]]) {
    const d = join(dir, `${which}-768x3072`);
    mkdirSync(d, { recursive: true });
    writeF32Safetensors(join(d, 'model.safetensors'), [{ name, shape, values }]);
    writeFileSync(join(d, 'config.json'), config);
    out[which] = d;
  }
  return out;
}
