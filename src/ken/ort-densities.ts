// The KDE densities as an ONNX graph that our code builds, for onnxruntime-node sessions
// (CUDA when it opens, else CPU). Float64 throughout, so the CPU provider is a cross-check of
// the TypeScript recurrence; selection stays in TypeScript.
import { Writer } from 'protobufjs/minimal';
import { valueInfo } from '../formats/onnx-write';
import type { Device, DeviceChoice } from './worker-protocol';
import { CheckpointError } from '../errors';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

const DOUBLE = 11;

function node(w: Writer, op: string, inputs: string[], outputs: string[], attrs: { name: string; ints?: number[]; i?: number }[] = []): void {
  w.uint32((1 << 3) | 2).fork();
  for (const i of inputs) w.uint32((1 << 3) | 2).string(i);
  for (const o of outputs) w.uint32((2 << 3) | 2).string(o);
  w.uint32((4 << 3) | 2).string(op);
  for (const a of attrs) {
    w.uint32((5 << 3) | 2).fork();
    w.uint32((1 << 3) | 2).string(a.name);
    if (a.ints) {
      for (const v of a.ints) w.uint32((8 << 3) | 0).int64(v);
      w.uint32((20 << 3) | 0).int32(7); // INTS
    } else {
      w.uint32((3 << 3) | 0).int64(a.i ?? 0);
      w.uint32((20 << 3) | 0).int32(2); // INT
    }
    w.ldelim();
  }
  w.ldelim();
}

function scalarInit(w: Writer, name: string, v: number): void {
  w.uint32((5 << 3) | 2).fork();
  w.uint32((2 << 3) | 0).int32(DOUBLE);
  w.uint32((8 << 3) | 2).string(name);
  const b = new Uint8Array(8);
  new DataView(b.buffer).setFloat64(0, v, true);
  w.uint32((9 << 3) | 2).bytes(b);
  w.ldelim();
}

/**
 * D[r, i] = norm[r] * sum_j exp(-0.5 * ((G[r, i] - X[r, j]) * invh[r])^2)
 * inputs X [R, 1, n], G [R, k, 1], invh [R, 1, 1], norm [R, 1] (all float64); output D [R, k].
 */
export function densityModel(): Uint8Array {
  const w = Writer.create();
  w.uint32((1 << 3) | 0).int64(8); // ir_version
  w.uint32((2 << 3) | 2).string('ken');
  w.uint32((8 << 3) | 2).fork(); // opset_import
  w.uint32((2 << 3) | 0).int64(17);
  w.ldelim();
  w.uint32((7 << 3) | 2).fork(); // graph
  node(w, 'Sub', ['G', 'X'], ['diff']);
  node(w, 'Mul', ['diff', 'invh'], ['z']);
  node(w, 'Mul', ['z', 'z'], ['z2']);
  node(w, 'Mul', ['z2', 'minus_half'], ['e']);
  node(w, 'Exp', ['e'], ['terms']);
  node(w, 'ReduceSum', ['terms', 'axes'], ['sums'], [{ name: 'keepdims', i: 0 }]);
  node(w, 'Mul', ['sums', 'norm'], ['D']);
  w.uint32((2 << 3) | 2).string('ken_kde');
  scalarInit(w, 'minus_half', -0.5);
  // axes initializer: int64 [1] = 2
  w.uint32((5 << 3) | 2).fork();
  w.uint32((1 << 3) | 0).int64(1);
  w.uint32((2 << 3) | 0).int32(7);
  w.uint32((8 << 3) | 2).string('axes');
  const ax = new Uint8Array(8);
  new DataView(ax.buffer).setBigInt64(0, 2n, true);
  w.uint32((9 << 3) | 2).bytes(ax);
  w.ldelim();
  valueInfo(w, 11, 'X', DOUBLE, ['R', 1, 'n']);
  valueInfo(w, 11, 'G', DOUBLE, ['R', 'k', 1]);
  valueInfo(w, 11, 'invh', DOUBLE, ['R', 1, 1]);
  valueInfo(w, 11, 'norm', DOUBLE, ['R', 1]);
  valueInfo(w, 12, 'D', DOUBLE, ['R', 'k']);
  w.ldelim();
  return w.finish();
}

type Ort = typeof import('onnxruntime-node');

/** The folder holding onnxruntime-node's native binaries for this platform. */
export function ortBinaryDir(): string {
  const pkg = require.resolve('onnxruntime-node/package.json');
  return join(dirname(pkg), 'bin', 'napi-v6', process.platform, process.arch);
}

/**
 * Whether the CUDA execution provider's library is installed (it is not in the npm tarball:
 * `ONNXRUNTIME_NODE_INSTALL=cuda12` or `KEN: Enable CUDA` fetches it). Checked before trying CUDA,
 * so a CPU-only machine never sees the native loader's error.
 */
export function cudaProviderInstalled(): boolean {
  const name = process.platform === 'win32' ? 'onnxruntime_providers_cuda.dll' : 'libonnxruntime_providers_cuda.so';
  try {
    return existsSync(join(ortBinaryDir(), name));
  } catch {
    return false;
  }
}
type Session = import('onnxruntime-node').InferenceSession;

export interface OpenedSession {
  session: Session;
  executionProvider: Device;
  ort: Ort;
}

/**
 * Opens an onnxruntime-node session on CUDA, then CPU, as `device` allows. Asking for
 * ['cuda', 'cpu'] at once throws where the CUDA provider files are missing, so each is tried alone
 * with the native log quieted. Says which one opened.
 */
export async function openSession(
  model: Uint8Array | string,
  device: DeviceChoice,
  extra: {
    intraOpThreads?: number | undefined;
    /** For a model given as bytes: the folder its external-data locations are relative to. */
    externalFolder?: string | undefined;
    /** External-data files held in memory (location -> bytes), e.g. a built graph's replaced weights. */
    externalData?: readonly { path: string; data: Uint8Array }[] | undefined;
  } = {},
): Promise<OpenedSession> {
  const ort: Ort = require('onnxruntime-node');
  ort.env.logLevel = 'fatal';
  const order: Device[] = device === 'auto' ? ['cuda', 'cpu'] : [device];
  const failures: string[] = [];
  for (const ep of order) {
    if (ep === 'cuda' && !cudaProviderInstalled()) {
      failures.push(`cuda: the CUDA provider library is not installed in ${ortBinaryDir()}`);
      continue;
    }
    try {
      const opts: import('onnxruntime-node').InferenceSession.SessionOptions = {
        executionProviders: [ep],
        logSeverityLevel: 4,
        graphOptimizationLevel: 'all',
      };
      if (extra.intraOpThreads) opts.intraOpNumThreads = extra.intraOpThreads;
      if (extra.externalFolder) opts.extra = { session: { model_external_initializers_file_folder_path: extra.externalFolder } };
      if (extra.externalData?.length) opts.externalData = extra.externalData;
      const session = typeof model === 'string'
        ? await ort.InferenceSession.create(model, opts)
        : await ort.InferenceSession.create(model, opts);
      return { session, executionProvider: ep, ort };
    } catch (e) {
      failures.push(`${ep}: ${(e instanceof Error ? e.message : String(e)).split('\n')[0]}`);
    }
  }
  if (device === 'cuda') {
    throw new CheckpointError(`the CUDA execution provider could not be opened (${failures.join('; ')}); install it with ONNXRUNTIME_NODE_INSTALL=cuda12 (CUDA 12, cuDNN 9) or use --device cpu`);
  }
  throw new CheckpointError(`onnxruntime-node could not open a session (${failures.join('; ')})`);
}
