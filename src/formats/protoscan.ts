// Protocol-buffer wire format read straight from a file at offsets, so that an ONNX model's
// initializer bytes are located (not loaded) and large models never sit whole in memory.
// protobufjs decodes small messages; nothing there reports byte offsets, which in-place
// rewriting needs.
import { type FileHandle } from 'node:fs/promises';
import { openRegular } from './paths';

export const WIRE_VARINT = 0;
export const WIRE_I64 = 1;
export const WIRE_LEN = 2;
export const WIRE_I32 = 5;

export class ProtoError extends Error {}

export interface Field {
  field: number;
  wire: number;
  /** Offset of the tag. */
  tagAt: number;
  /** Varint value (WIRE_VARINT) as a number (exact up to 2^53). */
  value: number;
  /** Payload range: the bytes of a WIRE_LEN field, or the 4/8 bytes of a fixed field. */
  begin: number;
  end: number;
}

/** A windowed reader over a file; cheap positioned reads of tags and small payloads. */
export class FileScanner {
  private window = Buffer.alloc(0);
  private windowAt = 0;

  private constructor(private readonly fh: FileHandle, readonly size: number) {}

  static async open(path: string): Promise<FileScanner> {
    const fh = await openRegular(path);
    try {
      const size = (await fh.stat()).size;
      return new FileScanner(fh, size);
    } catch (e) {
      await fh.close();
      throw e;
    }
  }

  async close(): Promise<void> {
    await this.fh.close();
  }

  /** Bytes [pos, pos+len), len small or large; reads through the window when it can. */
  async bytes(pos: number, len: number): Promise<Buffer> {
    if (pos < 0 || pos + len > this.size) throw new ProtoError(`truncated: needs bytes ${pos}..${pos + len} of ${this.size}`);
    if (pos >= this.windowAt && pos + len <= this.windowAt + this.window.length) {
      return this.window.subarray(pos - this.windowAt, pos - this.windowAt + len);
    }
    if (len > 65536) {
      const buf = Buffer.allocUnsafeSlow(len);
      let done = 0;
      while (done < len) {
        const { bytesRead } = await this.fh.read(buf, done, len - done, pos + done);
        if (bytesRead === 0) throw new ProtoError('truncated file');
        done += bytesRead;
      }
      return buf;
    }
    const want = Math.min(Math.max(len, 65536), this.size - pos);
    const buf = Buffer.allocUnsafe(want);
    let done = 0;
    while (done < want) {
      const { bytesRead } = await this.fh.read(buf, done, want - done, pos + done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    this.window = buf.subarray(0, done);
    this.windowAt = pos;
    if (done < len) throw new ProtoError('truncated file');
    return this.window.subarray(0, len);
  }

  /** Reads a varint at pos; returns its value and the position after it. */
  async varint(pos: number): Promise<[number, number]> {
    const avail = Math.min(10, this.size - pos);
    if (avail <= 0) throw new ProtoError(`truncated: varint at ${pos}`);
    const b = await this.bytes(pos, avail);
    const [value, used] = decodeVarint(b, 0, pos);
    return [value, pos + used];
  }

  /** Iterates the fields of the message occupying [begin, end). */
  async *fields(begin: number, end: number): AsyncGenerator<Field> {
    let pos = begin;
    while (pos < end) {
      const tagAt = pos;
      const [tag, p1] = await this.varint(pos);
      const field = Math.floor(tag / 8);
      const wire = tag & 7;
      if (field === 0) throw new ProtoError(`bad field number 0 at ${tagAt}`);
      let value = 0;
      let b = p1;
      let e = p1;
      if (wire === WIRE_VARINT) {
        [value, e] = await this.varint(p1);
        b = p1;
      } else if (wire === WIRE_LEN) {
        const [len, p2] = await this.varint(p1);
        b = p2;
        e = p2 + len;
      } else if (wire === WIRE_I64) {
        e = p1 + 8;
      } else if (wire === WIRE_I32) {
        e = p1 + 4;
      } else {
        throw new ProtoError(`unsupported wire type ${wire} at ${tagAt}`);
      }
      if (e > end) throw new ProtoError(`truncated: field ${field} at ${tagAt} runs past its message (${e} > ${end})`);
      yield { field, wire, tagAt, value, begin: b, end: e };
      pos = e;
    }
  }
}

/** Decodes a varint from a buffer; `where` only words the error. */
export function decodeVarint(b: Uint8Array, at: number, where = at): [number, number] {
  let result = 0;
  let mul = 1;
  for (let i = 0; i < 10; i++) {
    if (at + i >= b.length) throw new ProtoError(`truncated: varint at ${where}`);
    const byte = b[at + i]!;
    result += (byte & 0x7f) * mul;
    mul *= 128;
    if ((byte & 0x80) === 0) return [result, at + i + 1];
  }
  throw new ProtoError(`malformed varint at ${where}`);
}

export function encodeVarint(v: number): Buffer {
  const out: number[] = [];
  let x = v;
  while (x >= 128) {
    out.push((x % 128) | 0x80);
    x = Math.floor(x / 128);
  }
  out.push(x);
  return Buffer.from(out);
}

/** Iterates the fields of an in-memory message. */
export function* bufferFields(b: Uint8Array): Generator<Field> {
  let pos = 0;
  while (pos < b.length) {
    const tagAt = pos;
    const [tag, p1] = decodeVarint(b, pos);
    const field = Math.floor(tag / 8);
    const wire = tag & 7;
    let value = 0;
    let s = p1;
    let e = p1;
    if (wire === WIRE_VARINT) [value, e] = decodeVarint(b, p1);
    else if (wire === WIRE_LEN) {
      const [len, p2] = decodeVarint(b, p1);
      s = p2;
      e = p2 + len;
    } else if (wire === WIRE_I64) e = p1 + 8;
    else if (wire === WIRE_I32) e = p1 + 4;
    else throw new ProtoError(`unsupported wire type ${wire} at ${tagAt}`);
    if (e > b.length || field === 0) throw new ProtoError(`truncated message at ${tagAt}`);
    yield { field, wire, tagAt, value, begin: s, end: e };
    pos = e;
  }
}
