// The KDE densities as ONNX graphs that our code builds, run on an onnxruntime session (src/runtime/session.ts
// opens it on CUDA, WebGPU or the CPU). Two density graphs:
// - float64 (CUDA, CPU): the densities themselves; the CPU provider cross-checks the TypeScript pass.
// - float32 (WebGPU: WGSL has no float64): per density the Gaussian sum and a second sum that feeds a
//   rigorous error bound (`f32SumBound`); a density within its bound of a rounding boundary is summed
//   again exactly in float64 on the CPU (RowPruner), so the kept sets stay the reference's.
// Selection always stays in TypeScript.
import { Writer } from 'protobufjs/minimal';
import { valueInfo } from '../formats/onnx-write';
import type { DensitySums } from './worker-protocol';
import { SQRT_2PI, bandwidth, fillGrid, keepsWholeRow, type DensityProvider } from './row';
import type { OpenedSession } from '../runtime/session';

const FLOAT = 1;
const DOUBLE = 11;
const INT64 = 7;

function node(w: Writer, op: string, inputs: string[], outputs: string[], attrs: { name: string; ints?: number[]; i?: number }[] = []): void {
  w.uint32((1 << 3) | 2).fork();
  for (const i of inputs) w.uint32((1 << 3) | 2).string(i);
  for (const o of outputs) w.uint32((2 << 3) | 2).string(o);
  w.uint32((4 << 3) | 2).string(op);
  for (const a of attrs) {
    w.uint32((5 << 3) | 2).fork();
    w.uint32((1 << 3) | 2).string(a.name);
    if (a.ints) {
      for (const v of a.ints) w.uint32((8 << 3) | 0).int64(v);
      w.uint32((20 << 3) | 0).int32(7); // INTS
    } else {
      w.uint32((3 << 3) | 0).int64(a.i ?? 0);
      w.uint32((20 << 3) | 0).int32(2); // INT
    }
    w.ldelim();
  }
  w.ldelim();
}

function scalarInit(w: Writer, name: string, v: number, type: number): void {
  w.uint32((5 << 3) | 2).fork();
  w.uint32((2 << 3) | 0).int32(type);
  w.uint32((8 << 3) | 2).string(name);
  const b = new Uint8Array(type === DOUBLE ? 8 : 4);
  if (type === DOUBLE) new DataView(b.buffer).setFloat64(0, v, true);
  else new DataView(b.buffer).setFloat32(0, v, true);
  w.uint32((9 << 3) | 2).bytes(b);
  w.ldelim();
}

function axesInit(w: Writer, name: string, axis: number): void {
  w.uint32((5 << 3) | 2).fork();
  w.uint32((1 << 3) | 0).int64(1);
  w.uint32((2 << 3) | 0).int32(INT64);
  w.uint32((8 << 3) | 2).string(name);
  const ax = new Uint8Array(8);
  new DataView(ax.buffer).setBigInt64(0, BigInt(axis), true);
  w.uint32((9 << 3) | 2).bytes(ax);
  w.ldelim();
}

function modelHeader(w: Writer): void {
  w.uint32((1 << 3) | 0).int64(8); // ir_version
  w.uint32((2 << 3) | 2).string('ken');
  w.uint32((8 << 3) | 2).fork(); // opset_import
  w.uint32((2 << 3) | 0).int64(17);
  w.ldelim();
}

/**
 * D[r, i] = norm[r] * sum_j exp(-0.5 * ((G[r, i] - X[r, j]) * invh[r])^2)
 * inputs X [R, 1, n], G [R, k, 1], invh [R, 1, 1], norm [R, 1] (all float64); output D [R, k].
 */
export function densityModel(): Uint8Array {
  const w = Writer.create();
  modelHeader(w);
  w.uint32((7 << 3) | 2).fork(); // graph
  node(w, 'Sub', ['G', 'X'], ['diff']);
  node(w, 'Mul', ['diff', 'invh'], ['z']);
  node(w, 'Mul', ['z', 'z'], ['z2']);
  node(w, 'Mul', ['z2', 'minus_half'], ['e']);
  node(w, 'Exp', ['e'], ['terms']);
  node(w, 'ReduceSum', ['terms', 'axes'], ['sums'], [{ name: 'keepdims', i: 0 }]);
  node(w, 'Mul', ['sums', 'norm'], ['D']);
  w.uint32((2 << 3) | 2).string('ken_kde');
  scalarInit(w, 'minus_half', -0.5, DOUBLE);
  axesInit(w, 'axes', 2);
  valueInfo(w, 11, 'X', DOUBLE, ['R', 1, 'n']);
  valueInfo(w, 11, 'G', DOUBLE, ['R', 'k', 1]);
  valueInfo(w, 11, 'invh', DOUBLE, ['R', 1, 1]);
  valueInfo(w, 11, 'norm', DOUBLE, ['R', 1]);
  valueInfo(w, 12, 'D', DOUBLE, ['R', 'k']);
  w.ldelim();
  return w.finish();
}

/**
 * The float32 density graph (WebGPU). Inputs, prepared on the CPU in float64 and rounded once to
 * float32: a row's values scaled and centred, A[r, 0, q, p] = (x_j - c) / h with j = q*B + p (padded
 * to m*B values with a value whose terms are exactly 0), and its grid, G[r, i, 0, 0] = (g_i - c) / h,
 * c the middle of the row's range. Then z = G - A, e = -z^2/2, t = exp(e) and, summed in two levels
 * (B values, then m blocks; see `f32SumBound`):
 *   S[r, i] = sum_j t,  Q[r, i] = sum_j e t  (= -sum_j w t, w = z^2/2).
 * The density is S * norm (norm = 1 / (n h sqrt(2 pi)), in float64 on the CPU).
 */
export function densityModelF32(): Uint8Array {
  const w = Writer.create();
  modelHeader(w);
  w.uint32((7 << 3) | 2).fork(); // graph
  node(w, 'Sub', ['G', 'A'], ['z']);
  node(w, 'Mul', ['z', 'z'], ['z2']);
  node(w, 'Mul', ['z2', 'minus_half'], ['e']);
  node(w, 'Exp', ['e'], ['t']);
  node(w, 'ReduceSum', ['t', 'axis3'], ['t_blocks'], [{ name: 'keepdims', i: 0 }]);
  node(w, 'ReduceSum', ['t_blocks', 'axis2'], ['S'], [{ name: 'keepdims', i: 0 }]);
  node(w, 'Mul', ['e', 't'], ['et']);
  node(w, 'ReduceSum', ['et', 'axis3'], ['et_blocks'], [{ name: 'keepdims', i: 0 }]);
  node(w, 'ReduceSum', ['et_blocks', 'axis2'], ['Q'], [{ name: 'keepdims', i: 0 }]);
  w.uint32((2 << 3) | 2).string('ken_kde_f32');
  scalarInit(w, 'minus_half', -0.5, FLOAT);
  axesInit(w, 'axis3', 3);
  axesInit(w, 'axis2', 2);
  valueInfo(w, 11, 'A', FLOAT, ['R', 1, 'm', 'B']);
  valueInfo(w, 11, 'G', FLOAT, ['R', 'k', 1, 1]);
  valueInfo(w, 12, 'S', FLOAT, ['R', 'k']);
  valueInfo(w, 12, 'Q', FLOAT, ['R', 'k']);
  w.ldelim();
  return w.finish();
}

/** The two-level summation of the float32 graph: B values per block, m blocks (m*B >= n). */
export function f32Blocks(n: number): { B: number; m: number } {
  const B = Math.max(1, Math.ceil(Math.sqrt(n)));
  return { B, m: Math.ceil(n / B) };
}

/** Rows whose scaled half-range A exceeds this are summed on the CPU (the bound assumes A <= 1024). */
export const F32_MAX_A = 1024;
/** Rows so wide that B + m exceeds this are summed on the CPU (the bound's factors assume (B + m)u < 3e-4). */
export const F32_MAX_BLOCKS = 4096;
/** Padding sits this far (in bandwidths) beyond the grid: exp(-40^2/2) is 0 in float32. */
export const F32_PAD = 40;
const U = 2 ** -24; // unit roundoff of float32
const TINY = 2 ** -119; // per value: flushed subnormals, terms beyond |z| = 15

/**
 * A rigorous bound on |S - sum_j exp(-z_j^2/2)| (exact z_j from the float64 inputs) for one density
 * of the float32 graph, from its computed S and Q, the row's A = max |a_j|, |g_i| (scaled; A <= 1024)
 * and n, B, m. Derivation, u = 2^-24, first order, per value (z its exact offset, t = exp(-z^2/2)):
 * - inputs: a, g rounded once to float32 (error <= u*A each); z~ = fl(g~ - a~) adds u*|z|:
 *   |z~ - z| <= d = 2uA + u|z|.
 * - w~ = fl(z~ * z~)/2: |w~ - w| <= d|z| + u z^2/2 = u(2A|z| + 1.5 z^2).
 * - exp (WGSL, as Vulkan's GLSL.std.450 Exp): 3 + 2|x| ULP, a relative error <= u(6 + 2 z^2).
 * So |t~ - t| <= u t (6 + 2A|z| + 3.5 z^2); with |z| <= 1/2 + w and z^2 = 2w:
 *   <= u t ((6 + A) + (2A + 7) w).
 * Second-order terms (A <= 1024, |z| <= 15: d <= 1.3e-4, |w~ - w| <= 1.9e-3) fit in +1 and a factor
 * 1.01; values with |z| > 15 have t, t~ < e^-100 and, with flushed subnormals, cost < 2^-119 each.
 * Summation of nonnegative terms in any order adds at most (count-1)u of the sum per level:
 * (B + m - 2)u. The exact S and S2 = sum w t are bounded from the computed ones (each t~ within
 * 0.2% of t for |z| <= 15): S <= 1.004 S~, S2 <= 1.004 |Q~| + 0.002 S.
 * Bound = 1.01u [(7 + A + B + m) S + (2A + 7) S2] + 2 n 2^-119.
 */
export function f32SumBound(S: number, Q: number, A: number, n: number, B: number, m: number): number {
  const sUp = 1.004 * S + n * TINY;
  const s2Up = 1.004 * Math.abs(Q) + 0.002 * sUp;
  return 1.01 * U * ((7 + A + B + m) * sUp + (2 * A + 7) * s2Up) + 2 * n * TINY;
}

// ---------------------------------------------------------------------------------------------
// Densities of chunks of rows, batched into graph runs

// Cells of the [rows, k, n] intermediate per graph run: float64 (CUDA, CPU) about 128 MB; float32
// (WebGPU) 128 MB per tensor (WebGPU's default storage-buffer binding limit), 32 MB on software.
const MAX_F64_CELLS = 16_000_000;
const MAX_F32_CELLS = 32_000_000;
const MAX_F32_CELLS_SOFTWARE = 8_000_000;

/** Rows of a chunk that need densities (finite, not kept whole), with their min and max. */
export function rowsToCompute(values: Float32Array, rows: number, n: number, k: number): { r: number; min: number; max: number }[] {
  const todo: { r: number; min: number; max: number }[] = [];
  for (let r = 0; r < rows; r++) {
    const row = values.subarray(r * n, (r + 1) * n);
    let min = Infinity;
    let max = -Infinity;
    let finite = true;
    for (let j = 0; j < n; j++) {
      const v = row[j]!;
      if (!Number.isFinite(v)) finite = false;
      if (v < min) min = v;
      if (v > max) max = v;
    }
    if (finite && !keepsWholeRow(n, k, min, max)) todo.push({ r, min, max });
  }
  return todo;
}

/** Densities of a chunk's rows with the float64 graph (CUDA, CPU). */
export async function densitiesF64(opened: OpenedSession, values: Float32Array, rows: number, n: number, k: number): Promise<DensitySums> {
  const { session, ort } = opened;
  const S = new Float64Array(rows * k).fill(NaN);
  const todo = rowsToCompute(values, rows, n, k);
  const perRun = Math.max(1, Math.floor(MAX_F64_CELLS / (k * n)));
  for (let start = 0; start < todo.length; start += perRun) {
    const batch = todo.slice(start, start + perRun);
    const R = batch.length;
    const X = new Float64Array(R * n);
    const G = new Float64Array(R * k);
    const invh = new Float64Array(R);
    const norm = new Float64Array(R);
    batch.forEach(({ r, min, max }, b) => {
      const row = values.subarray(r * n, (r + 1) * n);
      X.set(row, b * n);
      fillGrid(min, max, k, G.subarray(b * k, (b + 1) * k));
      const h = bandwidth(row);
      invh[b] = 1 / h;
      norm[b] = 1 / (n * h * SQRT_2PI);
    });
    const res = await session.run({
      X: new ort.Tensor('float64', X, [R, 1, n]),
      G: new ort.Tensor('float64', G, [R, k, 1]),
      invh: new ort.Tensor('float64', invh, [R, 1, 1]),
      norm: new ort.Tensor('float64', norm, [R, 1]),
    });
    const D = res['D']!.data as Float64Array;
    batch.forEach(({ r }, b) => S.set(D.subarray(b * k, (b + 1) * k), r * k));
  }
  return { precision: 'f64', S };
}

/**
 * Densities of a chunk's rows with the float32 graph (WebGPU). The graph's inputs for each row, in float64 then rounded once: a_j = (x_j - c) / h and
 * g_i = (grid_i - c) / h with c the middle of the row's range, padding at -(A + F32_PAD). Rows whose
 * A (the largest |a_j|, |g_i|) exceeds F32_MAX_A stay NaN (their densities are summed on the CPU).
 */
export async function densitiesF32(opened: OpenedSession, values: Float32Array, rows: number, n: number, k: number): Promise<Extract<DensitySums, { precision: 'f32' }>> {
  const { session, ort, adapter } = opened;
  const S = new Float32Array(rows * k).fill(NaN);
  const Q = new Float32Array(rows * k).fill(NaN);
  const Arow = new Float64Array(rows).fill(NaN);
  const { B, m } = f32Blocks(n);
  const width = m * B;
  if (B + m > F32_MAX_BLOCKS) return { precision: 'f32', S, Q, A: Arow }; // every row on the CPU
  const todo = rowsToCompute(values, rows, n, k);
  const cells = adapter?.software ? MAX_F32_CELLS_SOFTWARE : MAX_F32_CELLS;
  const perRun = Math.max(1, Math.floor(cells / (k * width)));
  const grid = new Float64Array(k);
  for (let start = 0; start < todo.length; start += perRun) {
    const batch: { r: number; A: number }[] = [];
    const A = new Float32Array(Math.min(perRun, todo.length - start) * width);
    const G = new Float32Array(Math.min(perRun, todo.length - start) * k);
    for (const { r, min, max } of todo.slice(start, start + perRun)) {
      const b = batch.length;
      const row = values.subarray(r * n, (r + 1) * n);
      const h = bandwidth(row);
      const c = 0.5 * min + 0.5 * max;
      fillGrid(min, max, k, grid);
      let amax = 0;
      const a = A.subarray(b * width, (b + 1) * width);
      for (let j = 0; j < n; j++) {
        const v = (row[j]! - c) / h;
        a[j] = v;
        if (Math.abs(v) > amax) amax = Math.abs(v);
      }
      const g = G.subarray(b * k, (b + 1) * k);
      for (let i = 0; i < k; i++) {
        const v = (grid[i]! - c) / h;
        g[i] = v;
        if (Math.abs(v) > amax) amax = Math.abs(v);
      }
      if (!(amax <= F32_MAX_A)) continue; // reuses slot b for the next row
      a.fill(-(amax + F32_PAD), n);
      batch.push({ r, A: amax });
    }
    const R = batch.length;
    if (R === 0) continue;
    const res = await session.run({
      A: new ort.Tensor('float32', R * width === A.length ? A : A.slice(0, R * width), [R, 1, m, B]),
      G: new ort.Tensor('float32', R * k === G.length ? G : G.slice(0, R * k), [R, k, 1, 1]),
    });
    const s = res['S']!.data as Float32Array;
    const q = res['Q']!.data as Float32Array;
    batch.forEach(({ r, A: amax }, b) => {
      S.set(s.subarray(b * k, (b + 1) * k), r * k);
      Q.set(q.subarray(b * k, (b + 1) * k), r * k);
      Arow[r] = amax;
    });
  }
  return { precision: 'f32', S, Q, A: Arow };
}

/** The provider that hands a selection worker's pruner the densities of one row of a chunk. */
export function sumsProvider(sums: DensitySums, r: number, k: number): DensityProvider {
  return (row, _grid, h, out, bounds) => {
    const base = r * k;
    const S = sums.S;
    if (Number.isNaN(S[base]!)) return false;
    if (sums.precision === 'f64') {
      out.set(S.subarray(base, base + k));
      bounds.fill(0);
      return true;
    }
    const n = row.length;
    const norm = 1 / (n * h * SQRT_2PI);
    const { B, m } = f32Blocks(n);
    const A = sums.A[r]!;
    for (let i = 0; i < k; i++) {
      const s = S[base + i]!;
      out[i] = s * norm;
      bounds[i] = f32SumBound(s, sums.Q[base + i]!, A, n, B, m) * norm;
    }
    return true;
  };
}
