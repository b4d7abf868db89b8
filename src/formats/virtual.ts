// Virtual safetensors files: a checkpoint read from another format (PyTorch's pickled zip, a LoRA adapter
// merged into its base) presented as the safetensors files it is written out as. Each tensor's bytes
// come from a reader; the header and offsets are those of the file `writeVirtualFile` writes, so the
// rest of the tool (planning, in-place writes of pruned tensors, the subnetwork's file skeletons) sees
// ordinary safetensors.
import { open } from 'node:fs/promises';
import { throwIfAborted } from '../errors';
import { encodeHeader, type SafetensorsEntry, type SafetensorsHeader } from './safetensors';

export interface VirtualTensor {
  name: string;
  dtype: string;
  shape: number[];
  byteLength: number;
  read(): Promise<Uint8Array>;
}

export interface VirtualFile {
  header: SafetensorsHeader;
  headerBytes: Buffer;
  readers: Map<string, () => Promise<Uint8Array>>;
}

export interface VirtualCheckpoint {
  /** Virtual safetensors file path -> how to produce it. */
  files: Map<string, VirtualFile>;
  /** The content of the virtual model.safetensors.index.json, when sharded. */
  index: string | undefined;
  /** What the tensors were read from, for the report ("pytorch_model.bin", "LoRA adapter merged into ..."). */
  source: string;
  /** Tensors known to be the base's own bytes (what a LoRA adapter does not touch): `name -> base tensor name`. */
  unchanged?: Map<string, string>;
}

export function virtualSafetensors(path: string, tensors: readonly VirtualTensor[], metadata?: Record<string, string>): VirtualFile {
  const headerBytes = encodeHeader(tensors, tensors.map((t) => t.byteLength), metadata);
  const entries: SafetensorsEntry[] = [];
  let off = headerBytes.length;
  for (const t of tensors) {
    entries.push({ name: t.name, dtype: t.dtype, shape: [...t.shape], begin: off, end: off + t.byteLength });
    off += t.byteLength;
  }
  return {
    header: { path, fileSize: off, dataStart: headerBytes.length, metadata, tensors: entries },
    headerBytes,
    readers: new Map(tensors.map((t) => [t.name, t.read])),
  };
}

/** Writes a virtual file out as a real safetensors file at `dest` (created, never overwritten). */
export async function writeVirtualFile(vf: VirtualFile, dest: string, signal?: AbortSignal): Promise<void> {
  const fh = await open(dest, 'wx');
  try {
    await fh.write(vf.headerBytes, 0, vf.headerBytes.length, 0);
    for (const e of vf.header.tensors) {
      throwIfAborted(signal);
      const bytes = await vf.readers.get(e.name)!();
      await fh.write(bytes, 0, bytes.byteLength, e.begin);
    }
  } finally {
    await fh.close();
  }
}

/** A checkpoint's safetensors weights: its files (real, or virtual ones presented for another format) and every tensor by name. */
export interface SafetensorsCheckpoint {
  /** Weight files, in the order their tensors are listed. */
  files: SafetensorsHeader[];
  /** model.safetensors.index.json when sharded (copied as it is). */
  indexFile: string | undefined;
  tensors: Map<string, { entry: SafetensorsEntry; file: SafetensorsHeader }>;
  /** Set when the tensors come from another format (pytorch_model.bin, a merged LoRA adapter): the files above are written out, not copied. */
  virtual?: VirtualCheckpoint;
}
