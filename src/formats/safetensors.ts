// safetensors: an 8-byte little-endian header length, a JSON header, then the tensor bytes.
// The header is bounded and validated before use; tensors are read one at a time at their offsets.
import { open, type FileHandle } from 'node:fs/promises';
import { basename } from 'node:path';
import { CheckpointError } from '../errors';
import { openRegular } from './paths';

export interface SafetensorsEntry {
  name: string;
  dtype: string;
  shape: number[];
  /** Absolute byte offsets in the file. */
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  path: string;
  fileSize: number;
  /** 8 + header length: where tensor data starts. */
  dataStart: number;
  metadata: Record<string, string> | undefined;
  /** In header order. */
  tensors: SafetensorsEntry[];
}

const MAX_HEADER = 100 * 1024 * 1024;

const DTYPE_SIZES: Record<string, number> = {
  F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U64: 8, U32: 4, U16: 2, U8: 1, BOOL: 1,
  F8_E4M3: 1, F8_E5M2: 1,
};

export function dtypeSize(dtype: string): number | undefined {
  return DTYPE_SIZES[dtype];
}

export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

async function readExactly(fh: FileHandle, length: number, position: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafeSlow(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await fh.read(buf, done, length - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  if (done !== length) throw new Error(`short read: ${done} of ${length} bytes at ${position}`);
  return buf;
}

/** Reads and validates a safetensors header; every problem is a one-line CheckpointError naming the file. */
export async function readSafetensorsHeader(path: string): Promise<SafetensorsHeader> {
  const name = basename(path);
  const fh = await openRegular(path);
  try {
    const fileSize = (await fh.stat()).size;
    if (fileSize < 8) throw new CheckpointError(`${name}: not a safetensors file (only ${fileSize} bytes)`);
    const lenBuf = await readExactly(fh, 8, 0);
    const headerLen = Number(lenBuf.readBigUInt64LE(0));
    if (headerLen > MAX_HEADER || 8 + headerLen > fileSize) {
      throw new CheckpointError(`${name}: not a safetensors file (header length ${headerLen} does not fit in ${fileSize} bytes)`);
    }
    const text = (await readExactly(fh, headerLen, 8)).toString('utf8');
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new CheckpointError(`${name}: the safetensors header is not JSON`);
    }
    if (!json || typeof json !== 'object' || Array.isArray(json)) throw new CheckpointError(`${name}: the safetensors header is not a JSON object`);
    const dataStart = 8 + headerLen;
    const dataSize = fileSize - dataStart;
    let metadata: Record<string, string> | undefined;
    const tensors: SafetensorsEntry[] = [];
    for (const [key, value] of Object.entries(json as Record<string, unknown>)) {
      if (key === '__metadata__') {
        if (!value || typeof value !== 'object' || Array.isArray(value) || Object.values(value).some((v) => typeof v !== 'string')) {
          throw new CheckpointError(`${name}: __metadata__ must map strings to strings`);
        }
        metadata = value as Record<string, string>;
        continue;
      }
      const v = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
      if (!v || typeof v !== 'object' || typeof v.dtype !== 'string' || !Array.isArray(v.shape) || !Array.isArray(v.data_offsets)) {
        throw new CheckpointError(`${name}: tensor ${key} lacks dtype, shape or data_offsets`);
      }
      const shape = v.shape as unknown[];
      const offs = v.data_offsets as unknown[];
      if (!shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) throw new CheckpointError(`${name}: tensor ${key} has a bad shape`);
      if (offs.length !== 2 || !offs.every((d) => Number.isSafeInteger(d) && (d as number) >= 0) || (offs[0] as number) > (offs[1] as number)) {
        throw new CheckpointError(`${name}: tensor ${key} has bad data_offsets`);
      }
      const [b, e] = offs as [number, number];
      if (e > dataSize) throw new CheckpointError(`${name}: tensor ${key} lies outside the file (bytes ${b}..${e} of ${dataSize})`);
      const size = DTYPE_SIZES[v.dtype];
      if (size !== undefined && numel(shape as number[]) * size !== e - b) {
        throw new CheckpointError(`${name}: tensor ${key} has ${e - b} bytes but ${v.dtype}${JSON.stringify(shape)} needs ${numel(shape as number[]) * size}`);
      }
      tensors.push({ name: key, dtype: v.dtype, shape: shape as number[], begin: dataStart + b, end: dataStart + e });
    }
    // No two tensors may share a byte, and an empty tensor may not sit strictly inside another's
    // bytes: every tensor, empty ones included, is checked against the furthest end seen so far.
    const byOffset = [...tensors].sort((a, b) => a.begin - b.begin || a.end - b.end);
    let reach: SafetensorsEntry | undefined;
    for (const cur of byOffset) {
      if (reach && cur.begin < reach.end) {
        throw new CheckpointError(`${name}: tensors ${reach.name} (bytes ${reach.begin - dataStart}..${reach.end - dataStart}) and ${cur.name} (bytes ${cur.begin - dataStart}..${cur.end - dataStart}) overlap`);
      }
      if (!reach || cur.end > reach.end) reach = cur;
    }
    return { path, fileSize, dataStart, metadata, tensors };
  } catch (e) {
    if (e instanceof CheckpointError) throw e;
    throw new CheckpointError(`${name}: cannot read (${e instanceof Error ? e.message : String(e)})`);
  } finally {
    await fh.close();
  }
}

/** Reads `length` bytes at `position` into a fresh, aligned buffer. */
export async function readRange(path: string, position: number, length: number): Promise<Uint8Array> {
  const fh = await openRegular(path);
  try {
    return await readExactly(fh, length, position);
  } finally {
    await fh.close();
  }
}

export interface TensorToWrite {
  name: string;
  dtype: string;
  shape: number[];
  data: Uint8Array;
}

/** The bytes of a safetensors header for these tensors (laid out in order), padded to 8 bytes. */
export function encodeHeader(tensors: readonly Omit<TensorToWrite, 'data'>[], sizes: readonly number[], metadata?: Record<string, string>): Buffer {
  const obj: Record<string, unknown> = {};
  if (metadata) obj['__metadata__'] = metadata;
  let off = 0;
  tensors.forEach((t, i) => {
    obj[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [off, off + sizes[i]!] };
    off += sizes[i]!;
  });
  let json = JSON.stringify(obj);
  const pad = (8 - ((8 + Buffer.byteLength(json)) % 8)) % 8;
  json += ' '.repeat(pad);
  const header = Buffer.alloc(8 + Buffer.byteLength(json));
  header.writeBigUInt64LE(BigInt(Buffer.byteLength(json)), 0);
  header.write(json, 8, 'utf8');
  return header;
}

/** Writes a complete safetensors file (the caller writes to a temporary name and renames). */
export async function writeSafetensors(path: string, tensors: readonly TensorToWrite[], metadata?: Record<string, string>): Promise<number> {
  const header = encodeHeader(tensors, tensors.map((t) => t.data.byteLength), metadata);
  const fh = await open(path, 'wx');
  try {
    let pos = 0;
    await fh.write(header, 0, header.length, pos);
    pos += header.length;
    for (const t of tensors) {
      await fh.write(t.data, 0, t.data.byteLength, pos);
      pos += t.data.byteLength;
    }
    return pos;
  } finally {
    await fh.close();
  }
}
