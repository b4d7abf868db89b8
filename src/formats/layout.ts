// Tensor layout helpers: KEN rows, transposition of stored bytes, merging kept values.
import { fromFloat32, isFloatDType, toFloat32, type FloatDType } from './dtype';

/** KEN rows of a tensor in KEN layout: 0-/1-D are one row, more dimensions are rows along the first axis. */
export function kenRows(shape: readonly number[]): { rows: number; n: number } {
  if (shape.length <= 1) return { rows: 1, n: shape.length === 0 ? 1 : shape[0]! };
  let n = 1;
  for (let i = 1; i < shape.length; i++) n *= shape[i]!;
  return { rows: shape[0]!, n };
}

/** Transposes a row-major [rows, cols] matrix of `elem`-byte elements. */
export function transposeBytes(src: Uint8Array, rows: number, cols: number, elem: number): Uint8Array {
  const out = new Uint8Array(src.byteLength);
  if (elem === 4 && src.byteOffset % 4 === 0) {
    const s = new Uint32Array(src.buffer, src.byteOffset, rows * cols);
    const d = new Uint32Array(out.buffer);
    transposeTyped(s, d, rows, cols);
  } else if (elem === 2 && src.byteOffset % 2 === 0) {
    const s = new Uint16Array(src.buffer, src.byteOffset, rows * cols);
    const d = new Uint16Array(out.buffer);
    transposeTyped(s, d, rows, cols);
  } else {
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) out.set(src.subarray((r * cols + c) * elem, (r * cols + c + 1) * elem), (c * rows + r) * elem);
    }
  }
  return out;
}

function transposeTyped(s: Uint32Array | Uint16Array, d: Uint32Array | Uint16Array, rows: number, cols: number): void {
  const B = 32;
  for (let r0 = 0; r0 < rows; r0 += B) {
    const r1 = Math.min(rows, r0 + B);
    for (let c0 = 0; c0 < cols; c0 += B) {
      const c1 = Math.min(cols, c0 + B);
      for (let r = r0; r < r1; r++) for (let c = c0; c < c1; c++) d[c * rows + r] = s[r * cols + c]!;
    }
  }
}

/** Re-encodes `bytes` of `from` as `to` (through float32); identity when they agree. */
export function convertBytes(bytes: Uint8Array, from: FloatDType, to: FloatDType): Uint8Array {
  if (from === to) return bytes;
  return fromFloat32(toFloat32(bytes, from), to);
}

/** base[i] = finetuned[i] where kept, in place; returns base (both in the same dtype and layout). */
export function mergeKeptInto(ft: Uint8Array, base: Uint8Array, mask: Uint8Array, elem: number): Uint8Array {
  const n = mask.length;
  if (elem === 4 && ft.byteOffset % 4 === 0 && base.byteOffset % 4 === 0) {
    // branchless, as mergeKept: about half the positions are kept, so a branch would mispredict often
    const f = new Int32Array(ft.buffer, ft.byteOffset, n);
    const b = new Int32Array(base.buffer, base.byteOffset, n);
    for (let i = 0; i < n; i++) b[i] = b[i]! ^ ((f[i]! ^ b[i]!) & -mask[i]!);
  } else if (elem === 2 && ft.byteOffset % 2 === 0 && base.byteOffset % 2 === 0) {
    const f = new Uint16Array(ft.buffer, ft.byteOffset, n);
    const b = new Uint16Array(base.buffer, base.byteOffset, n);
    for (let i = 0; i < n; i++) b[i] = b[i]! ^ ((f[i]! ^ b[i]!) & -mask[i]!);
  } else {
    for (let i = 0; i < n; i++) if (mask[i]) base.set(ft.subarray(i * elem, (i + 1) * elem), i * elem);
  }
  return base;
}

/** out = kept ? finetuned : base, element by element (both already in the same dtype and layout). */
export function mergeKept(ft: Uint8Array, base: Uint8Array, mask: Uint8Array, elem: number): Uint8Array {
  const out = new Uint8Array(ft.byteLength);
  const n = mask.length;
  if (elem === 4 && ft.byteOffset % 4 === 0 && base.byteOffset % 4 === 0) {
    const f = new Int32Array(ft.buffer, ft.byteOffset, n);
    const b = new Int32Array(base.buffer, base.byteOffset, n);
    const o = new Int32Array(out.buffer);
    // branchless select: -1 (all bits) where kept, 0 elsewhere (half the positions differ: no branch to mispredict)
    for (let i = 0; i < n; i++) o[i] = b[i]! ^ ((f[i]! ^ b[i]!) & -mask[i]!);
  } else if (elem === 2 && ft.byteOffset % 2 === 0 && base.byteOffset % 2 === 0) {
    const f = new Uint16Array(ft.buffer, ft.byteOffset, n);
    const b = new Uint16Array(base.buffer, base.byteOffset, n);
    const o = new Uint16Array(out.buffer);
    for (let i = 0; i < n; i++) o[i] = b[i]! ^ ((f[i]! ^ b[i]!) & -mask[i]!);
  } else {
    for (let i = 0; i < n; i++) out.set((mask[i] ? ft : base).subarray(i * elem, (i + 1) * elem), i * elem);
  }
  return out;
}

export { isFloatDType };
