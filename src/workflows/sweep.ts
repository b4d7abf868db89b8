// `ken sweep`: every pruning method at several k (random and dare at several seeds), each pruned model
// evaluated in memory (the fine-tuned ONNX bytes patched in place, or the built graph with the pruned
// tensors handed to the session from memory; no checkpoint written per point). The base is read once per
// point, the evaluation prepared once. With a maximum drop it searches (grid, then bisection), per
// method, for the smallest k whose metric (the mean over seeds) stays within it.
import { providerLabel } from '../runtime/webgpu';
import { readFile } from 'node:fs/promises';
import { CheckpointError, UsageError, throwIfAborted } from '../errors';
import { EvalBench, type EvalSpec } from '../eval/bench';
import { findOnnx } from '../eval/session';
import type { AdapterPoint, MethodRecommendation, SweepPoint, SweepRecord, SweepResult } from '../shared/report';
import { openModel } from '../checkpoint/folder';
import { safetensorsViews } from '../checkpoint/tensors';
import { elementSize, isFloatDType, type FloatDType } from '../formats/dtype';
import { positionsBytes } from '../formats/subnetwork';
import { checkMethodChoice, prepareMethod, type PreparedMethod } from '../methods/prepare';
import { methodNamed } from '../methods/registry';
import type { CalibrationSpec } from '../methods/calibration';
import { stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { dropUnit, metricDrop, metricValue, primaryMetric, scalarMetrics } from '../shared/metrics';
import { kenRows } from '../formats/layout';
import { checkK, checkpointFiles, preparePrune, pruneToFolder, toStored, viewRange, type PruneRequest } from './prune';
import { OutputReservation } from '../formats/output';
import type { KenReport } from '../shared/report';
import type { RunProgress } from '../ken/run';
import type { ModelFolder } from '../checkpoint/types';
import type { Plan } from '../ken/plan';
import { KenPool } from '../ken/pool';
import { runKen } from '../ken/run';

export interface SweepRequest extends Omit<PruneRequest, 'out' | 'k' | 'onProgress' | 'eval' | 'evalBefore' | 'sweep' | 'onEvalProgress' | 'method'> {
  ks: number[];
  /** The methods to sweep, in the order shown (default ken alone). */
  methods?: string[] | undefined;
  /** Runs of each seeded method (random, dare) at each k: seeds `seed` .. `seed + seeds - 1` (default 1). */
  seeds?: number | undefined;
  /** Largest accepted drop in `metric`: points for fractions and correlations (1 = one percentage point), units for perplexity/NLL/MSE. */
  maxDrop?: number | undefined;
  /** The metric the sweep follows and --max-drop is in (default accuracy). */
  metric?: string | undefined;
  eval: EvalSpec;
  /** Wanda's calibration lines. */
  calibration?: CalibrationSpec | undefined;
  /** A LoRA/PEFT adapter of the same task on the same base: evaluated merged, as one more point. */
  adapter?: string | undefined;
  onProgress?: ((p: SweepProgress) => void) | undefined;
  onPoint?: ((p: SweepPoint) => void) | undefined;
}

export interface SweepProgress {
  phase: 'evaluate fine-tuned' | 'prune' | 'evaluate' | 'calibrate' | 'evaluate adapter';
  k?: number;
  method?: string;
  done: number;
  total: number;
}

/** `-k 8,16,32`: the distinct values, sorted; a usage error names a bad one. */
export function parseKs(text: string): number[] {
  const ks = text.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  if (ks.length === 0) throw new UsageError('-k needs one or more values, e.g. -k 8,16,32,64');
  for (const k of ks) checkK(k);
  return [...new Set(ks)].sort((a, b) => a - b);
}

/** What a sweep keeps in ken-report.json for the panel (one owner for both doors). */
export function sweepRecord(r: SweepResult): SweepRecord {
  const rec: SweepRecord = { finetunedAccuracy: r.finetunedAccuracy, points: r.points, metric: r.metric, finetunedValue: r.finetunedValue, totalParams: r.totalParams };
  if (r.methods.length > 1 || r.methods[0] !== 'ken') rec.methods = r.methods;
  if (r.aggregates.length > 0) rec.aggregates = r.aggregates;
  if (r.recommendations) rec.recommendations = r.recommendations;
  if (r.adapter) rec.adapter = r.adapter;
  return rec;
}

/** The method and k a sweep's `--out` prunes: the best within the budget, else the first method at its recommended or largest k. */
export function sweepChoice(r: SweepResult, ks: readonly number[]): { method: string; k: number; seed?: number } {
  const pick = r.best?.fewestParams;
  const method = pick?.k !== undefined ? pick.method : r.methods[0]!;
  const k = pick?.k ?? r.recommended ?? ks[ks.length - 1]!;
  return methodNamed(method).seeded ? { method, k, seed: r.points.find((p) => p.method === method)?.seed ?? 0 } : { method, k };
}

/** Bytes of a pruned model's files outside its tensors (what the subnetwork keeps of them). */
async function skeletonBytes(ft: ModelFolder, plan: Plan): Promise<number> {
  const files = checkpointFiles(ft);
  const holes = new Map<string, number>();
  for (const t of plan.tensors) {
    for (const v of t.views) {
      const r = viewRange(v, ft);
      if (r) holes.set(relative(ft.dir, r.file), (holes.get(relative(ft.dir, r.file)) ?? 0) + (r.end - r.begin));
    }
  }
  let total = 0;
  for (const rel of [...files.weights, ...files.aux]) {
    // a virtual file (a merged LoRA adapter, a .bin read as safetensors) is its 8-byte length and header outside the tensors
    const path = join(ft.dir, rel);
    const vf = ft.safetensors?.virtual?.files.get(path);
    const size = vf ? 8 + vf.headerBytes.byteLength + (holes.get(rel) ?? 0) : await stat(path).then((st) => st.size, () => 0);
    total += Math.max(0, size - (holes.get(rel) ?? 0));
  }
  return total;
}

/** The adapter merged into the base (as ken prune merges one), evaluated on the fine-tuned folder's graph with its tensors from memory. */
async function adapterPoint(path: string, base: ModelFolder, ft: ModelFolder, bench: EvalBench, metric: string, signal: AbortSignal | undefined, onProgress: (done: number, total: number) => void): Promise<AdapterPoint> {
  const merged = await openModel(path, 'adapter', { adapterBase: base });
  if (!merged.lora) throw new UsageError(`--adapter ${path}: not a LoRA/PEFT adapter folder (no adapter_config.json)`);
  if (!ft.safetensors) throw new CheckpointError(`${ft.path}: --adapter is evaluated on the graph built from config.json, which needs the fine-tuned weights as safetensors`);
  const overrides = new Map<string, Uint8Array>();
  for (const v of safetensorsViews(merged)) {
    const own = ft.safetensors.tensors.get(v.name)?.entry;
    // the fine-tuned model's tensors, as the adapter has them (the base's pre-training head, absent from it, stays out)
    if (own && own.dtype === v.dtype && own.shape.join() === v.shape.join()) overrides.set(v.name, await v.read());
  }
  const head = merged.lora.modulesToSave;
  if (head.length === 0) throw new UsageError(`--adapter ${path}: saves no task head (modules_to_save), so it cannot be scored as the fine-tuned model's task`);
  const result = await bench.evaluate({ folder: ft.dir, overrides }, { signal, onProgress: (p) => onProgress(p.done, p.total) });
  const value = metricValue(result.metrics, metric);
  return {
    path: merged.path, value: typeof value === 'number' ? value : Number.NaN, metrics: result.metrics ? scalarMetrics(result.metrics) : {},
    trainableParams: merged.lora.trainableParams, bytes: merged.lora.adapterBytes,
  };
}

function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** Sample standard deviation (0 for a single value). */
function spread(xs: readonly number[]): number {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1));
}

/** Prunes and evaluates every method at every k (and seed); see the file's header. */
export async function sweep(req: SweepRequest): Promise<SweepResult> {
  const benches: EvalBench[] = [];
  try {
    return await sweepWith(req, benches);
  } finally {
    for (const b of benches) await b.close();
  }
}

async function sweepWith(req: SweepRequest, benches: EvalBench[]): Promise<SweepResult> {
  const started = performance.now();
  if (req.ks.length === 0) throw new UsageError('-k needs one or more values');
  for (const k of req.ks) checkK(k);
  if (req.maxDrop !== undefined && !(req.maxDrop >= 0)) throw new UsageError(`--max-drop must be a number >= 0 (got ${req.maxDrop})`);
  const seeds = req.seeds ?? 1;
  if (!(Number.isSafeInteger(seeds) && seeds >= 1)) throw new UsageError(`--seeds must be a whole number >= 1 (got ${seeds})`);
  const methodNames = req.methods && req.methods.length > 0 ? [...new Set(req.methods)] : ['ken'];
  for (const m of methodNames) checkMethodChoice({ method: m, seed: req.seed, calibration: req.calibration });
  const { ft, base, plan } = await preparePrune({
    finetuned: req.finetuned, base: req.base, k: req.ks[0]!, scope: req.scope, include: req.include, exclude: req.exclude,
    includeHead: req.includeHead, signal: req.signal, kernel: req.kernel, backend: req.backend, device: req.device, onWarning: req.onWarning,
  });
  // In memory at every k: the export's bytes patched in place when the folder has an export (and --graph
  // is not built), else the graph built over the safetensors with the pruned tensors handed from memory.
  const onnx = req.eval.graph !== 'built' ? ft.onnx : undefined;
  if (!onnx && !ft.safetensors) {
    throw new CheckpointError(`${ft.path}: --graph built needs the weights as safetensors`);
  }
  if (onnx && onnx.externalFiles.length > 0) throw new CheckpointError(`${onnx.path}: sweep evaluates in memory and needs the weights inside model.onnx (this one keeps them in ${onnx.externalFiles[0]}); prune at each k with ken prune --eval instead`);
  if (!onnx && req.eval.graph === 'export') {
    await findOnnx(ft.dir); // throws "no ONNX model to evaluate", with how to export one
  }
  const bench = await EvalBench.open(ft.dir, req.eval, req.signal);
  benches.push(bench);
  const progress = req.onProgress ?? (() => undefined);
  const before = await bench.evaluate(onnx ? onnx.path : ft.dir, { signal: req.signal, onProgress: (p) => progress({ phase: 'evaluate fine-tuned', done: p.done, total: p.total }) });
  const metric = req.metric ?? (before.metrics ? primaryMetric(before.metrics) : 'accuracy');
  const finetunedValue = metricValue(before.metrics, metric);
  if (typeof finetunedValue === 'string') throw new UsageError(finetunedValue);

  const adapter = req.adapter === undefined ? undefined : await adapterPoint(req.adapter, base, ft, bench, metric, req.signal, (done, total) => progress({ phase: 'evaluate adapter', done, total }));

  // The working copy of the export: every pruned initializer is overwritten at each k, the rest never changes.
  const model = onnx ? await readFile(onnx.path) : undefined;
  const targets = onnx ? plan.tensors.flatMap((t) => t.views.filter((v) => v.format === 'onnx').map((v) => ({ t, v }))) : [];
  for (const { v } of targets) {
    const s = v.onnxInit!.storage;
    if (s.kind !== 'bytes' && plan.tensors.find((t) => t.views.includes(v))?.status === 'pruned') {
      throw new CheckpointError(`${onnx!.path}: initializer ${v.name} is not stored as raw bytes (${s.kind}); sweep needs raw_data or float_data initializers — prune at each k with ken prune --eval instead`);
    }
  }
  const elemOf = (t: Plan['tensors'][number]): number => (isFloatDType(t.dtype) ? elementSize(t.dtype as FloatDType) : 4);
  const numel = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);
  const unpruned = plan.tensors.filter((t) => t.status !== 'pruned');
  const unprunedTotal = unpruned.reduce((s, t) => s + numel(t.shape), 0);
  const totalParams = plan.tensors.reduce((s, t) => s + numel(t.shape), 0);
  // what every point's subnetwork holds whatever is kept: whole tensors and the files' other bytes
  const fixedBytes = unpruned.reduce((s, t) => s + numel(t.shape) * elemOf(t), 0) + (await skeletonBytes(ft, plan));
  const rowsPerK = plan.tensors.filter((t) => t.status === 'pruned').reduce((s, t) => s + kenRows(t.shape).rows, 0);

  const prepared = new Map<string, PreparedMethod>();
  for (const name of methodNames) {
    if (methodNamed(name).calibrated) progress({ phase: 'calibrate', method: name, done: 0, total: 1 });
    prepared.set(name, await prepareMethod({ method: name, seed: req.seed, calibration: req.calibration }, ft, plan, req.signal));
  }
  const pool = methodNames.includes('ken') ? await KenPool.open({ backend: req.backend ?? 'auto', device: req.device ?? 'auto', threads: req.threads, kernel: req.kernel ?? 'gaussian' }) : undefined;
  if (pool) req.onBackend?.(pool.backend, providerLabel(pool.executionProvider, pool.adapter), pool.note);
  const points = new Map<string, SweepPoint>();
  const seedsOf = (name: string): number[] => {
    const p = prepared.get(name)!;
    return p.seed === undefined ? [-1] : Array.from({ length: seeds }, (_, i) => p.seed! + i);
  };
  try {
    const run = async (name: string, k: number, seed: number): Promise<SweepPoint> => {
      const key = `${name}:${k}:${seed}`;
      const known = points.get(key);
      if (known) return known;
      throwIfAborted(req.signal);
      const method = prepared.get(name)!;
      let kept = unprunedTotal;
      let total = unprunedTotal;
      let subnetworkBytes = fixedBytes;
      // The built graph's replaced tensors at this k (safetensors layout); the checkpoint is never rewritten.
      const overrides = new Map<string, Uint8Array>();
      await runKen(plan, pool, {
        k, signal: req.signal, includeUnpruned: false, selector: method.selectorFor(seed < 0 ? 0 : seed),
        onProgress: (p) => progress({ phase: 'prune', k, method: name, done: p.rowsDone, total: rowsPerK }),
      }, async (o) => {
        kept += o.kept;
        total += o.total;
        const elem = elemOf(o.tensor);
        subnetworkBytes += o.status === 'pruned' ? o.kept * elem + positionsBytes(o.rows, o.n, o.kept) : o.total * elem;
        if (!o.mask) return;
        for (const v of o.tensor.views) {
          if (model && v.format === 'onnx') {
            // pruned and kept-all alike: a smaller k may have left other bytes in the working copy
            const s = v.onnxInit!.storage;
            if (s.kind === 'bytes') model.set(toStored(o.pruned, o.tensor, v), s.begin);
          } else if (!model && v.format === 'safetensors') {
            overrides.set(v.name, toStored(o.pruned, o.tensor, v));
          }
        }
      });
      const evaluated = model ? new Uint8Array(model.buffer, model.byteOffset, model.byteLength) : { folder: ft.dir, overrides };
      const result = await bench.evaluate(evaluated, {
        signal: req.signal, onProgress: (p) => progress({ phase: 'evaluate', k, method: name, done: p.done, total: p.total }),
      });
      const value = metricValue(result.metrics, metric);
      const point: SweepPoint = {
        method: name, ...(seed >= 0 ? { seed } : {}), k, keptParams: kept, keptRatio: total ? kept / total : 1, subnetworkBytes,
        accuracy: result.accuracy, macroF1: result.macroF1,
        value: typeof value === 'number' ? value : Number.NaN, metrics: result.metrics ? scalarMetrics(result.metrics) : {},
      };
      points.set(key, point);
      req.onPoint?.(point);
      return point;
    };
    /** The method's metric at k: the mean over its seeds. */
    const at = async (name: string, k: number): Promise<{ value: number; point: SweepPoint }> => {
      const runs: SweepPoint[] = [];
      for (const seed of seedsOf(name)) runs.push(await run(name, k, seed));
      return { value: mean(runs.map((p) => p.value ?? Number.NaN)), point: runs[0]! };
    };
    for (const name of methodNames) for (const k of req.ks) await at(name, k);

    const sweepResult: SweepResult = {
      finetunedAccuracy: before.accuracy, metric, finetunedValue, before, methods: methodNames, ks: [...req.ks].sort((a, b) => a - b), points: [], aggregates: [], totalParams,
      kernel: pool?.kernel ?? (req.kernel ?? 'gaussian'), backend: pool?.backend ?? 'js', executionProvider: pool ? providerLabel(pool.executionProvider, pool.adapter) : 'cpu',
      evalProvider: providerLabel(before.executionProvider, before.adapter), seconds: 0,
    };
    if (adapter) sweepResult.adapter = adapter;
    if (req.maxDrop !== undefined) {
      const maxDrop = req.maxDrop;
      const ok = (value: number): boolean => metricDrop(metric, finetunedValue, value) <= maxDrop + 1e-10;
      const recs: MethodRecommendation[] = [];
      for (const name of methodNames) {
        const grid: { k: number; value: number }[] = [];
        for (const k of req.ks) grid.push({ k, value: (await at(name, k)).value });
        const firstOk = grid.findIndex((g) => ok(g.value));
        if (firstOk < 0) {
          recs.push({ method: name, note: `no k up to ${req.ks[req.ks.length - 1]} keeps ${metric} within ${req.maxDrop} ${dropUnit(metric)} of ${finetunedValue.toFixed(4)}; try larger k` });
          continue;
        }
        let hi = grid[firstOk]!.k;
        let lo = firstOk > 0 ? grid[firstOk - 1]!.k : 0;
        while (hi - lo > 1) {
          const mid = Math.floor((lo + hi) / 2);
          if (ok((await at(name, mid)).value)) hi = mid;
          else lo = mid;
        }
        const { value, point } = await at(name, hi);
        recs.push({ method: name, k: hi, keptParams: point.keptParams, subnetworkBytes: point.subnetworkBytes!, value });
      }
      sweepResult.recommendations = recs;
      const first = recs[0]!;
      if (first.k !== undefined) sweepResult.recommended = first.k;
      else sweepResult.note = first.note!;
      const found = recs.filter((r) => r.k !== undefined);
      if (found.length > 0) {
        const by = (f: (r: MethodRecommendation) => number): MethodRecommendation => found.reduce((a, b) => (f(b) < f(a) ? b : a));
        sweepResult.best = { fewestParams: by((r) => r.keptParams!), smallestSubnetwork: by((r) => r.subnetworkBytes!) };
      }
    }
    const order = new Map(methodNames.map((m, i) => [m, i]));
    sweepResult.points = [...points.values()].sort((a, b) => order.get(a.method!)! - order.get(b.method!)! || a.k - b.k || (a.seed ?? 0) - (b.seed ?? 0));
    for (const name of methodNames) {
      if (prepared.get(name)!.seed === undefined) continue;
      const ks = [...new Set(sweepResult.points.filter((p) => p.method === name).map((p) => p.k))];
      for (const k of ks) {
        const runs = sweepResult.points.filter((p) => p.method === name && p.k === k);
        const values = runs.map((p) => p.value ?? Number.NaN);
        sweepResult.aggregates.push({
          method: name, k, runs: runs.length, mean: mean(values), spread: spread(values), min: Math.min(...values), max: Math.max(...values),
          keptParams: runs[0]!.keptParams, subnetworkBytes: runs[0]!.subnetworkBytes!,
        });
      }
    }
    sweepResult.seconds = (performance.now() - started) / 1000;
    return sweepResult;
  } finally {
    await pool?.close();
  }
}

export interface SweepAndPrune {
  result: SweepResult;
  /** The folder written (`out`), with the method and k it was pruned at. */
  out?: string;
  report?: KenReport;
}

/**
 * `ken sweep --out` and the Sweep command: the sweep, then the chosen method at its chosen k (sweepChoice)
 * pruned into `out`, its report holding the sweep. The output name is taken first: a clash is told at once.
 */
export async function sweepAndPrune(req: SweepRequest & {
  out?: string | undefined;
  /** Prune this method at this k into `out` whatever the sweep found (`ken prune --compare`). */
  choice?: { method: string; k: number; seed?: number | undefined } | undefined;
  onPruneProgress?: ((p: RunProgress, k: number) => void) | undefined;
}): Promise<SweepAndPrune> {
  const reservation = req.out === undefined ? undefined : await OutputReservation.take(req.out, { inputs: [req.finetuned, req.base], onNotice: req.onWarning });
  try {
    const result = await sweep(req);
    if (req.out === undefined) return { result };
    const choice = req.choice ?? sweepChoice(result, req.ks);
    const report = await pruneToFolder({
      ...req, out: req.out, k: choice.k, method: choice.method, seed: choice.seed ?? req.seed, eval: req.eval, evalBefore: result.before, reservation,
      sweep: sweepRecord(result), onProgress: (p) => req.onPruneProgress?.(p, choice.k),
    });
    return { result, out: req.out, report };
  } finally {
    await reservation?.release();
  }
}

/** The methods `ken prune --compare` sets beside the pruned one (wanda too when calibration lines are given). */
export const COMPARE_METHODS: readonly string[] = ['ken', 'delta-magnitude', 'magnitude', 'random', 'dare'];

/** One line: every method's metric at one k ("at k=96: ken 63.46%, delta-magnitude 68.77%, random 63.27% ±0.36 (3 seeds), ..."). */
export function comparisonLine(r: SweepResult, k: number, show: (x: number | undefined) => string, spreadScale: number): string {
  const parts = r.methods.map((m) => {
    const agg = r.aggregates.find((a) => a.method === m && a.k === k);
    if (agg) return `${m} ${show(agg.mean)}${agg.runs > 1 ? ` ±${(agg.spread * spreadScale).toFixed(2)} (${agg.runs} seeds)` : ''}`;
    const p = r.points.find((q) => q.method === m && q.k === k);
    return `${m} ${show(p?.value)}`;
  });
  return `at k=${k}: ${parts.join(', ')}; fine-tuned ${show(r.finetunedValue)} (${r.metric})`;
}
