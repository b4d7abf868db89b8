// `npm run bench:eval`: samples/s of our evaluation pipeline (tokenize, then onnxruntime-node on
// CPU) on the fixture's test set, and of PyTorch running the same fine-tuned weights on the same
// token ids (bench/torch_bert.py, a plain-torch BERT), whose accuracy must equal ours.
// KEN_PYTHON names the Python with torch (default python3); BENCH_REPEATS the timed passes (best kept);
// BENCH_THREADS our session's intra-op threads (default onnxruntime's: one per physical core).
// Then bench/eval-built.ts: the built graph against an ONNX export on the BERT-base-shaped model
// (BENCH_BUILT=0 skips it; BENCH_SAMPLES its sample count).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { encodeDataset, loadDataset, openClassifier, predict, type Classifier, type EncodedDataset } from '../src/eval';
import { singleLabelMetrics } from '../src/eval/metrics';
import { benchBuiltVsExport } from './eval-built';

const ROOT = (() => {
  let d = __dirname;
  while (!existsSync(join(d, 'package.json'))) d = resolve(d, '..');
  return d;
})();
const FT = join(ROOT, 'test', 'data', 'demo-v1', 'debdesc-bert-mini', 'finetuned');
const TEST = join(ROOT, 'test', 'data', 'demo-v1', 'debdesc-bert-mini', 'test.jsonl');
const WEIGHTS = join(FT, 'model.safetensors');
const REPEATS = Number(process.env['BENCH_REPEATS'] ?? 5);
const BATCHES = [1, 8, 32, 128];

interface Row {
  what: string;
  batch: string;
  seconds: number;
  accuracy?: number;
}

async function best(f: () => Promise<unknown> | unknown): Promise<number> {
  await f(); // warm-up
  let min = Infinity;
  for (let i = 0; i < REPEATS; i++) {
    const t0 = performance.now();
    await f();
    min = Math.min(min, (performance.now() - t0) / 1000);
  }
  return min;
}

function accuracy(data: EncodedDataset, predicted: ArrayLike<number>): number {
  return singleLabelMetrics(data.samples.map((s) => s.label), predicted, data.labels).accuracy;
}

interface TorchOut {
  torch: string;
  threads: number;
  accuracy: number;
  predictions: number[];
  runs: { batchSize: number; seconds: number; samplesPerSecond: number }[];
}

/** The first Python that imports torch (KEN_PYTHON, python3, Debian's /usr/bin/python3), or why none does. */
function findTorch(): { python: string } | { missing: string } {
  const tried: string[] = [];
  for (const python of [process.env['KEN_PYTHON'], 'python3', '/usr/bin/python3']) {
    if (!python || tried.some((t) => t.startsWith(`${python}:`))) continue;
    const r = spawnSync(python, ['-c', 'import torch'], { encoding: 'utf8' });
    if (!r.error && r.status === 0) return { python };
    tried.push(`${python}: ${r.error ? 'not found' : 'no torch'}`);
  }
  return { missing: `no Python with torch (${tried.join('; ')}); install python3-torch (Debian) or set KEN_PYTHON` };
}

function runTorch(python: string, data: EncodedDataset, order: number[]): TorchOut {
  const dir = mkdtempSync(join(tmpdir(), 'ken-bench-'));
  try {
    const inputs = join(dir, 'ids.json');
    // Length-sorted like evaluate() batches them, so both run the same padded batches.
    const samples = order.map((i) => data.samples[i]!).map((s) => ({ ids: [...s.ids], typeIds: [...s.typeIds], label: s.label }));
    writeFileSync(inputs, JSON.stringify({ samples }));
    const r = spawnSync(python, [
      join(ROOT, 'bench', 'torch_bert.py'), '--weights', WEIGHTS, '--config', join(FT, 'config.json'), '--inputs', inputs,
      '--batch-sizes', '1,32', '--repeats', String(REPEATS), '--threads', String(cpus().length),
    ], { encoding: 'utf8', maxBuffer: 64 << 20 });
    if (r.status !== 0) throw new Error(`torch_bert.py failed: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
    const out = JSON.parse(r.stdout) as TorchOut;
    // Back to the data set's order.
    const predictions = new Array<number>(order.length);
    order.forEach((sample, k) => (predictions[sample] = out.predictions[k]!));
    out.predictions = predictions;
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function table(rows: Row[], n: number): string {
  const head = ['pipeline', 'batch', 'seconds', 'samples/s', 'accuracy'];
  const body = rows.map((r) => [r.what, r.batch, r.seconds.toFixed(4), (n / r.seconds).toFixed(0), r.accuracy === undefined ? '' : r.accuracy.toFixed(4)]);
  const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  ');
  return [line(head), line(w.map((x) => '-'.repeat(x))), ...body.map(line)].join('\n');
}

async function main(): Promise<void> {
  const threads = process.env['BENCH_THREADS'] ? Number(process.env['BENCH_THREADS']) : undefined;
  const clf: Classifier = await openClassifier(FT, undefined, { device: 'cpu', threads });
  const rows: Row[] = [];
  let torchNote = '';
  try {
    const data = await loadDataset(TEST, { labels: clf.labels });
    const n = data.samples.length;
    console.log(`bench:eval: ${n} samples of ${TEST.slice(ROOT.length + 1)}, model ${FT.slice(ROOT.length + 1)}, CPU (${cpus().length} cores, ${cpus()[0]?.model ?? '?'}), best of ${REPEATS}, onnxruntime intra-op threads ${threads ?? 'default'}\n`);

    let encoded = await encodeDataset(clf.tokenizer, data);
    rows.push({ what: 'ours: tokenize (@huggingface/tokenizers + truncation, in a worker)', batch: '-', seconds: await best(async () => (encoded = await encodeDataset(clf.tokenizer, data))) });
    /** One row: best time of a full pass, and the accuracy of its predictions. */
    const infer = async (what: string, c: Classifier, batchSize: number, pass: () => EncodedDataset | Promise<EncodedDataset> = () => encoded, sortByLength = true): Promise<number> => {
      let predicted: ArrayLike<number> = [];
      const seconds = await best(async () => (predicted = await predict(c, await pass(), { batchSize, sortByLength })));
      rows.push({ what, batch: String(batchSize), seconds, accuracy: accuracy(encoded, predicted) });
      return seconds;
    };
    let fastest = { batch: 32, seconds: Infinity };
    for (const b of BATCHES) {
      const s = await infer('ours: infer (onnxruntime-node, length-sorted)', clf, b);
      if (s < fastest.seconds) fastest = { batch: b, seconds: s };
    }
    await infer('ours: infer, file order (more padding)', clf, 32, undefined, false);
    if (threads === undefined) {
      const one = await openClassifier(FT, undefined, { device: 'cpu', threads: 1 });
      try {
        for (const b of [8, 32]) await infer('ours: infer, 1 intra-op thread', one, b);
      } finally {
        await one.close();
      }
    }
    await infer('ours: tokenize + infer', clf, fastest.batch, () => encodeDataset(clf.tokenizer, data));

    const found = findTorch();
    if ('missing' in found) {
      torchNote = `PyTorch part skipped: ${found.missing}.`;
    } else {
      const python = found.python;
      const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => encoded.samples[a]!.ids.length - encoded.samples[b]!.ids.length || a - b);
      const t = runTorch(python, encoded, order);
      for (const r of t.runs) rows.push({ what: `PyTorch ${t.torch} (plain-torch BERT, ${t.threads} threads)`, batch: String(r.batchSize), seconds: r.seconds, accuracy: t.accuracy });
      const ours = await predict(clf, encoded, { batchSize: 32 });
      const agree = t.predictions.filter((p, i) => p === ours[i]).length;
      const same = accuracy(encoded, ours) === t.accuracy;
      torchNote = `PyTorch accuracy ${t.accuracy.toFixed(6)} ${same ? '==' : '!='} ours ${accuracy(encoded, ours).toFixed(6)}; predictions agree on ${agree}/${n} samples.`;
      if (!same) process.exitCode = 1;
    }
    console.log(table(rows, n));
    console.log(`\n${torchNote}`);
    console.log('samples/s = samples / seconds for one pass over the test set; PyTorch times the forward pass on prepared tensors, ours includes building them.');
  } finally {
    await clf.close();
  }
  if (process.env['BENCH_BUILT'] !== '0') {
    const built = await benchBuiltVsExport();
    if (!built.ok) process.exitCode = 1;
  }
}

main().catch((e: unknown) => {
  console.error(`bench:eval: ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = 1;
});
