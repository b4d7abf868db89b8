// The zip container torch.save writes (`pytorch_model.bin`): only the central directory is read, and an
// entry's bytes are located in place, so a multi-gigabyte checkpoint is never loaded whole. torch stores
// every entry uncompressed; a compressed entry is inflated (small pickles only). Zip64 is supported.
// A hand-written reader because the zip libraries at hand read the whole archive into memory.
import { type FileHandle } from 'node:fs/promises';
import { basename } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { CheckpointError } from '../errors';
import { openRegular } from './paths';

export interface ZipEntry {
  name: string;
  /** 0 = stored, 8 = deflated. */
  method: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

export interface ZipArchive {
  path: string;
  entries: Map<string, ZipEntry>;
}

async function readAt(fh: FileHandle, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await fh.read(buf, done, length - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return buf.subarray(0, done);
}

const EOCD = 0x06054b50;
const EOCD64 = 0x06064b50;
const EOCD64_LOCATOR = 0x07064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

/** Whether the file starts like a zip archive (torch's format since 1.6) rather than a legacy pickle. */
export async function isZip(path: string): Promise<boolean> {
  const fh = await openRegular(path);
  try {
    const head = await readAt(fh, 0, 4);
    return head.length === 4 && head.readUInt32LE(0) === LOCAL;
  } finally {
    await fh.close();
  }
}

export async function readZip(path: string): Promise<ZipArchive> {
  const name = basename(path);
  const bad = (why: string): CheckpointError => new CheckpointError(`${name}: not a readable zip archive (${why})`);
  const fh = await openRegular(path);
  try {
    const size = (await fh.stat()).size;
    const tailLen = Math.min(size, 65557);
    const tail = await readAt(fh, size - tailLen, tailLen);
    let at = -1;
    for (let i = tail.length - 22; i >= 0; i--) {
      if (tail.readUInt32LE(i) === EOCD) {
        at = i;
        break;
      }
    }
    if (at < 0) throw bad('no end of central directory');
    let count = tail.readUInt16LE(at + 10);
    let cdSize = tail.readUInt32LE(at + 12);
    let cdOffset = tail.readUInt32LE(at + 16);
    if (count === 0xffff || cdOffset === 0xffffffff || cdSize === 0xffffffff) {
      const loc = at - 20;
      if (loc < 0 || tail.readUInt32LE(loc) !== EOCD64_LOCATOR) throw bad('zip64 locator missing');
      const eocd64At = Number(tail.readBigUInt64LE(loc + 8));
      const e64 = await readAt(fh, eocd64At, 56);
      if (e64.length < 56 || e64.readUInt32LE(0) !== EOCD64) throw bad('zip64 directory missing');
      count = Number(e64.readBigUInt64LE(32));
      cdSize = Number(e64.readBigUInt64LE(40));
      cdOffset = Number(e64.readBigUInt64LE(48));
    }
    if (cdOffset + cdSize > size || cdSize > 512 * 1024 * 1024) throw bad('central directory out of range');
    const cd = await readAt(fh, cdOffset, cdSize);
    const entries = new Map<string, ZipEntry>();
    let p = 0;
    for (let i = 0; i < count; i++) {
      if (p + 46 > cd.length || cd.readUInt32LE(p) !== CENTRAL) throw bad(`central directory entry ${i}`);
      const method = cd.readUInt16LE(p + 10);
      let compressedSize = cd.readUInt32LE(p + 20);
      let usize = cd.readUInt32LE(p + 24);
      const nameLen = cd.readUInt16LE(p + 28);
      const extraLen = cd.readUInt16LE(p + 30);
      const commentLen = cd.readUInt16LE(p + 32);
      let localHeaderOffset = cd.readUInt32LE(p + 42);
      const entryName = cd.subarray(p + 46, p + 46 + nameLen).toString('utf8');
      // zip64 extra field: the 0xffffffff fields, in order
      let e = p + 46 + nameLen;
      const eEnd = e + extraLen;
      while (e + 4 <= eEnd) {
        const id = cd.readUInt16LE(e);
        const len = cd.readUInt16LE(e + 2);
        if (id === 0x0001) {
          let q = e + 4;
          if (usize === 0xffffffff) { usize = Number(cd.readBigUInt64LE(q)); q += 8; }
          if (compressedSize === 0xffffffff) { compressedSize = Number(cd.readBigUInt64LE(q)); q += 8; }
          if (localHeaderOffset === 0xffffffff) { localHeaderOffset = Number(cd.readBigUInt64LE(q)); q += 8; }
        }
        e += 4 + len;
      }
      entries.set(entryName, { name: entryName, method, compressedSize, size: usize, localHeaderOffset });
      p += 46 + nameLen + extraLen + commentLen;
    }
    return { path, entries };
  } finally {
    await fh.close();
  }
}

/** Where a stored entry's bytes lie in the archive file. */
export async function entryRange(zip: ZipArchive, entry: ZipEntry): Promise<{ begin: number; end: number }> {
  const fh = await openRegular(zip.path);
  try {
    const h = await readAt(fh, entry.localHeaderOffset, 30);
    if (h.length < 30 || h.readUInt32LE(0) !== LOCAL) throw new CheckpointError(`${basename(zip.path)}: entry ${entry.name} has no local header`);
    const begin = entry.localHeaderOffset + 30 + h.readUInt16LE(26) + h.readUInt16LE(28);
    return { begin, end: begin + entry.compressedSize };
  } finally {
    await fh.close();
  }
}

/** The whole (small) entry, inflated when compressed. */
export async function readEntryBytes(zip: ZipArchive, entry: ZipEntry, limit = 256 * 1024 * 1024): Promise<Buffer> {
  if (entry.size > limit) throw new CheckpointError(`${basename(zip.path)}: entry ${entry.name} is too large (${entry.size} bytes)`);
  const { begin, end } = await entryRange(zip, entry);
  const fh = await openRegular(zip.path);
  try {
    const raw = await readAt(fh, begin, end - begin);
    if (entry.method === 0) return raw;
    if (entry.method === 8) return inflateRawSync(raw, { maxOutputLength: limit });
    throw new CheckpointError(`${basename(zip.path)}: entry ${entry.name} uses zip method ${entry.method}`);
  } finally {
    await fh.close();
  }
}
