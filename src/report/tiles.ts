// Tile maths on the host: a matrix of kept values (NaN = pruned) reduced by blocks to a cell budget,
// and the neighbours view (how many of each kept position's 4 neighbours are kept).
// Pure functions over typed arrays; viz-data.ts feeds them from a subnetwork file.
import { MAX_TILE_CELLS, type Tile, type TileKind, type TileReduce, type TileStats, type TileWindow } from '../shared/protocol';

/** Marks a pruned position in a neighbour-count grid. */
export const NOT_KEPT = 255;

/** A decoded tensor: rows x cols values in row-major order, NaN where KEN reset the value. */
export interface ValueGrid {
  name: string;
  rows: number;
  cols: number;
  values: Float32Array;
  stats: TileStats;
}

export interface TileGeometry {
  rowStep: number;
  colStep: number;
  rows: number;
  cols: number;
}

/** Block sizes and grid size for a window under a per-axis budget (product capped at MAX_TILE_CELLS). */
export function tileGeometry(window: TileWindow, maxRows: number, maxCols: number): TileGeometry {
  let mr = Math.max(1, Math.floor(maxRows));
  let mc = Math.max(1, Math.floor(maxCols));
  if (mr * mc > MAX_TILE_CELLS) {
    const f = Math.sqrt(MAX_TILE_CELLS / (mr * mc));
    mr = Math.max(1, Math.floor(mr * f));
    mc = Math.max(1, Math.floor(MAX_TILE_CELLS / mr));
  }
  const h = window.row1 - window.row0;
  const w = window.col1 - window.col0;
  const rowStep = Math.ceil(h / Math.min(h, mr));
  const colStep = Math.ceil(w / Math.min(w, mc));
  return { rowStep, colStep, rows: Math.ceil(h / rowStep), cols: Math.ceil(w / colStep) };
}

/** The window clipped to a rows x cols matrix; undefined when nothing of it is inside. */
export function clampWindow(window: TileWindow | undefined, rows: number, cols: number): TileWindow | undefined {
  if (!window) return rows > 0 && cols > 0 ? { row0: 0, row1: rows, col0: 0, col1: cols } : undefined;
  const row0 = Math.max(0, Math.min(rows, Math.floor(window.row0)));
  const row1 = Math.max(0, Math.min(rows, Math.ceil(window.row1)));
  const col0 = Math.max(0, Math.min(cols, Math.floor(window.col0)));
  const col1 = Math.max(0, Math.min(cols, Math.ceil(window.col1)));
  return row1 > row0 && col1 > col0 ? { row0, row1, col0, col1 } : undefined;
}

/** Min, max and largest magnitude of the kept values, and how many there are. */
export function valueStats(values: Float32Array): TileStats {
  let min = Infinity;
  let max = -Infinity;
  let kept = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v !== v) continue;
    kept++;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (kept === 0) return { min: 0, max: 0, absMax: 0, kept: 0, total: values.length };
  return { min, max, absMax: Math.max(Math.abs(min), Math.abs(max)), kept, total: values.length };
}

/**
 * Per position: how many of its up/down/left/right neighbours are kept (0..4; positions outside the
 * matrix count as not kept, so edges have at most 3 and corners 2), NOT_KEPT where pruned.
 */
export function neighbourCounts(values: Float32Array, rows: number, cols: number): Uint8Array {
  const out = new Uint8Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    for (let c = 0; c < cols; c++) {
      const i = base + c;
      const v = values[i]!;
      if (v !== v) {
        out[i] = NOT_KEPT;
        continue;
      }
      let n = 0;
      if (r > 0 && values[i - cols] === values[i - cols]) n++;
      if (r + 1 < rows && values[i + cols] === values[i + cols]) n++;
      if (c > 0 && values[i - 1] === values[i - 1]) n++;
      if (c + 1 < cols && values[i + 1] === values[i + 1]) n++;
      out[i] = n;
    }
  }
  return out;
}

export interface TileQuery {
  kind: TileKind;
  window?: TileWindow | undefined;
  maxRows: number;
  maxCols: number;
  reduce?: TileReduce | undefined;
}

export const NEIGHBOUR_STATS = (kept: number, total: number): TileStats => ({ min: 0, max: 4, absMax: 4, kept, total });

/**
 * Reduces a window of `grid` to at most maxRows x maxCols cells. Values: per block the mean of the
 * kept values, or the kept value of largest magnitude (with its sign). Neighbours (`counts` from
 * neighbourCounts): per block the mean count over its kept positions. NaN where a block keeps nothing.
 */
export function computeTile(grid: ValueGrid, query: TileQuery, counts?: Uint8Array): Tile {
  const window = clampWindow(query.window, grid.rows, grid.cols);
  if (!window) throw new RangeError(`tensor ${grid.name}: the window lies outside its ${grid.rows}x${grid.cols} matrix`);
  const reduce: TileReduce = query.reduce ?? 'absmax';
  const g = tileGeometry(window, query.maxRows, query.maxCols);
  const cells = g.rows * g.cols;
  const out = new Float32Array(cells);
  const keptFraction = new Float32Array(cells);
  const { values, cols } = grid;
  const w = window.col1 - window.col0;
  const neighbours = query.kind === 'neighbours';
  if (neighbours && !counts) throw new Error('computeTile: neighbour counts missing');
  const sum = new Float64Array(g.cols);
  const best = new Float32Array(g.cols);
  const cnt = new Uint32Array(g.cols);
  for (let br = 0; br < g.rows; br++) {
    const r0 = window.row0 + br * g.rowStep;
    const r1 = Math.min(r0 + g.rowStep, window.row1);
    sum.fill(0);
    best.fill(0);
    cnt.fill(0);
    for (let r = r0; r < r1; r++) {
      const base = r * cols;
      for (let bc = 0; bc < g.cols; bc++) {
        const c0 = base + window.col0 + bc * g.colStep;
        const c1 = Math.min(c0 + g.colStep, base + window.col1);
        let s = 0;
        let n = 0;
        let b = best[bc]!;
        let babs = Math.abs(b);
        if (neighbours) {
          for (let i = c0; i < c1; i++) {
            const k = counts![i]!;
            if (k === NOT_KEPT) continue;
            s += k;
            n++;
          }
        } else {
          for (let i = c0; i < c1; i++) {
            const v = values[i]!;
            if (v !== v) continue;
            s += v;
            n++;
            const a = v < 0 ? -v : v;
            if (a > babs) {
              babs = a;
              b = v;
            }
          }
        }
        sum[bc] += s;
        cnt[bc] += n;
        best[bc] = b;
      }
    }
    const rowsIn = r1 - r0;
    for (let bc = 0; bc < g.cols; bc++) {
      const colsIn = Math.min(g.colStep, w - bc * g.colStep);
      const j = br * g.cols + bc;
      const n = cnt[bc]!;
      keptFraction[j] = n / (rowsIn * colsIn);
      if (n === 0) out[j] = NaN;
      else if (neighbours || reduce === 'mean') out[j] = sum[bc]! / n;
      else out[j] = best[bc]!;
    }
  }
  return {
    tensor: grid.name, kind: query.kind, reduce, window, rows: g.rows, cols: g.cols, rowStep: g.rowStep, colStep: g.colStep,
    values: out, keptFraction, stats: neighbours ? NEIGHBOUR_STATS(grid.stats.kept, grid.stats.total) : grid.stats,
  };
}
