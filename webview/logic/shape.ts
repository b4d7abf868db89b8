// Data shaping for the views (pure): matrix patterns and layers, per-layer ratios, confusion
// matrices and timeline series (the Metrics view's cards, tables and sweep: metrics.ts).
import type { TensorInfo, TimelinePoint } from '../../src/shared/protocol';
import type { KenReport, TensorStatus } from '../../src/shared/report';

export interface PatternGroup {
  pattern: string;
  /** Tensors of this pattern by layer (layer undefined for tensors outside numbered layers). */
  tensors: TensorInfo[];
  layers: number[];
  rows: number;
  cols: number;
  /** Any of them pruned. */
  pruned: boolean;
}

/** Tensors grouped by name pattern (the same matrix across layers), layers in ascending order. */
export function patternGroups(tensors: readonly TensorInfo[]): PatternGroup[] {
  const map = new Map<string, TensorInfo[]>();
  for (const t of tensors) {
    const list = map.get(t.pattern) ?? [];
    list.push(t);
    map.set(t.pattern, list);
  }
  return [...map.entries()].map(([pattern, list]) => {
    const sorted = [...list].sort((a, b) => (a.layer ?? -1) - (b.layer ?? -1));
    return {
      pattern, tensors: sorted, layers: sorted.flatMap((t) => (t.layer === undefined ? [] : [t.layer])),
      rows: sorted[0]!.rows, cols: sorted[0]!.cols, pruned: sorted.some((t) => t.status === 'pruned'),
    };
  });
}

/** The matrix the panel opens on: the first layer's attention query if there is one, else the largest pruned matrix. */
export function defaultPattern(groups: readonly PatternGroup[]): string | undefined {
  const q = groups.find((g) => /attention\.self\.query\.weight$|q_proj\.weight$|attn\.q\.weight$/.test(g.pattern) && g.pruned);
  if (q) return q.pattern;
  const matrices = groups.filter((g) => g.pruned && g.rows > 1);
  const pool = matrices.length ? matrices : groups.filter((g) => g.pruned).length ? groups.filter((g) => g.pruned) : [...groups];
  return pool.sort((a, b) => b.rows * b.cols - a.rows * a.cols)[0]?.pattern;
}

/** The tensor of a pattern at a layer (or the pattern's only tensor). */
export function tensorAt(group: PatternGroup, layer: number | undefined): TensorInfo | undefined {
  if (layer === undefined) return group.tensors[0];
  return group.tensors.find((t) => t.layer === layer) ?? group.tensors[0];
}

/** Patterns listed in the selector: pruned matrices first (natural order kept), then the rest. */
export function patternOptions(groups: readonly PatternGroup[]): { pattern: string; label: string }[] {
  const rank = (g: PatternGroup): number => (g.pruned ? 0 : 1);
  return [...groups]
    .map((g, i) => ({ g, i }))
    .sort((a, b) => rank(a.g) - rank(b.g) || a.i - b.i)
    .map(({ g }) => ({ pattern: g.pattern, label: `${g.pattern}  (${g.rows}×${g.cols}${g.layers.length ? `, ${g.layers.length} layers` : ''})` }));
}

/**
 * Rows x columns of small multiples for n panels of matrices of width/height `aspect` in a plot of
 * width/height `plotAspect`, so that each panel is about as wide as its matrix (wide matrices get fewer columns).
 */
export function gridFor(n: number, aspect: number, plotAspect = 1.6): { rows: number; cols: number } {
  if (n <= 0) return { rows: 0, cols: 0 };
  const cols = Math.max(1, Math.min(n, Math.round(Math.sqrt(n * Math.max(0.1, Math.min(10, plotAspect / aspect))))));
  return { rows: Math.ceil(n / cols), cols };
}

export interface LayerRatio {
  label: string;
  layer: number | undefined;
  kept: number;
  total: number;
  ratio: number;
}

/** Kept ratio per numbered layer, pruned tensors only (tensors kept whole would read as 100%). */
export function layerRatios(tensors: readonly TensorInfo[]): LayerRatio[] {
  const map = new Map<number | undefined, { kept: number; total: number }>();
  for (const t of tensors) {
    if (t.status !== 'pruned') continue;
    const l = t.layer;
    const s = map.get(l) ?? { kept: 0, total: 0 };
    s.kept += t.kept;
    s.total += t.total;
    map.set(l, s);
  }
  return [...map.entries()]
    .sort((a, b) => (a[0] ?? -1) - (b[0] ?? -1))
    .map(([layer, s]) => ({ label: layer === undefined ? 'other' : `layer ${layer}`, layer, kept: s.kept, total: s.total, ratio: s.total ? s.kept / s.total : 1 }));
}

export function statusCounts(report: Pick<KenReport, 'tensors'>): Map<TensorStatus, number> {
  const m = new Map<TensorStatus, number>();
  for (const t of report.tensors) m.set(t.status, (m.get(t.status) ?? 0) + 1);
  return m;
}

/** Confusion counts normalised by row (true class), for colour; counts stay for the text. */
export function normaliseConfusion(confusion: readonly (readonly number[])[]): number[][] {
  return confusion.map((row) => {
    const s = row.reduce((a, b) => a + b, 0);
    return row.map((v) => (s ? v / s : 0));
  });
}

export interface TimelineSeries {
  step: number[];
  keptRatio: number[];
  accuracy: (number | null)[];
  /** Per layer label: mean |delta| and moved fraction per point (null where the point lacks the layer). */
  drift: Map<string, { meanAbsDelta: (number | null)[]; movedFraction: (number | null)[] }>;
  jaccardMean: (number | null)[];
  jaccardMin: (number | null)[];
}

/** Timeline points ordered by step, as chart series. */
export function timelineSeries(points: readonly TimelinePoint[]): TimelineSeries {
  const pts = [...points].sort((a, b) => a.step - b.step);
  const labels = new Set<string>();
  for (const p of pts) for (const d of p.drift) labels.add(d.layer === null ? 'other' : `layer ${d.layer}`);
  const order = [...labels].sort((a, b) => (a === 'other' ? 1 : b === 'other' ? -1 : Number(a.slice(6)) - Number(b.slice(6))));
  const drift = new Map(order.map((l) => [l, { meanAbsDelta: [] as (number | null)[], movedFraction: [] as (number | null)[] }]));
  for (const p of pts) {
    for (const [label, s] of drift) {
      const d = p.drift.find((x) => (x.layer === null ? 'other' : `layer ${x.layer}`) === label);
      s.meanAbsDelta.push(d ? d.meanAbsDelta : null);
      s.movedFraction.push(d ? d.movedFraction : null);
    }
  }
  return {
    step: pts.map((p) => p.step),
    keptRatio: pts.map((p) => p.keptRatio),
    accuracy: pts.map((p) => (p.accuracy === undefined ? null : p.accuracy)),
    drift,
    jaccardMean: pts.map((p) => (p.overlap.length ? p.overlap.reduce((s, o) => s + o.jaccard, 0) / p.overlap.length : null)),
    jaccardMin: pts.map((p) => (p.overlap.length ? Math.min(...p.overlap.map((o) => o.jaccard)) : null)),
  };
}
