// A KEN worker thread, in one of two roles:
// - selection (backend js): prunes chunks of rows. Densities come from the chunk's `sums` when an
//   ONNX graph computed them (re-checked exactly near rounding boundaries), else from the fast pass
//   (WebAssembly SIMD or TypeScript) with its own exact re-check.
// - densities (backend ort): computes chunks' densities with the ONNX density graph in an
//   onnxruntime-node session (float64 on CUDA/CPU, float32 on WebGPU); its run() blocks this thread,
//   not the caller's, and selection runs meanwhile in the selection workers.
import { parentPort, threadId } from 'node:worker_threads';
import { constants, setPriority } from 'node:os';
import { NonFiniteRowError, RowPruner } from './row';
import { PHASES } from './profile';
import { densitiesF32, densitiesF64, densityModel, densityModelF32, sumsProvider } from './ort-densities';
import { knownWebGpu } from '../runtime/webgpu';
import { openSession, setProviderLog, type OpenedSession } from '../runtime/session';
import { fastDensityPass } from './wasm-densities';
import type { WorkerRequest, WorkerResponse } from './worker-protocol';

const port = parentPort;
if (!port) throw new Error('worker.js must run as a worker thread');

let pruner = new RowPruner();
let ortSession: OpenedSession | undefined;

function post(msg: WorkerResponse, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(msg, transfer);
}

async function prune(msg: Extract<WorkerRequest, { type: 'prune' }>): Promise<void> {
  const { id, k, n, rows, values, sums } = msg;
  const t0 = msg.profile ? performance.now() : 0;
  pruner.profile = msg.profile ? new Float64Array(PHASES + 1) : undefined;
  const mask = new Uint8Array(rows * n);
  let kept = 0;
  let row = 0;
  const densities0 = pruner.densities;
  const rechecked0 = pruner.rechecked;
  try {
    for (row = 0; row < rows; row++) {
      kept += pruner.prune(values.subarray(row * n, (row + 1) * n), k, mask, row * n, row, sums ? sumsProvider(sums, row, k) : undefined);
    }
  } catch (e) {
    if (e instanceof NonFiniteRowError) {
      post({ type: 'row-error', id, row: e.row, column: e.column });
    } else {
      post({ type: 'failed', id, message: e instanceof Error ? e.message : String(e) });
    }
    return;
  }
  const reply: WorkerResponse = { type: 'pruned', id, mask, kept, densities: pruner.densities - densities0, rechecked: pruner.rechecked - rechecked0 };
  if (pruner.profile) {
    pruner.profile[PHASES] = (performance.now() - t0) / 1000;
    reply.phases = Array.from(pruner.profile);
    reply.thread = threadId;
  }
  post(reply, [mask.buffer as ArrayBuffer]);
}

async function densities(msg: Extract<WorkerRequest, { type: 'densities' }>): Promise<void> {
  const { id, k, n, rows, values } = msg;
  try {
    const sums = ortSession!.executionProvider === 'webgpu' ? await densitiesF32(ortSession!, values, rows, n, k) : await densitiesF64(ortSession!, values, rows, n, k);
    const transfer = [values.buffer, sums.S.buffer, ...(sums.precision === 'f32' ? [sums.Q.buffer, sums.A.buffer] : [])] as ArrayBuffer[];
    post({ type: 'densities', id, values, sums }, transfer);
  } catch (e) {
    post({ type: 'failed', id, message: e instanceof Error ? e.message.split('\n')[0]! : String(e) });
  }
}

// Requests are handled strictly one after another.
let chain: Promise<void> = Promise.resolve();
port.on('message', (msg: WorkerRequest) => {
  chain = chain.then(async () => {
    if (msg.type === 'init') {
      if (msg.lowPriority) {
        try {
          setPriority(0, constants.priority.PRIORITY_LOW); // 0: this thread, on Linux
        } catch {
          // not permitted here: run at normal priority
        }
      }
      if (msg.backend === 'ort') {
        if (msg.webgpu) knownWebGpu(msg.webgpu);
        const notes: string[] = []; // the pool logs them in its own thread
        setProviderLog((line) => notes.push(line));
        try {
          ortSession = await openSession((ep) => (ep === 'webgpu' ? densityModelF32() : densityModel()), msg.device, {
            intraOpThreads: msg.threads,
            cpuFallback: !msg.gpuOnly,
            graphOptimizationLevel: 'basic',
          });
          const { executionProvider, adapter } = ortSession;
          post(adapter ? { type: 'ready', backend: 'ort', executionProvider, adapter, notes } : { type: 'ready', backend: 'ort', executionProvider, notes });
        } catch (e) {
          post({ type: 'init-failed', message: e instanceof Error ? e.message : String(e), notes });
        }
      } else {
        const fast = fastDensityPass();
        pruner = new RowPruner(fast.pass, msg.kernel);
        // the fast pass serves gaussian densities; the other kernels have their own (kernels.ts)
        post({ type: 'ready', backend: 'js', executionProvider: 'cpu', densityEngine: msg.kernel === 'gaussian' ? fast.engine : 'js' });
      }
    } else if (msg.type === 'densities') {
      await densities(msg);
    } else {
      await prune(msg);
    }
  });
});
