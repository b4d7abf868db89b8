// ken-subnetwork.safetensors: only what KEN kept, readable with any safetensors reader.
//
// For each pruned tensor (KEN layout, R rows of n values):
//   values:<name>  the kept fine-tuned values, row by row, in the tensor's dtype, shape [K]
//   and either
//   index:<name>   each kept value's column within its row (U8, U16 or U32, the narrowest that fits n), shape [K]
//   counts:<name>  kept values per row (narrowest type that holds n), shape [R]
//   or
//   mask:<name>    a bitmask over the R*n positions, row-major, least significant bit first, shape [ceil(R*n/8)]
//   whichever is smaller.
// Tensors kept whole (no base, task head, excluded, every value kept): whole:<name>, as they are.
// Each file of the pruned checkpoint folder: file:<path>, its bytes with the tensors' bytes cut out
// (the "holes", listed in the metadata), so that `ken restore` rebuilds every file bit for bit.
// __metadata__ holds "format": "ken-subnetwork" and "ken": a JSON document (SubnetworkMeta).
import { createReadStream, createWriteStream } from 'node:fs';
import { open, rm, type FileHandle } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { CheckpointError } from '../errors';
import { isAbsolute, normalize } from 'node:path';
import { isFloatDType } from './dtype';
import { checked, parseJson } from './input';
import { subnetworkMetaSchema } from './schemas';
import { dtypeSize, encodeHeader, numel, readRange, readSafetensorsHeader, type SafetensorsEntry, type SafetensorsHeader } from './safetensors';

/** The subnetwork's file name in a KEN output folder (one place: prune, compare, watch, the panel, the extension). */
export const SUBNETWORK_FILE = 'ken-subnetwork.safetensors';

export const SUBNETWORK_FORMAT = 'ken-subnetwork';
export const SUBNETWORK_VERSION = 1;

export type PositionLayout = 'index' | 'mask' | 'whole';

export interface SubnetworkTensor {
  name: string;
  dtype: string;
  /** KEN layout. */
  shape: number[];
  layout: PositionLayout;
  status: string;
  kept: number;
  total: number;
  /** The base tensor the pruned values were merged into, with its fingerprint. */
  base?: { name: string; format: 'safetensors' | 'onnx'; dtype: string; sha256: string };
}

export interface Hole {
  /** Byte offset in the restored file. */
  offset: number;
  length: number;
  /** Logical tensor whose (pruned) bytes fill the hole. */
  tensor: string;
  /** The file stores it transposed (an ONNX MatMul weight). */
  transposed: boolean;
  /** Stored dtype and shape in that file. */
  dtype: string;
  shape: number[];
}

export interface SubnetworkFile {
  /** Path relative to the checkpoint folder. */
  path: string;
  size: number;
  sha256: string;
  holes: Hole[];
}

export interface SubnetworkMeta {
  format: typeof SUBNETWORK_FORMAT;
  version: number;
  tool: string;
  k: number;
  /** The KDE's kernel (scikit-learn's name); files written before kernels existed lack it (gaussian). */
  kernel?: string;
  /** The pruning method (src/methods); files written before methods existed lack it (ken). */
  method?: string;
  /** The seed of a seeded method (random, dare). */
  seed?: number;
  scope: string;
  include?: string;
  exclude?: string;
  includeHead: boolean;
  tensors: SubnetworkTensor[];
  files: SubnetworkFile[];
}

function indexType(max: number): { dtype: 'U8' | 'U16' | 'U32'; size: number } {
  if (max <= 0xff) return { dtype: 'U8', size: 1 };
  if (max <= 0xffff) return { dtype: 'U16', size: 2 };
  return { dtype: 'U32', size: 4 };
}

/** The bytes of a tensor's positions as encodePositions stores them (index+counts or a bitmask, the smaller). */
export function positionsBytes(rows: number, n: number, kept: number): number {
  const indexBytes = kept * indexType(Math.max(0, n - 1)).size + rows * indexType(n).size;
  const maskBytes = Math.ceil((rows * n) / 8);
  return Math.min(indexBytes, maskBytes);
}

/** Encodes a KEN-layout mask as positions: index+counts or a bitmask, whichever is smaller. */
export function encodePositions(mask: Uint8Array, rows: number, n: number, kept: number): { layout: 'index' | 'mask'; parts: { key: string; dtype: string; shape: number[]; data: Uint8Array }[] } {
  const idx = indexType(Math.max(0, n - 1));
  const cnt = indexType(n);
  const maskBytes = Math.ceil((rows * n) / 8);
  if (positionsBytes(rows, n, kept) < maskBytes) {
    const index = newUints(idx.size, kept);
    const counts = newUints(cnt.size, rows);
    let p = 0;
    for (let r = 0; r < rows; r++) {
      const base = r * n;
      const start = p;
      for (let j = 0; j < n; j++) if (mask[base + j]) index[p++] = j;
      counts[r] = p - start;
    }
    return {
      layout: 'index',
      parts: [
        { key: 'index', dtype: idx.dtype, shape: [kept], data: new Uint8Array(index.buffer) },
        { key: 'counts', dtype: cnt.dtype, shape: [rows], data: new Uint8Array(counts.buffer) },
      ],
    };
  }
  const bits = new Uint8Array(maskBytes);
  const total = rows * n;
  const whole = total & ~7;
  for (let i = 0; i < whole; i += 8) {
    bits[i >> 3] = mask[i]! | (mask[i + 1]! << 1) | (mask[i + 2]! << 2) | (mask[i + 3]! << 3) |
      (mask[i + 4]! << 4) | (mask[i + 5]! << 5) | (mask[i + 6]! << 6) | (mask[i + 7]! << 7);
  }
  for (let i = whole; i < total; i++) if (mask[i]) bits[i >> 3]! |= 1 << (i & 7);
  return { layout: 'mask', parts: [{ key: 'mask', dtype: 'U8', shape: [maskBytes], data: bits }] };
}

function newUints(size: number, length: number): Uint8Array | Uint16Array | Uint32Array {
  return size === 1 ? new Uint8Array(length) : size === 2 ? new Uint16Array(length) : new Uint32Array(length);
}

/** The kept values of `bytes` (KEN layout, `elem` bytes each) in mask order. */
export function gatherKept(bytes: Uint8Array, mask: Uint8Array, kept: number, elem: number): Uint8Array {
  const n = mask.length;
  // branch-free where the width allows: every value is written at the next slot, which advances only
  // past kept ones (about half are kept, so a branch would mispredict often); one spare slot at the end
  if ((elem === 4 && bytes.byteOffset % 4 === 0) || (elem === 2 && bytes.byteOffset % 2 === 0)) {
    const out = new Uint8Array((kept + 1) * elem);
    const src = elem === 4 ? new Uint32Array(bytes.buffer, bytes.byteOffset, n) : new Uint16Array(bytes.buffer, bytes.byteOffset, n);
    const dst = elem === 4 ? new Uint32Array(out.buffer) : new Uint16Array(out.buffer);
    let p = 0;
    for (let i = 0; i < n; i++) {
      dst[p] = src[i]!;
      p += (mask[i]! + 255) >> 8; // 1 for any non-zero mask byte
    }
    return out.subarray(0, kept * elem);
  }
  const out = new Uint8Array(kept * elem);
  let p = 0;
  for (let i = 0; i < n; i++) {
    if (mask[i]) {
      out.set(bytes.subarray(i * elem, (i + 1) * elem), p * elem);
      p++;
    }
  }
  return out;
}

interface PendingEntry {
  key: string;
  dtype: string;
  shape: number[];
  size: number;
}

/** Streams entries to a data file, then writes header + data as the final file. */
export class SubnetworkWriter {
  private entries: PendingEntry[] = [];
  private fh: FileHandle | undefined;
  private pos = 0;

  constructor(private readonly dataPath: string) {}

  async add(key: string, dtype: string, shape: number[], data: Uint8Array): Promise<void> {
    this.fh ??= await open(this.dataPath, 'wx');
    let done = 0;
    while (done < data.byteLength) {
      const { bytesWritten } = await this.fh.write(data, done, data.byteLength - done, this.pos + done);
      done += bytesWritten;
    }
    this.pos += data.byteLength;
    this.entries.push({ key, dtype, shape, size: data.byteLength });
  }

  /** Closes the data file without writing the subnetwork (after a failure or a cancel). */
  async abandon(): Promise<void> {
    const fh = this.fh;
    this.fh = undefined;
    await fh?.close().catch(() => undefined);
  }

  /** Writes the subnetwork file at `path` and returns its size. */
  async finish(path: string, meta: SubnetworkMeta): Promise<number> {
    this.fh ??= await open(this.dataPath, 'wx');
    await this.fh.close();
    this.fh = undefined;
    const header = encodeHeader(
      this.entries.map((e) => ({ name: e.key, dtype: e.dtype, shape: e.shape })),
      this.entries.map((e) => e.size),
      { format: SUBNETWORK_FORMAT, ken: JSON.stringify(meta) },
    );
    const out = createWriteStream(path, { flags: 'wx' });
    out.write(header);
    await pipeline(createReadStream(this.dataPath), out);
    await rm(this.dataPath, { force: true });
    return header.length + this.pos;
  }
}

export interface Subnetwork {
  path: string;
  header: SafetensorsHeader;
  meta: SubnetworkMeta;
  entries: Map<string, SafetensorsEntry>;
}

/** Opens a subnetwork file; anything else is refused with a one-line error. Its metadata is never trusted:
 * it is checked against a schema, then against the file's own entries, before anything uses it. */
export async function readSubnetwork(path: string): Promise<Subnetwork> {
  const header = await readSafetensorsHeader(path);
  if (header.metadata?.['format'] !== SUBNETWORK_FORMAT || typeof header.metadata['ken'] !== 'string') {
    throw new CheckpointError(`${path}: not a KEN subnetwork file (its __metadata__ has no "format": "${SUBNETWORK_FORMAT}")`);
  }
  const raw = parseJson(header.metadata['ken'], `${path}: the subnetwork's "ken" metadata`);
  const version = (raw as { version?: unknown } | null)?.version;
  if (typeof version === 'number' && version > SUBNETWORK_VERSION) throw new CheckpointError(`${path}: subnetwork format version ${version} is newer than this tool reads (${SUBNETWORK_VERSION})`);
  const meta: SubnetworkMeta = checked(subnetworkMetaSchema, raw, `${path}: the subnetwork's "ken" metadata`);
  const entries = new Map(header.tensors.map((t) => [t.name, t]));
  checkSubnetwork(path, meta, entries);
  return { path, header, meta, entries };
}

/** A file entry's path as it will be written: relative, inside the output folder, naming a file. */
export function safeEntryPath(p: string): boolean {
  if (p.includes('\0') || isAbsolute(p) || /^[a-zA-Z]:/.test(p)) return false;
  // in normal form only (as prune writes them): no '.', '..', empty or trailing parts
  const parts = p.split(/[\\/]/);
  return normalize(p) === p && parts.every((x) => x !== '' && x !== '.' && x !== '..');
}

function elemBytes(dtype: string): number | undefined {
  return dtypeSize(dtype);
}

/**
 * The metadata against the file's own entries: every entry it names exists with the size it implies,
 * file paths are safe and distinct, and each file's holes neither overlap nor leave it, and together
 * with its skeleton make up exactly its size (so a restore writes no more than the file it rebuilds).
 */
export function checkSubnetwork(path: string, meta: SubnetworkMeta, entries: ReadonlyMap<string, SafetensorsEntry>): void {
  const bad = (what: string): never => {
    throw new CheckpointError(`${path}: ${what}`);
  };
  const entry = (key: string, dtype?: string): SafetensorsEntry => {
    const e = entries.get(key);
    if (!e) return bad(`entry ${key} is missing`);
    if (dtype !== undefined && e.dtype !== dtype) bad(`entry ${key} is ${e.dtype}, expected ${dtype}`);
    return e;
  };
  const tensors = new Map<string, SubnetworkTensor>();
  for (const t of meta.tensors) {
    if (tensors.has(t.name)) bad(`tensor ${t.name} is listed twice`);
    tensors.set(t.name, t);
    const total = numel(t.shape);
    if (t.total !== total) bad(`tensor ${t.name}: total ${t.total} but shape ${JSON.stringify(t.shape)}`);
    if (t.kept > total) bad(`tensor ${t.name}: keeps ${t.kept} of ${total} values`);
    const elem = elemBytes(t.dtype);
    if (elem === undefined) bad(`tensor ${t.name}: unknown dtype ${JSON.stringify(t.dtype)}`);
    if (t.layout === 'whole') {
      const e = entry(`whole:${t.name}`, t.dtype);
      if (e.end - e.begin !== total * elem!) bad(`entry whole:${t.name} has ${e.end - e.begin} bytes, expected ${total * elem!}`);
      continue;
    }
    if (!t.base) bad(`tensor ${t.name} was pruned but names no base tensor`);
    if (!isFloatDType(t.dtype)) bad(`tensor ${t.name}: pruned tensors are F32, F16 or BF16, not ${t.dtype}`);
    const rows = t.shape.length <= 1 ? 1 : t.shape[0]!;
    const v = entry(`values:${t.name}`, t.dtype);
    if (v.end - v.begin !== t.kept * elem!) bad(`entry values:${t.name} has ${v.end - v.begin} bytes for ${t.kept} kept values`);
    if (t.layout === 'mask') {
      const m = entry(`mask:${t.name}`, 'U8');
      if (m.end - m.begin !== Math.ceil(total / 8)) bad(`entry mask:${t.name} has ${m.end - m.begin} bytes for ${total} positions`);
    } else {
      const idx = entry(`index:${t.name}`);
      const cnt = entry(`counts:${t.name}`);
      for (const e of [idx, cnt]) if (!['U8', 'U16', 'U32'].includes(e.dtype)) bad(`entry ${e.name} is ${e.dtype}, expected U8, U16 or U32`);
      if (numel(idx.shape) !== t.kept) bad(`entry index:${t.name} holds ${numel(idx.shape)} positions for ${t.kept} kept values`);
      if (numel(cnt.shape) !== rows) bad(`entry counts:${t.name} holds ${numel(cnt.shape)} counts for ${rows} rows`);
    }
  }
  const paths = new Set<string>();
  for (const f of meta.files) {
    if (!safeEntryPath(f.path)) bad(`file entry ${JSON.stringify(f.path)} is not a relative path to a file inside the output folder`);
    const key = normalize(f.path);
    if (paths.has(key)) bad(`file entry ${JSON.stringify(f.path)} is listed twice`);
    paths.add(key);
    const skeleton = entry(`file:${f.path}`);
    const holes = [...f.holes].sort((a, b) => a.offset - b.offset || a.length - b.length);
    let end = 0;
    let filled = 0;
    let prev: Hole | undefined;
    for (const h of holes) {
      const where = `file ${f.path}: hole at byte ${h.offset} (${h.tensor})`;
      const t = tensors.get(h.tensor);
      if (!t) bad(`file ${f.path} needs tensor ${h.tensor}, which it does not hold`);
      if (h.offset < end || (prev && h.length === 0 && prev.offset === h.offset && prev.tensor === h.tensor)) bad(`${where} overlaps another`);
      if (h.offset + h.length > f.size) bad(`${where} ends past the file's ${f.size} bytes`);
      const he = elemBytes(h.dtype);
      if (he === undefined) bad(`${where}: unknown dtype ${JSON.stringify(h.dtype)}`);
      if (numel(h.shape) !== t!.total || h.length !== t!.total * he!) bad(`${where}: ${h.dtype}${JSON.stringify(h.shape)} in ${h.length} bytes does not hold tensor ${t!.name} ${JSON.stringify(t!.shape)}`);
      if (h.dtype !== t!.dtype && !(isFloatDType(h.dtype) && isFloatDType(t!.dtype))) bad(`${where}: cannot store ${t!.dtype} as ${h.dtype}`);
      if (h.transposed && (t!.shape.length !== 2 || !isFloatDType(h.dtype))) bad(`${where}: only a 2-D float tensor can be stored transposed`);
      end = h.offset + h.length;
      filled += h.length;
      prev = h;
    }
    if (skeleton.end - skeleton.begin + filled !== f.size) bad(`file ${f.path}: ${skeleton.end - skeleton.begin} skeleton bytes and ${filled} hole bytes do not make its ${f.size} bytes`);
  }
}

export async function readEntry(sub: Subnetwork, key: string): Promise<Uint8Array> {
  const e = sub.entries.get(key);
  if (!e) throw new CheckpointError(`${sub.path}: entry ${key} is missing`);
  return readRange(sub.path, e.begin, e.end - e.begin);
}

function readUints(bytes: Uint8Array, dtype: string): ArrayLike<number> {
  const copy = bytes.slice();
  if (dtype === 'U8') return copy;
  if (dtype === 'U16') return new Uint16Array(copy.buffer, 0, copy.byteLength / 2);
  return new Uint32Array(copy.buffer, 0, copy.byteLength / 4);
}

/** The KEN-layout mask of a pruned tensor (1 = kept); all ones for a tensor kept whole. */
export async function readMask(sub: Subnetwork, t: SubnetworkTensor): Promise<Uint8Array> {
  const rows = t.shape.length <= 1 ? 1 : t.shape[0]!;
  const total = t.shape.reduce((a, b) => a * b, 1);
  const n = rows === 0 ? 0 : total / rows;
  const mask = new Uint8Array(total);
  if (t.layout === 'whole') return mask.fill(1);
  if (t.layout === 'mask') {
    const bits = await readEntry(sub, `mask:${t.name}`);
    for (let i = 0; i < total; i++) mask[i] = (bits[i >> 3]! >> (i & 7)) & 1;
    return mask;
  }
  const idxEntry = sub.entries.get(`index:${t.name}`);
  const cntEntry = sub.entries.get(`counts:${t.name}`);
  if (!idxEntry || !cntEntry) throw new CheckpointError(`${sub.path}: positions of ${t.name} are missing`);
  const index = readUints(await readEntry(sub, idxEntry.name), idxEntry.dtype);
  const counts = readUints(await readEntry(sub, cntEntry.name), cntEntry.dtype);
  let p = 0;
  for (let r = 0; r < rows; r++) {
    const c = counts[r]!;
    for (let q = 0; q < c; q++) {
      const j = index[p++]!;
      if (j >= n || p > index.length) throw new CheckpointError(`${sub.path}: positions of ${t.name} are corrupt (row ${r})`);
      mask[r * n + j] = 1;
    }
  }
  if (p !== index.length) throw new CheckpointError(`${sub.path}: positions of ${t.name} are corrupt (counts and index disagree)`);
  return mask;
}
