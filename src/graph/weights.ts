// Where a built graph's weights come from: the byte ranges of a checkpoint's safetensors files (every
// shard), or buffers in memory for the tensors that changed (a pruned model, a sweep's k). The graph's
// initializers are ONNX external data pointing at those ranges; onnxruntime maps the files itself and
// takes the replaced tensors inside the graph's bytes, so no weight is copied or rewritten on disk.
import { realpathSync } from 'node:fs';
import { basename, dirname, relative } from 'node:path';
import { CheckpointError } from '../errors';
import type { SafetensorsCheckpoint } from '../formats/virtual';

export interface WeightInfo {
  dtype: string;
  shape: readonly number[];
}

export interface WeightLocation {
  /** The file it lives in, for messages ("(in memory)" for buffers). */
  file: string;
  /** The external-data location written in the graph: a file relative to the weights folder, or a buffer's name. */
  location: string;
  offset: number;
  length: number;
  /** The bytes themselves, for a tensor replaced from memory (written into the graph as raw data). */
  inline?: Uint8Array;
}

/** Tensors a graph can use, by their checkpoint names. */
export interface WeightSource {
  has(name: string): boolean;
  info(name: string): WeightInfo;
  location(name: string): WeightLocation;
  /** Every tensor name (for heads that look for optional tensors). */
  names(): Iterable<string>;
}

/** An in-memory external-data file for onnxruntime's session options. */
export interface MemoryFile {
  path: string;
  data: Uint8Array;
}

const MEMORY_PREFIX = 'ken-memory-';

/** Legacy names some checkpoints store (TF-converted BERTs: LayerNorm.gamma/beta), tried when the modern one is absent. */
function legacyName(name: string): string | undefined {
  if (/LayerNorm\.weight$/.test(name)) return name.replace(/weight$/, 'gamma');
  if (/LayerNorm\.bias$/.test(name)) return name.replace(/bias$/, 'beta');
  return undefined;
}

/**
 * A safetensors checkpoint (one file or shards) as a WeightSource. `overrides` replace tensors with
 * bytes in memory, in the tensor's stored dtype and layout (same length as the stored tensor).
 */
export class CheckpointWeights implements WeightSource {
  /**
   * The folder external-data locations are relative to: where the weight files really are.
   * onnxruntime refuses locations that resolve outside it, and the Hugging Face cache's snapshot
   * files are links into its blobs/ folder, so links are followed first.
   */
  readonly folder: string;
  private readonly memory = new Map<string, MemoryFile>();
  private readonly real = new Map<string, string>();

  constructor(
    private readonly checkpoint: SafetensorsCheckpoint,
    overrides?: ReadonlyMap<string, Uint8Array>,
    /** Write locations relative to this folder instead (a graph saved elsewhere, `ken graph --out`). */
    relativeTo?: string,
  ) {
    const first = checkpoint.files[0];
    if (!first) throw new CheckpointError('the checkpoint has no safetensors files');
    for (const f of checkpoint.files) {
      try {
        this.real.set(f.path, realpathSync(f.path));
      } catch {
        throw new CheckpointError(`${f.path}: cannot be read`);
      }
    }
    this.folder = relativeTo ?? dirname(this.real.get(first.path)!);
    for (const f of relativeTo === undefined ? checkpoint.files : []) {
      if (dirname(this.real.get(f.path)!) !== this.folder) {
        throw new CheckpointError(`${f.path}: the weight files lie in different folders (${this.folder}, ${dirname(this.real.get(f.path)!)}); the built graph reads them from one`);
      }
    }
    let i = 0;
    for (const [name, data] of overrides ?? []) {
      const t = this.checkpoint.tensors.get(name);
      if (!t) throw new CheckpointError(`${this.folder}: no tensor ${name} to replace`);
      const length = t.entry.end - t.entry.begin;
      if (data.byteLength !== length) throw new CheckpointError(`${basename(t.file.path)}: tensor ${name} has ${length} bytes; the replacement has ${data.byteLength}`);
      this.memory.set(name, { path: `${MEMORY_PREFIX}${i++}.bin`, data });
    }
  }

  private resolve(name: string): string | undefined {
    if (this.checkpoint.tensors.has(name)) return name;
    const legacy = legacyName(name);
    return legacy !== undefined && this.checkpoint.tensors.has(legacy) ? legacy : undefined;
  }

  has(name: string): boolean {
    return this.resolve(name) !== undefined;
  }

  private entry(name: string): { stored: string; t: NonNullable<ReturnType<SafetensorsCheckpoint['tensors']['get']>> } {
    const stored = this.resolve(name);
    const t = stored === undefined ? undefined : this.checkpoint.tensors.get(stored);
    if (stored === undefined || !t) {
      const files = this.checkpoint.files.map((f) => basename(f.path)).join(', ');
      throw new CheckpointError(`${this.folder}: no tensor ${name} in ${files} (the built graph needs it)`);
    }
    return { stored, t };
  }

  info(name: string): WeightInfo {
    const { t } = this.entry(name);
    return { dtype: t.entry.dtype, shape: t.entry.shape };
  }

  location(name: string): WeightLocation {
    const { stored, t } = this.entry(name);
    const mem = this.memory.get(stored);
    if (mem) return { file: '(in memory)', location: mem.path, offset: 0, length: mem.data.byteLength, inline: mem.data };
    return { file: t.file.path, location: relative(this.folder, this.real.get(t.file.path)!), offset: t.entry.begin, length: t.entry.end - t.entry.begin };
  }

  names(): Iterable<string> {
    return this.checkpoint.tensors.keys();
  }

  /**
   * The in-memory external-data files the session needs. None: onnxruntime (1.30) takes in-memory
   * external data only when every external file is in memory, so the replaced tensors travel inside
   * the graph's bytes instead (raw data), and the rest stay mapped from the checkpoint's files.
   */
  memoryFiles(): MemoryFile[] {
    return [];
  }

  /** Bytes of the replaced tensors (they are written into the graph). */
  get replacedBytes(): number {
    let n = 0;
    for (const m of this.memory.values()) n += m.data.byteLength;
    return n;
  }
}
