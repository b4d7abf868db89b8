// The tensor table of the Kept ratios view: rows, sorting, filtering (pure).
import type { KenReport, TensorStatus } from '../../src/shared/report';

export interface TensorRow {
  name: string;
  shape: number[];
  kept: number;
  total: number;
  ratio: number;
  status: TensorStatus;
}

export type SortKey = 'name' | 'shape' | 'kept' | 'total' | 'ratio' | 'status';
export type SortDir = 'asc' | 'desc';

export const SORT_KEYS: readonly SortKey[] = ['name', 'shape', 'kept', 'total', 'ratio', 'status'];

export function tensorRows(report: Pick<KenReport, 'tensors'>): TensorRow[] {
  return report.tensors.map((t) => ({
    name: t.name, shape: t.shape, kept: t.kept, total: t.total, ratio: t.total ? t.kept / t.total : 1, status: t.status,
  }));
}

/** Compares names so that layer.2 comes before layer.10. */
export function naturalCompare(a: string, b: string): number {
  const re = /(\d+)|(\D+)/g;
  const pa = a.match(re) ?? [];
  const pb = b.match(re) ?? [];
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const x = pa[i]!;
    const y = pb[i]!;
    if (x === y) continue;
    const nx = /^\d/.test(x);
    const ny = /^\d/.test(y);
    if (nx && ny) return Number(x) - Number(y) || x.length - y.length;
    return x < y ? -1 : 1;
  }
  return pa.length - pb.length;
}

function compare(a: TensorRow, b: TensorRow, key: SortKey): number {
  switch (key) {
    case 'name':
      return naturalCompare(a.name, b.name);
    case 'shape': {
      const d = a.total - b.total;
      return d !== 0 ? d : naturalCompare(a.shape.join('x'), b.shape.join('x'));
    }
    case 'status':
      return a.status.localeCompare(b.status);
    default:
      return a[key] - b[key];
  }
}

/** A sorted copy; ties keep the report's order (stable), names break ties of other keys. */
export function sortRows(rows: readonly TensorRow[], key: SortKey, dir: SortDir): TensorRow[] {
  const sign = dir === 'asc' ? 1 : -1;
  return rows
    .map((row, i) => ({ row, i }))
    .sort((a, b) => sign * compare(a.row, b.row, key) || (key !== 'name' ? naturalCompare(a.row.name, b.row.name) : 0) || a.i - b.i)
    .map((x) => x.row);
}

/** The next sort after clicking a column: same column flips, a new one starts descending for numbers. */
export function nextSort(current: { key: SortKey; dir: SortDir }, clicked: SortKey): { key: SortKey; dir: SortDir } {
  if (current.key === clicked) return { key: clicked, dir: current.dir === 'asc' ? 'desc' : 'asc' };
  return { key: clicked, dir: clicked === 'name' || clicked === 'status' ? 'asc' : 'desc' };
}

/** Rows whose name contains every space-separated word of `filter` (case-insensitive), or whose status is one. */
export function filterRows(rows: readonly TensorRow[], filter: string): TensorRow[] {
  const words = filter.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return [...rows];
  return rows.filter((r) => words.every((w) => r.name.toLowerCase().includes(w) || r.status === w));
}
