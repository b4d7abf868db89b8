// KEN on one row, with the reference's exact semantics (../../test/data/golden/README.md):
// bandwidth, float64 grid, KDE densities (Gaussian, or another of scikit-learn's kernels: kernels.ts), half-to-even rounding, order, greedy nearest
// without replacement (distances in float32, as numpy 1.x computes them; tie: smallest original
// index), value-membership keep.
//
// Densities on the evenly spaced grid are walked outward from each value's nearest grid point by a
// multiplicative recurrence (three Math.exp per value, then multiply-adds; wasm-densities.ts runs the
// same operations in WebAssembly SIMD); selection runs with "next alive" / "previous alive"
// union-find links over the sorted row.

import { compactDensities, directKernelDensity, exponentialDensities, tophatDensitiesSorted, type Kernel } from './kernels';
import { PHASE_BANDWIDTH_SORT, PHASE_DENSITIES, PHASE_RECHECKS, PHASE_SELECTION } from './profile';

/** A row that holds NaN or infinity; the caller names the tensor. */
export class NonFiniteRowError extends Error {
  constructor(readonly row: number, readonly column: number) {
    super(`row ${row} holds a non-finite value at column ${column}`);
  }
}

const TWO21 = 2097152; // 2^21: room for an index below a 32-bit sort key inside a float64
export const SQRT_2PI = Math.sqrt(2 * Math.PI);
export const TERM_FLOOR = 1e-30; // a Gaussian term below this cannot move a rounded density
// The first pass drops terms that can change no density by more than this (absolute); a second,
// exact pass runs only for densities that lie that close to a rounding boundary. 1e-4 rather than
// 1e-3: walks ~10% longer, but ten times fewer densities summed again (each costs n Math.exp), which
// measured faster (bench/densities.js --phases; BENCHMARKS.md).
export const FIRST_PASS_ERROR = 1e-4;
// The exponential kernel's budget: its walks are long (the tail falls as e^-d), so a smaller budget costs more there.
const FIRST_PASS_ERROR_EXPONENTIAL = 1e-3;

/**
 * Densities of the reference's KDE at its k grid points for one row, computed elsewhere (an ONNX
 * graph): fills `out`, and `bounds` with an upper bound on each density's error (0: exact). A density
 * within its bound of a rounding boundary is summed again exactly. Returns false, having filled
 * nothing, when it has no densities for this row (the built-in pass then runs).
 */
export interface DensityProvider {
  (row: Float32Array, grid: Float64Array, h: number, out: Float64Array, bounds: Float64Array): boolean;
}

/** The fast density pass: `recurrenceDensities`, or its WebAssembly twin (wasm-densities.ts). */
export type RecurrenceDensities = (row: Float32Array, grid: Float64Array, h: number, out: Float64Array, termFloor?: number) => void;

/** Where the reference would crash, or there is nothing to choose, the whole row is kept. */
export function keepsWholeRow(n: number, k: number, min: number, max: number): boolean {
  return k >= n || min === max;
}

/**
 * The reference's bandwidth `abs(1.06 * np.std(x) * np.power(n, -1/5))` with numpy's float32
 * standard deviation bit for bit (its pairwise float32 sums, a float32 mean, float32 squares), then
 * float64. Compact kernels make this matter: a value at distance h from a grid point counts or not.
 * Only n^(-1/5) can differ, by an ulp: numpy's SIMD power is not always correctly rounded (n = 3, 7).
 */
export function bandwidth(row: Float32Array, scratch?: Float32Array): number {
  const n = row.length;
  const mean = Math.fround(pairwiseSum32(row, 0, n) / n);
  const sq = scratch && scratch.length >= n ? scratch : new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const d = Math.fround(row[i]! - mean);
    sq[i] = d * d; // rounded to float32 on store
  }
  let std = Math.fround(Math.sqrt(Math.fround(pairwiseSum32(sq, 0, n) / n)));
  if (!(std > 0 && std < Infinity)) {
    // float32 squares underflowed (values below ~1e-19) or overflowed (above ~1e19): the reference
    // would stop (scikit-learn refuses such a bandwidth); this tool uses the float64 deviation
    let sum = 0;
    for (let i = 0; i < n; i++) sum += row[i]!;
    const m = sum / n;
    let ss = 0;
    for (let i = 0; i < n; i++) ss += (row[i]! - m) * (row[i]! - m);
    std = Math.sqrt(ss / n);
  }
  return Math.abs(1.06 * std * Math.pow(n, -1 / 5));
}

/** numpy's pairwise summation of float32 values (blocks of 128, eight accumulators), in float32. */
export function pairwiseSum32(a: Float32Array, start: number, n: number): number {
  const f = Math.fround;
  if (n < 8) {
    let res = 0;
    for (let i = 0; i < n; i++) res = f(res + a[start + i]!);
    return res;
  }
  if (n <= 128) {
    let r0 = a[start]!, r1 = a[start + 1]!, r2 = a[start + 2]!, r3 = a[start + 3]!;
    let r4 = a[start + 4]!, r5 = a[start + 5]!, r6 = a[start + 6]!, r7 = a[start + 7]!;
    let i = 8;
    for (; i < n - (n % 8); i += 8) {
      const b = start + i;
      r0 = f(r0 + a[b]!);
      r1 = f(r1 + a[b + 1]!);
      r2 = f(r2 + a[b + 2]!);
      r3 = f(r3 + a[b + 3]!);
      r4 = f(r4 + a[b + 4]!);
      r5 = f(r5 + a[b + 5]!);
      r6 = f(r6 + a[b + 6]!);
      r7 = f(r7 + a[b + 7]!);
    }
    let res = f(f(f(r0 + r1) + f(r2 + r3)) + f(f(r4 + r5) + f(r6 + r7)));
    for (; i < n; i++) res = f(res + a[start + i]!);
    return res;
  }
  let n2 = Math.floor(n / 2);
  n2 -= n2 % 8;
  return f(pairwiseSum32(a, start, n2) + pairwiseSum32(a, start + n2, n - n2));
}

/** numpy.linspace(min, max, k) in float64: i*step + min, last point exactly max. */
export function fillGrid(min: number, max: number, k: number, grid: Float64Array): number {
  if (k === 1) {
    grid[0] = min;
    return 0;
  }
  const step = (max - min) / (k - 1);
  for (let i = 0; i < k; i++) grid[i] = i * step + min;
  grid[k - 1] = max;
  return step;
}

/** Direct float64 densities (the definition); used by tests as the yardstick. */
export function directDensities(row: Float32Array, grid: Float64Array, h: number, out: Float64Array): void {
  const n = row.length;
  const k = out.length;
  const inv2h2 = 1 / (2 * h * h);
  const norm = 1 / (n * h * SQRT_2PI);
  for (let i = 0; i < k; i++) {
    const g = grid[i]!;
    let s = 0;
    for (let j = 0; j < n; j++) {
      const d = g - row[j]!;
      s += Math.exp(-d * d * inv2h2);
    }
    out[i] = s * norm;
  }
}

/** One density, summed directly (the definition). */
export function directDensity(row: Float32Array, g: number, h: number): number {
  const n = row.length;
  const inv2h2 = 1 / (2 * h * h);
  let s = 0;
  for (let j = 0; j < n; j++) {
    const d = g - row[j]!;
    s += Math.exp(-d * d * inv2h2);
  }
  return s / (n * h * SQRT_2PI);
}

/**
 * Densities by the outward recurrence; agrees with `directDensities` to ~1e-13 relative.
 * Terms below `termFloor` (relative to a value's peak term, 1) end a walk: each grid point then
 * misses less than n * termFloor before normalization, i.e. termFloor / (h sqrt(2 pi)) of density.
 * Each side of a value is walked by four interleaved chains (grid offsets d, d+1, d+2, d+3, each
 * stepping by four points): one chain's multiplies wait on each other, four do not, and a single
 * chain is bound by the latency of two dependent multiplies per grid point.
 */
export function recurrenceDensities(row: Float32Array, grid: Float64Array, h: number, out: Float64Array, termFloor = TERM_FLOOR): void {
  const n = row.length;
  const k = out.length;
  out.fill(0);
  const lo = grid[0]!;
  const invh = 1 / h;
  if (k === 1) {
    directDensities(row, grid, h, out);
    return;
  }
  const step = (grid[k - 1]! - lo) / (k - 1);
  const invStep = 1 / step;
  const u = step * invh;
  const u2 = u * u;
  const halfU2 = 0.5 * u2;
  // T(d) = exp(-(t + d u)^2 / 2) at offset d from the value's nearest grid point;
  // T(d+1) = T(d) r_d with r_d = r_0 c^d, c = exp(-u^2); T(d+4) = T(d) Q_d with Q_d = r_0^4 c^(4d+6)
  const c = Math.exp(-u2);
  const c2 = Math.exp(-2 * u2);
  const c3 = Math.exp(-3 * u2);
  const c4 = Math.exp(-4 * u2);
  const c10 = Math.exp(-10 * u2);
  const c16 = Math.exp(-16 * u2);
  const last = k - 1;
  for (let j = 0; j < n; j++) {
    const x = row[j]!;
    let p = Math.round((x - lo) * invStep);
    if (p < 0) p = 0;
    else if (p > last) p = last;
    const t = (grid[p]! - x) * invh;
    const t0 = Math.exp(-0.5 * t * t);
    out[p] += t0;
    {
      // right of p: a, b, e, f = T(d..d+3), qa..qf their ratios to T(d+4..d+7)
      const r0 = Math.exp(-t * u - halfU2);
      let a = t0 * r0;
      let b = a * r0 * c;
      let e = b * r0 * c2;
      let f = e * r0 * c3;
      const r02 = r0 * r0;
      let qa = r02 * r02 * c10;
      let qb = qa * c4;
      let qe = qb * c4;
      let qf = qe * c4;
      let m = p + 1;
      for (; m + 3 <= last; m += 4) {
        if (a < termFloor) break;
        out[m] += a;
        out[m + 1] += b;
        out[m + 2] += e;
        out[m + 3] += f;
        a *= qa;
        b *= qb;
        e *= qe;
        f *= qf;
        qa *= c16;
        qb *= c16;
        qe *= c16;
        qf *= c16;
      }
      if (m + 3 > last && a >= termFloor) {
        // the last 0-3 points before the grid's end
        if (m <= last) out[m] += a;
        if (m + 1 <= last) out[m + 1] += b;
        if (m + 2 <= last) out[m + 2] += e;
      }
    }
    {
      // left of p: the mirror image (t -> -t)
      const r0 = Math.exp(t * u - halfU2);
      let a = t0 * r0;
      let b = a * r0 * c;
      let e = b * r0 * c2;
      let f = e * r0 * c3;
      const r02 = r0 * r0;
      let qa = r02 * r02 * c10;
      let qb = qa * c4;
      let qe = qb * c4;
      let qf = qe * c4;
      let m = p - 1;
      for (; m - 3 >= 0; m -= 4) {
        if (a < termFloor) break;
        out[m] += a;
        out[m - 1] += b;
        out[m - 2] += e;
        out[m - 3] += f;
        a *= qa;
        b *= qb;
        e *= qe;
        f *= qf;
        qa *= c16;
        qb *= c16;
        qe *= c16;
        qf *= c16;
      }
      if (m - 3 < 0 && a >= termFloor) {
        if (m >= 0) out[m] += a;
        if (m - 1 >= 0) out[m - 1] += b;
        if (m - 2 >= 0) out[m - 2] += e;
      }
    }
  }
  const norm = 1 / (n * h * SQRT_2PI);
  for (let i = 0; i < k; i++) out[i]! *= norm;
}

/** Whether a density lies within `bound` (plus float rounding slack) of a half-integer, where rounding flips. */
export function nearRoundingBoundary(d: number, bound: number): boolean {
  return Math.abs(d - Math.floor(d) - 0.5) <= bound + 1e-10 * (1 + Math.abs(d));
}

/** Python's round(): half to even. */
export function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/**
 * Reusable buffers for pruning many rows of up to `n` values with `k` grid points;
 * one per thread, so a row costs no allocation.
 */
export class RowPruner {
  private s!: RowScratch;
  /** Densities computed so far, and those summed again exactly (near a rounding boundary). */
  densities = 0;
  rechecked = 0;
  /** When set, seconds per phase are added to it (profile.ts's PHASE_* indices). */
  profile: Float64Array | undefined;
  private clock = 0;
  /** The fast pass's error budget per density (see FIRST_PASS_ERROR); the bench varies it. */
  firstPassError = FIRST_PASS_ERROR;

  private lap(phase: number): void {
    const now = performance.now();
    this.profile![phase]! += (now - this.clock) / 1000;
    this.clock = now;
  }

  /** `fastPass` computes the first, loose densities (default: the TypeScript recurrence). */
  constructor(
    private readonly fastPass: RecurrenceDensities = recurrenceDensities,
    /** The KDE's kernel; the fast pass serves gaussian only, the others have their own (kernels.ts). */
    readonly kernel: Kernel = 'gaussian',
  ) {}

  private ensure(n: number, k: number): void {
    this.s = scratchFor(n, k);
  }

  /**
   * Marks in `mask[offset .. offset+n)` (1 = keep the fine-tuned value) the positions KEN keeps in
   * `row`, and returns how many. `rowIndex` only names the row in errors. `densities`, when given,
   * replaces the built-in recurrence (the ONNX Runtime backend computes them in a graph); densities
   * within its error bound of a rounding boundary are summed again exactly.
   */
  prune(row: Float32Array, k: number, mask: Uint8Array, offset: number, rowIndex = 0, densities?: DensityProvider): number {
    const n = row.length;
    const pf = this.profile;
    if (pf) this.clock = performance.now();
    // branch-free min/max; NaN and infinities show through them, and a second scan names the column
    let min = Infinity;
    let max = -Infinity;
    for (let j = 0; j < n; j++) {
      const v = row[j]!;
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    if (!(min > -Infinity && max < Infinity)) {
      for (let j = 0; j < n; j++) {
        const v = row[j]!;
        if (v !== v || v === Infinity || v === -Infinity) throw new NonFiniteRowError(rowIndex, j);
      }
    }
    if (keepsWholeRow(n, k, min, max)) {
      mask.fill(1, offset, offset + n);
      return n;
    }
    this.ensure(n, k);
    const h = bandwidth(row, this.s.floats);
    // numpy's float32 deviation can vanish where values differ by less than float32 resolves when
    // squared; scikit-learn refuses a zero bandwidth, so the reference has nothing to keep.
    if (!(h > 0 && h < Infinity)) {
      mask.fill(1, offset, offset + n);
      return n;
    }
    const grid = this.s.grid.subarray(0, k);
    const dens = this.s.dens.subarray(0, k);
    fillGrid(min, max, k, grid);
    this.densities += k;
    const bounds = this.s.bounds.subarray(0, k);
    let sortedRow = false;
    if (pf) this.lap(PHASE_BANDWIDTH_SORT);
    if (densities?.(row, grid, h, dens, bounds)) {
      // Second pass: densities that the provider's error could have rounded the wrong way
      if (pf) this.lap(PHASE_DENSITIES);
      for (let i = 0; i < k; i++) {
        if (nearRoundingBoundary(dens[i]!, bounds[i]!)) {
          dens[i] = directDensity(row, grid[i]!, h);
          this.rechecked++;
        }
      }
    } else if (this.kernel === 'gaussian') {
      // Fast pass: walks stop at terms that, summed over all values, move a density by at most
      // FIRST_PASS_ERROR. Only the rounded densities matter, so a density further than that (plus
      // float rounding) from a rounding boundary rounds as the exact one does; the few closer ones
      // are summed again directly, in full.
      const floor = Math.min(1e-4, this.firstPassError * h * SQRT_2PI);
      const bound = floor / (h * SQRT_2PI);
      this.fastPass(row, grid, h, dens, floor);
      if (pf) this.lap(PHASE_DENSITIES);
      for (let i = 0; i < k; i++) {
        if (nearRoundingBoundary(dens[i]!, bound)) {
          dens[i] = directDensity(row, grid[i]!, h);
          this.rechecked++;
        }
      }
    } else if (this.kernel === 'exponential') {
      // The same two passes: a recurrence stopped at a floor, with its error bound; densities that
      // close to a rounding boundary are summed again by the definition.
      const floor = Math.min(1e-4, FIRST_PASS_ERROR_EXPONENTIAL * 2 * h);
      const err = exponentialDensities(row, grid, h, dens, floor);
      if (pf) this.lap(PHASE_DENSITIES);
      for (let i = 0; i < k; i++) {
        if (nearRoundingBoundary(dens[i]!, err.absolute + err.relative * dens[i]!)) {
          dens[i] = directKernelDensity('exponential', row, grid[i]!, h);
          this.rechecked++;
        }
      }
    } else if (this.kernel === 'tophat') {
      // counts over the sorted row (the sort is needed below anyway): the same bits, O(n + k)
      if (!this.s.bucketSortRow(row, min, max)) this.s.radixSortRow(row);
      sortedRow = true;
      if (pf) this.lap(PHASE_BANDWIDTH_SORT);
      if (!tophatDensitiesSorted(this.s.sorted, n, grid, h, dens)) compactDensities(this.kernel, row, grid, h, dens);
      if (pf) this.lap(PHASE_DENSITIES);
    } else {
      compactDensities(this.kernel, row, grid, h, dens); // every non-zero term: nothing to recheck
      if (pf) this.lap(PHASE_DENSITIES);
    }
    if (pf) this.lap(PHASE_RECHECKS);
    const gridOrder = this.s.orderGrid(dens, k);
    if (pf) this.lap(PHASE_SELECTION);
    if (!sortedRow && !this.s.bucketSortRow(row, min, max)) this.s.radixSortRow(row);
    const runs = this.s.markRuns(n);
    if (pf) this.lap(PHASE_BANDWIDTH_SORT);
    const kept = runs ? this.s.select(n, grid, gridOrder, k, mask, offset) : this.s.selectDistinct(n, grid, gridOrder, k, mask, offset);
    if (pf) this.lap(PHASE_SELECTION);
    return kept;
  }
}

/**
 * The row's scratch arrays and its hot loops, as closures over them. One per thread (`scratchFor`),
 * shared by every RowPruner there (a row is pruned synchronously, start to end): with a single
 * closure instance over `const` arrays, V8 compiles the loops against those very arrays, and
 * measured the same bucket sort in 10.6 us a 768-wide row where, reading its arrays from an object's
 * fields (the RowPruner methods before), it took 19-22 us; a second instance of the closures (a
 * second scratch) loses that. Hence one scratch, sized for rows up to SCRATCH_VALUES at once.
 */
function makeRowScratch(cap: number, kcap: number) {
  const floats = new Float32Array(cap);
  const keysA = new Uint32Array(floats.buffer); // a view of `floats`
  const keysB = new Uint32Array(cap);
  const idxA = new Int32Array(cap);
  const idxB = new Int32Array(cap);
  const counts = new Int32Array(1024);
  const order = new Int32Array(cap);
  const sorted = new Float64Array(cap + 1); // and a sentinel
  const runStart = new Int32Array(cap);
  const runEnd = new Int32Array(cap);
  const nxt = new Int32Array(cap + 1);
  const prv = new Int32Array(cap + 1);
  const runDone = new Uint8Array(cap);
  const bcounts = new Int32Array(cap + 1);
  const grid = new Float64Array(kcap);
  const dens = new Float64Array(kcap);
  const bounds = new Float64Array(kcap);
  const gkeys = new Float64Array(kcap);
  const gorder = new Int32Array(kcap);
  const grounded = new Int32Array(kcap);
  const gcounts = new Int32Array(4 * kcap + 257);
  const gpos = new Int32Array(kcap);
  const gfloat = new Float64Array(kcap); // the grid in float32

    /**
     * Grid indices by rounded density, highest first, equal densities by ascending index: a counting
     * sort when the rounded densities are small integers (they are for any row whose bandwidth is not
     * tiny against its values), else a sort.
     */
    function orderGrid(dens: Float64Array, k: number): Int32Array {
      const order = gorder.subarray(0, k);
      const rounded = grounded;
      const limit = 4 * k + 256;
      let top = 0;
      for (let i = 0; i < k; i++) {
        const r = roundHalfEven(dens[i]!);
        if (!(r >= 0 && r <= limit)) {
          top = -1;
          break;
        }
        rounded[i] = r;
        if (r > top) top = r;
      }
      if (top >= 0) {
          const counts = gcounts;
        counts.fill(0, 0, top + 1);
        for (let i = 0; i < k; i++) counts[rounded[i]!]++;
        let start = 0; // bucket starts, highest density first
        for (let r = top; r >= 0; r--) {
          const c = counts[r]!;
          counts[r] = start;
          start += c;
        }
        for (let i = 0; i < k; i++) order[counts[rounded[i]!]++] = i;
        return order;
      }
      const keys = gkeys.subarray(0, k);
      let fast = k < TWO21;
      for (let i = 0; i < k && fast; i++) {
        const r = roundHalfEven(dens[i]!);
        if (!(r < 4294967296)) fast = false;
        keys[i] = -r * TWO21 + i;
      }
      if (fast) {
        keys.sort();
        for (let i = 0; i < k; i++) {
          const key = keys[i]!;
          // key = -r*2^21 + i with 0 <= i < 2^21: recover i exactly
          order[i] = key - Math.floor(key / TWO21) * TWO21;
        }
        return order;
      }
      const idx = Array.from({ length: k }, (_, i) => i);
      const roundedAll = idx.map((i) => roundHalfEven(dens[i]!));
      idx.sort((a, b) => roundedAll[b]! - roundedAll[a]! || a - b);
      for (let i = 0; i < k; i++) order[i] = idx[i]!;
      return order;
    }

    /**
     * Sorts positions by (value, original index) when the values spread evenly enough: n buckets of
     * equal width over [min, max] (the bucket is monotone in the value, so bucket order is value order),
     * filled stably in index order, then an insertion sort (stable, so equal values keep index order)
     * that only ever moves values within their bucket. False, having done nothing useful, when the buckets are too uneven for that to be
     * cheap (clustered rows): the radix sort then runs.
     */
    function bucketSortRow(row: Float32Array, min: number, max: number): boolean {
      const counts = bcounts;
      const bucket = idxB;
      const n = row.length;
      counts.fill(0, 0, n + 1);
      const scale = n / (max - min);
      const last = n - 1;
      for (let j = 0; j < n; j++) {
        let b = Math.floor((row[j]! - min) * scale);
        if (b > last) b = last;
        bucket[j] = b;
        counts[b + 1]++;
      }
      // insertion sorts cost about the sum of squared bucket sizes
      let work = 0;
      for (let b = 1; b <= n; b++) {
        const c = counts[b]!;
        work += c * c;
        counts[b] = counts[b - 1]! + c;
      }
      if (work > 8 * n) return false;
      for (let j = 0; j < n; j++) {
        const to = counts[bucket[j]!]++;
        order[to] = j;
        sorted[to] = row[j]!;
      }
      // One insertion sort over the whole array rather than one per bucket (no per-bucket loop, fewer
      // mispredicted loop exits; ~15% faster measured): a value of an earlier bucket is strictly smaller
      // than every value of a later one (the bucket is a monotone function of the value), so no shift
      // ever crosses a bucket boundary and the result is the per-bucket sorts' exactly.
      let top = sorted[0]!; // the largest value so far: sorted[i - 1] before each step
      for (let i = 1; i < n; i++) {
        const v = sorted[i]!;
        if (!(v < top)) {
          top = v;
          continue;
        }
        const j = order[i]!;
        let q = i - 1;
        do {
          sorted[q + 1] = sorted[q]!;
          order[q + 1] = order[q]!;
          q--;
        } while (q >= 0 && v < sorted[q]!);
        sorted[q + 1] = v;
        order[q + 1] = j;
      }
      return true;
    }

    /**
     * Sorts positions by (value, original index), whatever the values; -0 and +0 count as one value.
     * An LSD radix sort (4 passes of 8 bits, stable, so equal values stay in index order) over the
     * float32 bits mapped to unsigned integers in value order.
     */
    function radixSortRow(row: Float32Array): void {
      const n = row.length;
      for (let j = 0; j < n; j++) floats[j] = row[j]! + 0; // -0 + 0 === +0
      let keys = keysA; // the bits of `floats`
      let idx = idxA;
      let keysOut = keysB;
      let idxOut = idxB;
      counts.fill(0);
      for (let j = 0; j < n; j++) {
        const b = keys[j]!;
        const key = b & 0x80000000 ? ~b >>> 0 : (b | 0x80000000) >>> 0;
        keys[j] = key;
        idx[j] = j;
        counts[key & 255]++;
        counts[256 + ((key >>> 8) & 255)]++;
        counts[512 + ((key >>> 16) & 255)]++;
        counts[768 + (key >>> 24)]++;
      }
      for (let pass = 0; pass < 4; pass++) {
        const base = pass * 256;
        const shift = pass * 8;
        if (counts[base + ((keys[0]! >>> shift) & 255)] === n) continue; // one bucket: nothing moves
        let sum = 0;
        for (let b = 0; b < 256; b++) {
          const c = counts[base + b]!;
          counts[base + b] = sum;
          sum += c;
        }
        for (let j = 0; j < n; j++) {
          const key = keys[j]!;
          const to = counts[base + ((key >>> shift) & 255)]++;
          keysOut[to] = key;
          idxOut[to] = idx[j]!;
        }
        const swapKeys = keys;
        keys = keysOut;
        keysOut = swapKeys;
        const swapIdx = idx;
        idx = idxOut;
        idxOut = swapIdx;
      }
      for (let p = 0; p < n; p++) {
        const j = idx[p]!;
        order[p] = j;
        sorted[p] = row[j]!;
      }
    }

    /**
     * runStart/runEnd: the run of equal values each sorted position belongs to. Returns false, having
     * written nothing, when every value differs from the next (every run is one position long).
     */
    function markRuns(n: number): boolean {
      let equal = 0;
      for (let p = 1; p < n; p++) equal |= +(sorted[p] === sorted[p - 1]); // -0 === +0: one value
      if (equal === 0) return false;
      let s = 0;
      for (let p = 1; p <= n; p++) {
        if (p === n || sorted[p] !== sorted[s]) {
          for (let q = s; q < p; q++) {
            runStart[q] = s;
            runEnd[q] = p;
          }
          s = p;
        }
      }
      return true;
    }

    /**
     * gpos[i]: the first sorted position whose value is >= grid point i (in float32); the grid and
     * the sorted row both ascend, so one merge finds them all (stepping back too, should rounding
     * ever make the grid dip).
     */
    function gridPositions(n: number, grid: Float64Array, k: number): Int32Array {
      const gf = gfloat;
      let ascending = 1;
      gf[0] = Math.fround(grid[0]!);
      for (let i = 1; i < k; i++) {
        gf[i] = Math.fround(grid[i]!);
        ascending &= +(gf[i]! >= gf[i - 1]!);
      }
      if (ascending) {
        // a forward-only merge, a sentinel ending the row (no bounds test, no stepping back). Measured
        // against a branch-free merge (one step per value or point): that one wins only at n ~ k and
        // costs twice as much at n = 8k
        sorted[n] = Infinity;
        for (let i = 0, p = 0; i < k; i++) {
          const g = gf[i]!;
          while (sorted[p]! < g) p++;
          gpos[i] = p;
        }
        return gpos;
      }
      for (let i = 0, p = 0; i < k; i++) {
        const g = Math.fround(grid[i]!);
        while (p < n && sorted[p]! < g) p++;
        while (p > 0 && sorted[p - 1]! >= g) p--;
        gpos[i] = p;
      }
      return gpos;
    }

    /**
     * `select` for a row whose values all differ: every run is one position, so a pick keeps exactly
     * its own position. The same candidates in the same order as `select`, with one shortcut: the next
     * candidate on a side lies at or beyond the pick's sorted neighbour, so when that neighbour (alive
     * or not) is already further than the best distance, nothing on that side can tie and its "next
     * alive" search is skipped. Union-find with path halving.
     */
    function selectDistinct(n: number, grid: Float64Array, gridOrder: Int32Array, k: number, mask: Uint8Array, offset: number): number {
      for (let p = 0; p <= n; p++) {
        nxt[p] = p;
        prv[p] = p;
      }
      mask.fill(0, offset, offset + n);
      const gpos = gridPositions(n, grid, k);
      for (let s = 0; s < k; s++) {
        const gi = gridOrder[s]!;
        const g = Math.fround(grid[gi]!);
        const lo = gpos[gi]!;
        let pick = -1;
        let bestD = Infinity;
        let bestJ = 0;
        // nearest alive at or right of lo
        let p = lo;
        while (nxt[p] !== p) {
          const up = nxt[nxt[p]!]!;
          nxt[p] = up;
          p = up;
        }
        if (p < n) {
          bestD = Math.abs(Math.fround(sorted[p]! - g));
          bestJ = order[p]!;
          pick = p;
        }
        // nearest alive left of lo (prv is shifted by one)
        let q = lo;
        while (prv[q] !== q) {
          const up = prv[prv[q]!]!;
          prv[q] = up;
          q = up;
        }
        const left = q - 1;
        if (left >= 0) {
          const d = Math.abs(Math.fround(sorted[left]! - g));
          const j = order[left]!;
          if (d < bestD || (d === bestD && j < bestJ)) {
            bestD = d;
            bestJ = j;
            pick = left;
          }
        }
        // further candidates tie at best: rare (float32 differences), and only past a near neighbour
        if (p < n - 1 && Math.abs(Math.fround(sorted[p + 1]! - g)) <= bestD) {
          for (let r = findNext(p + 1); r < n; r = findNext(r + 1)) {
            const d = Math.abs(Math.fround(sorted[r]! - g));
            if (d > bestD) break;
            const j = order[r]!;
            if (d < bestD || j < bestJ) {
              bestD = d;
              bestJ = j;
              pick = r;
            }
          }
        }
        if (left > 0 && Math.abs(Math.fround(sorted[left - 1]! - g)) <= bestD) {
          for (let r = findPrev(left - 1); r >= 0; r = r > 0 ? findPrev(r - 1) : -1) {
            const d = Math.abs(Math.fround(sorted[r]! - g));
            if (d > bestD) break;
            const j = order[r]!;
            if (d < bestD || j < bestJ) {
              bestD = d;
              bestJ = j;
              pick = r;
            }
          }
        }
        nxt[pick] = pick + 1;
        prv[pick + 1] = pick;
        mask[offset + order[pick]!] = 1;
      }
      return k;
    }

    /** The first alive sorted position at or after p (n: none). */
    function findNext(p: number): number {
      while (nxt[p] !== p) {
        const up = nxt[nxt[p]!]!;
        nxt[p] = up;
        p = up;
      }
      return p;
    }

    /** The last alive sorted position at or before p (-1: none). */
    function findPrev(p: number): number {
      let q = p + 1;
      while (prv[q] !== q) {
        const up = prv[prv[q]!]!;
        prv[q] = up;
        q = up;
      }
      return q - 1;
    }

    function select(n: number, grid: Float64Array, gridOrder: Int32Array, k: number, mask: Uint8Array, offset: number): number {
      for (let p = 0; p <= n; p++) {
        nxt[p] = p;
        prv[p] = p;
      }
      runDone.fill(0, 0, n);
      mask.fill(0, offset, offset + n);
      let kept = 0;
      // numpy 1.x computes (float32 row) - (float64 grid point) in float32: the point is rounded to
      // float32 and so is each difference, which can tie values that float64 would tell apart.
      const gpos = gridPositions(n, grid, k);

      for (let s = 0; s < k; s++) {
        const gi = gridOrder[s]!;
        const g = Math.fround(grid[gi]!);
        const lo = gpos[gi]!;
        // Distances only grow away from g, so the nearest alive value on each side is a candidate; runs
        // further out are too while their float32 distance ties. Among equals, the smallest index wins.
        let pick = -1;
        let bestD = Infinity;
        let bestJ = 0;
        for (let p = findNext(lo); p < n; p = findNext(runEnd[p]!)) {
          const d = Math.abs(Math.fround(sorted[p]! - g));
          if (d > bestD) break;
          const j = order[p]!;
          if (d < bestD || j < bestJ) {
            bestD = d;
            bestJ = j;
            pick = p;
          }
        }
        for (let p = lo > 0 ? findPrev(lo - 1) : -1; p >= 0; p = runStart[p]! > 0 ? findPrev(runStart[p]! - 1) : -1) {
          p = findNext(runStart[p]!); // the run's alive entry with the smallest index
          const d = Math.abs(Math.fround(sorted[p]! - g));
          if (d > bestD) break;
          const j = order[p]!;
          if (d < bestD || j < bestJ) {
            bestD = d;
            bestJ = j;
            pick = p;
          }
        }
        nxt[pick] = pick + 1;
        prv[pick + 1] = pick;
        const rs = runStart[pick]!;
        if (!runDone[rs]) {
          runDone[rs] = 1;
          const re = runEnd[pick]!;
          for (let q = rs; q < re; q++) mask[offset + order[q]!] = 1;
          kept += re - rs;
        }
      }
      return kept;
    }

  return { cap, kcap, floats, order, sorted, runStart, runEnd, grid, dens, bounds, gorder, orderGrid, bucketSortRow, radixSortRow, markRuns, select, selectDistinct };
}

/** A thread's scratch: its arrays and the row's steps (tests call the steps directly). */
export type RowScratch = ReturnType<typeof makeRowScratch>;

/** Rows up to this long share the thread's first scratch (about 1.7 MB). */
const SCRATCH_VALUES = 16384;
let threadScratch: RowScratch | undefined;

/** This thread's scratch, made larger (a second one, see makeRowScratch) only for a longer row. */
export function scratchFor(n: number, k: number): RowScratch {
  const s = threadScratch;
  if (s && s.cap >= n && s.kcap >= k) return s;
  threadScratch = makeRowScratch(Math.max(n, SCRATCH_VALUES, s?.cap ?? 0), Math.max(k, SCRATCH_VALUES, s?.kcap ?? 0));
  return threadScratch;
}

