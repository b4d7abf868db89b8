// Messages between the KEN pool (main thread) and its worker threads.

import type { Kernel } from './kernels';

export type Backend = 'js' | 'ort';
export type BackendChoice = Backend | 'auto';
export type Device = 'cuda' | 'cpu';
export type DeviceChoice = Device | 'auto';
/** What computes the js backend's fast density pass (KEN_WASM=0 in the environment forces 'js'). */
export type DensityEngine = 'wasm' | 'js';

export type WorkerRequest =
  | { type: 'init'; backend: Backend; device: DeviceChoice; threads: number; lowPriority: boolean; kernel: Kernel }
  | { type: 'prune'; id: number; k: number; n: number; rows: number; values: Float32Array };

export type WorkerResponse =
  | { type: 'ready'; backend: Backend; executionProvider: Device; densityEngine?: DensityEngine }
  | { type: 'init-failed'; message: string }
  | { type: 'pruned'; id: number; mask: Uint8Array; kept: number }
  | { type: 'row-error'; id: number; row: number; column: number }
  | { type: 'failed'; id: number; message: string };
