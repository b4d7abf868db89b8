// Messages between the KEN pool (main thread) and its worker threads.
import type { AdapterInfo, WebGpuProbe } from '../runtime/webgpu';
import type { Device, DeviceChoice } from '../runtime/session';

import type { Kernel } from './kernels';

export type Backend = 'js' | 'ort';
export type BackendChoice = Backend | 'auto';
/** What computes the js backend's fast density pass (KEN_WASM=0 in the environment forces 'js'). */
export type DensityEngine = 'wasm' | 'js';

/**
 * Densities of a chunk's rows from an ONNX graph, row-major [rows, k]; a row without them (kept
 * whole, non-finite, or beyond the float32 graph's range) holds NaN.
 * f64: `S` holds the densities. f32: `S` the Gaussian sums and `Q` the second sums of the float32
 * graph (densities = S * norm, error bounds from `f32SumBound`), `A` each row's scaled half-range.
 */
export type DensitySums =
  | { precision: 'f64'; S: Float64Array }
  | { precision: 'f32'; S: Float32Array; Q: Float32Array; A: Float64Array };

export type WorkerRequest =
  | {
      type: 'init';
      backend: Backend;
      device: DeviceChoice;
      threads: number;
      lowPriority: boolean;
      /** The KDE's kernel (the js backend serves every kernel; ort serves gaussian). */
      kernel: Kernel;
      /** ort with device auto: fail rather than fall back to the CPU provider (backend auto). */
      gpuOnly?: boolean;
      /** The pool's WebGPU probe, so the worker need not probe again. */
      webgpu?: WebGpuProbe;
    }
  | { type: 'densities'; id: number; k: number; n: number; rows: number; values: Float32Array }
  | { type: 'prune'; id: number; k: number; n: number; rows: number; values: Float32Array; sums?: DensitySums; profile?: boolean };

export type WorkerResponse =
  | { type: 'ready'; backend: Backend; executionProvider: Device; densityEngine?: DensityEngine; adapter?: AdapterInfo; notes?: string[] }
  | { type: 'init-failed'; message: string; notes?: string[] }
  | { type: 'densities'; id: number; values: Float32Array; sums: DensitySums }
  | {
      type: 'pruned'; id: number; mask: Uint8Array; kept: number; densities: number; rechecked: number;
      /** With `profile`: seconds per phase (profile.ts), then the chunk's wall seconds, and the worker's thread id. */
      phases?: number[]; thread?: number;
    }
  | { type: 'row-error'; id: number; row: number; column: number }
  | { type: 'failed'; id: number; message: string };
