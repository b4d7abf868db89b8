import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_TILE_CELLS, type TileWindow } from '../../src/shared/protocol';
import { NOT_KEPT, clampWindow, computeTile, neighbourCounts, tileGeometry, valueStats, type ValueGrid } from '../../src/report/tiles';
import { normals } from '../helpers';

function grid(rows: number, cols: number, values: Float32Array, name = 't'): ValueGrid {
  return { name, rows, cols, values, stats: valueStats(values) };
}

function fromMask(mask: number[][]): Float32Array {
  return Float32Array.from(mask.flat().map((m, i) => (m ? i + 1 : NaN)));
}

/** A random matrix with about `keep` of its positions kept. */
function randomGrid(rows: number, cols: number, keep: number, seed: number): ValueGrid {
  const v = normals(rows * cols, seed);
  const u = normals(rows * cols, seed + 1);
  for (let i = 0; i < v.length; i++) if (Math.abs(u[i]!) > keep * 2.5) v[i] = NaN;
  return grid(rows, cols, v);
}

test('neighbour counts: up/down/left/right kept neighbours, nothing across edges, on a non-square matrix', () => {
  const values = fromMask([
    [1, 1, 0, 1],
    [0, 1, 0, 0],
    [1, 0, 0, 1],
  ]);
  const X = NOT_KEPT;
  assert.deepEqual([...neighbourCounts(values, 3, 4)], [1, 2, X, 0, X, 1, X, X, 0, X, X, 0]);
  // all kept: corners see 2, edges 3, the inside 4
  assert.deepEqual([...neighbourCounts(new Float32Array(12).fill(1), 3, 4)], [2, 3, 3, 2, 3, 4, 4, 3, 2, 3, 3, 2]);
  assert.deepEqual([...neighbourCounts(new Float32Array(8).fill(1), 4, 2)], [2, 2, 3, 3, 3, 3, 2, 2]);
  // one row (a bias), one column
  assert.deepEqual([...neighbourCounts(Float32Array.of(1, 1, NaN, 1), 1, 4)], [1, 1, X, 0]);
  assert.deepEqual([...neighbourCounts(Float32Array.of(1, 1, 1), 3, 1)], [1, 2, 1]);
});

test('at full resolution a tile is the window itself: values, NaN where pruned, kept fraction 0 or 1', () => {
  const g = randomGrid(7, 9, 0.3, 5);
  const w: TileWindow = { row0: 2, row1: 6, col0: 3, col1: 9 };
  const t = computeTile(g, { kind: 'values', window: w, maxRows: 100, maxCols: 100 });
  assert.deepEqual([t.rows, t.cols, t.rowStep, t.colStep], [4, 6, 1, 1]);
  for (let i = 0; i < 4; i++) {
    for (let j = 0; j < 6; j++) {
      const v = g.values[(2 + i) * 9 + 3 + j]!;
      const got = t.values[i * 6 + j]!;
      if (Number.isNaN(v)) {
        assert.ok(Number.isNaN(got));
        assert.equal(t.keptFraction[i * 6 + j], 0);
      } else {
        assert.equal(got, v);
        assert.equal(t.keptFraction[i * 6 + j], 1);
      }
    }
  }
});

/** Brute force: the block of cell (i, j), reduced. */
function reference(g: ValueGrid, w: TileWindow, rs: number, cs: number, i: number, j: number, counts?: Uint8Array): { mean: number; absmax: number; kept: number; nmean: number } {
  let s = 0;
  let n = 0;
  let best = NaN;
  let ns = 0;
  let area = 0;
  for (let r = w.row0 + i * rs; r < Math.min(w.row0 + (i + 1) * rs, w.row1); r++) {
    for (let c = w.col0 + j * cs; c < Math.min(w.col0 + (j + 1) * cs, w.col1); c++) {
      area++;
      const v = g.values[r * g.cols + c]!;
      if (Number.isNaN(v)) continue;
      s += v;
      n++;
      if (Number.isNaN(best) || Math.abs(v) > Math.abs(best)) best = v;
      if (counts) ns += counts[r * g.cols + c]!;
    }
  }
  return { mean: n ? s / n : NaN, absmax: best, kept: n / area, nmean: n ? ns / n : NaN };
}

test('block reduction matches a brute-force reference (mean, signed largest magnitude, kept fraction, neighbours)', () => {
  const g = randomGrid(61, 97, 0.2, 11);
  const counts = neighbourCounts(g.values, g.rows, g.cols);
  const cases: [TileWindow | undefined, number, number][] = [
    [undefined, 10, 10], [undefined, 7, 33], [{ row0: 5, row1: 50, col0: 13, col1: 96 }, 9, 8], [{ row0: 0, row1: 61, col0: 0, col1: 97 }, 1, 1],
  ];
  for (const [window, mr, mc] of cases) {
    const w = window ?? { row0: 0, row1: 61, col0: 0, col1: 97 };
    const mean = computeTile(g, { kind: 'values', window, maxRows: mr, maxCols: mc, reduce: 'mean' });
    const absmax = computeTile(g, { kind: 'values', window, maxRows: mr, maxCols: mc, reduce: 'absmax' });
    const nb = computeTile(g, { kind: 'neighbours', window, maxRows: mr, maxCols: mc }, counts);
    assert.ok(mean.rows <= mr && mean.cols <= mc, `${mean.rows}x${mean.cols} within ${mr}x${mc}`);
    assert.equal(mean.rows, Math.ceil((w.row1 - w.row0) / mean.rowStep));
    for (let i = 0; i < mean.rows; i++) {
      for (let j = 0; j < mean.cols; j++) {
        const ref = reference(g, w, mean.rowStep, mean.colStep, i, j, counts);
        const k = i * mean.cols + j;
        const close = (a: number, b: number, what: string): void => {
          if (Number.isNaN(b)) assert.ok(Number.isNaN(a), `${what} (${i},${j}) should be NaN`);
          else assert.ok(Math.abs(a - b) <= 1e-5 * Math.max(1, Math.abs(b)), `${what} (${i},${j}): ${a} vs ${b}`);
        };
        close(mean.values[k]!, ref.mean, 'mean');
        close(absmax.values[k]!, ref.absmax, 'absmax');
        close(mean.keptFraction[k]!, ref.kept, 'kept');
        close(nb.values[k]!, ref.nmean, 'neighbours');
      }
    }
    assert.deepEqual(nb.stats, { min: 0, max: 4, absMax: 4, kept: g.stats.kept, total: g.stats.total });
  }
});

test('no tile holds more than the budget, nor more than MAX_TILE_CELLS whatever is asked', () => {
  const huge = tileGeometry({ row0: 0, row1: 30522, col0: 0, col1: 3072 }, 1e6, 1e6);
  assert.ok(huge.rows * huge.cols <= MAX_TILE_CELLS, `${huge.rows}x${huge.cols}`);
  const g1 = tileGeometry({ row0: 0, row1: 768, col0: 0, col1: 3072 }, 600, 1100);
  assert.deepEqual(g1, { rowStep: 2, colStep: 3, rows: 384, cols: 1024 });
  const small = tileGeometry({ row0: 0, row1: 3, col0: 0, col1: 5 }, 100, 100);
  assert.deepEqual(small, { rowStep: 1, colStep: 1, rows: 3, cols: 5 });
});

test('windows are clipped to the matrix; one wholly outside is refused naming the tensor', () => {
  assert.deepEqual(clampWindow({ row0: -5, row1: 3.5, col0: 2, col1: 99 }, 10, 20), { row0: 0, row1: 4, col0: 2, col1: 20 });
  assert.equal(clampWindow({ row0: 12, row1: 14, col0: 0, col1: 5 }, 10, 20), undefined);
  const g = randomGrid(4, 4, 0.5, 3);
  assert.throws(() => computeTile({ ...g, name: 'enc.q.weight' }, { kind: 'values', window: { row0: 8, row1: 9, col0: 0, col1: 1 }, maxRows: 4, maxCols: 4 }), /enc\.q\.weight/);
});

test('value stats cover kept values only', () => {
  assert.deepEqual(valueStats(Float32Array.of(NaN, -2, 0.5, NaN, 1)), { min: -2, max: 1, absMax: 2, kept: 3, total: 5 });
  assert.deepEqual(valueStats(Float32Array.of(NaN, NaN)), { min: 0, max: 0, absMax: 0, kept: 0, total: 2 });
});
