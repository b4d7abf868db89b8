// Tile maths in the webview (pure): which window a zoomed chart shows, how many cells to ask for,
// where a tile's cells sit on the axes, and, for the HTML report, decoding the embedded tiles and
// reducing them further when a view asks for fewer cells.
import { MAX_TILE_CELLS, tileArrays, type StaticTile, type Tile, type TileKind, type TileStats, type TileWindow } from '../../src/shared/protocol';

/** Axis ranges of a heatmap of a rows x cols matrix with position p covering [p - 0.5, p + 0.5]. */
export function fullRanges(rows: number, cols: number): { x: [number, number]; y: [number, number] } {
  return { x: [-0.5, cols - 0.5], y: [rows - 0.5, -0.5] };
}

/** The positions visible in axis ranges (either order), clipped to the matrix; undefined when none are. */
export function windowFromRanges(x: readonly [number, number], y: readonly [number, number], rows: number, cols: number): TileWindow | undefined {
  const [xa, xb] = x[0] <= x[1] ? x : [x[1], x[0]];
  const [ya, yb] = y[0] <= y[1] ? y : [y[1], y[0]];
  const col0 = Math.max(0, Math.floor(xa + 0.5));
  const col1 = Math.min(cols, Math.floor(xb + 0.5) + 1);
  const row0 = Math.max(0, Math.floor(ya + 0.5));
  const row1 = Math.min(rows, Math.floor(yb + 0.5) + 1);
  return row1 > row0 && col1 > col0 ? { row0, row1, col0, col1 } : undefined;
}

/** One cell per device pixel of the plot area at most, never more than MAX_TILE_CELLS. */
export function cellBudget(widthPx: number, heightPx: number, pixelRatio = 1): { maxRows: number; maxCols: number } {
  let maxCols = Math.max(1, Math.round(widthPx * pixelRatio));
  let maxRows = Math.max(1, Math.round(heightPx * pixelRatio));
  if (maxRows * maxCols > MAX_TILE_CELLS) {
    const f = Math.sqrt(MAX_TILE_CELLS / (maxRows * maxCols));
    maxRows = Math.max(1, Math.floor(maxRows * f));
    maxCols = Math.max(1, Math.floor(MAX_TILE_CELLS / maxRows));
  }
  return { maxRows, maxCols };
}

/** Where a tile's cells sit: brick centres x0 + j * dx, y0 + i * dy in position coordinates. */
export function tileAxes(t: Pick<Tile, 'window' | 'rowStep' | 'colStep'>): { x0: number; dx: number; y0: number; dy: number } {
  return { x0: t.window.col0 + (t.colStep - 1) / 2, dx: t.colStep, y0: t.window.row0 + (t.rowStep - 1) / 2, dy: t.rowStep };
}

/** A tile's rows as views into one buffer (what a heatmap's z takes), no copies. */
export function tileRows(values: Float32Array, rows: number, cols: number): Float32Array[] {
  const out: Float32Array[] = [];
  for (let i = 0; i < rows; i++) out.push(values.subarray(i * cols, (i + 1) * cols));
  return out;
}

/** The tensor position range a tile cell covers, for hover text. */
export function cellRange(t: Pick<Tile, 'window' | 'rowStep' | 'colStep'>, i: number, j: number): TileWindow {
  const row0 = t.window.row0 + i * t.rowStep;
  const col0 = t.window.col0 + j * t.colStep;
  return { row0, row1: Math.min(row0 + t.rowStep, t.window.row1), col0, col1: Math.min(col0 + t.colStep, t.window.col1) };
}

/** True when `inner` lies inside `outer`. */
export function containsWindow(outer: TileWindow, inner: TileWindow): boolean {
  return inner.row0 >= outer.row0 && inner.row1 <= outer.row1 && inner.col0 >= outer.col0 && inner.col1 <= outer.col1;
}

// ---------------------------------------------------------------------------------------------
// Embedded tiles of the HTML report

/** An embedded tile, decoded: values, kept fraction and neighbour means per cell (NaN = nothing kept). */
export interface DecodedStaticTile extends Omit<StaticTile, 'data' | 'reduce'> {
  values: Float32Array;
  keptFraction: Float32Array;
  neighbours: Float32Array;
}

/** Decodes the (already gunzipped) bytes of a StaticTile; see StaticTile for the layout. */
export function decodeStaticTile(st: StaticTile, bytes: Uint8Array): DecodedStaticTile {
  const cells = st.rows * st.cols;
  if (bytes.byteLength !== cells * 4) throw new RangeError(`tile of ${st.tensor}: ${bytes.byteLength} bytes for ${cells} cells`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const values = new Float32Array(cells);
  const keptFraction = new Float32Array(cells);
  const neighbours = new Float32Array(cells);
  const scale = st.stats.absMax / 32767;
  for (let i = 0; i < cells; i++) {
    const q = view.getInt16(i * 2, true);
    values[i] = q === -32768 ? NaN : q * scale;
    keptFraction[i] = bytes[cells * 2 + i]! / 255;
    const m = bytes[cells * 3 + i]!;
    neighbours[i] = m === 255 ? NaN : m / 63;
  }
  return { tensor: st.tensor, window: st.window, rows: st.rows, cols: st.cols, rowStep: st.rowStep, colStep: st.colStep, stats: st.stats, values, keptFraction, neighbours };
}

/**
 * A tile for `window` under a cell budget from an embedded tile: the covered cells, merged by blocks
 * when there are more than the budget (values: signed largest magnitude; neighbours: mean weighted by
 * kept positions; kept fraction: mean weighted by area). The window snaps to the embedded cells.
 */
export function reduceStaticTile(st: DecodedStaticTile, kind: TileKind, window: TileWindow | undefined, maxRows: number, maxCols: number): Tile {
  const w = window ?? st.window;
  const i0 = Math.max(0, Math.floor((w.row0 - st.window.row0) / st.rowStep));
  const i1 = Math.min(st.rows, Math.ceil((w.row1 - st.window.row0) / st.rowStep));
  const j0 = Math.max(0, Math.floor((w.col0 - st.window.col0) / st.colStep));
  const j1 = Math.min(st.cols, Math.ceil((w.col1 - st.window.col0) / st.colStep));
  if (i1 <= i0 || j1 <= j0) throw new RangeError(`tensor ${st.tensor}: the window lies outside its matrix`);
  const budget = cellBudget(maxCols, maxRows);
  const kr = Math.ceil((i1 - i0) / Math.min(i1 - i0, budget.maxRows));
  const kc = Math.ceil((j1 - j0) / Math.min(j1 - j0, budget.maxCols));
  const rows = Math.ceil((i1 - i0) / kr);
  const cols = Math.ceil((j1 - j0) / kc);
  const out = new Float32Array(rows * cols);
  const kept = new Float32Array(rows * cols);
  const src = kind === 'neighbours' ? st.neighbours : st.values;
  const area = (i: number, j: number): number => {
    const r0 = st.window.row0 + i * st.rowStep;
    const c0 = st.window.col0 + j * st.colStep;
    return (Math.min(r0 + st.rowStep, st.window.row1) - r0) * (Math.min(c0 + st.colStep, st.window.col1) - c0);
  };
  for (let bi = 0; bi < rows; bi++) {
    for (let bj = 0; bj < cols; bj++) {
      let areaSum = 0;
      let keptSum = 0;
      let weighted = 0;
      let best = NaN;
      let bestAbs = -1;
      for (let i = i0 + bi * kr; i < Math.min(i0 + (bi + 1) * kr, i1); i++) {
        for (let j = j0 + bj * kc; j < Math.min(j0 + (bj + 1) * kc, j1); j++) {
          const c = i * st.cols + j;
          const a = area(i, j);
          const k = st.keptFraction[c]! * a;
          areaSum += a;
          keptSum += k;
          const v = src[c]!;
          if (v !== v) continue;
          weighted += v * k;
          const av = Math.abs(v);
          if (av > bestAbs) {
            bestAbs = av;
            best = v;
          }
        }
      }
      const o = bi * cols + bj;
      kept[o] = areaSum > 0 ? keptSum / areaSum : 0;
      if (kind === 'neighbours') out[o] = keptSum > 0 ? weighted / keptSum : NaN;
      else out[o] = best;
    }
  }
  const row0 = st.window.row0 + i0 * st.rowStep;
  const col0 = st.window.col0 + j0 * st.colStep;
  const tileWindow: TileWindow = {
    row0, row1: Math.min(st.window.row0 + i1 * st.rowStep, st.window.row1),
    col0, col1: Math.min(st.window.col0 + j1 * st.colStep, st.window.col1),
  };
  const stats: TileStats = kind === 'neighbours' ? { min: 0, max: 4, absMax: 4, kept: st.stats.kept, total: st.stats.total } : st.stats;
  return {
    tensor: st.tensor, kind, reduce: 'absmax', window: tileWindow, rows, cols, rowStep: st.rowStep * kr, colStep: st.colStep * kc,
    values: out, keptFraction: kept, stats,
  };
}

export { tileArrays };
