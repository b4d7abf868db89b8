import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { encodeHeader, readSafetensorsHeader } from '../../src/formats/safetensors';
import { fromFloat32, toFloat32 } from '../../src/formats/dtype';
import { pruneToFolder } from '../../src/workflows/prune';
import { watchRun, type WatchUpdate } from '../../src/workflows/watch';
import { jaccard } from '../../src/workflows/watch-analyze';
import { ken, normals, ROOT, synthModel, tmp } from '../helpers';

const SHAPES: [string, number[]][] = [
  ['bert.embeddings.word_embeddings.weight', [40, 16]],
  ['bert.encoder.layer.0.attention.self.query.weight', [16, 16]],
  ['bert.encoder.layer.1.attention.self.query.weight', [16, 16]],
  ['bert.encoder.layer.1.output.LayerNorm.bias', [16]],
  ['classifier.weight', [3, 16]],
];

function baseValues(i: number, n: number): Float32Array {
  return normals(n, 300 + i, 0.02);
}

async function makeBase(dir: string): Promise<string> {
  return synthModel(dir, SHAPES.filter(([n]) => !n.startsWith('classifier')).map(([name, shape], i) => ({ name, shape, values: baseValues(i, shape.reduce((a, b) => a * b, 1)) })));
}

/** The bytes of a checkpoint at `step`: the base plus noise that grows with the step; layer 0 frozen. */
function checkpointBytes(step: number): Buffer {
  const tensors = SHAPES.map(([name, shape], i) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const b = name.startsWith('classifier') ? normals(n, 77, 0.02) : baseValues(i, n);
    const frozen = name.includes('layer.0.');
    const noise = normals(n, 1000 * step + i, 0.002 * step);
    return { name, dtype: 'F32', shape, data: fromFloat32(frozen ? b : b.map((v, j) => v + noise[j]!), 'F32') };
  });
  const header = encodeHeader(tensors, tensors.map((t) => t.data.byteLength), { format: 'pt' });
  return Buffer.concat([header, ...tensors.map((t) => Buffer.from(t.data))]);
}

const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Writes a Trainer checkpoint folder the way a training run does: weights in chunks, trainer_state.json last. */
async function writeCheckpoint(runDir: string, step: number, chunks = 4, pauseMs = 80): Promise<number> {
  const dir = join(runDir, `checkpoint-${step}`);
  mkdirSync(dir);
  await writeFile(join(dir, 'config.json'), JSON.stringify({ model_type: 'bert' }));
  const bytes = checkpointBytes(step);
  const fh = await open(join(dir, 'model.safetensors'), 'w');
  const size = Math.ceil(bytes.length / chunks);
  for (let c = 0; c < chunks; c++) {
    await fh.write(bytes, c * size, Math.min(size, bytes.length - c * size), c * size);
    await delay(pauseMs);
  }
  await fh.close();
  await delay(pauseMs);
  await writeFile(join(dir, 'trainer_state.json'), JSON.stringify({ global_step: step }));
  return performance.now();
}

test('a trainer writing three checkpoints in chunks gets exactly three updates, each after its checkpoint completed, in order', async () => {
  const root = tmp();
  const base = await makeBase(join(root, 'base'));
  const runDir = join(root, 'run');
  mkdirSync(runDir);
  const controller = new AbortController();
  const updates: { u: WatchUpdate; at: number }[] = [];
  let notify: (() => void) | undefined;
  const watching = watchRun(runDir, {
    base, k: 4, scope: 'all', pollMs: 40, signal: controller.signal,
    onUpdate: (u) => {
      updates.push({ u, at: performance.now() });
      notify?.();
    },
  });
  const completedAt: number[] = [];
  for (const step of [100, 200, 300]) {
    const got = new Promise<void>((r) => (notify = r));
    completedAt.push(await writeCheckpoint(runDir, step));
    await Promise.race([got, delay(20000)]);
  }
  await delay(300); // no late or repeated updates
  controller.abort();
  const result = await watching;
  assert.equal(result.reason, 'stopped');
  assert.deepEqual(updates.map((x) => x.u.step), [100, 200, 300]);
  updates.forEach((x, i) => assert.ok(x.at > completedAt[i]!, `update ${i} came before its checkpoint completed`));
  const [first, second, third] = updates.map((x) => x.u);
  assert.equal(first!.meanJaccard, null);
  assert.ok(second!.meanJaccard !== null && second!.meanJaccard > 0 && second!.meanJaccard <= 1);
  assert.ok(Object.keys(third!.jaccard).length > 0);
  // layer 0 is frozen: nothing moved there; layer 1 drifts more as training goes on
  const layer = (u: WatchUpdate, l: number) => u.layers.find((x) => x.layer === l)!;
  assert.equal(layer(first!, 0).fractionMoved, 0);
  assert.equal(layer(first!, 0).meanAbsDelta, 0);
  assert.ok(layer(first!, 1).fractionMoved > 0.9);
  assert.ok(layer(third!, 1).meanAbsDelta > layer(first!, 1).meanAbsDelta);
  assert.ok(first!.keptRatio > 0 && first!.keptRatio < 1);
});

test('behind the run, the watcher skips to the newest complete checkpoint', async () => {
  const root = tmp();
  const base = await makeBase(join(root, 'base'));
  const runDir = join(root, 'run');
  mkdirSync(runDir);
  for (const step of [1, 2, 3]) await writeCheckpoint(runDir, step, 1, 0);
  const controller = new AbortController();
  const updates: WatchUpdate[] = [];
  let notify: (() => void) | undefined;
  const got = new Promise<void>((r) => (notify = r));
  const watching = watchRun(runDir, {
    base, k: 4, scope: 'all', pollMs: 30, signal: controller.signal,
    onUpdate: (u) => {
      updates.push(u);
      notify?.();
    },
  });
  // the first update however slow the machine; then long enough for any further one to show
  await Promise.race([got, delay(20000)]);
  await delay(300);
  controller.abort();
  await watching;
  assert.deepEqual(updates.map((u) => [u.step, u.skipped]), [[3, [1, 2]]]);
});

test('a folder whose weights file is rewritten in place counts each complete rewrite once; removing the folder stops the watcher', async () => {
  const root = tmp();
  const base = await makeBase(join(root, 'base'));
  const runDir = join(root, 'run');
  mkdirSync(runDir);
  const updates: WatchUpdate[] = [];
  const controller = new AbortController();
  let notify: (() => void) | undefined;
  const watching = watchRun(runDir, {
    base, k: 4, scope: 'all', pollMs: 40, signal: controller.signal,
    onUpdate: (u) => {
      updates.push(u);
      notify?.();
    },
  });
  for (const step of [1, 2]) {
    const got = new Promise<void>((r) => (notify = r));
    const bytes = checkpointBytes(step);
    // write half, pause (a half-written file must not count), then the rest
    const fh = await open(join(runDir, 'model.safetensors'), 'w');
    await fh.write(bytes, 0, bytes.length >> 1, 0);
    await delay(200);
    await fh.write(bytes, bytes.length >> 1, bytes.length - (bytes.length >> 1), bytes.length >> 1);
    await fh.close();
    await Promise.race([got, delay(20000)]);
  }
  assert.deepEqual(updates.map((u) => u.step), [1, 2]);
  rmSync(runDir, { recursive: true, force: true });
  const result = await Promise.race([watching, delay(5000).then(() => undefined)]);
  assert.deepEqual(result, { updates: 2, reason: 'folder-removed' });
  controller.abort();
});

test('jaccard of bit-packed kept sets', () => {
  assert.equal(jaccard(Uint8Array.from([0b1011]), Uint8Array.from([0b0011])), 2 / 3);
  assert.equal(jaccard(Uint8Array.from([0]), Uint8Array.from([0])), 1);
  assert.equal(jaccard(Uint8Array.from([0b1]), Uint8Array.from([0b10])), 0);
});

test('ken watch prints one line per checkpoint and stops cleanly on Ctrl-C', async () => {
  const root = tmp();
  const base = await makeBase(join(root, 'base'));
  const runDir = join(root, 'run');
  mkdirSync(runDir);
  await writeCheckpoint(runDir, 50, 1, 0);
  const controller = new AbortController();
  let notify: (() => void) | undefined;
  const firstLine = new Promise<void>((r) => (notify = r));
  const running = ken(['watch', runDir, '--base', base, '-k', '4', '--poll-ms', '30'], controller.signal, (out) => {
    if (out.includes('\n')) notify?.();
  });
  // stop once the checkpoint's line is out (however slow the machine), and a little later for any other
  await Promise.race([firstLine, delay(20000)]);
  await delay(300);
  controller.abort();
  const r = await running;
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 1);
  assert.match(lines[0]!, /^step +50 {2}kept \d+\.\d% {2}drift \d\.\d\de-\d+ \(moved \d+\.\d%\) {2}overlap +- +\(\d+\.\d s\)$/);
  assert.match(r.stderr, /stopped after 1 checkpoint/);
});

test('with a data set, each checkpoint gets its accuracy (a Trainer checkpoint: safetensors, no export)', async () => {
  const { DEMO, EXPECTED } = await import('../helpers');
  const { copyFileSync } = await import('node:fs');
  const root = tmp();
  const runDir = join(root, 'run');
  const ckpt = join(runDir, 'checkpoint-7');
  mkdirSync(ckpt, { recursive: true });
  for (const f of ['model.safetensors', 'config.json', 'tokenizer.json', 'tokenizer_config.json', 'vocab.txt']) copyFileSync(join(DEMO, 'finetuned', f), join(ckpt, f));
  await writeFile(join(ckpt, 'trainer_state.json'), '{"global_step": 7}');
  const controller = new AbortController();
  const updates: WatchUpdate[] = [];
  let notify: (() => void) | undefined;
  const got = new Promise<void>((r) => (notify = r));
  const watching = watchRun(runDir, {
    base: join(DEMO, 'pretrained'), k: 32, scope: 'all', pollMs: 50, signal: controller.signal, eval: { data: join(DEMO, 'test.jsonl') },
    onUpdate: (u) => {
      updates.push(u);
      notify?.();
    },
  });
  await Promise.race([got, delay(120000)]); // a cap for a broken watcher; a slow machine is waited for
  controller.abort();
  await watching;
  assert.equal(updates.length, 1);
  assert.ok(Math.abs(updates[0]!.accuracy! - EXPECTED.finetunedAccuracy) < 0.001, String(updates[0]!.accuracy));
  assert.equal(updates[0]!.keptParams, EXPECTED.ken['32']!.keptParams);
});

const LORA = join(ROOT, 'test', 'data', 'arch', 'lora');

/** test/data/arch/lora/causal-lm's adapter with every lora_B times `factor`: a LoRA run's checkpoint at another step. */
async function adapterBytes(factor: number): Promise<Buffer> {
  const path = join(LORA, 'causal-lm', 'adapter_model.safetensors');
  const h = await readSafetensorsHeader(path);
  const all = readFileSync(path);
  const tensors = h.tensors.map((e) => {
    const v = toFloat32(all.subarray(e.begin, e.end), 'F32');
    return { name: e.name, dtype: 'F32', shape: e.shape, data: fromFloat32(/lora_(embedding_)?B/.test(e.name) ? v.map((x) => x * factor) : v, 'F32') };
  });
  return Buffer.concat([encodeHeader(tensors, tensors.map((t) => t.data.byteLength), { format: 'pt' }), ...tensors.map((t) => Buffer.from(t.data))]);
}

test('a LoRA run (PEFT + Trainer: checkpoint-N/ with adapter_config.json + adapter_model.safetensors) is analysed merged onto the watched base; a half-written adapter does not count', async () => {
  const root = tmp();
  const runDir = join(root, 'run');
  mkdirSync(runDir);
  const base = join(LORA, 'llama-base');
  const updates: WatchUpdate[] = [];
  const controller = new AbortController();
  let notify: (() => void) | undefined;
  const watching = watchRun(runDir, {
    base, k: 2, scope: 'all', pollMs: 40, signal: controller.signal,
    onUpdate: (u) => {
      updates.push(u);
      notify?.();
    },
  });
  const written: string[] = [];
  for (const [step, factor] of [[10, 1], [20, 3]] as const) {
    const got = new Promise<void>((r) => (notify = r));
    const dir = join(runDir, `checkpoint-${step}`);
    mkdirSync(dir);
    copyFileSync(join(LORA, 'causal-lm', 'adapter_config.json'), join(dir, 'adapter_config.json'));
    const bytes = await adapterBytes(factor);
    const fh = await open(join(dir, 'adapter_model.safetensors'), 'w');
    await fh.write(bytes, 0, bytes.length >> 1, 0);
    await writeFile(join(dir, 'trainer_state.json'), JSON.stringify({ global_step: step }));
    await delay(250); // config, state and half the weights: not complete
    assert.equal(updates.length, written.length, `checkpoint-${step} counted while its adapter was half written`);
    await fh.write(bytes, bytes.length >> 1, bytes.length - (bytes.length >> 1), bytes.length >> 1);
    await fh.close();
    written.push(dir);
    await Promise.race([got, delay(20000)]);
  }
  controller.abort();
  await watching;
  assert.deepEqual(updates.map((u) => u.step), [10, 20]);
  // each equals KEN on the merged model (what ken prune gives for the adapter against the same base)
  for (const [i, dir] of written.entries()) {
    const report = await pruneToFolder({ finetuned: dir, base, out: join(tmp(), 'out'), k: 2, scope: 'all', backend: 'js', threads: 1 });
    assert.equal(updates[i]!.keptParams, report.keptParams, `checkpoint ${i}`);
    assert.equal(updates[i]!.totalParams, report.totalParams);
  }
  // q_proj/v_proj moved in every layer, the rest of a layer is the base's; a larger update drifts further
  const layer0 = (u: WatchUpdate) => u.layers.find((x) => x.layer === 0)!;
  assert.ok(layer0(updates[0]!).fractionMoved > 0 && layer0(updates[0]!).fractionMoved < 0.5);
  assert.ok(layer0(updates[1]!).meanAbsDelta > 2 * layer0(updates[0]!).meanAbsDelta);
  assert.ok(updates[1]!.meanJaccard !== null);
});
