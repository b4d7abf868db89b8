// Helpers the mutators share: copying seed folders, reading and writing JSON and safetensors headers.
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Copies a seed folder (or file) to `dest` (files are copied, never linked). */
export function copy(src: string, dest: string): string {
  cpSync(src, dest, { recursive: true, dereference: true });
  return dest;
}

export function readJson(path: string): unknown {
  return JSON.parse(readFileSync(path, 'utf8')) as unknown;
}

export function writeJson(path: string, v: unknown): void {
  writeFileSync(path, JSON.stringify(v) ?? 'undefined');
}

/** A safetensors file as header object + data bytes. */
export function splitSafetensors(bytes: Buffer): { header: Record<string, unknown>; data: Buffer } {
  const n = Number(bytes.readBigUInt64LE(0));
  return { header: JSON.parse(bytes.subarray(8, 8 + n).toString('utf8')) as Record<string, unknown>, data: bytes.subarray(8 + n) };
}

/** Header object (or raw header text) + data bytes back into a safetensors file; `lenDelta` lies about the length. */
export function joinSafetensors(header: unknown, data: Uint8Array, lenDelta = 0): Buffer {
  const text = Buffer.from(typeof header === 'string' ? header : JSON.stringify(header) ?? 'null', 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(Math.max(0, text.length + lenDelta)));
  return Buffer.concat([len, text, data]);
}

export const PRUNE = (ft: string, base: string): string[] => ['prune', ft, '--base', base, '--out', 'out', '-k', '4', '--threads', '1', '--backend', 'js'];
export const EVAL = (model: string, data: string): string[] => ['eval', model, '--data', data, '--device', 'cpu', '--threads', '1'];
export const RESTORE = (sub: string, base: string): string[] => ['restore', sub, '--base', base, '--out', 'out'];

export { join };
