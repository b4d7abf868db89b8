// Runs KEN over a plan: tensors are read one at a time (a few in flight, bounded in bytes), their
// rows pruned by the pool, and each outcome handed to the caller's sink in plan order.
import { CancelledError, CheckpointError } from '../errors';
import { elementSize, fromFloat32, isFloatDType, toFloat32, type FloatDType } from '../formats/dtype';
import { convertBytes, kenRows, mergeKept, mergeKeptInto } from '../formats/layout';
import type { KenPool } from './pool';
import { NonFiniteRowError } from './row';
import { type LogicalTensor, type Plan } from './plan';
import { kenLayoutOf, readKenLayout } from '../checkpoint/tensors';
import { webcrypto } from 'node:crypto';
import type { KenProfile } from './profile';

export interface TensorOutcome {
  tensor: LogicalTensor;
  /** Final status: 'kept-all' when KEN kept every value of a pruned tensor. */
  status: LogicalTensor['status'];
  rows: number;
  n: number;
  /** Fine-tuned values kept. */
  kept: number;
  total: number;
  /** KEN layout, rows*n bytes, 1 = fine-tuned value kept; only for pruned tensors. */
  mask: Uint8Array | undefined;
  /** Fine-tuned bytes in KEN layout. */
  finetuned: Uint8Array;
  /** Pruned bytes in KEN layout (the fine-tuned bytes when nothing was pruned). */
  pruned: Uint8Array;
  /** Base bytes in KEN layout, converted to the tensor's dtype (pruned tensors, when asked for with keepBase). */
  base: Uint8Array | undefined;
  /** sha256 of the base tensor's stored bytes (pruned tensors, when asked for). */
  baseSha256?: string;
}

/** One tensor's rows, for a selection method other than KEN (float32, KEN layout: rows x n). */
export interface RowSelectorInput {
  tensor: string;
  rows: number;
  n: number;
  k: number;
  finetuned: Float32Array;
  /** The base values, converted to the tensor's dtype first (the values a reset writes). */
  base: Float32Array;
}

export interface RowSelection {
  /** rows*n bytes, 1 where the value keeps its fine-tuned value (or `values`' value). */
  mask: Uint8Array;
  kept: number;
  /** The pruned tensor's values when kept values are not the fine-tuned ones (DARE), else absent. */
  values?: Float32Array | undefined;
}

/** Chooses the kept values of one tensor in the main thread (a method other than KEN's densities). */
export type RowSelector = (input: RowSelectorInput) => RowSelection;

export interface RunProgress {
  rowsDone: number;
  rowsTotal: number;
  tensorsDone: number;
  tensorsTotal: number;
  tensor: string;
}

export interface RunOptions {
  k: number;
  signal?: AbortSignal | undefined;
  onProgress?: ((p: RunProgress) => void) | undefined;
  /** Also hand over tensors that are not pruned (with their fine-tuned bytes). Default true. */
  includeUnpruned?: boolean;
  /** Bytes of tensors in flight at once; default 384 MB. */
  windowBytes?: number;
  /** Fingerprint each base tensor used (sha256 of its stored bytes), for the subnetwork file. */
  hashBase?: boolean;
  /** Hand the base bytes over in each outcome (the watcher's drift needs them); otherwise they become the pruned bytes in place. */
  keepBase?: boolean;
  /** Choose the kept values with this instead of KEN's densities in the pool. */
  selector?: RowSelector | undefined;
  /** Where the time goes: main-thread phases are added to it, and the pool's workers report theirs into it. */
  profile?: KenProfile | undefined;
}

/** Index of the first NaN or infinity among little-endian `dtype` values, or -1 (exponent bits all ones). */
export function firstNonFinite(bytes: Uint8Array, dtype: FloatDType): number {
  const size = elementSize(dtype);
  const count = Math.floor(bytes.byteLength / size);
  const aligned = bytes.byteOffset % size === 0 ? bytes : bytes.slice();
  if (size === 4) {
    const u = new Uint32Array(aligned.buffer, aligned.byteOffset, count);
    for (let i = 0; i < count; i++) if ((u[i]! & 0x7f800000) === 0x7f800000) return i;
    return -1;
  }
  const mask = dtype === 'BF16' ? 0x7f80 : 0x7c00;
  const u = new Uint16Array(aligned.buffer, aligned.byteOffset, count);
  for (let i = 0; i < count; i++) if ((u[i]! & mask) === mask) return i;
  return -1;
}

function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Prunes every tensor of the plan (KEN in `pool`, or `opts.selector`), handing outcomes to `sink` in plan order. */
export async function runKen(plan: Plan, pool: KenPool | undefined, opts: RunOptions, sink: (o: TensorOutcome) => Promise<void>): Promise<void> {
  const includeUnpruned = opts.includeUnpruned ?? true;
  const todo = plan.tensors.filter((t) => includeUnpruned || t.status === 'pruned');
  const rowsTotal = todo.reduce((s, t) => s + (t.status === 'pruned' ? kenRows(t.shape).rows : 0), 0);
  let rowsDone = 0;
  let tensorsDone = 0;
  const windowBytes = opts.windowBytes ?? 640 * 1024 * 1024;
  // what a tensor holds while in flight: its fine-tuned and base bytes (the base becomes the pruned
  // tensor in place) and a byte mask; rows go to the workers a few chunks at a time
  const sizeOf = (t: LogicalTensor): number => {
    const elem = isFloatDType(t.dtype) ? elementSize(t.dtype as FloatDType) : 4;
    return numel(t.shape) * (t.status === 'pruned' ? 2 * elem + 1 + (opts.keepBase ? elem : 0) : elem);
  };

  const prof = opts.profile;
  if (pool) pool.profile = prof;
  const now = (): number => (prof ? performance.now() : 0);
  const spent = (since: number): number => (performance.now() - since) / 1000;
  const process = async (t: LogicalTensor): Promise<TensorOutcome> => {
    let t0 = now();
    const finetuned = await readKenLayout(t.views[0]!);
    if (prof) prof.read += spent(t0);
    const total = numel(t.shape);
    const { rows, n } = kenRows(t.shape);
    if (t.status !== 'pruned') {
      return { tensor: t, status: t.status, rows, n, kept: total, total, mask: undefined, finetuned, pruned: finetuned, base: undefined };
    }
    const dtype = t.dtype as FloatDType;
    t0 = now();
    const stored = await t.base!.read();
    if (prof) {
      prof.read += spent(t0);
      t0 = now();
    }
    // The base's sha256 off this thread (WebCrypto's digest runs in libuv's pool), so the thread that
    // feeds the workers does not spend ~1 s of a BERT-base pair hashing (the whole run's wall time did
    // not move measurably: BENCHMARKS.md); awaited before anything writes into `stored` (it becomes
    // the pruned tensor in place)
    const hashing = opts.hashBase ? webcrypto.subtle.digest('SHA-256', stored) : undefined;
    hashing?.catch(() => undefined); // a refusal below leaves it unawaited
    const baseSha = async (): Promise<{ baseSha256?: string }> => (hashing ? { baseSha256: Buffer.from(await hashing).toString('hex') } : {});
    const base = convertBytes(kenLayoutOf(t.base!, stored), t.base!.dtype as FloatDType, dtype);
    // A NaN or infinity in the base would be copied silently wherever KEN resets a value: refused,
    // as in the fine-tuned tensor (there is no right value to reset to).
    const bad = firstNonFinite(base, dtype);
    if (bad >= 0) {
      throw new CheckpointError(`base tensor ${t.base!.name}: row ${Math.floor(bad / n)} holds NaN or infinity (column ${bad % n}${t.base!.dtype !== dtype ? ` in ${dtype}` : ''}); pruning ${t.name} would copy it into the output`);
    }
    if (prof) prof.prepare += spent(t0);
    const elem = elementSize(dtype);
    // float32 rows made chunk by chunk as the workers take them (a fresh array each: it is transferred)
    const rowsOf = (start: number, count: number): Float32Array => {
      const c0 = now();
      const f = toFloat32(finetuned.subarray(start * n * elem, (start + count) * n * elem), dtype);
      const rowsBytes = dtype === 'F32' && f.buffer === finetuned.buffer ? f.slice() : f;
      if (prof) prof.toRows += spent(c0);
      return rowsBytes;
    };
    let result;
    if (t.identicalToBase) {
      // every value equals its base value: pruning gives the base whatever KEN keeps, so it keeps nothing
      rowsDone += rows;
      return { tensor: t, status: 'pruned', rows, n, kept: 0, total, mask: new Uint8Array(total), finetuned, pruned: base, base, ...(await baseSha()) };
    }
    if (opts.selector) {
      const bad = firstNonFinite(finetuned, dtype);
      if (bad >= 0) throw new CheckpointError(`tensor ${t.name}: row ${Math.floor(bad / n)} holds NaN or infinity (column ${bad % n}); it cannot be scored`);
      const sel = opts.selector({ tensor: t.name, rows, n, k: opts.k, finetuned: toFloat32(finetuned, dtype), base: toFloat32(base, dtype) });
      rowsDone += rows;
      opts.onProgress?.({ rowsDone, rowsTotal, tensorsDone, tensorsTotal: todo.length, tensor: t.name });
      const status = sel.kept === total ? 'kept-all' : 'pruned';
      const hash = await baseSha();
      let pruned: Uint8Array;
      if (status === 'kept-all' && !sel.values) pruned = finetuned;
      else if (sel.values) pruned = dtype === 'F32' ? new Uint8Array(sel.values.buffer, sel.values.byteOffset, sel.values.byteLength) : fromFloat32(sel.values, dtype);
      else pruned = opts.keepBase ? mergeKept(finetuned, base, sel.mask, elem) : mergeKeptInto(finetuned, base, sel.mask, elem);
      return { tensor: t, status, rows, n, kept: sel.kept, total, mask: sel.mask, finetuned, pruned, base: opts.keepBase ? base : undefined, ...hash };
    }
    if (!pool) throw new Error('runKen: KEN needs a worker pool');
    try {
      result = await pool.pruneRows(rowsOf, rows, n, opts.k, opts.signal, (count) => {
        rowsDone += count;
        opts.onProgress?.({ rowsDone, rowsTotal, tensorsDone, tensorsTotal: todo.length, tensor: t.name });
      });
    } catch (e) {
      if (e instanceof NonFiniteRowError) {
        throw new CheckpointError(`tensor ${t.name}: row ${e.row} holds NaN or infinity (column ${e.column}); KEN cannot estimate its density`);
      }
      throw e;
    }
    const hash = await baseSha();
    t0 = now();
    const status = result.kept === total ? 'kept-all' : 'pruned';
    // the base bytes are this call's own (TensorView.read gives a fresh buffer): unless the caller wants
    // them, the kept fine-tuned values are written into them and they become the pruned tensor
    const pruned = status === 'kept-all' ? finetuned : opts.keepBase ? mergeKept(finetuned, base, result.mask, elem) : mergeKeptInto(finetuned, base, result.mask, elem);
    if (prof) prof.merge += spent(t0);
    return { tensor: t, status, rows, n, kept: result.kept, total, mask: result.mask, finetuned, pruned, base: opts.keepBase ? base : undefined, ...hash };
  };

  // A sliding window: start tensors while the bytes in flight allow, hand outcomes over in order.
  const inFlight: { t: LogicalTensor; p: Promise<TensorOutcome>; bytes: number }[] = [];
  let bytesInFlight = 0;
  let next = 0;
  let failure: unknown;
  const start = (): void => {
    while (next < todo.length && (inFlight.length === 0 || (bytesInFlight + sizeOf(todo[next]!) <= windowBytes && inFlight.length < 8))) {
      const t = todo[next++]!;
      const bytes = sizeOf(t);
      const p = process(t);
      p.catch((e: unknown) => {
        failure ??= e;
      });
      inFlight.push({ t, p, bytes });
      bytesInFlight += bytes;
    }
  };
  start();
  while (inFlight.length > 0) {
    if (opts.signal?.aborted) throw new CancelledError();
    const head = inFlight.shift()!;
    let outcome: TensorOutcome;
    try {
      outcome = await head.p;
    } catch (e) {
      // let the others settle before reporting, so no worker writes after we return
      await Promise.allSettled(inFlight.map((f) => f.p));
      throw failure ?? e;
    }
    bytesInFlight -= head.bytes;
    start();
    const w0 = now();
    await sink(outcome);
    if (prof) prof.write += spent(w0);
    tensorsDone++;
    opts.onProgress?.({ rowsDone, rowsTotal, tensorsDone, tensorsTotal: todo.length, tensor: head.t.name });
  }
}
