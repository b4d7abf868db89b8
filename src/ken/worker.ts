// A KEN worker thread: prunes batches of rows. The `js` backend computes densities in TypeScript;
// the `ort` backend computes them with the ONNX density graph in an onnxruntime-node session
// (whose run() blocks this thread, not the caller's).
import { parentPort } from 'node:worker_threads';
import { constants, setPriority } from 'node:os';
import { NonFiniteRowError, RowPruner, bandwidth, fillGrid, keepsWholeRow, type DensityProvider } from './row';
import { densityModel, openSession, type OpenedSession } from './ort-densities';
import { fastDensityPass } from './wasm-densities';
import type { Backend, WorkerRequest, WorkerResponse } from './worker-protocol';

const port = parentPort;
if (!port) throw new Error('worker.js must run as a worker thread');

let pruner = new RowPruner();
let backend: Backend = 'js';
let ortSession: OpenedSession | undefined;

function post(msg: WorkerResponse, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(msg, transfer);
}

// Bound the [rows, k, n] intermediate of the density graph (float64) to about 128 MB.
const MAX_GRAPH_CELLS = 16_000_000;

async function ortDensities(values: Float32Array, rows: number, n: number, k: number): Promise<(Float64Array | undefined)[]> {
  const { session, ort } = ortSession!;
  const out: (Float64Array | undefined)[] = new Array(rows);
  const todo: number[] = [];
  for (let r = 0; r < rows; r++) {
    const row = values.subarray(r * n, (r + 1) * n);
    let min = Infinity;
    let max = -Infinity;
    let finite = true;
    for (let j = 0; j < n; j++) {
      const v = row[j]!;
      if (!Number.isFinite(v)) finite = false;
      if (v < min) min = v;
      if (v > max) max = v;
    }
    if (finite && !keepsWholeRow(n, k, min, max)) todo.push(r);
  }
  const perRun = Math.max(1, Math.floor(MAX_GRAPH_CELLS / (k * n)));
  for (let start = 0; start < todo.length; start += perRun) {
    const batch = todo.slice(start, start + perRun);
    const R = batch.length;
    const X = new Float64Array(R * n);
    const G = new Float64Array(R * k);
    const invh = new Float64Array(R);
    const norm = new Float64Array(R);
    batch.forEach((r, b) => {
      const row = values.subarray(r * n, (r + 1) * n);
      let min = Infinity;
      let max = -Infinity;
      for (let j = 0; j < n; j++) {
        const v = row[j]!;
        X[b * n + j] = v;
        if (v < min) min = v;
        if (v > max) max = v;
      }
      fillGrid(min, max, k, G.subarray(b * k, (b + 1) * k));
      const h = bandwidth(row);
      invh[b] = 1 / h;
      norm[b] = 1 / (n * h * Math.sqrt(2 * Math.PI));
    });
    const res = await session.run({
      X: new ort.Tensor('float64', X, [R, 1, n]),
      G: new ort.Tensor('float64', G, [R, k, 1]),
      invh: new ort.Tensor('float64', invh, [R, 1, 1]),
      norm: new ort.Tensor('float64', norm, [R, 1]),
    });
    const D = res['D']!.data as Float64Array;
    batch.forEach((r, b) => {
      out[r] = D.slice(b * k, (b + 1) * k);
    });
  }
  return out;
}

async function prune(msg: Extract<WorkerRequest, { type: 'prune' }>): Promise<void> {
  const { id, k, n, rows, values } = msg;
  const mask = new Uint8Array(rows * n);
  let kept = 0;
  let row = 0;
  try {
    const precomputed = backend === 'ort' ? await ortDensities(values, rows, n, k) : undefined;
    for (row = 0; row < rows; row++) {
      const dens = precomputed?.[row];
      const provider: DensityProvider | undefined = dens ? (_r, _g, _h, out) => out.set(dens) : undefined;
      kept += pruner.prune(values.subarray(row * n, (row + 1) * n), k, mask, row * n, row, provider);
    }
  } catch (e) {
    if (e instanceof NonFiniteRowError) {
      post({ type: 'row-error', id, row: e.row, column: e.column });
    } else {
      post({ type: 'failed', id, message: e instanceof Error ? e.message : String(e) });
    }
    return;
  }
  post({ type: 'pruned', id, mask, kept }, [mask.buffer as ArrayBuffer]);
}

// Requests are handled strictly one after another.
let chain: Promise<void> = Promise.resolve();
port.on('message', (msg: WorkerRequest) => {
  chain = chain.then(async () => {
    if (msg.type === 'init') {
      backend = msg.backend;
      if (msg.lowPriority) {
        try {
          setPriority(0, constants.priority.PRIORITY_LOW); // 0: this thread, on Linux
        } catch {
          // not permitted here: run at normal priority
        }
      }
      if (backend === 'ort') {
        try {
          ortSession = await openSession(densityModel(), msg.device, { intraOpThreads: msg.threads });
          post({ type: 'ready', backend, executionProvider: ortSession.executionProvider });
        } catch (e) {
          post({ type: 'init-failed', message: e instanceof Error ? e.message : String(e) });
        }
      } else {
        const fast = fastDensityPass();
        pruner = new RowPruner(fast.pass, msg.kernel);
        // the fast pass serves gaussian densities; the other kernels have their own (kernels.ts)
        post({ type: 'ready', backend, executionProvider: 'cpu', densityEngine: msg.kernel === 'gaussian' ? fast.engine : 'js' });
      }
    } else {
      await prune(msg);
    }
  });
});
