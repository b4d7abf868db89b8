// `ken prune`: a pruned checkpoint folder (the fine-tuned folder's layout and dtypes, config and
// tokenizer copied), its KEN subnetwork file and ken-report.json, written under a temporary name and
// renamed into place only when complete. Cancelling or failing leaves nothing behind.
import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { chmod, copyFile, mkdir, open, rm, stat, writeFile, type FileHandle } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { CheckpointError, UsageError, throwIfAborted } from '../errors';
import { openModel } from '../checkpoint/folder';
import { type ModelFolder } from '../checkpoint/types';
import { rewriteInitializers } from '../formats/onnx';
import { OutputReservation, checkOutputPath, writing } from '../formats/output';
import { copyFolderFile, openRegular } from '../formats/paths';
import { readRange } from '../formats/safetensors';
import { writeVirtualFile } from '../formats/virtual';
import { SUBNETWORK_FILE, readSubnetwork, type Hole, type SubnetworkFile } from '../formats/subnetwork';
import { restorableProblem } from '../ken/verify';
import { EvalBench, type EvalSpec } from '../eval/bench';
import { writeAdapterConfig } from '../eval/adapter';
import { REPORT_FILE, type EvalResult, type KenReport } from '../shared/report';
import { TOOL } from '../version';
import { elementSize, type FloatDType } from '../formats/dtype';
import { convertBytes, transposeBytes } from '../formats/layout';
import { parseRegex, planPrune, type LogicalTensor, type Plan, type Scope } from '../ken/plan';
import { type TensorView } from '../checkpoint/tensors';
import { KenPool, checkKernelBackend } from '../ken/pool';
import { KenRecorder, summarize } from './record';
import { runKen, type RunProgress } from '../ken/run';
import type { Kernel } from '../ken/kernels';
import type { KenProfile } from '../ken/profile';
import type { BackendChoice } from '../ken/worker-protocol';
import type { DeviceChoice } from '../runtime/session';
import { adapterLabel, providerLabel } from '../runtime/webgpu';
import { checkMethodChoice, prepareMethod, type MethodChoice } from '../methods/prepare';

export interface PruneRequest extends MethodChoice {
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
  /** The KDE's kernel (scikit-learn's names); default gaussian. */
  kernel?: Kernel;
  threads?: number | undefined;
  signal?: AbortSignal | undefined;
  onProgress?: ((p: RunProgress) => void) | undefined;
  /** Called once the pool is open: which backend and provider run (and why, when not the one asked for). */
  onBackend?: ((backend: string, executionProvider: string, note?: string) => void) | undefined;
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
  /** Where the time goes (the bench's --profile): filled in as KEN runs. */
  profile?: KenProfile | undefined;
}

/** Throws the usage line unless `k` (KEN's number of kept values per row) is a whole number >= 1. */
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

/** The folder a side file is copied from: a merged LoRA adapter takes the base's config and tokenizer unless the adapter folder has its own. */
function auxDir(ft: ModelFolder, rel: string): string {
  return ft.auxFrom?.get(rel) ?? ft.dir;
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

/** Writes all of `bytes` at `position` (a write may take fewer bytes than asked). */
async function writeFully(fh: FileHandle, bytes: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < bytes.byteLength) {
    const { bytesWritten } = await fh.write(bytes, done, bytes.byteLength - done, position + done);
    done += bytesWritten;
  }
}

/** A file of `src`'s size holding its bytes outside `ranges` (the tensors, written later in place). */
async function copyOutside(src: string, dest: string, ranges: readonly { begin: number; end: number }[]): Promise<void> {
  const size = (await stat(src)).size;
  const sorted = [...ranges].sort((a, b) => a.begin - b.begin);
  const fh = await open(dest, 'wx');
  try {
    await fh.truncate(size);
    let cursor = 0;
    for (const r of [...sorted, { begin: size, end: size }]) {
      if (r.begin > cursor) await writeFully(fh, await readRange(src, cursor, r.begin - cursor), cursor);
      cursor = Math.max(cursor, r.end);
    }
  } finally {
    await fh.close();
  }
}

/** sha256 of a file's bytes, read in 1 MB pieces. */
export async function sha256File(path: string): Promise<string> {
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
 * Takes the output name (when there is one), opens both models and plans the prune (validating k, the
 * kernel and the regexes first). The reservation is the caller's to commit or release.
 */
export async function preparePrune(req: Omit<PruneRequest, 'out'> & { out?: string | undefined }): Promise<{ ft: ModelFolder; base: ModelFolder; plan: Plan; reservation: OutputReservation | undefined }> {
  checkK(req.k);
  checkMethodChoice(req);
  checkKernelBackend(req.kernel ?? 'gaussian', req.backend ?? 'auto', req.device ?? 'auto');
  const include = parseRegex('--include', req.include);
  const exclude = parseRegex('--exclude', req.exclude);
  // the output name first: a clash is told before any model is read
  const reservation = req.reservation ?? (req.out !== undefined ? await OutputReservation.take(req.out, { inputs: [req.finetuned, req.base], onNotice: req.onWarning }) : undefined);
  try {
    const base = await openModel(req.base, 'base', { refuseAdapter: true });
    const ft = await openModel(req.finetuned, 'fine-tuned', { adapterBase: base });
    for (const w of [...(ft.warnings ?? []), ...(base.warnings ?? [])]) req.onWarning?.(w);
    // again with the folders as opened (a name may resolve elsewhere: the Hugging Face cache)
    if (reservation) await checkOutputPath(reservation.out, [ft.dir, base.dir]);
    const plan = await planPrune(ft, base, { scope: req.scope ?? 'all', include, exclude, includeHead: req.includeHead ?? false, signal: req.signal });
    return { ft, base, plan, reservation };
  } catch (e) {
    if (!req.reservation) await reservation?.release();
    throw e;
  }
}

/**
 * `ken prune` and the extension's Prune: opens the fine-tuned and base models, plans which tensors the method
 * (KEN by default) prunes, writes the pruned checkpoint, ken-subnetwork.safetensors and ken-report.json into a
 * new folder (all or nothing), optionally evaluating before and after. Honors `req.signal`; reports progress
 * through the callbacks.
 */
export async function pruneToFolder(req: PruneRequest): Promise<KenReport> {
  let started = performance.now();
  let reservation = req.reservation;
  let pool: KenPool | undefined;
  let recorder: KenRecorder | undefined;
  let bench: EvalBench | undefined;
  const handles = new Map<string, FileHandle>();
  try {
    const prepared = await preparePrune(req);
    reservation = prepared.reservation!;
    const { ft, base, plan } = prepared;
    const out = reservation.out;
    const tmp = reservation.tmp;
    throwIfAborted(req.signal);
    const evalStarted = performance.now();
    // Evaluation first: a model that cannot be evaluated or a bad data line fails before any pruning work.
    bench = req.eval ? await EvalBench.open(ft.dir, req.eval, req.signal, { adapterBase: ft.lora ? base : undefined }) : undefined;
    // The export when the folder has one (unless --graph built), else the graph built over the safetensors.
    const evalExport = ft.onnx !== undefined && req.eval?.graph !== 'built';
    const before = bench
      ? req.evalBefore ?? (await bench.evaluate(evalExport ? ft.onnx!.path : ft.dir, { signal: req.signal, onProgress: (p) => req.onEvalProgress?.('before', p.done, p.total) }))
      : undefined;
    started += performance.now() - evalStarted; // `seconds` is KEN's: the evaluations carry their own
    // the method's own measurements (Wanda's calibration lines) before anything is written
    const method = await prepareMethod(req, ft, plan, req.signal);
    const files = checkpointFiles(ft);
    // Safetensors shards are written once: their bytes outside the tensors now, every tensor when KEN
    // hands it over (pruned or as it is). Other files are copied whole (ONNX is rewritten at the end).
    const tensorRanges = new Map<string, { begin: number; end: number }[]>();
    for (const t of plan.tensors) {
      for (const view of t.views) {
        const range = view.format === 'safetensors' ? viewRange(view, ft) : undefined;
        if (!range) continue;
        const rel = relative(ft.dir, range.file);
        tensorRanges.set(rel, [...(tensorRanges.get(rel) ?? []), range]);
      }
    }
    for (const rel of [...files.weights, ...files.aux]) {
      throwIfAborted(req.signal);
      const dest = join(tmp, rel);
      await writing(join(out, rel), async () => {
        await mkdir(dirname(dest), { recursive: true });
        const virtual = ft.safetensors?.virtual;
        const vf = virtual?.files.get(join(ft.dir, rel));
        const ranges = tensorRanges.get(rel);
        if (vf) await writeVirtualFile(vf, dest, req.signal);
        else if (virtual?.index !== undefined && join(ft.dir, rel) === ft.safetensors!.indexFile) await writeFile(dest, virtual.index, { flag: 'wx' });
        else if (ranges) await copyOutside(join(ft.dir, rel), dest, ranges);
        // a file named directly is read where the user's name leads; a folder's files only from inside it
        else if (join(ft.dir, rel) === ft.path) await copyFile(ft.path, dest, constants.COPYFILE_EXCL);
        else await copyFolderFile(auxDir(ft, rel), rel, dest);
        // a read-only input (a fixture, a snapshot) must not make the output read-only
        await chmod(dest, 0o644);
      });
    }
    // a merged LoRA adapter's config.json names the head and labels its evaluation chose (one owner:
    // src/eval/adapter.ts), so the pruned model is evaluated ("after") as the adapter was ("before")
    if (ft.lora && ft.config && files.aux.includes('config.json')) await writing(join(out, 'config.json'), () => writeAdapterConfig(tmp, ft));
    const handle = async (srcFile: string): Promise<FileHandle> => {
      const rel = relative(ft.dir, srcFile);
      let fh = handles.get(rel);
      if (!fh) {
        fh = await open(join(tmp, rel), 'r+');
        handles.set(rel, fh);
      }
      return fh;
    };

    const selector = method.selectorFor(method.seed ?? 0);
    // KEN's densities run in the worker pool; the other methods choose their rows in this thread
    if (!selector) {
      pool = await KenPool.open({ backend: req.backend ?? 'auto', device: req.device ?? 'auto', threads: req.threads, kernel: req.kernel ?? 'gaussian' });
      req.onBackend?.(pool.backend, providerLabel(pool.executionProvider, pool.adapter), pool.note);
    }
    const rec = new KenRecorder(join(tmp, '.subnetwork.data'));
    recorder = rec;
    const onnxRewrites = new Map<string, Uint8Array>();
    let placed = 0;

    await runKen(plan, pool, { k: req.k, signal: req.signal, onProgress: req.onProgress, hashBase: true, selector, profile: req.profile }, async (o) => {
      for (const view of o.tensor.views) {
        // unpruned tensors only need their safetensors bytes put in place (the ONNX copy is as stored)
        if (o.status !== 'pruned' && view.format !== 'safetensors') continue;
        const bytes = toStored(o.status === 'pruned' ? o.pruned : o.finetuned, o.tensor, view);
        const range = viewRange(view, ft);
        if (range) {
          await writing(join(out, relative(ft.dir, range.file)), async () => writeFully(await handle(range.file), bytes, range.begin));
          if (view.format === 'safetensors') placed++;
        } else onnxRewrites.set(view.name, bytes);
      }
      await writing(join(out, SUBNETWORK_FILE), () => rec.add(o));
    });
    for (const fh of handles.values()) await fh.close();
    handles.clear();
    const expected = [...tensorRanges.values()].reduce((n, r) => n + r.length, 0);
    if (placed !== expected) throw new Error(`prune: ${placed} of ${expected} safetensors tensors were written`);

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

    const kernel = pool?.kernel;
    const methodName = method.method.name;
    const subnetworkBytes = await writing(join(out, SUBNETWORK_FILE), () => rec.finish(join(tmp, SUBNETWORK_FILE), {
      k: req.k, kernel, scope: req.scope ?? 'all', include: req.include, exclude: req.exclude, includeHead: req.includeHead ?? false,
      method: methodName === 'ken' ? undefined : methodName, seed: method.seed,
    }, fileEntries));
    // Before reporting success: what was written can be restored (sizes and hole maps, from its header).
    const problem = restorableProblem(await readSubnetwork(join(tmp, SUBNETWORK_FILE)));
    if (problem) throw new CheckpointError(`${ft.path}: the subnetwork KEN would write could not be restored (${problem}); nothing was written`);
    let checkpointBytes = 0;
    for (const rel of files.weights) checkpointBytes += (await stat(join(tmp, rel))).size;

    const report: KenReport = {
      k: req.k,
      ...(pool ? { kernel: pool.kernel } : {}),
      method: methodName,
      ...(method.seed !== undefined ? { seed: method.seed } : {}),
      ...(method.method.rescales ? { rescaled: true } : {}),
      ...(method.calibration ? { calibration: method.calibration } : {}),
      ...(method.fallback.size > 0 ? { fallback: { method: 'delta-magnitude', tensors: [...method.fallback] } } : {}),
      backend: pool?.backend ?? 'js',
      executionProvider: pool?.executionProvider ?? 'cpu',
      ...(pool?.adapter ? { adapter: adapterLabel(pool.adapter) } : {}),
      ...(pool ? { densityChecks: { densities: pool.densities, rechecked: pool.rechecked } } : {}),
      seconds: (performance.now() - started) / 1000,
      ...summarize(rec.reports),
      tensors: rec.reports,
      bytes: { checkpoint: checkpointBytes, subnetwork: subnetworkBytes },
      tool: TOOL,
      scope: req.scope ?? 'all',
      finetuned: ft.path,
      base: base.path,
      formats: [ft.safetensors ? 'safetensors' : '', ft.onnx ? 'onnx' : ''].filter(Boolean),
      threads: pool?.threads ?? 1,
      createdAt: new Date().toISOString(),
    };
    if (pool?.densityEngine) report.densityEngine = pool.densityEngine;
    if (plan.unmapped.length > 0) report.unmappedInitializers = plan.unmapped;
    if (plan.family) report.family = plan.family;
    const problemType = ft.config?.['problem_type'];
    if (typeof problemType === 'string') report.problemType = problemType;
    const notes = [...(ft.notes ?? []), ...(base.notes ?? []), ...plan.notes];
    if (notes.length > 0) report.notes = notes;
    const warnings = [...(ft.warnings ?? []), ...(base.warnings ?? [])];
    if (warnings.length > 0) report.warnings = warnings;
    if (ft.lora) {
      const l = ft.lora;
      report.lora = { r: l.r, alpha: l.alpha, rslora: l.rslora, modules: [...l.modules, ...l.modulesToSave.map((m) => `${m} (saved whole)`)], adapterBytes: l.adapterBytes, base: base.path };
    }
    if (bench && before) {
      const prunedOnnx = evalExport ? join(tmp, relative(ft.dir, ft.onnx!.path)) : tmp;
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
    await bench?.close();
    await reservation?.release();
  }
}

