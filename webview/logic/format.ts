// Number and label formatting for the views (pure).

export const fmtInt = (n: number): string => Math.round(n).toLocaleString('en-US');

export function pct(x: number, digits = 1): string {
  if (!Number.isFinite(x)) return '–';
  return `${(x * 100).toFixed(digits)}%`;
}

export function fmtBytes(n: number): string {
  if (!Number.isFinite(n)) return '–';
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} GB`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} MB`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} kB`;
  return `${n} B`;
}

/** A signed difference in percentage points: +1.25 pt. */
export function points(delta: number, digits = 2): string {
  if (!Number.isFinite(delta)) return '–';
  const v = (delta * 100).toFixed(digits);
  return `${delta > 0 ? '+' : delta < 0 ? '' : '±'}${v} pt`;
}

/** A value for hover labels: 4 significant digits, exponent for tiny/huge. */
export function fmtValue(v: number): string {
  if (!Number.isFinite(v)) return '–';
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(3);
  return Number(v.toPrecision(4)).toString();
}

/** The badge saying what ran: "js · cpu", "ort · CUDA". */
export function backendBadge(backend: string, executionProvider: string): string {
  const ep = executionProvider.replace(/ExecutionProvider$/i, '');
  return `${backend || '?'} · ${ep || '?'}`;
}

/** The short form of a tensor name for axis labels: the layer and the last parts. */
export function shortName(name: string, parts = 3): string {
  const p = name.split('.');
  return p.length <= parts ? name : '…' + p.slice(-parts).join('.');
}

/** An axis label for a tensor: its layer and the end of its name (L3 output.dense.weight). */
export function tensorLabel(name: string, layer: number | undefined, parts = 3): string {
  const tail = name.split('.').slice(-parts).join('.');
  return layer === undefined ? shortName(name, parts) : `L${layer} ${tail}`;
}

export function shapeLabel(shape: readonly number[]): string {
  return shape.length ? shape.join('×') : 'scalar';
}
