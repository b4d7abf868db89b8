import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import { MAX_TILE_CELLS } from '../../src/shared/protocol';
import { encodeStaticTile } from '../../src/report/html';
import { computeTile, neighbourCounts, valueStats } from '../../src/report/tiles';
import { cellBudget, cellRange, containsWindow, decodeStaticTile, fullRanges, reduceStaticTile, tileAxes, tileRows, windowFromRanges, type DecodedStaticTile } from '../../webview/logic/tiles';
import { normals } from '../helpers';

test('zoom ranges map to the positions they show, clipped to the matrix, either axis order', () => {
  const r = fullRanges(768, 3072);
  assert.deepEqual(windowFromRanges(r.x, r.y, 768, 3072), { row0: 0, row1: 768, col0: 0, col1: 3072 });
  assert.deepEqual(windowFromRanges([10.2, 20.7], [50.6, 5.4], 768, 3072), { row0: 5, row1: 52, col0: 10, col1: 22 });
  assert.deepEqual(windowFromRanges([-100, 5], [-3, 2], 10, 10), { row0: 0, row1: 3, col0: 0, col1: 6 });
  assert.equal(windowFromRanges([20, 30], [0, 5], 10, 10), undefined);
});

test('the cell budget follows the plot size and never exceeds MAX_TILE_CELLS', () => {
  assert.deepEqual(cellBudget(1100, 600), { maxRows: 600, maxCols: 1100 });
  assert.deepEqual(cellBudget(500, 300, 2), { maxRows: 600, maxCols: 1000 });
  const b = cellBudget(4000, 3000, 2);
  assert.ok(b.maxRows * b.maxCols <= MAX_TILE_CELLS);
  assert.ok(Math.abs(b.maxCols / b.maxRows - 4 / 3) < 0.05, 'aspect kept');
});

test('cells sit on the axes at their blocks\' centres; rows are views of one buffer', () => {
  const t = { window: { row0: 10, row1: 20, col0: 100, col1: 131 }, rowStep: 2, colStep: 4 };
  assert.deepEqual(tileAxes(t), { x0: 101.5, dx: 4, y0: 10.5, dy: 2 });
  assert.deepEqual(cellRange(t, 4, 7), { row0: 18, row1: 20, col0: 128, col1: 131 });
  const v = Float32Array.of(1, 2, 3, 4, 5, 6);
  const rows = tileRows(v, 2, 3);
  assert.deepEqual(rows.map((r) => [...r]), [[1, 2, 3], [4, 5, 6]]);
  assert.equal(rows[1]!.buffer, v.buffer);
  assert.equal(containsWindow({ row0: 0, row1: 10, col0: 0, col1: 10 }, { row0: 2, row1: 10, col0: 0, col1: 3 }), true);
  assert.equal(containsWindow({ row0: 0, row1: 10, col0: 0, col1: 10 }, { row0: 2, row1: 11, col0: 0, col1: 3 }), false);
});

function embedded(rows: number, cols: number, size: number): { st: DecodedStaticTile; values: Float32Array } {
  const v = normals(rows * cols, 3, 0.02);
  const u = normals(rows * cols, 4);
  for (let i = 0; i < v.length; i++) if (Math.abs(u[i]!) > 0.6) v[i] = NaN;
  const grid = { name: 'w', rows, cols, values: v, stats: valueStats(v) };
  const counts = neighbourCounts(v, rows, cols);
  const q = { maxRows: size, maxCols: size, reduce: 'absmax' as const };
  const enc = encodeStaticTile(computeTile(grid, { kind: 'values', ...q }), computeTile(grid, { kind: 'neighbours', ...q }, counts));
  return { st: decodeStaticTile(enc, gunzipSync(Buffer.from(enc.data, 'base64'))), values: v };
}

test('an embedded tile at full resolution decodes to the matrix (to 1/32767 of the largest value)', () => {
  const { st, values } = embedded(20, 30, 64);
  assert.deepEqual([st.rows, st.cols, st.rowStep, st.colStep], [20, 30, 1, 1]);
  const tol = st.stats.absMax / 32767;
  for (let i = 0; i < values.length; i++) {
    if (Number.isNaN(values[i]!)) {
      assert.ok(Number.isNaN(st.values[i]!));
      assert.equal(st.keptFraction[i], 0);
    } else {
      assert.ok(Math.abs(st.values[i]! - values[i]!) <= tol);
      assert.equal(st.keptFraction[i], 1);
    }
  }
});

test('reducing an embedded tile: signed largest magnitude, area-weighted kept fraction, kept-weighted neighbours', () => {
  const { st } = embedded(20, 30, 64);
  const t = reduceStaticTile(st, 'values', undefined, 5, 5);
  assert.ok(t.rows <= 5 && t.cols <= 5);
  assert.deepEqual([t.rowStep, t.colStep], [4, 6]);
  const nb = reduceStaticTile(st, 'neighbours', undefined, 5, 5);
  for (let bi = 0; bi < t.rows; bi++) {
    for (let bj = 0; bj < t.cols; bj++) {
      let best = NaN;
      let kept = 0;
      let area = 0;
      let nsum = 0;
      for (let i = bi * 4; i < Math.min(20, bi * 4 + 4); i++) {
        for (let j = bj * 6; j < Math.min(30, bj * 6 + 6); j++) {
          const c = i * 30 + j;
          area++;
          kept += st.keptFraction[c]!;
          const v = st.values[c]!;
          if (!Number.isNaN(v) && (Number.isNaN(best) || Math.abs(v) > Math.abs(best))) best = v;
          if (!Number.isNaN(st.neighbours[c]!)) nsum += st.neighbours[c]! * st.keptFraction[c]!;
        }
      }
      const k = bi * t.cols + bj;
      if (Number.isNaN(best)) assert.ok(Number.isNaN(t.values[k]!));
      else assert.equal(t.values[k], best);
      assert.ok(Math.abs(t.keptFraction[k]! - kept / area) < 1e-6);
      if (kept > 0) assert.ok(Math.abs(nb.values[k]! - nsum / kept) < 1e-6);
    }
  }
  // a window snaps to the embedded cells and keeps the tensor's coordinates
  const z = reduceStaticTile(st, 'values', { row0: 3, row1: 9, col0: 10, col1: 12 }, 100, 100);
  assert.deepEqual(z.window, { row0: 3, row1: 9, col0: 10, col1: 12 });
  assert.equal(z.values[0], st.values[3 * 30 + 10]);
  assert.throws(() => reduceStaticTile(st, 'values', { row0: 40, row1: 50, col0: 0, col1: 2 }, 10, 10), RangeError);
});

test('zooming into a block-reduced embedded tile snaps the window to its blocks', () => {
  const { st } = embedded(100, 90, 10);
  assert.deepEqual([st.rowStep, st.colStep], [10, 9]);
  const z = reduceStaticTile(st, 'values', { row0: 15, row1: 33, col0: 40, col1: 41 }, 100, 100);
  assert.deepEqual(z.window, { row0: 10, row1: 40, col0: 36, col1: 45 });
  assert.deepEqual([z.rows, z.cols, z.rowStep, z.colStep], [3, 1, 10, 9]);
});
