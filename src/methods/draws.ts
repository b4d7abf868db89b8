// Seeded draws for random and DARE: the same seed gives the same columns on any machine and any
// thread count, because each row's generator depends only on (seed, tensor name, row).
//   key      = the first 16 bytes of sha256("ken-random:<seed>:<tensor name>"), as 4 little-endian uint32
//   state[i] = fmix32(key[i] XOR fmix32(4*row + i + 1))   (MurmurHash3's finalizer; all zero -> state[0] = 1)
//   next()   = xoshiro128** (Blackman and Vigna)
//   below(m) = next() % m, redrawing while next() >= 2^32 - (2^32 mod m) (no modulo bias)
//   columns  = the first k of a partial Fisher-Yates shuffle of 0..n-1: for i < k, swap i with i + below(n - i)
import { createHash } from 'node:crypto';

export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function rotl(x: number, r: number): number {
  return ((x << r) | (x >>> (32 - r))) >>> 0;
}

/** One tensor's draws: `columns(row, n, k, mask, offset)` marks the row's k random columns. */
export class TensorDraws {
  private readonly key: Uint32Array;
  private readonly s = new Uint32Array(4);
  private perm = new Int32Array(0);

  constructor(seed: number, tensor: string) {
    const digest = createHash('sha256').update(`ken-random:${seed}:${tensor}`).digest();
    this.key = new Uint32Array(4);
    for (let i = 0; i < 4; i++) this.key[i] = digest.readUInt32LE(4 * i);
  }

  private start(row: number): void {
    const s = this.s;
    for (let i = 0; i < 4; i++) s[i] = fmix32((this.key[i]! ^ fmix32((4 * row + i + 1) >>> 0)) >>> 0);
    if ((s[0]! | s[1]! | s[2]! | s[3]!) === 0) s[0] = 1;
  }

  /** xoshiro128**: the next uint32. */
  next(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1]!, 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1]! << 9) >>> 0;
    s[2] = s[2]! ^ s[0]!;
    s[3] = s[3]! ^ s[1]!;
    s[1] = s[1]! ^ s[2]!;
    s[0] = s[0]! ^ s[3]!;
    s[2] = s[2]! ^ t;
    s[3] = rotl(s[3]!, 11);
    return result;
  }

  /** Uniform in [0, m). */
  below(m: number): number {
    const limit = 4294967296 - (4294967296 % m);
    for (;;) {
      const x = this.next();
      if (x < limit) return x % m;
    }
  }

  /** Marks min(k, n) columns of `row` drawn uniformly without replacement; returns the count. */
  columns(row: number, n: number, k: number, mask: Uint8Array, offset: number): number {
    if (k >= n) {
      mask.fill(1, offset, offset + n);
      return n;
    }
    if (this.perm.length < n) this.perm = new Int32Array(n);
    const p = this.perm;
    for (let j = 0; j < n; j++) p[j] = j;
    this.start(row);
    for (let i = 0; i < k; i++) {
      const j = i + this.below(n - i);
      const t = p[i]!;
      p[i] = p[j]!;
      p[j] = t;
      mask[offset + p[i]!] = 1;
    }
    return k;
  }
}
