// A pool of KEN worker threads. Rows are sent in chunks as transferable Float32Arrays (never
// SharedArrayBuffer: onnxruntime inputs must not be) and come back as row masks. With the ort
// backend one worker computes each chunk's densities with an ONNX graph (a GPU when one opens) while
// the selection workers prune the chunks before it: GPU batches overlap selection, and the caller
// (runKen) reads and writes tensors meanwhile.
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { CancelledError, CheckpointError, UsageError } from '../errors';
import { NonFiniteRowError } from './row';
import { addChunk, type KenProfile } from './profile';
import type { AdapterInfo } from '../runtime/webgpu';
import type { Kernel } from './kernels';
import { probeWebGpu } from '../runtime/webgpu';
import { cudaProviderInstalled, logProvider } from '../runtime/session';
import type { Backend, BackendChoice, DensityEngine, DensitySums, WorkerRequest, WorkerResponse } from './worker-protocol';
import type { Device, DeviceChoice } from '../runtime/session';
import { workerScript } from '../runtime/worker-script';

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

type Reply = Extract<WorkerResponse, { type: 'pruned' | 'densities' }>;

interface Task {
  id: number;
  msg: Extract<WorkerRequest, { type: 'prune' | 'densities' }>;
  transfer: ArrayBuffer[];
  resolve: (r: Reply) => void;
  reject: (e: Error) => void;
}

class Slot {
  inFlight = new Map<number, Task>();
  constructor(readonly worker: Worker) {}
}

/** Worker threads of one role, each with at most two requests in flight, fed from one queue. */
class Lane {
  slots: Slot[] = [];
  queue: Task[] = [];

  constructor(private readonly isClosed: () => boolean) {}

  adopt(worker: Worker): void {
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
      if (!this.isClosed()) fail(new Error(`a KEN worker stopped (exit code ${code})`));
    });
    this.slots.push(slot);
  }

  private onMessage(slot: Slot, r: WorkerResponse): void {
    if (r.type === 'ready' || r.type === 'init-failed') return;
    const task = slot.inFlight.get(r.id);
    if (!task) return;
    slot.inFlight.delete(r.id);
    if (r.type === 'pruned' || r.type === 'densities') task.resolve(r);
    else if (r.type === 'row-error') task.reject(new NonFiniteRowError(r.row, r.column));
    else task.reject(new Error(r.message));
    this.pump();
  }

  submit(msg: Task['msg'], transfer: ArrayBuffer[]): Promise<Reply> {
    return new Promise<Reply>((resolve, reject) => {
      if (this.slots.length === 0) {
        reject(new Error('every KEN worker has stopped'));
        return;
      }
      this.queue.push({ id: msg.id, msg, transfer, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.queue.length > 0) {
      let best: Slot | undefined;
      for (const s of this.slots) if (s.inFlight.size < 2 && (!best || s.inFlight.size < best.inFlight.size)) best = s;
      if (!best) return;
      const task = this.queue.shift()!;
      best.inFlight.set(task.id, task);
      best.worker.postMessage(task.msg, task.transfer);
    }
  }

  cancelQueued(): void {
    for (const t of this.queue.splice(0)) t.reject(new CancelledError());
  }

  async terminate(): Promise<void> {
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
    this.slots = [];
  }
}

const SEND_CELLS = 262_144;
/** Cells (rows * k * n) per chunk sent to a density worker: about one graph run each. */
const GRAPH_CELLS: Record<Device, number> = { cuda: 16_000_000, cpu: 16_000_000, webgpu: 32_000_000 };
const GRAPH_CELLS_SOFTWARE = 8_000_000;

/** The density graph (ort: CUDA, WebGPU, CPU) is the Gaussian one; the js backend is exact for every kernel. */
export function checkKernelBackend(kernel: Kernel, backend: BackendChoice, device: DeviceChoice): void {
  if (kernel !== 'gaussian' && (backend === 'ort' || device === 'cuda' || device === 'webgpu')) {
    throw new UsageError(`the ort backend (CUDA, WebGPU) computes gaussian densities only; use --backend js (or auto) with --kernel ${kernel}`);
  }
}

export class KenPool {
  private readonly select: Lane;
  private readonly density: Lane | undefined;
  private nextId = 1;
  private closed = false;
  /** Densities computed and those summed again exactly near a rounding boundary, so far. */
  densities = 0;
  rechecked = 0;
  /** When set, each chunk's per-thread timing is added to it (workers then read clocks per row). */
  profile: KenProfile | undefined;

  private constructor(
    readonly backend: Backend,
    readonly executionProvider: Device,
    readonly threads: number,
    /** The js backend's fast density pass (WebAssembly SIMD unless unavailable or KEN_WASM=0). */
    readonly densityEngine: DensityEngine | undefined = undefined,
    /** The WebGPU adapter, when the densities run on WebGPU. */
    readonly adapter: AdapterInfo | undefined = undefined,
    densityWorker?: Worker,
    readonly kernel: Kernel = 'gaussian',
    /** Why the backend asked for is not the one running (auto with a kernel the GPU path lacks). */
    readonly note: string | undefined = undefined,
  ) {
    this.select = new Lane(() => this.closed);
    if (densityWorker) {
      this.density = new Lane(() => this.closed);
      this.density.adopt(densityWorker);
    }
  }

  /**
   * Opens workers for the chosen backend. `ort`: one worker runs the density graph (device `auto`:
   * CUDA, then WebGPU on a hardware adapter, then the CPU provider) and selection workers prune with
   * its densities. `auto`: ort on CUDA or a hardware WebGPU adapter when one opens, else `js`.
   */
  static async open(opts: PoolOptions): Promise<KenPool> {
    const threads = Math.max(1, opts.threads ?? availableParallelism());
    if (opts.backend === 'js' && (opts.device === 'cuda' || opts.device === 'webgpu')) {
      throw new UsageError(`the js backend runs on the CPU; use --backend ort (or auto) for --device ${opts.device}`);
    }
    const lowPriority = opts.lowPriority ?? false;
    const kernel = opts.kernel ?? 'gaussian';
    checkKernelBackend(kernel, opts.backend, opts.device);
    const note = kernel !== 'gaussian' && opts.backend === 'auto' && opts.device !== 'cpu' && cudaProviderInstalled() ? `kernel ${kernel}: the GPU path serves gaussian only, running js on the CPU` : undefined;
    let density: { worker: Worker; ready: Extract<WorkerResponse, { type: 'ready' }> } | undefined;
    if (kernel === 'gaussian' && (opts.backend === 'ort' || (opts.backend === 'auto' && opts.device !== 'cpu'))) {
      // the worker would probe WebGPU itself: do it here (once per process) unless CUDA comes first
      const webgpu = opts.device === 'webgpu' || (opts.device === 'auto' && !cudaProviderInstalled()) ? await probeWebGpu() : undefined;
      const worker = new Worker(workerScript());
      const init: WorkerRequest = { type: 'init', backend: 'ort', device: opts.device, threads, lowPriority, gpuOnly: opts.backend === 'auto', kernel };
      if (webgpu) init.webgpu = webgpu;
      const ready = await KenPool.init(worker, init);
      for (const line of ready.notes ?? []) logProvider(line);
      if (ready.type === 'ready') density = { worker, ready };
      else {
        await worker.terminate();
        if (opts.backend === 'ort' || opts.device === 'cuda' || opts.device === 'webgpu') throw new CheckpointError(ready.message);
      }
    }
    const workers = Array.from({ length: threads }, () => new Worker(workerScript()));
    const readies = await Promise.all(workers.map((w) => KenPool.init(w, { type: 'init', backend: 'js', device: 'cpu', threads: 1, lowPriority, kernel })));
    const engines = readies.map((r) => (r.type === 'ready' ? r.densityEngine : undefined));
    const engine = engines.every((e) => e === 'wasm') ? 'wasm' : 'js';
    const pool = density
      ? new KenPool('ort', density.ready.executionProvider, threads, undefined, density.ready.adapter, density.worker, kernel)
      : new KenPool('js', 'cpu', threads, kernel === 'gaussian' ? engine : 'js', undefined, undefined, kernel, note);
    workers.forEach((w) => pool.select.adopt(w));
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

  /** One chunk: densities from the density worker (ort), then selection in a selection worker. */
  private async chunk(values: Float32Array, rows: number, n: number, k: number): Promise<Extract<Reply, { type: 'pruned' }>> {
    let sums: DensitySums | undefined;
    if (this.density) {
      const d = await this.density.submit({ type: 'densities', id: this.nextId++, k, n, rows, values }, [values.buffer as ArrayBuffer]);
      if (d.type !== 'densities') throw new Error('a KEN density worker answered out of turn');
      values = d.values;
      sums = d.sums;
    }
    const transfer = [values.buffer, ...(sums ? [sums.S.buffer, ...(sums.precision === 'f32' ? [sums.Q.buffer, sums.A.buffer] : [])] : [])] as ArrayBuffer[];
    const msg: WorkerRequest & { type: 'prune' } = { type: 'prune', id: this.nextId++, k, n, rows, values };
    if (sums) msg.sums = sums;
    if (this.profile) msg.profile = true;
    const r = await this.select.submit(msg, transfer);
    if (r.type !== 'pruned') throw new Error('a KEN worker answered out of turn');
    this.densities += r.densities;
    this.rechecked += r.rechecked;
    if (this.profile && r.phases) addChunk(this.profile, r.thread ?? 0, rows, r.phases);
    return r;
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
    const perWorker = Math.ceil(rows / this.select.slots.length);
    let chunkRows: number;
    if (this.density) {
      const graphCells = this.adapter?.software ? GRAPH_CELLS_SOFTWARE : GRAPH_CELLS[this.executionProvider];
      chunkRows = Math.max(1, Math.min(rows, Math.floor(graphCells / (k * n)), Math.floor((SEND_CELLS * 16) / n)));
    } else {
      chunkRows = Math.max(1, Math.min(perWorker, Math.floor(SEND_CELLS / n)));
    }
    const mask = new Uint8Array(rows * n);
    // enough chunks in flight to keep every worker (and the density worker) busy, no more
    const maxQueued = 2 * this.select.slots.length + (this.density ? 2 : 0);
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
            this.chunk(source(start, count), count, n, k).then(
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
    this.select.cancelQueued();
    this.density?.cancelQueued();
    await Promise.all([this.select.terminate(), this.density?.terminate()]);
  }
}
