// Part of `npm run bench:eval`: the built graph (src/graph, over the checkpoint's own safetensors)
// against an ONNX export of the same model, on the synthetic BERT-base-shaped fine-tuned model of
// bench/synth.ts (12 layers, hidden 768, 2 labels, F32 weights, 418 MiB).
// - The export: bench/export_bert.py runs torch.onnx.export (Debian's torch 1.13, opset 17, weights
//   embedded, constant folding) on bench/torch_bert.py's plain-torch BertForSequenceClassification;
//   transformers is not installable here, so this stands in for an Optimum export of the same weights.
// - Same data for both: deterministic token ids (lengths 8..128), batches of 32, length-sorted.
// - Each side runs in its own child process: throughput (best of BENCH_REPEATS passes), session open
//   time, and the kernel's peak RSS (VmHWM) of that process, which is the whole evaluation.
// - Which fusions onnxruntime applied: each graph is opened once more with `optimizedModelFilePath`
//   and the optimized model's operators are counted.
// Run alone: `node dist/bench/eval-built.js [--layers N]` (after `node scripts/build.mjs`).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { openModel } from '../src/checkpoint/folder';
import { readOnnxModel } from '../src/formats/onnx';
import { buildGraph, sessionExternalData } from '../src/models/build';
import { openModelSession } from '../src/eval/session';
import { CpuWatch, kernelPeakRss, MB } from './measure';
import { BERT_BASE, writeSyntheticPair } from './synth';

const ROOT = (() => {
  let d = __dirname;
  while (!existsSync(join(d, 'package.json'))) d = resolve(d, '..');
  return d;
})();
const REPEATS = Number(process.env['BENCH_REPEATS'] ?? 5);
const BATCH = 32;
const SAMPLES = Number(process.env['BENCH_SAMPLES'] ?? 128);
/** Every sample this long (no padding at all) instead of lengths 8..128. */
const FIXED_LENGTH = process.env['BENCH_LENGTH'] ? Number(process.env['BENCH_LENGTH']) : undefined;
/** Operators that show what onnxruntime fused (contrib ops and the ONNX ones they replace). */
const WATCHED = [
  'Attention', 'MultiHeadAttention', 'EmbedLayerNormalization', 'SkipLayerNormalization', 'LayerNormalization',
  'SimplifiedLayerNormalization', 'BiasGelu', 'Gelu', 'FastGelu', 'FusedMatMul', 'FusedGemm', 'Gemm', 'MatMul',
  'Add', 'Mul', 'Div', 'Erf', 'Softmax', 'Transpose', 'Reshape', 'NonZero', 'Gather',
];

interface Sample {
  ids: number[];
  typeIds: number[];
}

/** Deterministic input ids: [CLS] random word ids [SEP] (second segment typed 1 on every third), lengths 8..128 (or all `fixedLength`). */
export function syntheticSamples(n: number, vocab: number, seed = 7, fixedLength?: number): Sample[] {
  let s = seed >>> 0;
  const next = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
  return Array.from({ length: n }, (_, i) => {
    const drawn = 8 + Math.floor(next() * 121);
    const len = fixedLength ?? drawn;
    const ids = [101, ...Array.from({ length: len - 2 }, () => 1000 + Math.floor(next() * (vocab - 1000))), 102];
    const split = i % 3 === 0 ? Math.floor(len / 2) : len;
    return { ids, typeIds: ids.map((_, t) => (t >= split ? 1 : 0)) };
  });
}

interface ChildResult {
  graph: 'built' | 'export';
  openSeconds: number;
  seconds: number;
  rssAfterOpen: number;
  peakRss: number;
  ownCores: number;
  /** CPU seconds of the whole child process (all threads, start-up included). */
  cpuSeconds: number;
  logits: number[];
}

/** Child process: open one graph, run the passes, report time and memory. */
async function child(graph: 'built' | 'export', model: string, samplesFile: string): Promise<ChildResult> {
  const samples = JSON.parse(readFileSync(samplesFile, 'utf8')) as Sample[];
  const watch = new CpuWatch();
  const t0 = performance.now();
  const s = await openModelSession(model, undefined, { graph, device: 'cpu' });
  const openSeconds = (performance.now() - t0) / 1000;
  const rssAfterOpen = process.memoryUsage.rss();
  const order = samples.map((_, i) => i).sort((a, b) => samples[a]!.ids.length - samples[b]!.ids.length || a - b);
  const { Tensor } = s.ort;
  // feeds built once, outside the clock, identical for both graphs
  const batches: Record<'input_ids' | 'attention_mask' | 'token_type_ids', import('onnxruntime-node').Tensor>[] = [];
  for (let at = 0; at < order.length; at += BATCH) {
    const rows = order.slice(at, at + BATCH).map((i) => samples[i]!);
    const width = Math.max(...rows.map((r) => r.ids.length));
    const ids = new BigInt64Array(rows.length * width);
    const mask = new BigInt64Array(rows.length * width);
    const types = new BigInt64Array(rows.length * width);
    rows.forEach((r, b) => r.ids.forEach((id, t) => {
      ids[b * width + t] = BigInt(id);
      mask[b * width + t] = 1n;
      types[b * width + t] = BigInt(r.typeIds[t]!);
    }));
    const dims = [rows.length, width];
    batches.push({ input_ids: new Tensor('int64', ids, dims), attention_mask: new Tensor('int64', mask, dims), token_type_ids: new Tensor('int64', types, dims) });
  }
  const logits = new Array<number>(samples.length * 2);
  const pass = async (keep: boolean): Promise<void> => {
    let at = 0;
    for (const feeds of batches) {
      const out = await s.session.run(feeds);
      if (keep) {
        const data = out['logits']!.data as Float32Array;
        for (let r = 0; r < data.length / 2; r++) {
          const sample = order[at + r]!;
          logits[sample * 2] = data[r * 2]!;
          logits[sample * 2 + 1] = data[r * 2 + 1]!;
        }
      }
      at += feeds.input_ids.dims[0]!;
    }
  };
  await pass(true);
  let best = Infinity;
  for (let i = 0; i < REPEATS; i++) {
    const t = performance.now();
    await pass(false);
    best = Math.min(best, (performance.now() - t) / 1000);
  }
  await s.session.release();
  return { graph, openSeconds, seconds: best, rssAfterOpen, peakRss: kernelPeakRss() ?? process.memoryUsage.rss(), ownCores: watch.stop().ownCores, cpuSeconds: (process.cpuUsage().user + process.cpuUsage().system) / 1e6, logits };
}

/**
 * Child process: the optimized model onnxruntime made of one graph (level 'all', as evaluation opens it), by
 * operator. Written into `outDir` (the built graph's: its untouched weights still point at model.safetensors).
 */
async function childOps(graph: 'built' | 'export', model: string, outDir: string): Promise<Record<string, number>> {
  const ort = require('onnxruntime-node') as typeof import('onnxruntime-node');
  ort.env.logLevel = 'fatal';
  const optimized = join(outDir, `${graph}.optimized.onnx`);
  const opts: import('onnxruntime-node').InferenceSession.SessionOptions = {
    executionProviders: ['cpu'], logSeverityLevel: 4, graphOptimizationLevel: 'all', optimizedModelFilePath: optimized,
    extra: { session: { 'session.optimized_model_external_initializers_file_name': `${graph}.optimized.bin`, 'session.optimized_model_external_initializers_min_size_in_bytes': '1024' } },
  };
  let session: import('onnxruntime-node').InferenceSession;
  if (graph === 'built') {
    const g = buildGraph(await openModel(model, 'evaluated'));
    const ext = sessionExternalData(g);
    opts.extra = { session: { ...(opts.extra as { session: Record<string, string> }).session, model_external_initializers_file_folder_path: ext.externalFolder } };
    session = await ort.InferenceSession.create(g.model, opts);
  } else {
    session = await ort.InferenceSession.create(model, opts);
  }
  await session.release();
  const ops: Record<string, number> = {};
  for (const n of (await readOnnxModel(optimized)).nodes) ops[n.opType] = (ops[n.opType] ?? 0) + 1;
  rmSync(optimized, { force: true });
  rmSync(join(outDir, `${graph}.optimized.bin`), { force: true });
  return ops;
}

function spawnChild(args: string[]): { out: unknown; otherCores: number | undefined; wall: number } {
  const watch = new CpuWatch();
  const r = spawnSync(process.execPath, [join(__dirname, 'eval-built.js'), ...args], { encoding: 'utf8', maxBuffer: 256 << 20 });
  if (r.status !== 0) throw new Error(`child ${args[1]} ${args[0]} failed: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' | ')}`);
  const out = JSON.parse(r.stdout) as unknown;
  // the child's CPU is ours, not another process's
  const own = typeof out === 'object' && out !== null && 'cpuSeconds' in out ? Number(out.cpuSeconds) : 0;
  const cpu = watch.stop(own);
  return { out, otherCores: cpu.otherCores, wall: cpu.wallSeconds };
}

function python(): string {
  for (const p of [process.env['KEN_PYTHON'], '/usr/bin/python3', 'python3']) {
    if (p && spawnSync(p, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0) return p;
  }
  throw new Error('no Python with torch for the export (set KEN_PYTHON)');
}

export interface BuiltBenchResult {
  text: string;
  ok: boolean;
}

/** The whole comparison; returns the report text. `layers` < 12 for a quick look. */
export async function benchBuiltVsExport(opts: { layers?: number; log?: (s: string) => void } = {}): Promise<BuiltBenchResult> {
  const log = opts.log ?? ((s: string): void => void process.stdout.write(s + '\n'));
  const shape = { ...BERT_BASE, layers: opts.layers ?? BERT_BASE.layers };
  const work = mkdtempSync(join(tmpdir(), 'ken-bench-built-'));
  try {
    log(`\n[built graph vs ONNX export] synthetic BERT-base-shaped model (${shape.layers} layers, hidden ${shape.hiddenSize}) in ${work}`);
    const pair = await writeSyntheticPair(join(work, 'pair'), { shape, seed: 1 });
    rmSync(pair.base, { recursive: true, force: true });
    const weights = join(pair.finetuned, 'model.safetensors');
    const weightBytes = statSync(weights).size;
    const exportDir = join(work, 'export');
    const onnx = join(exportDir, 'model.onnx');
    rmSync(exportDir, { recursive: true, force: true });
    mkdirSync(exportDir);
    const py = python();
    const e = spawnSync(py, [join(ROOT, 'bench', 'export_bert.py'), '--weights', weights, '--config', join(pair.finetuned, 'config.json'), '--out', onnx], { encoding: 'utf8', cwd: join(ROOT, 'bench'), maxBuffer: 64 << 20 });
    if (e.status !== 0) throw new Error(`export_bert.py failed: ${e.stderr.trim().split('\n').slice(-3).join(' | ')}`);
    const exported = JSON.parse(e.stdout.trim().split('\n').pop()!) as { torch: string; opset: number; bytes: number };
    log(`  weights ${(weightBytes / MB).toFixed(0)} MiB; export: torch.onnx.export (torch ${exported.torch}, opset ${exported.opset}) of bench/torch_bert.py's BERT, ${(exported.bytes / MB).toFixed(0)} MiB`);
    const samplesFile = join(work, 'samples.json');
    const samples = syntheticSamples(SAMPLES, shape.vocabSize, 7, FIXED_LENGTH);
    writeFileSync(samplesFile, JSON.stringify(samples));
    const tokens = samples.reduce((s, x) => s + x.ids.length, 0);
    // positions the padded batches hold (what a graph computing every position computes)
    const lengths = samples.map((x) => x.ids.length).sort((a, b) => a - b);
    let positions = 0;
    for (let at = 0; at < lengths.length; at += BATCH) positions += Math.min(BATCH, lengths.length - at) * lengths[Math.min(at + BATCH, lengths.length) - 1]!;

    const ops: Record<string, Record<string, number>> = {};
    for (const graph of ['export', 'built'] as const) ops[graph] = spawnChild(['--ops', graph, graph === 'built' ? pair.finetuned : onnx, graph === 'built' ? pair.finetuned : work]).out as Record<string, number>;
    const results: (ChildResult & { otherCores: number | undefined })[] = [];
    // built, export, built, export: each twice in fresh processes, the better kept (a busy machine)
    for (const graph of ['built', 'export', 'built', 'export'] as const) {
      const r = spawnChild(['--child', graph, graph === 'built' ? pair.finetuned : onnx, samplesFile]);
      results.push({ ...(r.out as ChildResult), otherCores: r.otherCores });
    }
    const bestOf = (graph: string): ChildResult & { otherCores: number | undefined } =>
      results.filter((r) => r.graph === graph).reduce((a, b) => (b.seconds < a.seconds ? b : a));
    const built = bestOf('built');
    const exp = bestOf('export');
    let maxDiff = 0;
    let agree = 0;
    for (let i = 0; i < built.logits.length; i++) maxDiff = Math.max(maxDiff, Math.abs(built.logits[i]! - exp.logits[i]!));
    for (let i = 0; i < SAMPLES; i++) if ((built.logits[2 * i]! >= built.logits[2 * i + 1]!) === (exp.logits[2 * i]! >= exp.logits[2 * i + 1]!)) agree++;

    const lines: string[] = [];
    lines.push(`${SAMPLES} samples (${tokens} tokens; ${positions} positions in the padded batches, ${(100 * (1 - tokens / positions)).toFixed(0)}% padding), batch ${BATCH}, length-sorted, best of ${REPEATS} passes in each of 2 processes per graph; CPU, onnxruntime-node default threads`);
    lines.push('| graph | open s | pass s | samples/s | RSS after open MiB | peak RSS MiB | other processes\' cores |');
    lines.push('|---|---|---|---|---|---|---|');
    for (const r of [exp, built]) {
      lines.push(`| ${r.graph === 'built' ? 'built (src/graph)' : 'export (torch.onnx.export)'} | ${r.openSeconds.toFixed(2)} | ${r.seconds.toFixed(3)} | ${(SAMPLES / r.seconds).toFixed(1)} | ${(r.rssAfterOpen / MB).toFixed(0)} | ${(r.peakRss / MB).toFixed(0)} | ${r.otherCores?.toFixed(1) ?? '?'} |`);
    }
    const speed = exp.seconds / built.seconds;
    const rssLimit = weightBytes + 400 * MB;
    lines.push(`built/export throughput ${speed.toFixed(2)}x (target >= 1: ${speed >= 1 ? 'met' : 'NOT met'}); built peak RSS ${(built.peakRss / MB).toFixed(0)} MiB vs weights + 400 MiB = ${(rssLimit / MB).toFixed(0)} MiB (${built.peakRss <= rssLimit ? 'met' : 'NOT met'})`);
    lines.push(`logits: max |built - export| = ${maxDiff.toExponential(2)}; predictions agree on ${agree}/${SAMPLES}`);
    lines.push('operators after onnxruntime\'s optimization (level all):');
    lines.push('| operator | export | built |');
    lines.push('|---|---|---|');
    for (const op of WATCHED) {
      const a = ops['export']![op] ?? 0;
      const b = ops['built']![op] ?? 0;
      if (a || b) lines.push(`| ${op} | ${a} | ${b} |`);
    }
    const total = (o: Record<string, number>): number => Object.values(o).reduce((s, x) => s + x, 0);
    lines.push(`| (all nodes) | ${total(ops['export']!)} | ${total(ops['built']!)} |`);
    const text = lines.join('\n');
    log(text);
    return { text, ok: speed >= 1 && built.peakRss <= rssLimit && maxDiff < 1e-3 };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

// run as a script (bench:eval imports the function; its bundle must not run this)
if (/eval-built\.js$/.test(process.argv[1] ?? '')) {
  const argv = process.argv.slice(2);
  const run = async (): Promise<void> => {
    if (argv[0] === '--child') {
      process.stdout.write(JSON.stringify(await child(argv[1] as 'built' | 'export', argv[2]!, argv[3]!)));
    } else if (argv[0] === '--ops') {
      process.stdout.write(JSON.stringify(await childOps(argv[1] as 'built' | 'export', argv[2]!, argv[3]!)));
    } else {
      const i = argv.indexOf('--layers');
      const r = await benchBuiltVsExport({ layers: i >= 0 ? Number(argv[i + 1]) : undefined });
      if (!r.ok) process.exitCode = 1;
    }
  };
  run().catch((e: unknown) => {
    console.error(`eval-built: ${e instanceof Error ? e.message : String(e)}`);
    process.exitCode = 1;
  });
}
