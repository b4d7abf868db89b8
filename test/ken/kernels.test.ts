import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KERNELS, compactDensities, directKernelDensities, exponentialDensities, isKernel, parseKernel, tophatDensitiesSorted, type Kernel } from '../../src/ken/kernels';
import { RowPruner, bandwidth, fillGrid } from '../../src/ken/row';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, goldenKernelRows, goldenRows, keptIndices, normals, rowGrid, rowValues } from '../helpers';

test('ken-rows-kernels.jsonl: 60 lines for each of scikit-learn\'s six kernels', () => {
  const rows = goldenKernelRows();
  assert.equal(rows.length, 360);
  for (const kernel of KERNELS) assert.equal(rows.filter((g) => g.kernel === kernel).length, 60, kernel);
  assert.ok(rows.every((g) => isKernel(g.kernel)));
});

test('every line of ken-rows-kernels.jsonl keeps exactly the reference set with its kernel', () => {
  const pruners = new Map<Kernel, RowPruner>();
  const wrong: string[] = [];
  for (const g of goldenKernelRows()) {
    const kernel = parseKernel(g.kernel);
    let pruner = pruners.get(kernel);
    if (!pruner) pruners.set(kernel, (pruner = new RowPruner(undefined, kernel)));
    const mask = new Uint8Array(g.n);
    const kept = pruner.prune(rowValues(g), g.k, mask, 0);
    const got = keptIndices(mask);
    assert.equal(kept, got.length, g.id);
    if (JSON.stringify(got) !== JSON.stringify(g.kept)) wrong.push(g.id);
  }
  assert.deepEqual(wrong, [], `${wrong.length} lines differ from scikit-learn's`);
});

test('densities equal scikit-learn\'s KernelDensity for every kernel (test/data/kernels, made by make_densities.py)', () => {
  const file = JSON.parse(readFileSync(join(ROOT, 'test', 'data', 'kernels', 'densities.json'), 'utf8')) as {
    rows: { id: string; k: number; bandwidth: number; values_f32_b64: string; densities: Record<string, number[]> }[];
  };
  assert.equal(file.rows.length, 4);
  for (const r of file.rows) {
    const row = rowValues({ values_f32_b64: r.values_f32_b64 } as Parameters<typeof rowValues>[0]);
    const grid = rowGrid(row, r.k);
    for (const kernel of KERNELS) {
      const want = r.densities[kernel]!;
      const direct = new Float64Array(r.k);
      directKernelDensities(kernel, row, grid, r.bandwidth, direct);
      const fast = new Float64Array(r.k);
      if (kernel === 'exponential') exponentialDensities(row, grid, r.bandwidth, fast, 1e-30);
      else if (kernel === 'gaussian') directKernelDensities(kernel, row, grid, r.bandwidth, fast);
      else compactDensities(kernel, row, grid, r.bandwidth, fast);
      const peak = Math.max(...want);
      for (let i = 0; i < r.k; i++) {
        assert.ok(Math.abs(direct[i]! - want[i]!) <= 1e-9 * peak, `${r.id} ${kernel} i=${i}: ${direct[i]} vs ${want[i]}`);
        assert.ok(Math.abs(fast[i]! - want[i]!) <= 1e-9 * peak, `${r.id} ${kernel} fast i=${i}: ${fast[i]} vs ${want[i]}`);
      }
    }
  }
});

test('bandwidth equals numpy\'s to a few ulps (n^(-1/5)) on every golden line (float32 standard deviation)', () => {
  // numpy's SIMD power is an ulp off the correctly rounded n^(-1/5) for some n (3, 7, 64: it gives
  // 0.8027415617602306 for n = 3, C's pow 0.8027415617602307); the float32 deviation itself is exact
  const off: string[] = [];
  let exact = 0;
  const all = [...goldenRows(), ...goldenKernelRows()];
  for (const g of all) {
    const h = bandwidth(rowValues(g));
    if (h === g.bandwidth) exact++;
    else if (Math.abs(h - g.bandwidth) > 1e-15 * g.bandwidth) off.push(`${g.id}: ${h} vs ${g.bandwidth}`);
  }
  assert.deepEqual(off, []);
  assert.ok(exact > all.length / 2, `${exact} of ${all.length} bit for bit`);
});

test('compact-kernel densities equal the definition (every term summed) to 1e-12 relative', () => {
  for (const kernel of ['tophat', 'epanechnikov', 'linear', 'cosine'] as const) {
    for (const [n, k] of [[768, 384], [128, 8], [50, 2], [64, 1000]] as const) {
      const row = normals(n, n * 7 + k, 0.02);
      const grid = rowGrid(row, k);
      const h = bandwidth(row);
      const a = new Float64Array(k);
      const b = new Float64Array(k);
      directKernelDensities(kernel, row, grid, h, a);
      compactDensities(kernel, row, grid, h, b);
      const peak = Math.max(...a);
      for (let i = 0; i < k; i++) assert.ok(Math.abs(a[i]! - b[i]!) <= 1e-12 * peak, `${kernel} n=${n} k=${k} i=${i}: ${a[i]} vs ${b[i]}`);
    }
  }
});

test('tophat densities counted over the sorted row are compactDensities bit for bit, values at exactly h included', () => {
  let boundary = 0;
  for (let r = 0; r < 120; r++) {
    const n = 3 + ((r * 31) % 500);
    const k = 1 + ((r * 17) % 400);
    let row: Float32Array;
    let grid: Float64Array;
    let h: number;
    if (r % 3 === 0) {
      // eighths from -2 to 2 (duplicates, -0), grid in sixteenths, h a multiple of 1/16: many |g - x| = h exactly
      row = Float32Array.from({ length: n }, (_, j) => ((j * 7 + r) % 33) / 8 - 2);
      if (n > 5) row[5] = -0;
      grid = Float64Array.from({ length: k }, (_, i) => -2 + ((i % 65) * 4) / 64);
      grid.sort();
      h = (1 + (r % 5)) / 16;
    } else {
      row = normals(n, 300 + r, r % 2 ? 1 : 0.02);
      if (r % 4 === 1) for (let j = 0; j < n; j++) row[j] = Math.round(row[j]! * 100) / 100;
      grid = rowGrid(row, k);
      h = bandwidth(row);
    }
    const sorted = Float64Array.from(row).sort();
    const a = new Float64Array(k);
    const b = new Float64Array(k);
    compactDensities('tophat', row, grid, h, a);
    assert.equal(tophatDensitiesSorted(sorted, n, grid, h, b), true);
    assert.deepEqual([...b], [...a], `row ${r} (n=${n}, k=${k})`);
    for (const g of grid) for (const x of sorted) if (Math.abs(g - x) === h) boundary++;
  }
  assert.ok(boundary > 100, `values at exactly h: ${boundary}`);
  // a grid that dips is left to compactDensities
  assert.equal(tophatDensitiesSorted(Float64Array.of(0, 1), 2, Float64Array.of(0, 1, 0.5), 1, new Float64Array(3)), false);
});

test('the exponential recurrence stays within the error bound it reports', () => {
  for (const [n, k, floor] of [[768, 384, 1e-4], [128, 8, 1e-4], [3072, 96, 1e-6], [64, 2000, 1e-3]] as const) {
    const row = normals(n, n + 3 * k, 0.03);
    // an offset row: the grid's magnitude against h is what the drift term covers
    for (let j = 0; j < n; j++) row[j] = row[j]! + 0.5;
    const grid = rowGrid(row, k);
    const h = bandwidth(row);
    const a = new Float64Array(k);
    const b = new Float64Array(k);
    directKernelDensities('exponential', row, grid, h, a);
    const err = exponentialDensities(row, grid, h, b, floor);
    assert.ok(err.absolute > 0);
    for (let i = 0; i < k; i++) {
      const bound = err.absolute + err.relative * a[i]! + 1e-12 * a[i]!;
      assert.ok(Math.abs(a[i]! - b[i]!) <= bound, `n=${n} k=${k} i=${i}: ${a[i]} vs ${b[i]} (bound ${bound})`);
    }
  }
});

test('scikit-learn\'s normalisation: each kernel integrates to 1', () => {
  // one value at 0, bandwidth 1: the density over a fine grid on [-40, 40] integrates to 1
  const row = new Float32Array([0]);
  const k = 400_001;
  const grid = new Float64Array(k);
  fillGrid(-40, 40, k, grid);
  for (const kernel of KERNELS) {
    const d = new Float64Array(k);
    directKernelDensities(kernel, row, grid, 1, d);
    let area = 0;
    for (let i = 1; i < k; i++) area += ((d[i]! + d[i - 1]!) / 2) * (grid[i]! - grid[i - 1]!);
    // the trapezoid rule is off by about a grid step where the tophat jumps
    assert.ok(Math.abs(area - 1) < (kernel === 'tophat' ? 3e-4 : 1e-6), `${kernel}: ${area}`);
  }
});

test('an unknown kernel is a usage error naming the choices', () => {
  assert.equal(parseKernel(undefined), 'gaussian');
  assert.throws(() => parseKernel('box'), { name: 'UsageError', message: /--kernel must be one of gaussian, tophat, epanechnikov, exponential, linear, cosine/ });
});
