// A model's tensors as stored copies ("views"): in its safetensors files or as ONNX initializers, with their
// stored layout, and their bytes put in KEN layout. What the planner, the LoRA merge and the workflows read.
import type { ModelFolder } from './types';
import { readRange } from '../formats/safetensors';
import { columnRowInitializers, readInitializerBytes, type OnnxInitializer } from '../formats/onnx';
import { elementSize, isFloatDType } from '../formats/dtype';
import { transposeBytes } from '../formats/layout';
import { storedLayout } from '../models/names';
import type { ModelFamily } from '../models/types';

/** One stored copy of a tensor. */
export interface TensorView {
  format: 'safetensors' | 'onnx';
  /** The safetensors shard or the ONNX model file. */
  file: string;
  /** Key or initializer name in that file. */
  name: string;
  dtype: string;
  /** Stored shape. */
  shape: number[];
  /** Stored as the transpose of KEN layout (2-D only). */
  transposed: boolean;
  /** Bytes as stored (little-endian), in a fresh buffer the caller owns (KEN writes the pruned tensor into the base's). */
  read(): Promise<Uint8Array>;
  onnxInit?: OnnxInitializer;
}

/** A view's shape in KEN layout (the PyTorch layout: rows are its first axis). */
export function kenShape(view: Pick<TensorView, 'shape' | 'transposed'>): number[] {
  return view.transposed ? [...view.shape].reverse() : [...view.shape];
}

/** The bytes of a view in KEN layout. */
export async function readKenLayout(view: TensorView): Promise<Uint8Array> {
  return kenLayoutOf(view, await view.read());
}

/** A view's stored bytes put in KEN layout (transposed back where the file stores the transpose). */
export function kenLayoutOf(view: TensorView, bytes: Uint8Array): Uint8Array {
  if (!view.transposed) return bytes;
  const size = isFloatDType(view.dtype) ? elementSize(view.dtype) : 4;
  return transposeBytes(bytes, view.shape[0]!, view.shape[1]!, size);
}

/** Every safetensors tensor of a model folder as a view (virtual files read through their readers). */
export function safetensorsViews(folder: ModelFolder): TensorView[] {
  const st = folder.safetensors;
  if (!st) return [];
  const out: TensorView[] = [];
  for (const { entry, file } of st.tensors.values()) {
    const virtual = st.virtual?.files.get(file.path)?.readers.get(entry.name);
    out.push({
      format: 'safetensors', file: file.path, name: entry.name, dtype: entry.dtype, shape: entry.shape, transposed: false,
      read: virtual ?? (() => readRange(file.path, entry.begin, entry.end - entry.begin)),
    });
  }
  return out;
}

/**
 * ONNX initializers as views. KEN layout is the PyTorch layout, so an initializer feeding MatMul (or Gemm
 * without transB) in `[in, out]` orientation is transposed for a Linear weight (`[out, in]` in PyTorch)
 * and as stored for a GPT-2 Conv1D weight (PyTorch stores it `[in, out]` too).
 */
export function onnxViews(folder: ModelFolder, family?: ModelFamily): TensorView[] {
  const model = folder.onnx;
  if (!model) return [];
  const cols = columnRowInitializers(model);
  return model.initializers.map((init) => ({
    format: 'onnx' as const, file: model.path, name: init.name, dtype: init.dtype, shape: init.dims,
    transposed: cols.has(init.name) && storedLayout(init.name, family) !== 'conv1d',
    read: () => readInitializerBytes(model, init), onnxInit: init,
  }));
}
