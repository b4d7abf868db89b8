// `ken prune`: a pruned checkpoint folder (the fine-tuned folder's layout and dtypes, config and
// tokenizer copied), its KEN subnetwork file and ken-report.json, written under a temporary name and
// renamed into place only when complete. Cancelling or failing leaves nothing behind.
import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { chmod, copyFile, mkdir, open, rm, stat, writeFile, type FileHandle } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { CheckpointError, UsageError, throwIfAborted } from '../errors';
import { openModel, type ModelFolder } from '../formats/folder';
import { rewriteInitializers } from '../formats/onnx';
import { OutputReservation, checkOutputPath, writing } from '../formats/output';
import { copyFolderFile, openRegular } from '../formats/paths';
import { readRange } from '../formats/safetensors';
import { readSubnetwork, type Hole, type SubnetworkFile } from '../formats/subnetwork';
import { restorableProblem } from './verify';
import { EvalBench, type EvalSpec } from '../eval/bench';
import type { EvalResult, KenReport } from '../report/report';
import { TOOL } from '../version';
import { elementSize, type FloatDType } from './dtype';
import { convertBytes, transposeBytes } from './layout';
import { parseRegex, planPrune, type LogicalTensor, type Plan, type Scope, type TensorView } from './plan';
import { KenPool } from './pool';
import { KenRecorder, summarize } from './record';
import { runKen, type RunProgress } from './run';
import type { BackendChoice, DeviceChoice } from './worker-protocol';

export interface PruneRequest {
  finetuned: string;
  base: string;
  out: string;
  k: number;
  scope?: Scope;
  include?: string | undefined;
  exclude?: string | undefined;
  includeHead?: boolean;
  backend?: BackendChoice;
  device?: DeviceChoice;
  threads?: number | undefined;
  signal?: AbortSignal | undefined;
  onProgress?: ((p: RunProgress) => void) | undefined;
  /** Called once the pool is open: which backend and provider run. */
  onBackend?: ((backend: string, executionProvider: string) => void) | undefined;
  /** Evaluate the fine-tuned and the pruned ONNX model on this labelled data set. */
  eval?: EvalSpec | undefined;
  /** The fine-tuned model's figures when already measured (a sweep): not evaluated again. */
  evalBefore?: EvalResult | undefined;
  onEvalProgress?: ((phase: 'before' | 'after', done: number, total: number) => void) | undefined;
  /** A sweep's figures to keep in the report (the panel draws the curve). */
  sweep?: KenReport['sweep'] | undefined;
  /** The output name, when the caller took it already (a sweep takes it before sweeping). */
  reservation?: OutputReservation | undefined;
  /** Side files left out, stale temporary folders removed: one line each. */
  onWarning?: ((message: string) => void) | undefined;
}

export const SUBNETWORK_FILE = 'ken-subnetwork.safetensors';
export const REPORT_FILE = 'ken-report.json';

export function checkK(k: number): void {
  if (!Number.isInteger(k) || k < 1) throw new UsageError(`-k must be a whole number >= 1 (got ${k})`);
}

/** The stored bytes of a view for KEN-layout bytes of the logical tensor. */
export function toStored(kenBytes: Uint8Array, t: LogicalTensor, view: TensorView): Uint8Array {
  const bytes = view.dtype === t.dtype ? kenBytes : convertBytes(kenBytes, t.dtype as FloatDType, view.dtype as FloatDType);
  if (!view.transposed) return bytes;
  return transposeBytes(bytes, t.shape[0]!, t.shape[1]!, elementSize(view.dtype as FloatDType));
}

/** Where a view's bytes sit in its file, when they sit there contiguously. */
export function viewRange(view: TensorView, folder: ModelFolder): { file: string; begin: number; end: number } | undefined {
  if (view.format === 'safetensors') {
    const e = folder.safetensors!.tensors.get(view.name)!;
    return { file: e.file.path, begin: e.entry.begin, end: e.entry.end };
  }
  const s = view.onnxInit!.storage;
  if (s.kind === 'bytes') return { file: s.file, begin: s.begin, end: s.end };
  return undefined;
}

/** Every file of the fine-tuned folder that the pruned checkpoint holds, relative to its folder. */
export function checkpointFiles(ft: ModelFolder): { weights: string[]; aux: string[] } {
  const weights: string[] = [];
  if (ft.safetensors) {
    for (const f of ft.safetensors.files) weights.push(relative(ft.dir, f.path));
    if (ft.safetensors.indexFile) weights.push(relative(ft.dir, ft.safetensors.indexFile));
  }
  if (ft.onnx) {
    weights.push(relative(ft.dir, ft.onnx.path));
    weights.push(...ft.onnx.externalFiles);
  }
  return { weights, aux: ft.auxFiles };
}

async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  const fh = await openRegular(path);
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    let pos = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
      if (bytesRead === 0) break;
      h.update(buf.subarray(0, bytesRead));
      pos += bytesRead;
    }
  } finally {
    await fh.close();
  }
  return h.digest('hex');
}

/**
 * Opens both models, takes the output name (when there is one) and plans the prune (validating k
 * and the regexes first). The reservation is the caller's to commit or release.
 */
export async function preparePrune(req: Omit<PruneRequest, 'out'> & { out?: string | undefined }): Promise<{ ft: ModelFolder; base: ModelFolder; plan: Plan; reservation: OutputReservation | undefined }> {
  checkK(req.k);
  const include = parseRegex('--include', req.include);
  const exclude = parseRegex('--exclude', req.exclude);
  // the output name first: a clash is told before any model is read
  const reservation = req.reservation ?? (req.out !== undefined ? await OutputReservation.take(req.out, { inputs: [req.finetuned, req.base], onNotice: req.onWarning }) : undefined);
  try {
    const ft = await openModel(req.finetuned, 'fine-tuned');
    const base = await openModel(req.base, 'base');
    for (const w of [...ft.warnings, ...base.warnings]) req.onWarning?.(w);
    // again with the folders as opened (a name may resolve elsewhere)
    if (reservation) await checkOutputPath(reservation.out, [ft.path, base.path]);
    const plan = await planPrune(ft, base, { scope: req.scope ?? 'all', include, exclude, includeHead: req.includeHead ?? false, signal: req.signal });
    return { ft, base, plan, reservation };
  } catch (e) {
    if (!req.reservation) await reservation?.release();
    throw e;
  }
}

export async function pruneToFolder(req: PruneRequest): Promise<KenReport> {
  let started = performance.now();
  let reservation = req.reservation;
  let pool: KenPool | undefined;
  let recorder: KenRecorder | undefined;
  const handles = new Map<string, FileHandle>();
  try {
    const prepared = await preparePrune(req);
    reservation = prepared.reservation!;
    const { ft, plan } = prepared;
    const out = reservation.out;
    const tmp = reservation.tmp;
    throwIfAborted(req.signal);
    const evalStarted = performance.now();
    // Evaluation first: a missing ONNX model or a bad data line fails before any pruning work.
    const bench = req.eval ? await EvalBench.open(ft.dir, req.eval, req.signal) : undefined;
    const before = bench
      ? req.evalBefore ?? (await bench.evaluate(ft.onnx?.path ?? ft.dir, { signal: req.signal, onProgress: (p) => req.onEvalProgress?.('before', p.done, p.total) }))
      : undefined;
    started += performance.now() - evalStarted; // `seconds` is KEN's: the evaluations carry their own
    const files = checkpointFiles(ft);
    for (const rel of [...files.weights, ...files.aux]) {
      throwIfAborted(req.signal);
      await writing(join(out, rel), async () => {
        await mkdir(dirname(join(tmp, rel)), { recursive: true });
        // a file named directly is read where the user's name leads; a folder's files only from inside it
        if (join(ft.dir, rel) === ft.path) await copyFile(ft.path, join(tmp, rel), constants.COPYFILE_EXCL);
        else await copyFolderFile(ft.dir, rel, join(tmp, rel));
        // a read-only input (a fixture, a snapshot) must not make the output read-only
        await chmod(join(tmp, rel), 0o644);
      });
    }
    const handle = async (srcFile: string): Promise<FileHandle> => {
      const rel = relative(ft.dir, srcFile);
      let fh = handles.get(rel);
      if (!fh) {
        fh = await open(join(tmp, rel), 'r+');
        handles.set(rel, fh);
      }
      return fh;
    };

    pool = await KenPool.open({ backend: req.backend ?? 'auto', device: req.device ?? 'auto', threads: req.threads });
    req.onBackend?.(pool.backend, pool.executionProvider);
    const rec = new KenRecorder(join(tmp, '.subnetwork.data'));
    recorder = rec;
    const onnxRewrites = new Map<string, Uint8Array>();

    await runKen(plan, pool, { k: req.k, signal: req.signal, onProgress: req.onProgress, hashBase: true }, async (o) => {
      if (o.status === 'pruned') {
        for (const view of o.tensor.views) {
          const bytes = toStored(o.pruned, o.tensor, view);
          const range = viewRange(view, ft);
          if (range) await writing(join(out, relative(ft.dir, range.file)), async () => (await handle(range.file)).write(bytes, 0, bytes.byteLength, range.begin));
          else onnxRewrites.set(view.name, bytes);
        }
      }
      await writing(join(out, SUBNETWORK_FILE), () => rec.add(o));
    });
    for (const fh of handles.values()) await fh.close();
    handles.clear();

    if (onnxRewrites.size > 0 && ft.onnx) {
      const rel = relative(ft.dir, ft.onnx.path);
      const dest = join(tmp, rel);
      await rm(dest);
      await writing(join(out, rel), () => rewriteInitializers(ft.onnx!, onnxRewrites, dest));
    }

    // Skeletons: every file of the pruned checkpoint, with the bytes of the tensors cut out.
    const fileEntries: SubnetworkFile[] = [];
    const rewritten = onnxRewrites.size > 0 && ft.onnx ? relative(ft.dir, ft.onnx.path) : undefined;
    for (const rel of [...files.weights, ...files.aux]) {
      throwIfAborted(req.signal);
      const path = join(tmp, rel);
      const size = (await stat(path)).size;
      const holes: Hole[] = [];
      if (rel !== rewritten) {
        for (const t of plan.tensors) {
          for (const view of t.views) {
            const range = viewRange(view, ft);
            if (!range || relative(ft.dir, range.file) !== rel) continue;
            holes.push({ offset: range.begin, length: range.end - range.begin, tensor: t.name, transposed: view.transposed, dtype: view.dtype, shape: view.shape });
          }
        }
      }
      holes.sort((a, b) => a.offset - b.offset);
      const pieces: Uint8Array[] = [];
      let cursor = 0;
      for (const h of holes) {
        if (h.offset > cursor) pieces.push(await readRange(path, cursor, h.offset - cursor));
        cursor = Math.max(cursor, h.offset + h.length);
      }
      if (cursor < size) pieces.push(await readRange(path, cursor, size - cursor));
      await writing(join(out, SUBNETWORK_FILE), () => rec.addFile(rel, Buffer.concat(pieces)));
      fileEntries.push({ path: rel, size, sha256: await sha256File(path), holes });
    }

    const subnetworkBytes = await writing(join(out, SUBNETWORK_FILE), () => rec.finish(join(tmp, SUBNETWORK_FILE), {
      k: req.k, scope: req.scope ?? 'all', include: req.include, exclude: req.exclude, includeHead: req.includeHead ?? false,
    }, fileEntries));
    // Before reporting success: what was written can be restored (sizes and hole maps, from its header).
    const problem = restorableProblem(await readSubnetwork(join(tmp, SUBNETWORK_FILE)));
    if (problem) throw new CheckpointError(`${ft.path}: the subnetwork KEN would write could not be restored (${problem}); nothing was written`);
    let checkpointBytes = 0;
    for (const rel of files.weights) checkpointBytes += (await stat(join(tmp, rel))).size;

    const report: KenReport = {
      k: req.k,
      backend: pool.backend,
      executionProvider: pool.executionProvider,
      seconds: (performance.now() - started) / 1000,
      ...summarize(rec.reports),
      tensors: rec.reports,
      bytes: { checkpoint: checkpointBytes, subnetwork: subnetworkBytes },
      tool: TOOL,
      scope: req.scope ?? 'all',
      finetuned: ft.path,
      base: resolve(req.base),
      formats: [ft.safetensors ? 'safetensors' : '', ft.onnx ? 'onnx' : ''].filter(Boolean),
      threads: pool.threads,
      createdAt: new Date().toISOString(),
    };
    if (pool.densityEngine) report.densityEngine = pool.densityEngine;
    if (plan.unmapped.length > 0) report.unmappedInitializers = plan.unmapped;
    const warnings = [...ft.warnings, ...prepared.base.warnings];
    if (warnings.length > 0) report.warnings = warnings;
    if (bench && before) {
      const prunedOnnx = ft.onnx ? join(tmp, relative(ft.dir, ft.onnx.path)) : tmp;
      const after = await bench.evaluate(prunedOnnx, { signal: req.signal, onProgress: (p) => req.onEvalProgress?.('after', p.done, p.total) });
      after.model = join(out, relative(tmp, prunedOnnx));
      report.accuracy = { before, after };
    }
    if (req.sweep) report.sweep = req.sweep;
    await writing(join(out, REPORT_FILE), () => writeFile(join(tmp, REPORT_FILE), JSON.stringify(report, null, 2) + '\n', { flag: 'wx' }));
    throwIfAborted(req.signal);
    await writing(out, () => reservation!.commit());
    return report;
  } finally {
    for (const fh of handles.values()) await fh.close().catch(() => undefined);
    await recorder?.abandon();
    await pool?.close();
    await reservation?.release();
  }
}

