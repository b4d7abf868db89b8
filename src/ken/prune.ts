// `ken prune`: a pruned checkpoint folder (the fine-tuned folder's layout and dtypes, config and
// tokenizer copied), its KEN subnetwork file and ken-report.json, written under a temporary name and
// renamed into place only when complete. Cancelling or failing leaves nothing behind.
import { createHash, randomBytes } from 'node:crypto';
import { chmod, copyFile, mkdir, open, rename, rm, stat, writeFile, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { UsageError, throwIfAborted } from '../errors';
import { openModel, type ModelFolder } from '../formats/folder';
import { rewriteInitializers } from '../formats/onnx';
import { readRange } from '../formats/safetensors';
import type { Hole, SubnetworkFile } from '../formats/subnetwork';
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
}

export const SUBNETWORK_FILE = 'ken-subnetwork.safetensors';
export const REPORT_FILE = 'ken-report.json';

export function checkK(k: number): void {
  if (!Number.isInteger(k) || k < 1) throw new UsageError(`-k must be a whole number >= 1 (got ${k})`);
}

function inside(child: string, parent: string): boolean {
  const rel = relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !rel.startsWith(sep) && !/^[a-zA-Z]:/.test(rel));
}

/** Refuses an output that exists or lies inside an input (the input's folder for a file). */
export async function checkOutput(out: string, inputs: ModelFolder[]): Promise<string> {
  const abs = resolve(out);
  try {
    await stat(abs);
    throw new UsageError(`${out}: already exists; choose a new output folder`);
  } catch (e) {
    if (e instanceof UsageError) throw e;
  }
  for (const m of inputs) {
    if (inside(abs, m.dir)) throw new UsageError(`${out}: lies inside the input ${m.path}; choose a folder outside it`);
  }
  return abs;
}

/** A temporary sibling of `out`, removed unless `commit` renames it into place. */
export class Staging {
  readonly dir: string;
  private done = false;
  constructor(readonly out: string) {
    this.dir = join(dirname(out), `.${basename(out)}.ken-tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  }
  async create(): Promise<void> {
    await mkdir(dirname(this.out), { recursive: true });
    await mkdir(this.dir);
  }
  async commit(): Promise<void> {
    await rename(this.dir, this.out);
    this.done = true;
  }
  async discard(): Promise<void> {
    if (!this.done) await rm(this.dir, { recursive: true, force: true });
  }
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
  const fh = await open(path, 'r');
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

/** Opens both models and plans the prune (validating k, regexes and the output first). */
export async function preparePrune(req: Omit<PruneRequest, 'out'> & { out?: string }): Promise<{ ft: ModelFolder; base: ModelFolder; plan: Plan; out: string | undefined }> {
  checkK(req.k);
  const include = parseRegex('--include', req.include);
  const exclude = parseRegex('--exclude', req.exclude);
  const ft = await openModel(req.finetuned, 'fine-tuned');
  const base = await openModel(req.base, 'base');
  const out = req.out !== undefined ? await checkOutput(req.out, [ft, base]) : undefined;
  const plan = await planPrune(ft, base, { scope: req.scope ?? 'all', include, exclude, includeHead: req.includeHead ?? false, signal: req.signal });
  return { ft, base, plan, out };
}

export async function pruneToFolder(req: PruneRequest): Promise<KenReport> {
  let started = performance.now();
  const { ft, plan, out } = await preparePrune(req);
  throwIfAborted(req.signal);
  const evalStarted = performance.now();
  // Evaluation first: a model that cannot be evaluated or a bad data line fails before any pruning work.
  const bench = req.eval ? await EvalBench.open(ft.dir, req.eval, req.signal) : undefined;
  // The export when the folder has one (unless --graph built), else the graph built over the safetensors.
  const evalExport = ft.onnx !== undefined && req.eval?.graph !== 'built';
  const before = bench
    ? req.evalBefore ?? (await bench.evaluate(evalExport ? ft.onnx!.path : ft.dir, { signal: req.signal, onProgress: (p) => req.onEvalProgress?.('before', p.done, p.total) }))
    : undefined;
  started += performance.now() - evalStarted; // `seconds` is KEN's: the evaluations carry their own
  const staging = new Staging(out!);
  let pool: KenPool | undefined;
  const handles = new Map<string, FileHandle>();
  try {
    await staging.create();
    const files = checkpointFiles(ft);
    for (const rel of [...files.weights, ...files.aux]) {
      await mkdir(dirname(join(staging.dir, rel)), { recursive: true });
      await copyFile(join(ft.dir, rel), join(staging.dir, rel));
      // a read-only input (a fixture, a snapshot) must not make the output read-only
      await chmod(join(staging.dir, rel), 0o644);
    }
    const handle = async (srcFile: string): Promise<FileHandle> => {
      const rel = relative(ft.dir, srcFile);
      let fh = handles.get(rel);
      if (!fh) {
        fh = await open(join(staging.dir, rel), 'r+');
        handles.set(rel, fh);
      }
      return fh;
    };

    pool = await KenPool.open({ backend: req.backend ?? 'auto', device: req.device ?? 'auto', threads: req.threads });
    req.onBackend?.(pool.backend, pool.executionProvider);
    const recorder = new KenRecorder(join(staging.dir, '.subnetwork.data'));
    const onnxRewrites = new Map<string, Uint8Array>();

    await runKen(plan, pool, { k: req.k, signal: req.signal, onProgress: req.onProgress, hashBase: true }, async (o) => {
      if (o.status === 'pruned') {
        for (const view of o.tensor.views) {
          const bytes = toStored(o.pruned, o.tensor, view);
          const range = viewRange(view, ft);
          if (range) await (await handle(range.file)).write(bytes, 0, bytes.byteLength, range.begin);
          else onnxRewrites.set(view.name, bytes);
        }
      }
      await recorder.add(o);
    });
    for (const fh of handles.values()) await fh.close();
    handles.clear();

    if (onnxRewrites.size > 0 && ft.onnx) {
      const rel = relative(ft.dir, ft.onnx.path);
      const dest = join(staging.dir, rel);
      await rm(dest);
      await rewriteInitializers(ft.onnx, onnxRewrites, dest);
    }

    // Skeletons: every file of the pruned checkpoint, with the bytes of the tensors cut out.
    const fileEntries: SubnetworkFile[] = [];
    const rewritten = onnxRewrites.size > 0 && ft.onnx ? relative(ft.dir, ft.onnx.path) : undefined;
    for (const rel of [...files.weights, ...files.aux]) {
      const path = join(staging.dir, rel);
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
      await recorder.addFile(rel, Buffer.concat(pieces));
      fileEntries.push({ path: rel, size, sha256: await sha256File(path), holes });
    }

    const subnetworkBytes = await recorder.finish(join(staging.dir, SUBNETWORK_FILE), {
      k: req.k, scope: req.scope ?? 'all', include: req.include, exclude: req.exclude, includeHead: req.includeHead ?? false,
    }, fileEntries);
    let checkpointBytes = 0;
    for (const rel of files.weights) checkpointBytes += (await stat(join(staging.dir, rel))).size;

    const report: KenReport = {
      k: req.k,
      backend: pool.backend,
      executionProvider: pool.executionProvider,
      seconds: (performance.now() - started) / 1000,
      ...summarize(recorder.reports),
      tensors: recorder.reports,
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
    if (bench && before) {
      const prunedOnnx = evalExport ? join(staging.dir, relative(ft.dir, ft.onnx!.path)) : staging.dir;
      const after = await bench.evaluate(prunedOnnx, { signal: req.signal, onProgress: (p) => req.onEvalProgress?.('after', p.done, p.total) });
      after.model = join(out!, relative(staging.dir, prunedOnnx));
      report.accuracy = { before, after };
    }
    if (req.sweep) report.sweep = req.sweep;
    await writeFile(join(staging.dir, REPORT_FILE), JSON.stringify(report, null, 2) + '\n', { flag: 'wx' });
    throwIfAborted(req.signal);
    await staging.commit();
    return report;
  } finally {
    for (const fh of handles.values()) await fh.close().catch(() => undefined);
    await pool?.close();
    await staging.discard();
  }
}

