// What KEN says about one checkpoint of a fine-tuning run: kept ratio at k against the base,
// per-layer drift from the base, and per-tensor overlap of the kept set with the previous checkpoint.
import { adapterLabel } from '../runtime/webgpu';
import { openModel } from '../checkpoint/folder';
import { type ModelFolder } from '../checkpoint/types';
import { toFloat32, type FloatDType } from '../formats/dtype';
import { planPrune, type PlanOptions } from '../ken/plan';
import type { KenPool } from '../ken/pool';
import { runKen } from '../ken/run';
import { layerOf, type KenReport } from '../shared/report';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { KenRecorder, summarize } from './record';
import { SUBNETWORK_FILE } from '../formats/subnetwork';
import { REPORT_FILE } from '../shared/report';
import { TOOL } from '../version';

/** One layer of a checkpoint against the base (`ken watch --json` prints it); the panel gets it as protocol.ts `LayerDrift`. */
export interface LayerAnalysis {
  /** Numbered layer, or null for tensors outside layers (embeddings, pooler). */
  layer: number | null;
  /** Mean |fine-tuned - base| over the layer's pruned tensors. */
  meanAbsDelta: number;
  /** Fraction of the layer's values that differ from the base at all. */
  fractionMoved: number;
  keptRatio: number;
}

export interface CheckpointAnalysis {
  keptParams: number;
  totalParams: number;
  keptRatio: number;
  layers: LayerAnalysis[];
  /** Jaccard overlap of each tensor's kept set with the previous checkpoint's (absent for the first). */
  jaccard: Record<string, number>;
  /** Mean of `jaccard` over tensors, weighted by size; null for the first checkpoint. */
  meanJaccard: number | null;
}

/** Kept sets of a checkpoint, bit-packed, for the next one's Jaccard overlap. */
export type KeptSets = Map<string, Uint8Array>;

function pack(mask: Uint8Array): Uint8Array {
  const bits = new Uint8Array(Math.ceil(mask.length / 8));
  for (let i = 0; i < mask.length; i++) if (mask[i]) bits[i >> 3]! |= 1 << (i & 7);
  return bits;
}

const POPCOUNT = (() => {
  const t = new Uint8Array(256);
  for (let i = 0; i < 256; i++) t[i] = (i & 1) + t[i >> 1]!;
  return t;
})();

/** Jaccard overlap of two kept masks (1 when both are empty). */
export function jaccard(a: Uint8Array, b: Uint8Array): number {
  let inter = 0;
  let union = 0;
  for (let i = 0; i < a.length; i++) {
    inter += POPCOUNT[a[i]! & b[i]!]!;
    union += POPCOUNT[a[i]! | b[i]!]!;
  }
  return union === 0 ? 1 : inter / union;
}

export interface AnalyzeOptions extends PlanOptions {
  k: number;
  signal?: AbortSignal | undefined;
  /** Also write ken-report.json + ken-subnetwork.safetensors for this checkpoint here (for the panel). */
  recordTo?: string | undefined;
}

/** One checkpoint of a fine-tuning run against its base: KEN's kept ratio and per-layer drift (and optionally a KEN output folder). */
export async function analyzeCheckpoint(
  checkpoint: string | ModelFolder,
  base: ModelFolder,
  pool: KenPool,
  previous: KeptSets | undefined,
  opts: AnalyzeOptions,
): Promise<{ analysis: CheckpointAnalysis; kept: KeptSets }> {
  const ft = typeof checkpoint === 'string' ? await openModel(checkpoint, 'checkpoint', { adapterBase: base }) : checkpoint;
  const plan = await planPrune(ft, base, opts);
  const layers = new Map<number | null, { sumAbs: number; moved: number; count: number; kept: number }>();
  const kept: KeptSets = new Map();
  const jac: Record<string, number> = {};
  let jWeighted = 0;
  let jWeight = 0;
  let keptParams = 0;
  let totalParams = 0;
  const recorder = opts.recordTo ? new KenRecorder(join(opts.recordTo, '.subnetwork.data')) : undefined;
  if (opts.recordTo) await mkdir(opts.recordTo, { recursive: true });
  const started = performance.now();
  await runKen(plan, pool, { k: opts.k, signal: opts.signal, keepBase: true }, async (o) => {
    keptParams += o.kept;
    totalParams += o.total;
    await recorder?.add(o);
    if (!o.mask || !o.base) return;
    const dtype = o.tensor.dtype as FloatDType;
    const f = toFloat32(o.finetuned, dtype);
    const b = toFloat32(o.base, dtype);
    const key = layerOf(o.tensor.name) ?? null;
    const acc = layers.get(key) ?? { sumAbs: 0, moved: 0, count: 0, kept: 0 };
    for (let i = 0; i < f.length; i++) {
      const d = Math.abs(f[i]! - b[i]!);
      acc.sumAbs += d;
      if (d !== 0) acc.moved++;
    }
    acc.count += f.length;
    acc.kept += o.kept;
    layers.set(key, acc);
    const bits = pack(o.mask);
    kept.set(o.tensor.name, bits);
    const prev = previous?.get(o.tensor.name);
    if (prev && prev.length === bits.length) {
      const j = jaccard(prev, bits);
      jac[o.tensor.name] = j;
      jWeighted += j * o.total;
      jWeight += o.total;
    }
  });
  if (recorder && opts.recordTo) {
    await recorder.finish(join(opts.recordTo, SUBNETWORK_FILE), { k: opts.k, kernel: pool.kernel, scope: opts.scope, include: opts.include?.source, exclude: opts.exclude?.source, includeHead: opts.includeHead ?? false }, []);
    const report: KenReport = {
      k: opts.k, kernel: pool.kernel, backend: pool.backend, executionProvider: pool.executionProvider, ...(pool.adapter ? { adapter: adapterLabel(pool.adapter) } : {}), seconds: (performance.now() - started) / 1000,
      ...summarize(recorder.reports), tensors: recorder.reports, tool: TOOL, scope: opts.scope, finetuned: ft.path, base: base.path,
      threads: pool.threads, createdAt: new Date().toISOString(),
    };
    await writeFile(join(opts.recordTo, REPORT_FILE), JSON.stringify(report, null, 2) + '\n');
  }
  const layerList = [...layers.entries()]
    .sort((a, b) => (a[0] ?? -1) - (b[0] ?? -1))
    .map(([layer, a]) => ({ layer, meanAbsDelta: a.count ? a.sumAbs / a.count : 0, fractionMoved: a.count ? a.moved / a.count : 0, keptRatio: a.count ? a.kept / a.count : 1 }));
  return {
    analysis: {
      keptParams, totalParams, keptRatio: totalParams ? keptParams / totalParams : 1, layers: layerList, jaccard: jac,
      meanJaccard: jWeight ? jWeighted / jWeight : null,
    },
    kept,
  };
}
