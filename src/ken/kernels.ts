// The kernels the reference can hand to scikit-learn's KernelDensity, with scikit-learn's
// normalisation in one dimension (its `_log_kernel_norm` for d = 1): the density at g is
// NORM[kernel] / (n h) * sum_j K(|g - x_j| / h). The compact kernels are zero at distance >= h.
//
// Gaussian densities keep their own fast path (row.ts, wasm-densities.ts). For the others:
// - compact kernels (tophat, epanechnikov, linear, cosine): every non-zero term is summed exactly,
//   each from its own grid point, by walking outward from a value only while the distance stays
//   below h (the grid ascends, so the first point at distance >= h ends a walk). No term is dropped;
//   the only error is float64 rounding. Tophat's terms are ones: RowPruner counts them over the sorted
//   row instead (`tophatDensitiesSorted`, the same bits).
// - exponential: a geometric recurrence along the grid, stopped at a floor, with a bound on what it
//   can be off by; densities within that bound of a rounding boundary are summed again directly.
import { UsageError } from '../errors';

export const KERNELS = ['gaussian', 'tophat', 'epanechnikov', 'exponential', 'linear', 'cosine'] as const;
export type Kernel = (typeof KERNELS)[number];

/** K's integral over the line is 1 / NORM (scikit-learn's normalisation in one dimension, h = 1). */
export const KERNEL_NORM: Readonly<Record<Kernel, number>> = {
  gaussian: 1 / Math.sqrt(2 * Math.PI),
  tophat: 0.5,
  epanechnikov: 0.75,
  exponential: 0.5,
  linear: 1,
  cosine: Math.PI / 4,
};

export function isKernel(name: unknown): name is Kernel {
  return typeof name === 'string' && (KERNELS as readonly string[]).includes(name);
}

/** The kernel named by a user (`--kernel`, a setting), or a usage error listing the choices. */
export function parseKernel(name: string | undefined, what = '--kernel'): Kernel {
  if (name === undefined) return 'gaussian';
  if (isKernel(name)) return name;
  throw new UsageError(`${what} must be one of ${KERNELS.join(', ')} (got ${JSON.stringify(name)})`);
}

/** Whether a kernel is zero at distance >= h. */
export function isCompact(kernel: Kernel): boolean {
  return kernel !== 'gaussian' && kernel !== 'exponential';
}

/** The kernel's profile at distance `d` >= 0 with bandwidth `h` (unnormalised, K(0) = 1). */
export function kernelTerm(kernel: Kernel, d: number, h: number): number {
  switch (kernel) {
    case 'gaussian':
      return Math.exp((-0.5 * (d * d)) / (h * h));
    case 'exponential':
      return Math.exp(-d / h);
    case 'tophat':
      return d < h ? 1 : 0;
    case 'epanechnikov':
      return d < h ? 1 - (d * d) / (h * h) : 0;
    case 'linear':
      return d < h ? 1 - d / h : 0;
    case 'cosine':
      return d < h ? Math.cos((0.5 * Math.PI * d) / h) : 0;
  }
}

/** One density by its definition (every term, in row order). */
export function directKernelDensity(kernel: Kernel, row: Float32Array, g: number, h: number): number {
  let s = 0;
  for (let j = 0; j < row.length; j++) s += kernelTerm(kernel, Math.abs(g - row[j]!), h);
  return (s * KERNEL_NORM[kernel]) / (row.length * h);
}

/** Every grid density by its definition: the yardstick for tests. */
export function directKernelDensities(kernel: Kernel, row: Float32Array, grid: Float64Array, h: number, out: Float64Array): void {
  for (let i = 0; i < out.length; i++) out[i] = directKernelDensity(kernel, row, grid[i]!, h);
}

/** The grid index nearest `x` (clamped): where a walk starts; any start gives the same sums. */
function nearest(x: number, lo: number, invStep: number, last: number): number {
  if (!(invStep < Infinity)) return 0;
  const p = Math.round((x - lo) * invStep);
  return p < 0 ? 0 : p > last ? last : p;
}

/**
 * Densities of a compact kernel: each value adds its term to exactly the grid points closer than h.
 * The grid ascends, so walking right stops at the first point with g - x >= h and walking left at
 * the first with x - g >= h: nothing non-zero is skipped whatever the start.
 */
export function compactDensities(kernel: Kernel, row: Float32Array, grid: Float64Array, h: number, out: Float64Array): void {
  const n = row.length;
  const k = out.length;
  out.fill(0);
  const lo = grid[0]!;
  const last = k - 1;
  const invStep = k > 1 ? (k - 1) / (grid[last]! - lo) : Infinity;
  const invh = 1 / h;
  const invh2 = 1 / (h * h);
  const halfPiOverH = (0.5 * Math.PI) / h;
  for (let j = 0; j < n; j++) {
    const x = row[j]!;
    const p = nearest(x, lo, invStep, last);
    for (let i = p; i <= last; i++) {
      const e = grid[i]! - x;
      if (e >= h) break;
      const d = e < 0 ? -e : e;
      if (d < h) out[i] += term(d);
    }
    for (let i = p - 1; i >= 0; i--) {
      const e = x - grid[i]!;
      if (e >= h) break;
      const d = e < 0 ? -e : e;
      if (d < h) out[i] += term(d);
    }
  }
  const norm = KERNEL_NORM[kernel] / (n * h);
  for (let i = 0; i < k; i++) out[i]! *= norm;

  function term(d: number): number {
    switch (kernel) {
      case 'tophat':
        return 1;
      case 'epanechnikov':
        return 1 - d * d * invh2;
      case 'linear':
        return 1 - d * invh;
      default:
        return Math.cos(d * halfPiOverH);
    }
  }
}

/**
 * Tophat densities from the row sorted ascending (`sorted[0..n)`, float32 values): the value x counts at
 * grid point g when |g - x| < h in float64, exactly `compactDensities`' test. g - x falls as x grows
 * and rises with g, so the values counted at g are a run [a, b) of the sorted row whose ends only move
 * right along an ascending grid: two pointers, O(n + k), and the same integer counts times the same
 * norm as `compactDensities`, so the same bits. False, having filled nothing, when the grid dips.
 */
export function tophatDensitiesSorted(sorted: Float64Array, n: number, grid: Float64Array, h: number, out: Float64Array): boolean {
  const k = out.length;
  for (let i = 1; i < k; i++) if (grid[i]! < grid[i - 1]!) return false;
  const norm = KERNEL_NORM.tophat / (n * h);
  for (let i = 0, a = 0, b = 0; i < k; i++) {
    const g = grid[i]!;
    while (a < n && !(g - sorted[a]! < h)) a++; // first value with g - x < h
    if (b < a) b = a;
    while (b < n && g - sorted[b]! > -h) b++; // first value with g - x <= -h
    out[i] = (b - a) * norm; // compactDensities sums b - a ones: exact, the same number
  }
  return true;
}

/**
 * Exponential-kernel densities by a recurrence: right of a value's start point p the terms are
 * exp(-(g_p - x)/h) * exp(-u)^m (u = step/h), left of it the mirror image. A walk stops at the first
 * term below `floor`; every later term of that walk is smaller, so a grid point misses less than
 * `floor` per value. Returns the absolute bound on each density's error: the dropped terms plus the
 * recurrence's drift (the grid's own rounding against a uniform step, and one rounding per multiply),
 * as a relative part times the density and an absolute part.
 */
export function exponentialDensities(row: Float32Array, grid: Float64Array, h: number, out: Float64Array, floor: number): { absolute: number; relative: number } {
  const n = row.length;
  const k = out.length;
  out.fill(0);
  const lo = grid[0]!;
  const last = k - 1;
  const invh = 1 / h;
  if (k === 1) {
    directKernelDensities('exponential', row, grid, h, out);
    return { absolute: 0, relative: 0 };
  }
  const hi = grid[last]!;
  const step = (hi - lo) / last;
  const invStep = 1 / step;
  const r = Math.exp(-step * invh);
  for (let j = 0; j < n; j++) {
    const x = row[j]!;
    const p = nearest(x, lo, invStep, last);
    const dp = grid[p]! - x;
    out[p] += Math.exp(-(dp < 0 ? -dp : dp) * invh);
    // right: the first term from its own grid point, then one multiply per point (mirror image left)
    let a = p < last ? Math.exp(-Math.abs(grid[p + 1]! - x) * invh) : 0;
    for (let i = p + 1; i <= last && a >= floor; i++) {
      out[i] += a;
      a *= r;
    }
    let b = p > 0 ? Math.exp(-Math.abs(x - grid[p - 1]!) * invh) : 0;
    for (let i = p - 1; i >= 0 && b >= floor; i--) {
      out[i] += b;
      b *= r;
    }
  }
  const norm = KERNEL_NORM.exponential / (n * h);
  for (let i = 0; i < k; i++) out[i]! *= norm;
  // Drift: each g_i differs from lo + i*step by at most a few ulps of the grid's largest magnitude,
  // which moves a term's exponent by that over h; and a term after m multiplies carries m + 2
  // roundings (m <= k). Both are relative to the term, hence to the density.
  const ulp = 2 ** -52;
  const relative = (4 * Math.max(Math.abs(lo), Math.abs(hi)) * ulp) / h + 2 * (k + 4) * ulp;
  return { absolute: floor * norm * n, relative };
}
