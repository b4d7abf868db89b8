import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NonFiniteRowError, RowPruner, scratchFor, bandwidth, directDensities, fillGrid, nearRoundingBoundary, recurrenceDensities, roundHalfEven } from '../../src/ken/row';
import { goldenRows, keptIndices, normals, rowGrid, rowValues } from '../helpers';

/** The reference's grid (linspace min..max) and bandwidth for a row. */
function gridAndBandwidth(row: Float32Array, k: number): { grid: Float64Array; h: number } {
  return { grid: rowGrid(row, k), h: bandwidth(row) };
}

test('every golden row keeps exactly the reference set (TypeScript recurrence)', () => {
  const rows = goldenRows();
  assert.equal(rows.length, 902);
  const pruner = new RowPruner();
  const wrong: string[] = [];
  for (const g of rows) {
    const values = rowValues(g);
    assert.equal(values.length, g.n, g.id);
    const mask = new Uint8Array(g.n);
    const kept = pruner.prune(values, g.k, mask, 0);
    const got = keptIndices(mask);
    assert.equal(kept, got.length);
    if (JSON.stringify(got) !== JSON.stringify(g.kept)) wrong.push(g.id);
  }
  assert.deepEqual(wrong, [], `${wrong.length} rows differ from the reference`);
});

test('bandwidth agrees with the reference to 1e-6 relative on every golden row', () => {
  for (const g of goldenRows()) {
    const h = bandwidth(rowValues(g));
    assert.ok(Math.abs(h - g.bandwidth) <= 1e-6 * g.bandwidth, `${g.id}: ${h} vs ${g.bandwidth}`);
  }
});

test('the density recurrence agrees with direct Math.exp to 1e-11 relative', () => {
  for (const [n, k] of [[768, 384], [3072, 96], [128, 8], [50, 2]] as const) {
    const row = normals(n, n + k, 0.02);
    const { grid, h } = gridAndBandwidth(row, k);
    const a = new Float64Array(k);
    const b = new Float64Array(k);
    directDensities(row, grid, h, a);
    recurrenceDensities(row, grid, h, b);
    const peak = Math.max(...a);
    for (let i = 0; i < k; i++) assert.ok(Math.abs(a[i]! - b[i]!) <= 1e-11 * peak, `n=${n} k=${k} i=${i}: ${a[i]} vs ${b[i]}`);
  }
});

test('rounding is half to even, like Python round()', () => {
  assert.deepEqual([0.5, 1.5, 2.5, -0.5, -1.5, 2.4999, 2.5001, 3].map(roundHalfEven), [0, 2, 2, 0, -2, 2, 3, 3]);
});

test('the grid is numpy.linspace: i*step + min, last point exactly max', () => {
  const g = new Float64Array(4);
  fillGrid(0.1, 0.7, 4, g);
  assert.deepEqual([...g], [0.1, 0 * 0 + 1 * 0.19999999999999998 + 0.1, 2 * 0.19999999999999998 + 0.1, 0.7]);
  fillGrid(-1, 2, 1, g);
  assert.equal(g[0], -1);
});

test('k >= n and rows with fewer than two distinct values keep the whole row', () => {
  const pruner = new RowPruner();
  const mask = new Uint8Array(5);
  assert.equal(pruner.prune(new Float32Array([1, 2, 3, 4, 5]), 5, mask, 0), 5);
  assert.deepEqual([...mask], [1, 1, 1, 1, 1]);
  mask.fill(0);
  assert.equal(pruner.prune(new Float32Array([2, 2, 2, 2, 2]), 2, mask, 0), 5);
  assert.equal(pruner.prune(new Float32Array([7]), 1, new Uint8Array(1), 0), 1);
});

test('duplicated values are all kept, so a row can keep more than k entries', () => {
  const pruner = new RowPruner();
  const row = new Float32Array([0, 0, 0, 1, 5, 5, 9, 9, 9, 9]);
  const mask = new Uint8Array(row.length);
  const kept = pruner.prune(row, 2, mask, 0);
  // two picks, each value's duplicates all kept
  const keptValues = new Set([...mask].flatMap((m, i) => (m ? [row[i]] : [])));
  assert.equal(keptValues.size, 2);
  assert.ok(kept > 2);
  for (let i = 0; i < row.length; i++) if (keptValues.has(row[i])) assert.equal(mask[i], 1);
});

test('k = 1 keeps the values equal to the minimum', () => {
  const pruner = new RowPruner();
  const row = new Float32Array([3, -1, 2, -1, 8]);
  const mask = new Uint8Array(5);
  assert.equal(pruner.prune(row, 1, mask, 0), 2);
  assert.deepEqual([...mask], [0, 1, 0, 1, 0]);
});

test('-0 and +0 are one value (the reference compares numerically)', () => {
  const pruner = new RowPruner();
  const row = new Float32Array([-0, 1, 0, 2, 3, 4, 5, 6]);
  const mask = new Uint8Array(row.length);
  pruner.prune(row, 2, mask, 0);
  assert.equal(mask[0], mask[2]);
});

test('NaN and infinity are an error naming the row and column', () => {
  const pruner = new RowPruner();
  for (const bad of [NaN, Infinity, -Infinity]) {
    assert.throws(() => pruner.prune(new Float32Array([1, 2, bad, 4]), 2, new Uint8Array(4), 0, 17), (e: unknown) => {
      assert.ok(e instanceof NonFiniteRowError);
      assert.equal(e.row, 17);
      assert.equal(e.column, 2);
      return true;
    });
  }
});

test('the pruner writes only its own row of a shared mask', () => {
  const pruner = new RowPruner();
  const mask = new Uint8Array(30).fill(7);
  pruner.prune(normals(10, 3), 3, mask, 10);
  assert.deepEqual([...mask.subarray(0, 10)], new Array(10).fill(7));
  assert.deepEqual([...mask.subarray(20)], new Array(10).fill(7));
  assert.ok(mask.subarray(10, 20).every((m) => m === 0 || m === 1));
});

test('distances are float32, as numpy 1.x computes a float32 row minus a float64 grid point', () => {
  // Rows where float64 distances would pick differently; `kept` is what the reference semantics
  // (numpy 1.24, bench/reference_ken.py) keep, `float64` what float64 distances would keep.
  const cases: { row: number[]; k: number; kept: number[]; float64: number[] }[] = [
    { row: [2.5448333218491825e-08, 0.25, -0.0, -2.125, 1.5625, 0.890625], k: 4, kept: [0, 1, 3, 4], float64: [1, 2, 3, 4] },
    { row: [0.625, -0.0, 1.578125, -0.46875, -0.265625, 3.948251947605286e-09], k: 4, kept: [0, 1, 2, 3], float64: [0, 2, 3, 5] },
    { row: [0.953125, -0.359375, -5.26922915022876e-11, 0.421875, 2.171875, 0.546875, 0.0, -0.734375], k: 7, kept: [0, 1, 2, 3, 4, 5, 7], float64: [0, 1, 3, 4, 5, 6, 7] },
    { row: [0.171875, 0.75, -1.5, 1.763021018064137e-08, -1.5], k: 4, kept: [0, 1, 2, 3, 4], float64: [1, 2, 3, 4] },
    { row: [1.984375, -0.171875, -0.09375, 0.0, 3.5187067481956547e-08, 0.140625], k: 4, kept: [0, 1, 3, 5], float64: [0, 1, 4, 5] },
  ];
  const pruner = new RowPruner();
  for (const c of cases) {
    const row = Float32Array.from(c.row);
    assert.deepEqual([...row], c.row, 'the values are float32 numbers');
    const mask = new Uint8Array(row.length);
    pruner.prune(row, c.k, mask, 0);
    assert.deepEqual(keptIndices(mask), c.kept, JSON.stringify(c.row));
    assert.notDeepEqual(c.kept, c.float64);
  }
});

/** The semantics transcribed directly (O(n k)): a yardstick for the fast densities, sort and selection. */
function naiveKept(row: Float32Array, k: number): number[] {
  const n = row.length;
  let min = Infinity;
  let max = -Infinity;
  for (const v of row) {
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  if (k >= n || min === max) return Array.from({ length: n }, (_, j) => j);
  const grid = new Float64Array(k);
  fillGrid(min, max, k, grid);
  const dens = new Float64Array(k);
  directDensities(row, grid, bandwidth(row), dens);
  const rounded = [...dens].map(roundHalfEven);
  const order = Array.from({ length: k }, (_, i) => i).sort((a, b) => rounded[b]! - rounded[a]! || a - b);
  const alive = Array.from({ length: n }, (_, j) => j);
  const picked = new Set<number>();
  for (const i of order) {
    const g = Math.fround(grid[i]!);
    let best = 0;
    for (let a = 1; a < alive.length; a++) {
      if (Math.abs(Math.fround(row[alive[a]!]! - g)) < Math.abs(Math.fround(row[alive[best]!]! - g))) best = a;
    }
    picked.add(row[alive[best]!]! + 0);
    alive.splice(best, 1);
  }
  return Array.from({ length: n }, (_, j) => j).filter((j) => picked.has(row[j]! + 0));
}

test('random rows (signs, duplicates, mixed magnitudes) keep what the direct transcription keeps', () => {
  const pruner = new RowPruner();
  const wrong: string[] = [];
  for (let r = 0; r < 300; r++) {
    const n = 5 + ((r * 37) % 300);
    const k = 2 + ((r * 53) % (n - 2));
    const row = normals(n, 1000 + r, r % 3 === 0 ? 1 : 0.02);
    if (r % 4 === 1) for (let j = 0; j < n; j++) row[j] = Math.round(row[j]! * 200) / 200; // duplicates
    if (r % 5 === 2) for (let j = 0; j < n; j += 7) row[j] = row[j]! * 1e-7; // values near zero
    if (r % 6 === 3) row[r % n] = -0;
    const mask = new Uint8Array(n);
    pruner.prune(row, k, mask, 0);
    if (JSON.stringify(keptIndices(mask)) !== JSON.stringify(naiveKept(row, k))) wrong.push(`row ${r} (n=${n}, k=${k})`);
  }
  assert.deepEqual(wrong, []);
});

test('rows of distinct values: the distinct-value selection picks what the general one does, float32 distance ties included', () => {
  // the private selections of RowPruner, run on the same sorted row, grid and grid order
  const pruner = new RowPruner();
  const sel = scratchFor(1, 1); // the thread's scratch, which the pruner uses too
  let distinct = 0;
  let ties = 0;
  const wrong: string[] = [];
  /** -1, 1 and the odd sixteenths between, shuffled: every grid point of k=9 lies midway between two values. */
  const symmetricRow = (seed: number): Float32Array => {
    const values = [-1, 1];
    for (let m = -15; m <= 15; m += 2) values.push(m / 16);
    const key = normals(values.length, 7000 + seed);
    return Float32Array.from(values.map((v, i) => [v, key[i]!] as const).sort((x, y) => x[1] - y[1]).map((x) => x[0]));
  };
  const check = (r: number, row: Float32Array, k: number): void => {
    const n = row.length;
    if (new Set(row).size !== n) return;
    const a = new Uint8Array(n);
    const keptA = pruner.prune(row, k, a, 0);
    if (keptA === n || sel.markRuns(n)) return; // kept whole (nothing selected), or not distinct
    distinct++;
    for (let p = 0; p < n; p++) {
      sel.runStart[p] = p;
      sel.runEnd[p] = p + 1;
    }
    const grid = sel.grid.subarray(0, k);
    const order = sel.gorder.subarray(0, k);
    const b = new Uint8Array(n);
    const keptB = sel.select(n, grid, order, k, b, 0);
    const c = new Uint8Array(n);
    const keptC = sel.selectDistinct(n, grid, order, k, c, 0);
    const got = JSON.stringify(keptIndices(c));
    if (keptB !== keptC || JSON.stringify(keptIndices(b)) !== got || JSON.stringify(keptIndices(a)) !== got) wrong.push(`row ${r} (n=${n}, k=${k})`);
    if (got !== JSON.stringify(naiveKept(row, k))) wrong.push(`row ${r} vs the direct transcription`);
    // a tie: two values at one float32 distance from some grid point
    let tie = false;
    for (let i = 0; i < k && !tie; i++) {
      const g = Math.fround(grid[i]!);
      tie = new Set([...row].map((v) => Math.abs(Math.fround(v - g)))).size < n;
    }
    if (tie) ties++;
  };
  for (let r = 0; r < 300; r++) {
    if (r % 5 === 0) {
      check(r, symmetricRow(r), 9);
      continue;
    }
    const n = 6 + ((r * 41) % 400);
    const k = 2 + ((r * 29) % (n - 3));
    const row = normals(n, 5000 + r, r % 2 ? 1 : 0.02);
    // values ~1e-8 beside values ~1: their float32 distances to a far grid point tie
    for (let j = r % 3; j < n; j += 3) row[j] = row[j]! * 1e-7;
    check(r, row, k);
  }
  assert.deepEqual(wrong, []);
  assert.ok(distinct > 200 && ties > 100, `${distinct} distinct rows, ties seen: ${ties}`);
});

test('the bucket sort and the radix sort order a row alike, and the bucket sort steps aside for clustered rows', () => {
  // the two private sorts of RowPruner, compared directly
  let bucketed = 0;
  let declined = 0;
  for (let r = 0; r < 200; r++) {
    const n = 2 + ((r * 97) % 3000);
    const row = normals(n, 9000 + r, r % 7 === 0 ? 1e-30 : 0.02);
    if (r % 4 === 1) for (let j = 0; j < n; j++) row[j] = Math.round(row[j]! * 100) / 100; // duplicates
    if (r % 5 === 2) row[r % n] = 50; // an outlier squeezes the rest into a few buckets
    if (r % 6 === 3) for (let j = 0; j < n; j += 3) row[j] = j % 2 ? 0 : -0;
    let min = Infinity;
    let max = -Infinity;
    for (const v of row) {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    if (min === max) continue;
    const pruner = scratchFor(n, 2);
    if (!pruner.bucketSortRow(row, min, max)) {
      declined++;
      continue;
    }
    bucketed++;
    const order = [...pruner.order.subarray(0, n)];
    const sorted = [...pruner.sorted.subarray(0, n)];
    pruner.radixSortRow(row);
    assert.deepEqual(order, [...pruner.order.subarray(0, n)], `row ${r} (n=${n}): order`);
    assert.deepEqual(sorted.map((v) => v + 0), [...pruner.sorted.subarray(0, n)].map((v) => v + 0), `row ${r}: values`);
  }
  assert.ok(bucketed > 100 && declined > 20, `both paths tested (${bucketed} bucketed, ${declined} declined)`);
});

test('rows whose rounded densities are too large to count keep what the direct transcription keeps', () => {
  // values ~1e-6 apart: densities ~1e5, past the counting sort's range, so the grid order is sorted
  const pruner = new RowPruner();
  const wrong: string[] = [];
  for (let r = 0; r < 40; r++) {
    const n = 20 + r * 7;
    const k = 2 + ((r * 13) % (n - 2));
    const row = normals(n, 500 + r, 1e-6);
    if (r % 2) for (let j = 0; j < n; j += 5) row[j] = Math.round(row[j]! * 1e6) / 1e6; // duplicates
    const { grid, h } = gridAndBandwidth(row, k);
    const dens = new Float64Array(k);
    directDensities(row, grid, h, dens);
    assert.ok(Math.max(...dens) > 4 * k + 256, `row ${r}: densities too small to test the sorted path`);
    const mask = new Uint8Array(n);
    pruner.prune(row, k, mask, 0);
    if (JSON.stringify(keptIndices(mask)) !== JSON.stringify(naiveKept(row, k))) wrong.push(`row ${r} (n=${n}, k=${k})`);
  }
  assert.deepEqual(wrong, []);
});

test('a term floor costs each density at most floor / (h sqrt(2 pi)); near-boundary densities are caught', () => {
  for (const [n, k, floor] of [[768, 384, 1e-8], [3072, 96, 1e-6], [200, 17, 1e-4], [120, 24, 1e-3]] as const) {
    const row = normals(n, 7 * n + k, 0.02);
    const { grid, h } = gridAndBandwidth(row, k);
    const exact = new Float64Array(k);
    const cut = new Float64Array(k);
    directDensities(row, grid, h, exact);
    recurrenceDensities(row, grid, h, cut, floor);
    const bound = floor / (h * Math.sqrt(2 * Math.PI));
    let worst = 0;
    for (let i = 0; i < k; i++) {
      assert.ok(cut[i]! <= exact[i]! * (1 + 1e-12) + 1e-300, `n=${n} k=${k} i=${i}: dropping terms can only lower a density`);
      worst = Math.max(worst, exact[i]! - cut[i]!);
    }
    assert.ok(worst <= bound * (1 + 1e-9), `n=${n} k=${k}: ${worst} > ${bound}`);
    assert.ok(worst > 0, `n=${n} k=${k}: the floor dropped nothing, so this case tests nothing`);
  }
  assert.deepEqual([0.2, 3.4999, 7.9].map((d) => nearRoundingBoundary(d, 1e-6)), [false, false, false]);
  assert.equal(nearRoundingBoundary(3.4999995, 1e-6), true);
  assert.equal(nearRoundingBoundary(12.5000004, 1e-6), true);
  assert.equal(nearRoundingBoundary(0.5, 0), true);
});
