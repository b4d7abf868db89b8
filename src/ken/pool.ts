// A pool of KEN worker threads. Rows are sent in chunks as transferable Float32Arrays (never
// SharedArrayBuffer: onnxruntime inputs must not be) and come back as row masks.
import { Worker } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { CancelledError, CheckpointError, UsageError } from '../errors';
import { NonFiniteRowError } from './row';
import type { Backend, BackendChoice, DensityEngine, Device, DeviceChoice, WorkerRequest, WorkerResponse } from './worker-protocol';

export interface PoolOptions {
  backend: BackendChoice;
  device: DeviceChoice;
  /** Worker threads for the js backend, intra-op threads for ort; default: every core. */
  threads?: number | undefined;
  /** Run the worker threads at the lowest scheduling priority (a watcher beside a training run). */
  lowPriority?: boolean;
}

export interface RowsResult {
  /** rows*n bytes, 1 where the fine-tuned value is kept. */
  mask: Uint8Array;
  kept: number;
}

/** dist/worker.js (or another dist/ bundle), found from whichever bundle is running (dist/, dist/test/..., dist/bench/). */
export function workerScript(file = 'worker.js'): string {
  for (let d = __dirname; ; d = dirname(d)) {
    const p = join(d, file);
    if (existsSync(p) && basename(d) === 'dist') return p;
    if (dirname(d) === d) break;
  }
  throw new Error(`dist/${file} not found above ${__dirname}; run the build`);
}

interface Task {
  id: number;
  msg: WorkerRequest & { type: 'prune' };
  resolve: (r: { mask: Uint8Array; kept: number }) => void;
  reject: (e: Error) => void;
}

class Slot {
  inFlight = new Map<number, Task>();
  constructor(readonly worker: Worker) {}
}

const SEND_CELLS = 262_144;

export class KenPool {
  private slots: Slot[] = [];
  private queue: Task[] = [];
  private nextId = 1;
  private closed = false;

  private constructor(
    readonly backend: Backend,
    readonly executionProvider: Device,
    readonly threads: number,
    /** The js backend's fast density pass (WebAssembly SIMD unless unavailable or KEN_WASM=0). */
    readonly densityEngine: DensityEngine | undefined = undefined,
  ) {}

  /** Opens workers for the chosen backend; `auto` takes CUDA through ONNX Runtime when it opens, else `js`. */
  static async open(opts: PoolOptions): Promise<KenPool> {
    const threads = Math.max(1, opts.threads ?? availableParallelism());
    if (opts.backend === 'js' && opts.device === 'cuda') {
      throw new UsageError('the js backend runs on the CPU; use --backend ort (or auto) for --device cuda');
    }
    if (opts.backend === 'ort' || (opts.backend === 'auto' && opts.device !== 'cpu')) {
      const device: DeviceChoice = opts.backend === 'auto' ? 'cuda' : opts.device;
      const worker = new Worker(workerScript());
      const ready = await KenPool.init(worker, { type: 'init', backend: 'ort', device, threads, lowPriority: opts.lowPriority ?? false });
      if (ready.type === 'ready') {
        const pool = new KenPool('ort', ready.executionProvider, threads);
        pool.adopt(worker);
        return pool;
      }
      await worker.terminate();
      if (opts.backend === 'ort' || opts.device === 'cuda') throw new CheckpointError(ready.message);
    }
    const workers = Array.from({ length: threads }, () => new Worker(workerScript()));
    const readies = await Promise.all(workers.map((w) => KenPool.init(w, { type: 'init', backend: 'js', device: 'cpu', threads: 1, lowPriority: opts.lowPriority ?? false })));
    const engines = readies.map((r) => (r.type === 'ready' ? r.densityEngine : undefined));
    const pool = new KenPool('js', 'cpu', threads, engines.every((e) => e === 'wasm') ? 'wasm' : 'js');
    workers.forEach((w) => pool.adopt(w));
    return pool;
  }

  private static init(worker: Worker, msg: WorkerRequest): Promise<Extract<WorkerResponse, { type: 'ready' | 'init-failed' }>> {
    return new Promise((resolve, reject) => {
      const onMsg = (r: WorkerResponse): void => {
        if (r.type === 'ready' || r.type === 'init-failed') {
          worker.off('message', onMsg);
          worker.off('error', reject);
          resolve(r);
        }
      };
      worker.on('message', onMsg);
      worker.once('error', reject);
      worker.postMessage(msg);
    });
  }

  private adopt(worker: Worker): void {
    const slot = new Slot(worker);
    worker.unref();
    worker.on('message', (r: WorkerResponse) => this.onMessage(slot, r));
    const fail = (e: Error): void => {
      for (const t of slot.inFlight.values()) t.reject(e);
      slot.inFlight.clear();
      this.slots = this.slots.filter((s) => s !== slot);
      if (this.slots.length === 0) for (const t of this.queue.splice(0)) t.reject(e);
    };
    worker.on('error', fail);
    worker.on('exit', (code) => {
      if (!this.closed) fail(new Error(`a KEN worker stopped (exit code ${code})`));
    });
    this.slots.push(slot);
  }

  private onMessage(slot: Slot, r: WorkerResponse): void {
    if (r.type === 'ready' || r.type === 'init-failed') return;
    const task = slot.inFlight.get(r.id);
    if (!task) return;
    slot.inFlight.delete(r.id);
    if (r.type === 'pruned') task.resolve({ mask: r.mask, kept: r.kept });
    else if (r.type === 'row-error') task.reject(new NonFiniteRowError(r.row, r.column));
    else task.reject(new Error(r.message));
    this.pump();
  }

  private pump(): void {
    while (this.queue.length > 0) {
      let best: Slot | undefined;
      for (const s of this.slots) if (s.inFlight.size < 2 && (!best || s.inFlight.size < best.inFlight.size)) best = s;
      if (!best) return;
      const task = this.queue.shift()!;
      best.inFlight.set(task.id, task);
      best.worker.postMessage(task.msg, [task.msg.values.buffer as ArrayBuffer]);
    }
  }

  /**
   * KEN on `rows` rows of `n` values (row-major in `values`, which is not modified).
   * Rejects with NonFiniteRowError (absolute row) or CancelledError.
   */
  async pruneRows(values: Float32Array, rows: number, n: number, k: number, signal?: AbortSignal, onRows?: (count: number) => void): Promise<RowsResult> {
    if (this.closed) throw new Error('the KEN pool is closed');
    if (signal?.aborted) throw new CancelledError();
    const cells = this.backend === 'ort' ? SEND_CELLS * 16 : SEND_CELLS;
    const perWorker = Math.ceil(rows / this.slots.length);
    const chunkRows = Math.max(1, Math.min(perWorker, Math.floor(cells / n)));
    const mask = new Uint8Array(rows * n);
    let kept = 0;
    const parts: Promise<void>[] = [];
    let abortReject: ((e: Error) => void) | undefined;
    const aborted = new Promise<never>((_, reject) => {
      abortReject = reject;
    });
    aborted.catch(() => undefined);
    const onAbort = (): void => abortReject?.(new CancelledError());
    signal?.addEventListener('abort', onAbort, { once: true });
    for (let start = 0; start < rows; start += chunkRows) {
      const count = Math.min(chunkRows, rows - start);
      const chunk = values.slice(start * n, (start + count) * n);
      const id = this.nextId++;
      parts.push(
        new Promise<{ mask: Uint8Array; kept: number }>((resolve, reject) => {
          this.queue.push({ id, msg: { type: 'prune', id, k, n, rows: count, values: chunk }, resolve, reject });
        }).then(
          (r) => {
            mask.set(r.mask, start * n);
            kept += r.kept;
            onRows?.(count);
          },
          (e: unknown) => {
            if (e instanceof NonFiniteRowError) throw new NonFiniteRowError(e.row + start, e.column);
            throw e;
          },
        ),
      );
    }
    this.pump();
    try {
      await Promise.race([Promise.all(parts), aborted]);
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
    return { mask, kept };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.queue.splice(0)) t.reject(new CancelledError());
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
    this.slots = [];
  }
}
