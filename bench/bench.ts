// `npm run bench`: times the KEN core on a synthetic BERT-base pair (built here, deterministically,
// in a temporary folder that is removed at the end), prunes it in-process with each backend and k,
// and times our Python port of the reference on a sample of the same rows.
//
//   node dist/bench/bench.js [--quick] [--backend js|ort|all] [--device cpu|auto|cuda|webgpu[,...]] [--ort-limit S] [--k 384,96] [--threads N]
// --device other than cpu times the ort backend there (default backend ort) and reports the fraction
// of densities re-checked exactly on the CPU; the reference comparison then is skipped. Several
// devices (`--device webgpu,cpu`; cpu then times js) also compare the output bytes of runs that pruned
// the same tensors at the same k (sha256 of every written file but the report).
// --profile: for each js run, the time in reading, bandwidth/sort, densities, exact re-checks,
// selection, merging and writing, per worker thread and in total (a few clock reads per row).
//   node dist/bench/bench.js --llama [--layers 8] [--k 64]   (bench/llama.ts: a 7B-shaped BF16 pair)
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { availableParallelism, cpus, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { CancelledError } from '../src/errors';
import { readRange, readSafetensorsHeader } from '../src/formats/safetensors';
import { isHead } from '../src/models/names';
import { pruneToFolder } from '../src/workflows/prune';
import { emptyProfile, type KenProfile } from '../src/ken/profile';
import { RowPruner } from '../src/ken/row';
import { fastDensityPass } from '../src/ken/wasm-densities';
import type { Backend } from '../src/ken/worker-protocol';
import type { DeviceChoice } from '../src/runtime/session';
import { CpuWatch, MB, RssSampler, childPids, kernelPeakRss, resetPeakRss, type CpuFigures } from './measure';
import { referenceUnavailable, runReference, type ReferenceResult, type RowJob } from './reference';
import { llamaBench } from './llama';
import { BERT_BASE, bertTensors, writeSyntheticPair, type BertShape, type SynthPair } from './synth';

const ORT_LIMIT_S = 300; // default of --ort-limit
const TARGET_SECONDS = 30;
const TARGET_RATIO = 300;
const TARGET_RSS = 1024 * MB;

interface Args {
  quick: boolean;
  backends: Backend[];
  devices: DeviceChoice[];
  ortLimit: number;
  ks: number[];
  threads: number | undefined;
  profile: boolean;
  backendGiven?: boolean;
}

class ArgError extends Error {}

function parseArgs(argv: string[]): Args {
  const a: Args = { quick: false, backends: ['js', 'ort'], devices: ['cpu'], ortLimit: ORT_LIMIT_S, ks: [384, 96], threads: undefined, profile: false };
  let backendGiven = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new ArgError(`${arg} needs a value`);
      return v;
    };
    if (arg === '--quick') a.quick = true;
    else if (arg === '--profile') a.profile = true;
    else if (arg === '--backend') {
      backendGiven = true;
      const v = value();
      if (v === 'all') a.backends = ['js', 'ort'];
      else if (v === 'js' || v === 'ort') a.backends = [v];
      else throw new ArgError(`--backend must be js, ort or all (got ${v})`);
    } else if (arg === '--device') {
      const v = value();
      const list = v.split(',').map((s) => s.trim());
      const bad = list.find((d) => d !== 'cpu' && d !== 'auto' && d !== 'cuda' && d !== 'webgpu');
      if (bad !== undefined || list.length === 0) throw new ArgError(`--device takes cpu, auto, cuda or webgpu, comma-separated (got ${v})`);
      a.devices = list as DeviceChoice[];
    } else if (arg === '--ort-limit') {
      const v = Number(value());
      if (!(v > 0)) throw new ArgError('--ort-limit takes seconds > 0');
      a.ortLimit = v;
    } else if (arg === '--k') {
      const v = value();
      a.ks = v.split(',').map((s) => Number(s.trim()));
      if (a.ks.length === 0 || a.ks.some((k) => !Number.isInteger(k) || k < 1)) throw new ArgError(`--k takes whole numbers >= 1, comma-separated (got ${v})`);
    } else if (arg === '--threads') {
      const t = Number(value());
      if (!Number.isInteger(t) || t < 1) throw new ArgError(`--threads must be a whole number >= 1`);
      a.threads = t;
    } else if (arg === '--help' || arg === '-h') {
      throw new ArgError('usage: node dist/bench/bench.js [--quick] [--backend js|ort|all] [--device cpu|auto|cuda|webgpu[,...]] [--ort-limit S] [--k 384,96] [--threads N] [--profile]');
    } else throw new ArgError(`unknown option ${arg}`);
  }
  a.backendGiven = backendGiven;
  const gpu = a.devices.find((d) => d !== 'cpu');
  if (gpu && backendGiven && a.backends.includes('js') && a.devices.length === 1) throw new ArgError(`the js backend runs on the CPU; --device ${gpu} times --backend ort`);
  return a;
}

/** The backends timed on a device: as given, else ort off the CPU, and on the CPU js (with others) or js and ort (alone). */
function backendsFor(a: Args, device: DeviceChoice): Backend[] {
  if (device !== 'cpu') return a.backendGiven ? a.backends.filter((b) => b === 'ort') : ['ort'];
  if (a.backendGiven) return a.backends;
  return a.devices.length > 1 ? ['js'] : ['js', 'ort'];
}

function repoRoot(): string {
  let d = __dirname;
  while (!existsSync(join(d, 'package.json'))) {
    const up = resolve(d, '..');
    if (up === d) throw new Error(`package.json not found above ${__dirname}`);
    d = up;
  }
  return d;
}

const fmt = (x: number, digits = 2): string => x.toFixed(digits);
const mb = (b: number | undefined): string => (b === undefined ? 'n/a' : `${Math.round(b / MB)} MB`);

// ---------------------------------------------------------------------------------------------
// Rows of the model, by width: what the prune will process (every fine-tuned tensor but the head).

interface RowCensus {
  rows: number;
  cells: number;
  byWidth: Map<number, number>;
}

function census(shape: BertShape, include?: RegExp): RowCensus {
  const c: RowCensus = { rows: 0, cells: 0, byWidth: new Map() };
  for (const t of bertTensors(shape, 'finetuned')) {
    if (isHead(t.name) || (include && !include.test(t.name))) continue;
    const rows = t.shape.length === 1 ? 1 : t.shape[0]!;
    const n = t.shape.length === 1 ? t.shape[0]! : t.shape[1]!;
    c.rows += rows;
    c.cells += rows * n;
    c.byWidth.set(n, (c.byWidth.get(n) ?? 0) + rows);
  }
  return c;
}

// ---------------------------------------------------------------------------------------------
// One in-process prune, with its wall time split into phases and by row width.

/**
 * One row width's share of a run. The wall time between consecutive progress events (a batch of
 * rows done, a tensor written) goes to the width of the event's tensor; the whole run's wall and
 * CPU seconds (every thread) are then shared out in those proportions.
 */
interface WidthFigure {
  rows: number;
  seconds: number;
  msPerRow: number;
  cpuMsPerRow: number;
}

interface RunFigures {
  backend: string;
  executionProvider: string;
  /** The WebGPU adapter, when the densities ran on WebGPU. */
  adapter: string | undefined;
  /** Densities computed, and those summed again exactly in float64 on the CPU (near a rounding boundary). */
  densities: number;
  /** The device asked for, and the sha256 of every written file but the report, in name order. */
  device: DeviceChoice;
  outputSha256: string;
  rechecked: number;
  k: number;
  /** undefined: the whole model; else the tensors timed (a subset, see `subsetNote`). */
  subset: string | undefined;
  subsetNote: string | undefined;
  seconds: number;
  rows: number;
  cells: number;
  rowsPerSecond: number;
  /** Polled every 50 ms: process RSS (worker threads included), and the process tree. */
  peakRssBytes: number;
  peakTreeRssBytes: number;
  /** The kernel's high-water mark (VmHWM) for the run, when /proc allows resetting it. */
  kernelPeakRssBytes: number | undefined;
  childProcesses: number;
  /** How busy this process and every other process on the machine were during the run. */
  cpu: CpuFigures;
  phases: { setupSeconds: number; rowsSeconds: number; finishSeconds: number };
  widths: Record<string, WidthFigure>;
  keptRatio: number;
  /** For a subset: the rows phase scaled by cells to the whole model. */
  estimatedWholeModelRowsSeconds: number | undefined;
  /** With --profile: seconds per phase, main thread and each worker. */
  profile?: KenProfile;
}

async function timedPrune(pair: SynthPair, out: string, k: number, backend: Backend, device: DeviceChoice, threads: number | undefined, include: string | undefined, signal: AbortSignal, profile?: KenProfile): Promise<RunFigures> {
  const hwmReset = resetPeakRss();
  const sampler = new RssSampler().start(50);
  const watch = new CpuWatch();
  const events: { t: number; rows: number; tensor: string }[] = [];
  let lastRows = 0;
  let ready = 0;
  let maxChildren = 0;
  const t0 = performance.now();
  const report = await pruneToFolder({
    finetuned: pair.finetuned, base: pair.base, out, k, backend, device, threads, include, signal, profile,
    onBackend: () => {
      ready = performance.now();
    },
    onProgress: (p) => {
      events.push({ t: performance.now(), rows: p.rowsDone - lastRows, tensor: p.tensor });
      lastRows = p.rowsDone;
      if (events.length % 64 === 0) maxChildren = Math.max(maxChildren, childPids().length);
    },
  }).finally(() => sampler.stop());
  const t1 = performance.now();
  const cpu = watch.stop();
  const kernelPeak = hwmReset ? kernelPeakRss() : undefined;
  const outputHash = createHash('sha256');
  for (const f of readdirSync(out).filter((x) => x !== 'ken-report.json').sort()) outputHash.update(f).update(await readFile(join(out, f)));
  const outputSha256 = outputHash.digest('hex');
  await rm(out, { recursive: true, force: true });

  const widthOf = new Map<string, number>();
  let rows = 0;
  let cells = 0;
  for (const t of report.tensors) {
    if (t.status !== 'pruned' && t.status !== 'kept-all') continue;
    widthOf.set(t.name, t.total / t.rows);
    rows += t.rows;
    cells += t.total;
  }
  const widths: Record<string, WidthFigure> = {};
  const rowsByWidth = new Map<number, number>();
  for (const [name, n] of widthOf) rowsByWidth.set(n, (rowsByWidth.get(n) ?? 0) + report.tensors.find((t) => t.name === name)!.rows);
  const secondsByWidth = new Map<number, number>();
  let prev = ready || t0;
  for (const e of events) {
    const n = widthOf.get(e.tensor);
    if (n !== undefined) secondsByWidth.set(n, (secondsByWidth.get(n) ?? 0) + (e.t - prev) / 1000);
    prev = e.t;
  }
  const lastEvent = events.length ? events[events.length - 1]!.t : t1;
  const seconds = (t1 - t0) / 1000;
  const rowsSeconds = (lastEvent - (ready || t0)) / 1000;
  // setup and finish are shared out too, so that the widths add up to the whole run (wall and CPU)
  const attributed = [...secondsByWidth.values()].reduce((x, y) => x + y, 0);
  const cpuSeconds = cpu.ownCores * cpu.wallSeconds;
  for (const [n, r] of [...rowsByWidth].sort((a, b) => a[0] - b[0])) {
    const share = attributed > 0 ? (secondsByWidth.get(n) ?? 0) / attributed : 0;
    widths[String(n)] = { rows: r, seconds: share * seconds, msPerRow: (share * seconds * 1000) / r, cpuMsPerRow: (share * cpuSeconds * 1000) / r };
  }
  return {
    backend: report.backend, executionProvider: report.executionProvider, adapter: report.adapter,
    densities: report.densityChecks?.densities ?? 0, rechecked: report.densityChecks?.rechecked ?? 0, device, outputSha256, k, subset: include, subsetNote: undefined,
    seconds, rows, cells, rowsPerSecond: rows / seconds,
    peakRssBytes: sampler.peak, peakTreeRssBytes: sampler.peakTree, kernelPeakRssBytes: kernelPeak, childProcesses: maxChildren, cpu,
    phases: { setupSeconds: ((ready || t0) - t0) / 1000, rowsSeconds, finishSeconds: (t1 - lastEvent) / 1000 },
    widths, keptRatio: report.keptRatio, estimatedWholeModelRowsSeconds: undefined, ...(profile ? { profile } : {}),
  };
}

function recheckedText(r: RunFigures): string {
  return r.densities ? `${(100 * r.rechecked / r.densities).toPrecision(2)}%` : '-';
}

/** The --profile table: seconds per phase, per worker thread and in total, beside the run's wall time. */
function profileTable(r: RunFigures): string {
  const p = r.profile!;
  const s = (x: number): string => fmt(x, 2);
  const body = p.threads.map((t) => [
    `worker ${t.thread}`, String(t.rows), '-', s(t.bandwidthSort), s(t.densities), s(t.rechecks), s(t.selection), '-', '-', s(t.other), s(t.busy),
  ]);
  const sum = (f: (t: KenProfile['threads'][number]) => number): number => p.threads.reduce((a, t) => a + f(t), 0);
  body.push(['main thread', '-', s(p.read), '-', '-', '-', '-', s(p.merge), s(p.write), `${s(p.prepare + p.toRows)}`, '-']);
  body.push([
    'total', String(sum((t) => t.rows)), s(p.read), s(sum((t) => t.bandwidthSort)), s(sum((t) => t.densities)), s(sum((t) => t.rechecks)),
    s(sum((t) => t.selection)), s(p.merge), s(p.write), s(sum((t) => t.other) + p.prepare + p.toRows), s(sum((t) => t.busy)),
  ]);
  return `  profile, ${r.backend} k=${r.k}: ${fmt(r.seconds)} s wall, ${fmt(r.cpu.ownCores * r.cpu.wallSeconds, 1)} CPU s; ${cpuText(r.cpu)}\n` +
    table(['thread', 'rows', 'reading', 'bandwidth/sort', 'densities', 're-checks', 'selection', 'merging', 'writing', 'other', 'busy'], body)
      .split('\n').map((l) => '  ' + l).join('\n') +
    `\n  seconds; workers: clocked per row (busy = their chunks' wall time); main thread: reading = awaiting reads (tensors in flight overlap),` +
    ` merging and other (base conversion, non-finite check, hash ${s(p.prepare)}; rows to float32 ${s(p.toRows)}) synchronous, writing = awaiting the output and subnetwork writes`;
}

function cpuText(c: CpuFigures): string {
  return `CPU: ours ${fmt(c.ownCores)} cores, other processes ${c.otherCores === undefined ? 'n/a' : fmt(c.otherCores)} cores`;
}

function describeRun(r: RunFigures): string {
  const w = Object.entries(r.widths).map(([n, f]) => `n=${n}: ${f.rows} rows, ${fmt(f.msPerRow, 3)} ms/row`).join('; ');
  return `  ${r.backend}/${r.executionProvider}${r.adapter ? ` (${r.adapter})` : ''} k=${r.k}${r.subset ? ` SUBSET ${r.subset}` : ''}: ${fmt(r.seconds)} s, ${r.rows} rows, ${Math.round(r.rowsPerSecond)} rows/s, ` +
    `re-checked on the CPU ${r.rechecked} of ${r.densities} densities (${recheckedText(r)}), ` +
    `peak RSS ${mb(r.peakRssBytes)} polled / ${mb(r.kernelPeakRssBytes)} kernel (tree ${mb(r.peakTreeRssBytes)}, ${r.childProcesses} child processes); ` +
    `${cpuText(r.cpu)}; ` +
    `setup ${fmt(r.phases.setupSeconds)} s, rows ${fmt(r.phases.rowsSeconds)} s, finish ${fmt(r.phases.finishSeconds)} s; ${w}; kept ${fmt(100 * r.keptRatio, 1)}%`;
}

/**
 * The ort backend computes every grid-point/value pair directly; on a CPU it can be far slower than
 * js. A one-tensor probe measures its rate; if the whole model would take more than ORT_LIMIT_S, the
 * largest candidate subset that fits is timed instead, and the whole-model time extrapolated by cells.
 */
async function ortRun(pair: SynthPair, shape: BertShape, workDir: string, k: number, device: DeviceChoice, limit: number, threads: number | undefined, signal: AbortSignal, log: (s: string) => void): Promise<RunFigures> {
  const probeRe = '^bert\\.encoder\\.layer\\.0\\.attention\\.self\\.query\\.weight$';
  const probe = await timedPrune(pair, join(workDir, `probe-ort-${k}`), k, 'ort', device, threads, probeRe, signal);
  const perCell = probe.phases.rowsSeconds / probe.cells;
  const whole = census(shape);
  const candidates: { re: string | undefined; label: string }[] = [
    { re: undefined, label: 'the whole model' },
    { re: '^bert\\.encoder\\.layer\\.[01]\\.', label: 'encoder layers 0-1' },
    { re: '^bert\\.encoder\\.layer\\.0\\.', label: 'encoder layer 0' },
    { re: '^bert\\.encoder\\.layer\\.0\\.(attention\\.self\\.query|intermediate\\.dense|output\\.dense)\\.weight$', label: 'layer 0 query, intermediate and output weights' },
    { re: probeRe, label: 'layer 0 query weight' },
  ];
  const estWhole = whole.cells * perCell;
  log(`  ort probe (layer 0 query weight, ${probe.rows} rows): ${fmt(probe.phases.rowsSeconds)} s of rows -> whole model estimated at ${fmt(estWhole, 0)} s of rows`);
  let pick = candidates[candidates.length - 1]!;
  for (const c of candidates) {
    if (census(shape, c.re ? new RegExp(c.re) : undefined).cells * perCell <= limit) {
      pick = c;
      break;
    }
  }
  const r = pick.re === probeRe ? probe : await timedPrune(pair, join(workDir, `ort-${k}`), k, 'ort', device, threads, pick.re, signal);
  if (pick.re !== undefined) {
    r.estimatedWholeModelRowsSeconds = r.phases.rowsSeconds * (whole.cells / r.cells);
    r.subsetNote = `SUBSET: the whole model was estimated at ${fmt(estWhole, 0)} s (> ${limit} s), so only ${pick.label} ` +
      `(${r.rows} of ${whole.rows} rows) was timed; scaled by cells the whole model's rows would take ${fmt(r.estimatedWholeModelRowsSeconds, 0)} s`;
    log(`  ${r.subsetNote}`);
  }
  return r;
}

// ---------------------------------------------------------------------------------------------
// The reference comparison: the same rows through our core (one thread) and the Python port.

interface SampledRow extends RowJob {
  tensor: string;
  row: number;
}

/** `count` rows of width `n` spread evenly over the fine-tuned model's pruned tensors of that width. */
async function sampleRows(pair: SynthPair, n: number, count: number, k: number): Promise<SampledRow[]> {
  const header = await readSafetensorsHeader(join(pair.finetuned, 'model.safetensors'));
  const tensors = header.tensors.filter((t) => !isHead(t.name) && t.shape.length === 2 && t.shape[1] === n);
  const total = tensors.reduce((s, t) => s + t.shape[0]!, 0);
  const out: SampledRow[] = [];
  for (let i = 0; i < count; i++) {
    let g = Math.floor(((i + 0.5) * total) / count);
    const t = tensors.find((x) => {
      if (g < x.shape[0]!) return true;
      g -= x.shape[0]!;
      return false;
    })!;
    const bytes = await readRange(header.path, t.begin + g * n * 4, n * 4);
    out.push({ tensor: t.name, row: g, k, values: new Float32Array(bytes.buffer, bytes.byteOffset, n) });
  }
  return out;
}

function keptOf(pruner: RowPruner, values: Float32Array, k: number): number[] {
  const mask = new Uint8Array(values.length);
  pruner.prune(values, k, mask, 0);
  const out: number[] = [];
  for (let j = 0; j < mask.length; j++) if (mask[j]) out.push(j);
  return out;
}

/**
 * Our core on each row in this thread (the pool is closed by now, so this process's CPU time is
 * this thread's): per width, the median over 5 timed passes (after a warm-up) of wall and CPU ms/row.
 */
function ourSingleThread(rows: readonly SampledRow[]): Map<number, { ms: number; cpuMs: number }> {
  const pruner = new RowPruner(fastDensityPass().pass); // the density pass the workers use
  const byWidth = new Map<number, SampledRow[]>();
  for (const r of rows) byWidth.set(r.values.length, [...(byWidth.get(r.values.length) ?? []), r]);
  const out = new Map<number, { ms: number; cpuMs: number }>();
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
  for (const [n, list] of byWidth) {
    const mask = new Uint8Array(n);
    for (const r of list) pruner.prune(r.values, r.k, mask, 0);
    const wall: number[] = [];
    const cpu: number[] = [];
    for (let p = 0; p < 5; p++) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      for (const r of list) pruner.prune(r.values, r.k, mask, 0);
      wall.push((performance.now() - t0) / list.length);
      const c = process.cpuUsage(c0);
      cpu.push((c.user + c.system) / 1000 / list.length);
    }
    out.set(n, { ms: median(wall), cpuMs: median(cpu) });
  }
  return out;
}

interface GoldenRow {
  id: string;
  k: number;
  n: number;
  values_f32_b64: string;
  kept: number[];
}

interface ReferenceFigures {
  k: number;
  numpy: string;
  sklearn: string;
  pythonPeakRssBytes: number;
  /** CPU while our core ran the sampled rows in this thread, and while the Python port ran. */
  cpuOurs: CpuFigures;
  cpuReference: CpuFigures;
  /** ms per row by width: wall, and CPU (which leaves out waiting for a core). */
  widths: Record<string, {
    rows: number;
    referenceMsPerRow: number;
    referenceCpuMsPerRow: number;
    /** Wall ms/row of the whole-model run (all workers, I/O included) and the reference's wall over it. */
    oursWholeRunMsPerRow: number | undefined;
    ratioWholeRun: number | undefined;
    /** The whole-model run's CPU ms/row (every thread), and the reference's CPU over it. */
    oursWholeRunCpuMsPerRow: number | undefined;
    ratioWholeRunCpu: number | undefined;
    /** Our core on the same rows in one thread, wall and CPU, and the reference's CPU over our CPU. */
    oursSingleThreadMsPerRow: number;
    oursSingleThreadCpuMsPerRow: number;
    ratioSingleThreadCpu: number;
  }>;
  agreement: { benchRows: string; goldenPortVsCore: string; goldenPortVsGolden: string; goldenCoreVsGolden: string; mismatches: string[] };
}

async function referenceComparison(pair: SynthPair, k: number, counts: [number, number], wholeRun: RunFigures | undefined, workDir: string, log: (s: string) => void): Promise<ReferenceFigures> {
  const root = repoRoot();
  const rows = [...(await sampleRows(pair, 768, counts[0], k)), ...(await sampleRows(pair, 3072, counts[1], k))];
  const golden = readFileSync(join(root, 'test', 'data', 'golden', 'ken-rows.jsonl'), 'utf8').trim().split('\n').slice(0, 100)
    .map((l) => JSON.parse(l) as GoldenRow);
  const goldenJobs: RowJob[] = golden.map((g) => {
    const b = Buffer.from(g.values_f32_b64, 'base64');
    return { k: g.k, values: new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)) };
  });
  log(`  our core, one thread, on the ${rows.length} sampled rows (k=${k})...`);
  const oursWatch = new CpuWatch();
  const single = ourSingleThread(rows);
  const cpuOurs = oursWatch.stop();
  log(`  the Python port on the same rows and the first ${golden.length} golden rows (${rows.length + golden.length} rows)...`);
  const refWatch = new CpuWatch();
  const ref: ReferenceResult = await runReference(join(root, 'bench', 'reference_ken.py'), [...rows, ...goldenJobs], workDir);
  const cpuReference = refWatch.stop(ref.cpuSeconds);

  const pruner = new RowPruner();
  const same = (a: number[], b: number[]): boolean => a.length === b.length && a.every((v, i) => v === b[i]);
  const mismatches: string[] = [];
  let benchAgree = 0;
  rows.forEach((r, i) => {
    if (same(keptOf(pruner, r.values, r.k), ref.rows[i]!.kept)) benchAgree++;
    else mismatches.push(`${r.tensor}[${r.row}]`);
  });
  let portCore = 0;
  let portGolden = 0;
  let coreGolden = 0;
  golden.forEach((g, i) => {
    const core = keptOf(pruner, goldenJobs[i]!.values, g.k);
    const port = ref.rows[rows.length + i]!.kept;
    if (same(core, port)) portCore++;
    else mismatches.push(g.id);
    if (same(port, g.kept)) portGolden++;
    if (same(core, g.kept)) coreGolden++;
  });

  const widths: ReferenceFigures['widths'] = {};
  for (const n of [768, 3072]) {
    const idx = rows.map((r, i) => (r.values.length === n ? i : -1)).filter((i) => i >= 0);
    if (idx.length === 0) continue;
    const refMs = idx.reduce((s, i) => s + ref.rows[i]!.ms, 0) / idx.length;
    const refCpu = idx.reduce((s, i) => s + ref.rows[i]!.cpuMs, 0) / idx.length;
    const whole = wholeRun?.widths[String(n)];
    const oneThread = single.get(n)!;
    widths[String(n)] = {
      rows: idx.length, referenceMsPerRow: refMs, referenceCpuMsPerRow: refCpu,
      oursWholeRunMsPerRow: whole?.msPerRow, ratioWholeRun: whole ? refMs / whole.msPerRow : undefined,
      oursWholeRunCpuMsPerRow: whole?.cpuMsPerRow, ratioWholeRunCpu: whole ? refCpu / whole.cpuMsPerRow : undefined,
      oursSingleThreadMsPerRow: oneThread.ms, oursSingleThreadCpuMsPerRow: oneThread.cpuMs, ratioSingleThreadCpu: refCpu / oneThread.cpuMs,
    };
  }
  return {
    k, numpy: ref.numpy, sklearn: ref.sklearn, pythonPeakRssBytes: ref.peakRssBytes, cpuOurs, cpuReference, widths,
    agreement: {
      benchRows: `${benchAgree}/${rows.length}`,
      goldenPortVsCore: `${portCore}/${golden.length}`,
      goldenPortVsGolden: `${portGolden}/${golden.length}`,
      goldenCoreVsGolden: `${coreGolden}/${golden.length}`,
      mismatches,
    },
  };
}

// ---------------------------------------------------------------------------------------------

function table(head: string[], body: string[][]): string {
  const w = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const line = (r: string[]): string => r.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  ');
  return [line(head), w.map((x) => '-'.repeat(x)).join('  '), ...body.map(line)].join('\n');
}

async function main(): Promise<number> {
  let args: Args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (e) {
    if (e instanceof ArgError) {
      process.stderr.write(`bench: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  const log = (s: string): void => void process.stdout.write(s + '\n');
  const controller = new AbortController();
  const onSigint = (): void => controller.abort();
  process.once('SIGINT', onSigint);
  const shape: BertShape = args.quick ? { ...BERT_BASE, layers: 2 } : BERT_BASE;
  const refCounts: [number, number] = args.quick ? [30, 10] : [150, 50];
  const threads = args.threads ?? availableParallelism();
  const machine = `${cpus()[0]?.model ?? 'cpu'} x${cpus().length}, ${Math.round(totalmem() / 1024 ** 3)} GiB, node ${process.version}, ${process.platform}`;
  log(`KEN core benchmark${args.quick ? ' (--quick: 2 encoder layers, 40 reference rows)' : ''}`);
  log(`  machine: ${machine}; threads: ${threads}; backends: ${args.backends.join(', ')}; k: ${args.ks.join(', ')}`);
  log(`  js backend's fast density pass: ${fastDensityPass().engine}${process.env['KEN_WASM'] === '0' ? ' (KEN_WASM=0)' : ' (KEN_WASM=0 forces js)'}`);

  const workDir = await mkdtemp(join(tmpdir(), 'ken-bench-'));
  try {
    // 1. the synthetic pair
    log(`\n[1] synthetic BERT pair (${shape.layers} layers) in ${workDir}`);
    const genHwm = resetPeakRss();
    const genSampler = new RssSampler().start(50);
    const genWatch = new CpuWatch();
    const g0 = performance.now();
    const pair = await writeSyntheticPair(join(workDir, 'pair'), { shape, seed: 1, signal: controller.signal });
    const genSeconds = (performance.now() - g0) / 1000;
    genSampler.stop();
    const genCpu = genWatch.stop();
    const gen = {
      seconds: genSeconds, baseParams: pair.baseParams, finetunedParams: pair.finetunedParams, bytes: pair.bytes,
      peakRssBytes: genSampler.peak, kernelPeakRssBytes: genHwm ? kernelPeakRss() : undefined, cpu: genCpu,
    };
    log(`  ${pair.finetunedParams.toLocaleString('en')} fine-tuned + ${pair.baseParams.toLocaleString('en')} base parameters, ` +
      `${mb(pair.bytes)} written in ${fmt(genSeconds)} s; peak RSS ${mb(gen.peakRssBytes)} polled / ${mb(gen.kernelPeakRssBytes)} kernel; ${cpuText(genCpu)}`);

    // 2. pruneToFolder for each backend and k
    const runs: RunFigures[] = [];
    log(`\n[2] pruneToFolder (in-process, device ${args.devices.join(', ')})`);
    for (const device of args.devices) {
      for (const backend of backendsFor(args, device)) {
        for (const k of args.ks) {
          log(`  ${backend} on ${device} k=${k}...`);
          const r = backend === 'ort'
            ? await ortRun(pair, shape, workDir, k, device, args.ortLimit, args.threads, controller.signal, log)
            : await timedPrune(pair, join(workDir, `${backend}-${device}-${k}`), k, backend, device, args.threads, undefined, controller.signal, args.profile ? emptyProfile() : undefined);
          runs.push(r);
          log(describeRun(r));
          if (r.profile) log(profileTable(r));
        }
      }
    }

    // 3. the Python port of the reference
    log(`\n[3] reference (our Python port of itsmattei/KEN extract_KDE, /usr/bin/python3)`);
    const k0 = args.ks[0]!;
    const wholeRun = runs.find((r) => r.k === k0 && r.subset === undefined && r.backend === 'js') ?? runs.find((r) => r.k === k0 && r.subset === undefined);
    const why = args.devices.some((d) => d !== 'cpu') ? `--device ${args.devices.join(',')}: the reference comparison belongs to the CPU run` : k0 >= 768 ? `k=${k0} is not below the 768-wide rows' length (the reference crashes there)` : referenceUnavailable();
    let ref: ReferenceFigures | undefined;
    if (why) log(`  SKIPPED: ${why}`);
    else {
      ref = await referenceComparison(pair, k0, refCounts, wholeRun, workDir, log);
      log(`  numpy ${ref.numpy}, scikit-learn ${ref.sklearn}; Python peak RSS ${mb(ref.pythonPeakRssBytes)}`);
      log(`  while our core ran the rows: ${cpuText(ref.cpuOurs)}; while the Python port ran: ${cpuText(ref.cpuReference)}`);
      log(`  agreement, Python port vs our core: ${ref.agreement.benchRows} sampled rows, ${ref.agreement.goldenPortVsCore} golden rows` +
        ` (port vs golden ${ref.agreement.goldenPortVsGolden}, core vs golden ${ref.agreement.goldenCoreVsGolden})` +
        (ref.agreement.mismatches.length ? `; differ: ${ref.agreement.mismatches.slice(0, 10).join(', ')}` : ''));
    }

    // 4. summary
    log('\nSummary');
    log(table(
      ['backend/EP', 'k', 'timed', 'seconds', 'rows', 'rows/s', 're-checked', 'CPU s', 'other procs', 'peak RSS (poll)', 'peak RSS (kernel)', 'ms/row n=768', 'ms/row n=3072'],
      runs.map((r) => [
        `${r.backend}/${r.executionProvider}`, String(r.k), r.subset ? 'SUBSET' : 'whole pair', fmt(r.seconds), String(r.rows),
        String(Math.round(r.rowsPerSecond)), recheckedText(r), fmt(r.cpu.ownCores * r.cpu.wallSeconds, 1),
        r.cpu.otherCores === undefined ? 'n/a' : `${fmt(r.cpu.otherCores)} cores`, mb(r.peakRssBytes), mb(r.kernelPeakRssBytes),
        r.widths['768'] ? fmt(r.widths['768'].msPerRow, 4) : '-', r.widths['3072'] ? fmt(r.widths['3072'].msPerRow, 4) : '-',
      ]),
    ));
    log(`  seconds: wall, reading and writing included; re-checked: densities summed again exactly in float64 on the CPU (near a rounding boundary); CPU s: this process, all threads; other procs: cores other processes kept busy meanwhile`);
    for (const r of runs) if (r.adapter) log(`  ${r.backend}/${r.executionProvider} k=${r.k} ran on ${r.adapter}`);
    // runs that pruned the same tensors at the same k must write the same bytes
    const sameWork = new Map<string, RunFigures[]>();
    for (const r of runs) sameWork.set(`${r.k} ${r.subset ?? ''}`, [...(sameWork.get(`${r.k} ${r.subset ?? ''}`) ?? []), r]);
    for (const group of sameWork.values()) {
      if (group.length < 2) continue;
      const same = group.every((r) => r.outputSha256 === group[0]!.outputSha256);
      log(`  output bytes, k=${group[0]!.k}${group[0]!.subset ? ' (subset)' : ''}, ${group.map((r) => `${r.backend}/${r.executionProvider}`).join(' vs ')}: ${same ? 'identical' : 'DIFFERENT'} (sha256 ${group.map((r) => r.outputSha256.slice(0, 12)).join(', ')})`);
      if (group[0]!.subset === undefined && group.every((r) => r.subset === undefined)) {
        const cpu = group.find((r) => r.executionProvider === 'cpu');
        for (const r of group) if (cpu && r !== cpu) log(`  ${r.backend}/${r.executionProvider} k=${r.k}: ${fmt(r.seconds)} s vs ${fmt(cpu.seconds)} s on the CPU (${fmt(cpu.seconds / r.seconds, 1)}x)`);
      }
    }
    for (const r of runs) if (r.subsetNote) log(`  ${r.backend} k=${r.k}: ${r.subsetNote}`);
    log(`  generator: ${fmt(gen.seconds)} s for ${mb(gen.bytes)}, peak RSS ${mb(gen.peakRssBytes)} polled / ${mb(gen.kernelPeakRssBytes)} kernel`);
    if (ref) {
      const x = (r: number | undefined): string => (r === undefined ? '-' : `${Math.round(r)}x`);
      const f4 = (v: number | undefined): string => (v === undefined ? '-' : fmt(v, 3));
      log('');
      log(table(
        ['rows (k=' + ref.k + ')', 'count', 'reference ms/row', 'ours, whole run', 'ratio', 'reference CPU ms/row', 'ours, whole run CPU', 'ratio', 'ours 1 thread CPU', 'ratio'],
        Object.entries(ref.widths).map(([n, w]) => [
          `n=${n}`, String(w.rows),
          fmt(w.referenceMsPerRow, 1), f4(w.oursWholeRunMsPerRow), x(w.ratioWholeRun),
          fmt(w.referenceCpuMsPerRow, 1), f4(w.oursWholeRunCpuMsPerRow), x(w.ratioWholeRunCpu),
          f4(w.oursSingleThreadCpuMsPerRow), x(w.ratioSingleThreadCpu),
        ]),
      ));
      log('  ms/row is wall time unless marked CPU; CPU time leaves out waiting for a core, but other processes still slow it (shared caches, memory).');
      log(`  "whole run": the ${wholeRun ? `${wholeRun.backend} k=${wholeRun.k}` : ''} whole-model run's time shared out by width (all workers, reading, merging and writing included).`);
    }

    const target = runs.find((r) => r.backend === 'js' && r.k === 384 && r.subset === undefined);
    if (target && !args.quick) {
      const peak = Math.max(target.peakRssBytes, target.kernelPeakRssBytes ?? 0);
      const busy = target.cpu.otherCores ?? 0;
      if (busy > 0.2) log(`\nNOTE: other processes kept ${fmt(busy)} of ${cpus().length} cores busy during that run; its wall times are inflated accordingly.`);
      log(`\nTargets (js, k=384, whole pair): ${fmt(target.seconds)} s vs <= ${TARGET_SECONDS} s: ${target.seconds <= TARGET_SECONDS ? 'met' : 'MISSED'}; ` +
        `peak RSS ${mb(peak)} vs <= ${mb(TARGET_RSS)}: ${peak <= TARGET_RSS ? 'met' : 'MISSED'}` +
        (ref && ref.k === 384 ? `; per-row ratio ${Object.entries(ref.widths).map(([n, w]) => `n=${n} ${w.ratioWholeRun ? Math.round(w.ratioWholeRun) : '-'}x`).join(', ')} vs >= ${TARGET_RATIO}x: ` +
          `${Object.values(ref.widths).every((w) => (w.ratioWholeRun ?? 0) >= TARGET_RATIO) ? 'met' : 'MISSED'}` : ''));
    }
    const json = {
      bench: 'ken-core', quick: args.quick, machine, threads, createdAt: new Date().toISOString(),
      model: { layers: shape.layers, finetunedParams: gen.finetunedParams, baseParams: gen.baseParams, bytes: gen.bytes },
      generator: gen, runs, reference: ref ?? { skipped: why },
    };
    log('\n' + JSON.stringify(json));
    return 0;
  } catch (e) {
    if (e instanceof CancelledError) {
      process.stderr.write('bench: cancelled\n');
      return 130;
    }
    process.stderr.write(`bench: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  } finally {
    process.off('SIGINT', onSigint);
    await rm(workDir, { recursive: true, force: true });
  }
}

(process.argv.includes('--llama') ? llamaBench(process.argv.slice(2)) : main()).then((code) => {
  process.exitCode = code;
});
