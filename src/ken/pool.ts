// A pool of KEN worker threads. Rows are sent in chunks as transferable Float32Arrays (never
// SharedArrayBuffer: onnxruntime inputs must not be) and come back as row masks.
import { Worker } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { CancelledError, CheckpointError, UsageError } from '../errors';
import { NonFiniteRowError } from './row';
import type { Kernel } from './kernels';
import { cudaProviderInstalled } from './ort-densities';
import type { Backend, BackendChoice, DensityEngine, Device, DeviceChoice, WorkerRequest, WorkerResponse } from './worker-protocol';

export interface PoolOptions {
  backend: BackendChoice;
  device: DeviceChoice;
  /** Worker threads for the js backend, intra-op threads for ort; default: every core. */
  threads?: number | undefined;
  /** Run the worker threads at the lowest scheduling priority (a watcher beside a training run). */
  lowPriority?: boolean;
  /** The KDE's kernel (default gaussian); the ort backend computes gaussian densities only. */
  kernel?: Kernel;
}

/** Rows `start .. start+count-1` as a fresh float32 array (it is transferred to a worker). */
export type RowSource = (start: number, count: number) => Float32Array;

export interface RowsResult {
  /** rows*n bytes, 1 where the fine-tuned value is kept. */
  mask: Uint8Array;
  kept: number;
}

/** dist/worker.js, found from whichever bundle is running (dist/, dist/test/..., dist/bench/). */
export function workerScript(): string {
  for (let d = __dirname; ; d = dirname(d)) {
    const p = join(d, 'worker.js');
    if (existsSync(p) && basename(d) === 'dist') return p;
    if (dirname(d) === d) break;
  }
  throw new Error(`dist/worker.js not found above ${__dirname}; run the build`);
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

/** The density graph (ort, CUDA) is the Gaussian one; the js backend is exact for every kernel. */
export function checkKernelBackend(kernel: Kernel, backend: BackendChoice, device: DeviceChoice): void {
  if (kernel !== 'gaussian' && (backend === 'ort' || device === 'cuda')) {
    throw new UsageError(`the ort backend (and CUDA) computes gaussian densities only; use --backend js (or auto) with --kernel ${kernel}`);
  }
}

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
    readonly kernel: Kernel = 'gaussian',
    /** Why the backend asked for is not the one running (auto with a kernel the GPU path lacks). */
    readonly note: string | undefined = undefined,
  ) {}

  /** Opens workers for the chosen backend; `auto` takes CUDA through ONNX Runtime when it opens, else `js`. */
  static async open(opts: PoolOptions): Promise<KenPool> {
    const threads = Math.max(1, opts.threads ?? availableParallelism());
    const kernel = opts.kernel ?? 'gaussian';
    if (opts.backend === 'js' && opts.device === 'cuda') {
      throw new UsageError('the js backend runs on the CPU; use --backend ort (or auto) for --device cuda');
    }
    let note: string | undefined;
    checkKernelBackend(kernel, opts.backend, opts.device);
    if (kernel !== 'gaussian') {
      if (opts.backend === 'auto' && opts.device !== 'cpu' && cudaProviderInstalled()) note = `kernel ${kernel}: the GPU path serves gaussian only, running js on the CPU`;
    }
    if (kernel === 'gaussian' && (opts.backend === 'ort' || (opts.backend === 'auto' && opts.device !== 'cpu'))) {
      const device: DeviceChoice = opts.backend === 'auto' ? 'cuda' : opts.device;
      const worker = new Worker(workerScript());
      const ready = await KenPool.init(worker, { type: 'init', backend: 'ort', device, threads, lowPriority: opts.lowPriority ?? false, kernel });
      if (ready.type === 'ready') {
        const pool = new KenPool('ort', ready.executionProvider, threads);
        pool.adopt(worker);
        return pool;
      }
      await worker.terminate();
      if (opts.backend === 'ort' || opts.device === 'cuda') throw new CheckpointError(ready.message);
    }
    const workers = Array.from({ length: threads }, () => new Worker(workerScript()));
    const readies = await Promise.all(workers.map((w) => KenPool.init(w, { type: 'init', backend: 'js', device: 'cpu', threads: 1, lowPriority: opts.lowPriority ?? false, kernel })));
    const engines = readies.map((r) => (r.type === 'ready' ? r.densityEngine : undefined));
    const pool = new KenPool('js', 'cpu', threads, engines.every((e) => e === 'wasm') ? 'wasm' : 'js', kernel, note);
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
   * KEN on `rows` rows of `n` values: row-major in `values` (not modified), or produced on demand by
   * a RowSource (a fresh array per call, which is handed to a worker). Chunks are made only as workers
   * take them (a few per worker queued), so a tensor is never copied whole.
   * Rejects with NonFiniteRowError (absolute row) or CancelledError.
   */
  async pruneRows(values: Float32Array | RowSource, rows: number, n: number, k: number, signal?: AbortSignal, onRows?: (count: number) => void): Promise<RowsResult> {
    if (this.closed) throw new Error('the KEN pool is closed');
    if (signal?.aborted) throw new CancelledError();
    const source: RowSource = typeof values === 'function' ? values : (start, count) => values.slice(start * n, (start + count) * n);
    const cells = this.backend === 'ort' ? SEND_CELLS * 16 : SEND_CELLS;
    const perWorker = Math.ceil(rows / this.slots.length);
    const chunkRows = Math.max(1, Math.min(perWorker, Math.floor(cells / n)));
    const mask = new Uint8Array(rows * n);
    const maxQueued = 2 * this.slots.length;
    let kept = 0;
    let next = 0;
    let pending = 0;
    let settled = false;
    let onAbort: (() => void) | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        const fail = (e: Error): void => {
          if (settled) return;
          settled = true;
          reject(e);
        };
        onAbort = () => fail(new CancelledError());
        signal?.addEventListener('abort', onAbort, { once: true });
        const feed = (): void => {
          while (!settled && pending < maxQueued && next < rows) {
            const start = next;
            const count = Math.min(chunkRows, rows - start);
            next += count;
            pending++;
            const id = this.nextId++;
            new Promise<{ mask: Uint8Array; kept: number }>((res, rej) => {
              this.queue.push({ id, msg: { type: 'prune', id, k, n, rows: count, values: source(start, count) }, resolve: res, reject: rej });
            }).then(
              (r) => {
                if (settled) return;
                mask.set(r.mask, start * n);
                kept += r.kept;
                pending--;
                onRows?.(count);
                if (next >= rows && pending === 0) {
                  settled = true;
                  resolve();
                } else feed();
              },
              (e: unknown) => fail(e instanceof NonFiniteRowError ? new NonFiniteRowError(e.row + start, e.column) : e instanceof Error ? e : new Error(String(e))),
            );
          }
          this.pump();
        };
        if (rows === 0) {
          settled = true;
          resolve();
        } else feed();
      });
    } finally {
      if (onAbort) signal?.removeEventListener('abort', onAbort);
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
