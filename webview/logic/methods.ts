// The Methods view's series (pure): a sweep over several pruning methods (KEN, delta-magnitude,
// random, DARE, ...) as one line per method against kept parameters or subnetwork bytes; seeded
// methods as their mean with the spread over seeds and each seed's points; the adapter as a point.
import type { MethodAggregate, SweepPoint, SweepRecord } from '../../src/shared/report';
import { fmtBytes } from './format';

export type MethodsAxis = 'params' | 'bytes';

/** One point as the hover shows it. */
export interface MethodPoint {
  method: string;
  k: number;
  keptParams: number;
  keptRatio: number;
  /** Undefined when the sweep did not record the subnetwork's bytes. */
  bytes: number | undefined;
  value: number;
  seed?: number;
}

/** A seeded method's figures at one k over its seeds (the sweep's aggregate without its sizes). */
export type SpreadPoint = Pick<MethodAggregate, 'k' | 'runs' | 'mean' | 'spread' | 'min' | 'max'>;

export interface MethodLine {
  method: string;
  seeded: boolean;
  /** The line, by k: the points of an unseeded method, the means of a seeded one. */
  points: MethodPoint[];
  /** Seeded methods: per k (same order as `points`), the spread over seeds. */
  spread?: SpreadPoint[];
  /** Seeded methods: every seed's own points. */
  runs?: MethodPoint[];
}

export interface MethodsSeries {
  metric: string;
  finetuned: number;
  totalParams: number | undefined;
  lines: MethodLine[];
  adapter?: { path: string; name: string; value: number; trainableParams: number; bytes: number };
  /** Whether every point (and the adapter) has its bytes, so that the bytes axis can be drawn. */
  hasBytes: boolean;
}

/** The method of a point (sweeps from before methods are KEN's). */
export function pointMethod(p: SweepPoint): string {
  return p.method ?? 'ken';
}

/** The methods of a sweep in the order asked, then any others in the order their points come. */
export function sweepMethods(sweep: SweepRecord): string[] {
  const names = [...(sweep.methods ?? [])];
  for (const p of sweep.points) if (!names.includes(pointMethod(p))) names.push(pointMethod(p));
  return names;
}

/** The Methods view is for comparisons: more than one method, or an adapter beside them. */
export function showMethodsView(sweep: SweepRecord | undefined): boolean {
  if (!sweep || (sweep.points.length === 0 && !sweep.adapter)) return false;
  return sweepMethods(sweep).length > 1 || sweep.adapter !== undefined;
}

function stats(values: number[]): { mean: number; spread: number; min: number; max: number } {
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const spread = n > 1 ? Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1)) : 0;
  return { mean, spread, min: Math.min(...values), max: Math.max(...values) };
}

function toPoint(p: SweepPoint): MethodPoint {
  const m: MethodPoint = { method: pointMethod(p), k: p.k, keptParams: p.keptParams, keptRatio: p.keptRatio, bytes: p.subnetworkBytes, value: p.value ?? p.accuracy };
  if (p.seed !== undefined) m.seed = p.seed;
  return m;
}

/**
 * The lines of a sweep. A method is seeded when its points carry seeds or the sweep has aggregates
 * for it; its line is the aggregates' means (or, for a record without them, the mean of its points
 * per k, with the sample standard deviation).
 */
export function methodsSeries(sweep: SweepRecord): MethodsSeries {
  const aggregates = sweep.aggregates ?? [];
  const lines: MethodLine[] = [];
  for (const method of sweepMethods(sweep)) {
    const pts = sweep.points.filter((p) => pointMethod(p) === method).map(toPoint);
    const aggs = aggregates.filter((a) => a.method === method);
    const seeded = aggs.length > 0 || pts.some((p) => p.seed !== undefined);
    if (!seeded) {
      lines.push({ method, seeded, points: pts.sort((a, b) => a.k - b.k) });
      continue;
    }
    const ks = [...new Set([...pts.map((p) => p.k), ...aggs.map((a) => a.k)])].sort((a, b) => a - b);
    const points: MethodPoint[] = [];
    const spread: SpreadPoint[] = [];
    for (const k of ks) {
      const atK = pts.filter((p) => p.k === k);
      const agg: MethodAggregate | undefined = aggs.find((a) => a.k === k);
      const first = atK[0];
      const s = agg ? { mean: agg.mean, spread: agg.spread, min: agg.min, max: agg.max } : stats(atK.map((p) => p.value));
      const keptParams = agg?.keptParams ?? first!.keptParams;
      const keptRatio = first?.keptRatio ?? (sweep.totalParams ? keptParams / sweep.totalParams : Number.NaN);
      points.push({ method, k, keptParams, keptRatio, bytes: agg?.subnetworkBytes ?? first?.bytes, value: s.mean });
      spread.push({ k, runs: agg?.runs ?? atK.length, ...s });
    }
    lines.push({ method, seeded, points, spread, runs: pts.sort((a, b) => a.k - b.k || (a.seed ?? 0) - (b.seed ?? 0)) });
  }
  const series: MethodsSeries = {
    metric: sweep.metric ?? 'accuracy',
    finetuned: sweep.finetunedValue ?? sweep.finetunedAccuracy,
    totalParams: sweep.totalParams,
    lines,
    hasBytes: lines.every((l) => l.points.every((p) => p.bytes !== undefined) && (l.runs ?? []).every((p) => p.bytes !== undefined)),
  };
  const a = sweep.adapter;
  if (a) series.adapter = { path: a.path, name: adapterName(a.path), value: a.value, trainableParams: a.trainableParams, bytes: a.bytes };
  return series;
}

/** The adapter's label: the last part of its path. */
export function adapterName(path: string): string {
  const parts = path.split(/[\\/]+/).filter(Boolean);
  return parts[parts.length - 1] ?? path;
}

/** A point's x on the chosen axis. */
export function xOf(p: { keptParams: number; bytes: number | undefined }, axis: MethodsAxis): number {
  return axis === 'params' ? p.keptParams : p.bytes ?? Number.NaN;
}

/** A log axis when the x values span more than a factor of 20 (an adapter far from the subnetworks). */
export function logAxis(xs: number[]): boolean {
  const pos = xs.filter((x) => Number.isFinite(x) && x > 0);
  if (pos.length < 2) return false;
  return Math.max(...pos) / Math.min(...pos) > 20;
}

/** Every x the chart will show on `axis` (lines, seed runs, adapter). */
export function allXs(s: MethodsSeries, axis: MethodsAxis): number[] {
  const xs = s.lines.flatMap((l) => [...l.points, ...(l.runs ?? [])].map((p) => xOf(p, axis)));
  if (s.adapter) xs.push(axis === 'params' ? s.adapter.trainableParams : s.adapter.bytes);
  return xs;
}

/** The hover text of a point: method, k, seed, kept parameters (and share), bytes, the metric. */
export function hoverText(p: MethodPoint, metric: string, fmt: (v: number) => string, opts: { mean?: SpreadPoint } = {}): string {
  const lines = [`<b>${p.method}</b>${p.seed !== undefined ? ` (seed ${p.seed})` : ''}`, `k=${p.k}`,
    `kept ${p.keptParams.toLocaleString('en-US')} parameters${Number.isFinite(p.keptRatio) ? ` (${(p.keptRatio * 100).toFixed(2)}%)` : ''}`];
  if (p.bytes !== undefined) lines.push(`subnetwork ${formatBytes(p.bytes)}`);
  if (opts.mean) {
    const m = opts.mean;
    lines.push(`${metric} ${fmt(m.mean)} mean ± ${fmt(m.spread)} over ${m.runs} seed${m.runs === 1 ? '' : 's'} (min ${fmt(m.min)}, max ${fmt(m.max)})`);
  } else lines.push(`${metric} ${fmt(p.value)}`);
  return lines.join('<br>');
}

/** Bytes for hover labels and tables, in the SI units of the header and the bytes axis (kB, MB, GB). */
export function formatBytes(n: number): string {
  return fmtBytes(n);
}

export interface TraceStyle {
  /** A colour per method, in line order. */
  colors: string[];
  muted: string;
  accent: string;
  /** Formats the metric's values (a percentage for fractions). */
  fmt: (v: number) => string;
}

/** A plotly trace, as far as these charts use it. */
export type Trace = Record<string, unknown> & { name: string; meta: { role: 'method' | 'seeds' | 'adapter' | 'current'; method?: string } };

/**
 * The plotly traces: per method one line (seeded: the mean with the spread as error bars), per
 * seeded method one faint trace of every seed's points, the adapter as a labelled point, and a
 * ring on the report's own point when it is on the chart.
 */
export function methodTraces(s: MethodsSeries, axis: MethodsAxis, style: TraceStyle, current?: { method: string; k: number; seed?: number | undefined }): Trace[] {
  const traces: Trace[] = [];
  s.lines.forEach((line, i) => {
    const color = style.colors[i % style.colors.length]!;
    const pts = line.points.filter((p) => Number.isFinite(xOf(p, axis)));
    const trace: Trace = {
      type: 'scatter', mode: 'lines+markers', name: line.seeded ? `${line.method} (mean of seeds)` : line.method, legendgroup: line.method,
      x: pts.map((p) => xOf(p, axis)), y: pts.map((p) => p.value),
      text: pts.map((p) => hoverText(p, s.metric, style.fmt, line.spread ? { mean: line.spread[line.points.indexOf(p)]! } : {})),
      hovertemplate: '%{text}<extra></extra>',
      line: { color, width: 2 }, marker: { color, size: 7 },
      meta: { role: 'method', method: line.method },
    };
    if (line.spread) {
      const spread = pts.map((p) => line.spread![line.points.indexOf(p)]!.spread);
      trace['error_y'] = { type: 'data', array: spread, visible: true, color, thickness: 1.5, width: 4 };
    }
    traces.push(trace);
    if (line.runs && line.runs.length) {
      const runs = line.runs.filter((p) => Number.isFinite(xOf(p, axis)));
      traces.push({
        type: 'scatter', mode: 'markers', name: `${line.method}, each seed`, legendgroup: line.method, showlegend: false,
        x: runs.map((p) => xOf(p, axis)), y: runs.map((p) => p.value), text: runs.map((p) => hoverText(p, s.metric, style.fmt)),
        hovertemplate: '%{text}<extra></extra>', marker: { color, size: 5, opacity: 0.35 },
        meta: { role: 'seeds', method: line.method },
      });
    }
  });
  if (s.adapter) {
    const a = s.adapter;
    const x = axis === 'params' ? a.trainableParams : a.bytes;
    traces.push({
      type: 'scatter', mode: 'markers+text', name: `adapter ${a.name}`, x: [x], y: [a.value], text: [`adapter ${a.name}`], textposition: 'bottom right',
      textfont: { color: style.muted }, marker: { symbol: 'diamond', size: 12, color: style.accent },
      hovertext: [`<b>adapter</b> ${a.path}<br>trainable ${a.trainableParams.toLocaleString('en-US')} parameters<br>adapter files ${formatBytes(a.bytes)}<br>${s.metric} ${style.fmt(a.value)}`],
      hovertemplate: '%{hovertext}<extra></extra>', meta: { role: 'adapter' },
    });
  }
  if (current) {
    const line = s.lines.find((l) => l.method === current.method);
    // a seeded method's report is one seed's run; else the line's point at k
    const p = (current.seed !== undefined ? line?.runs?.find((q) => q.k === current.k && q.seed === current.seed) : undefined)
      ?? line?.points.find((q) => q.k === current.k);
    if (p && Number.isFinite(xOf(p, axis))) {
      traces.push({
        type: 'scatter', mode: 'markers', name: `this report (${current.method}, k=${current.k})`, x: [xOf(p, axis)], y: [p.value],
        marker: { size: 15, symbol: 'circle-open', line: { width: 2, color: style.accent } }, hoverinfo: 'skip', meta: { role: 'current' },
      });
    }
  }
  return traces;
}
