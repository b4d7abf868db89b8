// onnxruntime-node sessions: which execution provider opens (CUDA when its library is installed, WebGPU
// on a hardware adapter, the CPU), one provider-log line per provider that was tried and failed, and the
// device vocabulary the pools, evaluation and both doors share. Knows nothing of KEN or of models.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { CheckpointError } from '../errors';
import { adapterLabel, probeWebGpu, type AdapterInfo } from './webgpu';

/** An onnxruntime execution provider this tool opens sessions on. */
export type Device = 'cuda' | 'webgpu' | 'cpu';
/** A device, or `auto`: CUDA, then WebGPU on a hardware adapter, then the CPU. */
export type DeviceChoice = Device | 'auto';

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

// ---------------------------------------------------------------------------------------------
// Logging: one line per provider that was tried and failed (the CLI: stderr; the extension: its log)

let providerLog: (line: string) => void = (line) => process.stderr.write(`ken: ${line}\n`);

/** Where "provider X could not be opened; using Y" lines go (default: stderr). */
export function setProviderLog(log: (line: string) => void): void {
  providerLog = log;
}

export function logProvider(line: string): void {
  providerLog(line);
}

// ---------------------------------------------------------------------------------------------

type Session = import('onnxruntime-node').InferenceSession;

export interface OpenedSession {
  session: Session;
  executionProvider: Device;
  ort: Ort;
  /** The WebGPU adapter, when the session runs on WebGPU. */
  adapter?: AdapterInfo;
}

export interface OpenOptions {
  intraOpThreads?: number | undefined;
  /** For `auto`: end with the CPU provider (default) or fail when no GPU provider opens. */
  cpuFallback?: boolean;
  graphOptimizationLevel?: 'disabled' | 'basic' | 'extended' | 'all';
  /** For a model given as bytes: the folder its external-data locations are relative to. */
  externalFolder?: string | undefined;
  /** External-data files held in memory (location -> bytes), e.g. a built graph's replaced weights. */
  externalData?: readonly { path: string; data: Uint8Array }[] | undefined;
  /**
   * onnxruntime's memory pattern (one planned block per input shape, kept per shape; default on). Off for the
   * built graphs, whose every batch has its own shape: 60 MiB less peak on BERT-base, same speed (BENCHMARKS.md).
   */
  memPattern?: boolean;
}

/**
 * Opens an onnxruntime-node session as `device` allows: `auto` tries CUDA (when its provider files
 * are installed), then WebGPU on a hardware adapter, then the CPU; `webgpu` takes any adapter,
 * software ones included. `model` may depend on the provider (the float32 density graph for WebGPU).
 * Asking for several providers at once throws where one is missing, so each is tried alone with the
 * native log quieted; a provider that was tried and failed is one line in the provider log (for
 * `auto`) or the error (when asked for by name). Says which one opened, and on which adapter.
 */
export async function openSession(model: Uint8Array | string | ((ep: Device) => Uint8Array | string), device: DeviceChoice, extra: OpenOptions = {}): Promise<OpenedSession> {
  const ort: Ort = require('onnxruntime-node');
  ort.env.logLevel = 'fatal';
  const order: Device[] = device === 'auto' ? ['cuda', 'webgpu', ...(extra.cpuFallback === false ? [] : ['cpu' as const])] : [device];
  const failures: string[] = [];
  for (const ep of order) {
    let adapter: AdapterInfo | undefined;
    if (ep === 'cuda' && !cudaProviderInstalled()) {
      failures.push(`cuda: the CUDA provider library is not installed in ${ortBinaryDir()}`);
      continue;
    }
    if (ep === 'webgpu') {
      const probe = await probeWebGpu();
      if (!probe.ok) {
        failures.push(`webgpu: ${probe.reason}`);
        if (probe.crashed && device === 'auto') logProvider(`webgpu: ${probe.reason}; not used`);
        continue;
      }
      if (device === 'auto' && probe.adapter.software) {
        failures.push(`webgpu: only a software adapter (${adapterLabel(probe.adapter)}); ask for --device webgpu to use it`);
        continue;
      }
      adapter = probe.adapter;
    }
    try {
      const opts: import('onnxruntime-node').InferenceSession.SessionOptions = {
        executionProviders: [ep],
        logSeverityLevel: 4,
        graphOptimizationLevel: extra.graphOptimizationLevel ?? 'all',
      };
      if (extra.intraOpThreads) opts.intraOpNumThreads = extra.intraOpThreads;
      if (extra.memPattern === false) opts.enableMemPattern = false;
      if (extra.externalFolder) opts.extra = { session: { model_external_initializers_file_folder_path: extra.externalFolder } };
      if (extra.externalData?.length) opts.externalData = extra.externalData;
      const m = typeof model === 'function' ? model(ep) : model;
      const session = typeof m === 'string' ? await ort.InferenceSession.create(m, opts) : await ort.InferenceSession.create(m, opts);
      return adapter ? { session, executionProvider: ep, ort, adapter } : { session, executionProvider: ep, ort };
    } catch (e) {
      const why = `${ep}: ${(e instanceof Error ? e.message : String(e)).split('\n')[0]}`;
      failures.push(why);
      // a provider that should have opened and did not: one line, then the next one
      if (device === 'auto' && ep !== order[order.length - 1]) logProvider(`${why}; trying ${order[order.indexOf(ep) + 1]}`);
    }
  }
  if (device === 'cuda') {
    throw new CheckpointError(`the CUDA execution provider could not be opened (${failures.join('; ')}); install it with ONNXRUNTIME_NODE_INSTALL=cuda12 (CUDA 12, cuDNN 9) or use --device cpu`);
  }
  if (device === 'webgpu') {
    throw new CheckpointError(`the WebGPU execution provider could not be opened (${failures.join('; ')}); it needs a Vulkan driver (Linux: the GPU vendor's, or Mesa 25's lavapipe) or use --device cpu`);
  }
  throw new CheckpointError(`onnxruntime-node could not open a session (${failures.join('; ')})`);
}
