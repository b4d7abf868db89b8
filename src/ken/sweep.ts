// `ken sweep`: KEN at several k, each pruned model evaluated in memory (the fine-tuned ONNX bytes
// patched in place, or the built graph with the pruned tensors handed to the session from memory; no
// checkpoint written per k). With a maximum accuracy drop it searches (grid,
// then bisection) for the smallest k whose accuracy stays within it.
import { providerLabel } from './adapter';
import { readFile } from 'node:fs/promises';
import { CheckpointError, UsageError, throwIfAborted } from '../errors';
import { EvalBench, type EvalSpec } from '../eval/bench';
import { findOnnx } from '../eval/classifier';
import type { EvalResult, SweepPoint } from '../report/report';
import { dropUnit, metricDrop, metricValue, primaryMetric, scalarMetrics } from '../eval/metrics';
import { kenRows } from './layout';
import { checkK, preparePrune, toStored, type PruneRequest } from './prune';
import { KenPool } from './pool';
import { runKen } from './run';

export interface SweepRequest extends Omit<PruneRequest, 'out' | 'k' | 'onProgress' | 'eval' | 'evalBefore' | 'sweep' | 'onEvalProgress'> {
  ks: number[];
  /** Largest accepted drop in `metric`: points for fractions and correlations (1 = one percentage point), units for perplexity/NLL/MSE. */
  maxDrop?: number | undefined;
  /** The metric the sweep follows and --max-drop is in (default accuracy). */
  metric?: string | undefined;
  eval: EvalSpec;
  onProgress?: ((p: SweepProgress) => void) | undefined;
  onPoint?: ((p: SweepPoint) => void) | undefined;
}

export interface SweepProgress {
  phase: 'evaluate fine-tuned' | 'prune' | 'evaluate';
  k?: number;
  done: number;
  total: number;
}

export interface SweepResult {
  finetunedAccuracy: number;
  /** The metric followed, and its fine-tuned value. */
  metric: string;
  finetunedValue: number;
  before: EvalResult;
  /** Every k evaluated, by k. */
  points: SweepPoint[];
  /** The smallest k within maxDrop, when asked for and found. */
  recommended?: number;
  /** Why there is no recommendation, when maxDrop was given. */
  note?: string;
  kernel: string;
  backend: string;
  executionProvider: string;
  evalProvider: string;
  seconds: number;
}

export function parseKs(text: string): number[] {
  const ks = text.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  if (ks.length === 0) throw new UsageError('-k needs one or more values, e.g. -k 8,16,32,64');
  for (const k of ks) checkK(k);
  return [...new Set(ks)].sort((a, b) => a - b);
}

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
  const { ft, plan } = await preparePrune({
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

  // The working copy of the export: every pruned initializer is overwritten at each k, the rest never changes.
  const model = onnx ? await readFile(onnx.path) : undefined;
  const targets = onnx ? plan.tensors.flatMap((t) => t.views.filter((v) => v.format === 'onnx').map((v) => ({ t, v }))) : [];
  for (const { v } of targets) {
    const s = v.onnxInit!.storage;
    if (s.kind !== 'bytes' && plan.tensors.find((t) => t.views.includes(v))?.status === 'pruned') {
      throw new CheckpointError(`${onnx!.path}: initializer ${v.name} is not stored as raw bytes (${s.kind}); sweep needs raw_data or float_data initializers — prune at each k with ken prune --eval instead`);
    }
  }
  const unprunedTotal = plan.tensors.filter((t) => t.status !== 'pruned').reduce((s, t) => s + t.shape.reduce((a, b) => a * b, 1), 0);
  const rowsPerK = plan.tensors.filter((t) => t.status === 'pruned').reduce((s, t) => s + kenRows(t.shape).rows, 0);

  const pool = await KenPool.open({ backend: req.backend ?? 'auto', device: req.device ?? 'auto', threads: req.threads, kernel: req.kernel ?? 'gaussian' });
  req.onBackend?.(pool.backend, providerLabel(pool.executionProvider, pool.adapter), pool.note);
  const points = new Map<number, SweepPoint>();
  try {
    const at = async (k: number): Promise<SweepPoint> => {
      const known = points.get(k);
      if (known) return known;
      throwIfAborted(req.signal);
      let kept = unprunedTotal;
      let total = unprunedTotal;
      // The built graph's replaced tensors at this k (safetensors layout); the checkpoint is never rewritten.
      const overrides = new Map<string, Uint8Array>();
      await runKen(plan, pool, {
        k, signal: req.signal, includeUnpruned: false,
        onProgress: (p) => progress({ phase: 'prune', k, done: p.rowsDone, total: rowsPerK }),
      }, async (o) => {
        kept += o.kept;
        total += o.total;
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
        signal: req.signal, onProgress: (p) => progress({ phase: 'evaluate', k, done: p.done, total: p.total }),
      });
      const value = metricValue(result.metrics, metric);
      const point: SweepPoint = {
        k, keptParams: kept, keptRatio: total ? kept / total : 1, accuracy: result.accuracy, macroF1: result.macroF1,
        value: typeof value === 'number' ? value : Number.NaN, metrics: result.metrics ? scalarMetrics(result.metrics) : {},
      };
      points.set(k, point);
      req.onPoint?.(point);
      return point;
    };
    for (const k of req.ks) await at(k);
    const sweepResult: SweepResult = {
      finetunedAccuracy: before.accuracy, metric, finetunedValue, before, points: [], kernel: pool.kernel, backend: pool.backend, executionProvider: providerLabel(pool.executionProvider, pool.adapter),
      evalProvider: providerLabel(before.executionProvider, before.adapter), seconds: 0,
    };
    if (req.maxDrop !== undefined) {
      const maxDrop = req.maxDrop;
      const ok = (p: SweepPoint): boolean => metricDrop(metric, finetunedValue, p.value ?? Number.NaN) <= maxDrop + 1e-10;
      const grid = req.ks.map((k) => points.get(k)!);
      const firstOk = grid.findIndex(ok);
      if (firstOk < 0) {
        sweepResult.note = `no k up to ${req.ks[req.ks.length - 1]} keeps ${metric} within ${req.maxDrop} ${dropUnit(metric)} of ${finetunedValue.toFixed(4)}; try larger k`;
      } else {
        let hi = grid[firstOk]!.k;
        let lo = firstOk > 0 ? grid[firstOk - 1]!.k : 0;
        while (hi - lo > 1) {
          const mid = Math.floor((lo + hi) / 2);
          if (ok(await at(mid))) hi = mid;
          else lo = mid;
        }
        sweepResult.recommended = hi;
      }
    }
    sweepResult.points = [...points.values()].sort((a, b) => a.k - b.k);
    sweepResult.seconds = (performance.now() - started) / 1000;
    return sweepResult;
  } finally {
    await pool.close();
  }
}

