// KEN's fast density pass in WebAssembly SIMD (densities.wat, assembled at build time): the same
// operations as `recurrenceDensities` in the same order, with an exp that is bit-identical to V8's
// Math.exp, so its densities equal the TypeScript ones bit for bit (tests check both that and the
// definition). One instance per thread; its memory grows to the largest row seen.
import bytes from './densities.wat';
import { HERMITE_MAX_TERMS, INV, withHermite, type HermitePass, type HermitePlan } from './hermite-densities';
import { SQRT_2PI, TERM_FLOOR, directDensities, recurrenceDensities, type RecurrenceDensities } from './row';
import type { DensityEngine } from './worker-protocol';

interface Exports {
  memory: WebAssembly.Memory;
  densities(
    row: number, n: number, grid: number, k: number, out: number, scratch: number, pidx: number,
    lo: number, invStep: number, invh: number, u: number, halfU2: number,
    c: number, c2: number, c3: number, c4: number, c10: number, c16: number, floor: number, norm: number,
  ): void;
  expArray(ptr: number, n: number): void;
  hermite(
    row: number, n: number, k: number, mom: number, tab: number, inv: number, out: number,
    lo: number, invStep: number, step: number, invh: number, u: number,
    a: number, L: number, P: number, R: number, cells: number, rm: number, ratio: number,
  ): void;
  heapBase: WebAssembly.Global;
}

const align16 = (b: number): number => (b + 15) & ~15;
const PAGE = 65536;
// Rows needing more memory than this (about 70 million values) take the TypeScript pass: every
// address then stays a positive int32 inside the module.
const MAX_BYTES = 2 ** 31;

export class WasmDensities {
  private f32 = new Float32Array(0);
  private f64 = new Float64Array(0);
  private readonly heapBase: number;

  private constructor(private readonly exports: Exports) {
    // 1/q for q = 0..HERMITE_MAX_TERMS at the heap's start (the expansion's table divides by q)
    this.invAt = exports.heapBase.value as number;
    this.heapBase = this.invAt + align16(8 * (HERMITE_MAX_TERMS + 1));
    this.views();
    this.reserve(this.heapBase);
    this.f64.set(INV, this.invAt >> 3);
  }
  private readonly invAt: number;

  /** The module instantiated synchronously, or undefined where WebAssembly (with SIMD) is not available. */
  static create(): WasmDensities | undefined {
    try {
      if (typeof WebAssembly !== 'object' || !WebAssembly.validate(bytes)) return undefined;
      const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), {});
      return new WasmDensities(instance.exports as unknown as Exports);
    } catch {
      return undefined;
    }
  }

  private views(): void {
    const buf = this.exports.memory.buffer;
    this.f32 = new Float32Array(buf);
    this.f64 = new Float64Array(buf);
  }

  /** Makes the memory at least `bytes` long; false where it cannot grow that far. */
  private reserve(bytes: number): boolean {
    const have = this.exports.memory.buffer.byteLength;
    if (bytes > have) {
      if (bytes > MAX_BYTES) return false;
      try {
        this.exports.memory.grow(Math.ceil((bytes - have) / PAGE));
      } catch {
        return false; // RangeError: no memory left for it
      }
    }
    if (this.f64.buffer !== this.exports.memory.buffer) this.views();
    return true;
  }

  /** Same contract and same results as `recurrenceDensities`. */
  readonly densities: RecurrenceDensities = (row, grid, h, out, termFloor = TERM_FLOOR) => {
    const n = row.length;
    const k = out.length;
    if (k === 1) {
      directDensities(row, grid, h, out);
      return;
    }
    const even = n + (n & 1);
    const rowAt = this.heapBase;
    const gridAt = rowAt + align16(4 * even);
    const outAt = gridAt + align16(8 * k) + 32; // 4 float64 of padding on each side
    const scratchAt = outAt + align16(8 * (k + 4));
    const pidxAt = scratchAt + 24 * even;
    if (!this.reserve(pidxAt + 4 * even)) {
      recurrenceDensities(row, grid, h, out, termFloor);
      return;
    }
    const f32 = this.f32;
    f32.set(row, rowAt >> 2);
    if (n & 1) f32[(rowAt >> 2) + n] = row[0]!;
    this.f64.set(grid, gridAt >> 3);
    // the scalars exactly as recurrenceDensities computes them
    const lo = grid[0]!;
    const invh = 1 / h;
    const step = (grid[k - 1]! - lo) / (k - 1);
    const invStep = 1 / step;
    const u = step * invh;
    const u2 = u * u;
    const halfU2 = 0.5 * u2;
    this.exports.densities(
      rowAt, n, gridAt, k, outAt, scratchAt, pidxAt,
      lo, invStep, invh, u, halfU2,
      Math.exp(-u2), Math.exp(-2 * u2), Math.exp(-3 * u2), Math.exp(-4 * u2), Math.exp(-10 * u2), Math.exp(-16 * u2),
      termFloor, 1 / (n * h * SQRT_2PI),
    );
    out.set(this.f64.subarray(outAt >> 3, (outAt >> 3) + k));
  };

  /** `hermiteDensities` (hermite-densities.ts) for a plan with a >= 0; within the same error bound. */
  readonly hermite: HermitePass = (row, grid, h, out, plan: HermitePlan) => {
    const n = row.length;
    const k = out.length;
    const { a, P, R } = plan;
    const L = 2 * a + 1;
    const cells = Math.ceil(k / L);
    const pad = R + L;
    const rowAt = this.heapBase;
    const momAt = rowAt + align16(4 * n);
    const tabAt = momAt + 8 * cells * P;
    const outAt = tabAt + 8 * (R + 1) * P;
    if (!this.reserve(outAt + 8 * (k + 2 * pad))) return false;
    this.f32.set(row, rowAt >> 2);
    const lo = grid[0]!;
    const invh = 1 / h;
    const step = (grid[k - 1]! - lo) / (k - 1);
    const u = step * invh;
    this.exports.hermite(
      rowAt, n, k, momAt, tabAt, this.invAt, outAt,
      lo, 1 / step, step, invh, u,
      a, L, P, R, cells, Math.exp(-0.5 * u * u), Math.exp(-u * u),
    );
    const f64 = this.f64;
    const norm = 1 / (n * h * SQRT_2PI);
    const first = (outAt >> 3) + pad;
    for (let i = 0; i < k; i++) out[i] = f64[first + i]! * norm;
    return true;
  };

  /** The module's exp applied to each value (for tests: it must equal Math.exp bit for bit). */
  exp(values: Float64Array, out: Float64Array): void {
    const n = values.length;
    const at = this.heapBase;
    if (!this.reserve(at + 8 * (n + 1))) throw new RangeError(`no memory for ${n} values`);
    this.f64.set(values, at >> 3);
    this.exports.expArray(at, n);
    out.set(this.f64.subarray(at >> 3, (at >> 3) + n));
  }
}

/**
 * The fast density pass for this thread: WebAssembly when it instantiates, TypeScript otherwise or
 * when the environment says KEN_WASM=0 (for comparisons).
 */
export function fastDensityPass(env: NodeJS.ProcessEnv = process.env): { engine: DensityEngine; pass: RecurrenceDensities } {
  const wasm = env['KEN_WASM'] === '0' ? undefined : WasmDensities.create();
  const expansion = env['KEN_HERMITE'] !== '0';
  if (!wasm) return { engine: 'js', pass: expansion ? withHermite(recurrenceDensities) : recurrenceDensities };
  return { engine: 'wasm', pass: expansion ? withHermite(wasm.densities, wasm.hermite) : wasm.densities };
}
