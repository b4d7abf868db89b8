// The notebook renderer's pure parts: timeline geometry, the matrix's colours, the summary line.
import type { NotebookMatrix, TimelinePoint } from '../../src/shared/protocol';
import { parseColor, type ColorScale, type Rgba } from './colors';

export interface TimelineGeometry {
  /** Per point, in order of step: its position in a width x height box (y down). */
  x: number[];
  y: number[];
  steps: number[];
  /** The y axis' kept-ratio range, as fractions. */
  yMin: number;
  yMax: number;
}

/**
 * Points sorted by step, placed in a box with `pad` pixels on every side. The y range spans at least
 * `minSpan` (one percentage point) around the data, so that a nearly flat kept ratio looks flat.
 */
export function timelineGeometry(points: readonly TimelinePoint[], width: number, height: number, pad = 8, minSpan = 0.01): TimelineGeometry {
  const sorted = [...points].sort((a, b) => a.step - b.step);
  const steps = sorted.map((p) => p.step);
  const ratios = sorted.map((p) => p.keptRatio);
  let yMin = Math.min(...ratios);
  let yMax = Math.max(...ratios);
  if (!(yMax - yMin >= minSpan)) {
    const c = Number.isFinite(yMin) ? (yMin + yMax) / 2 : 0.5;
    yMin = Math.max(0, c - minSpan / 2);
    yMax = Math.min(1, yMin + minSpan);
    yMin = Math.max(0, yMax - minSpan);
  }
  const s0 = steps[0] ?? 0;
  const s1 = steps[steps.length - 1] ?? 1;
  const w = Math.max(1, width - 2 * pad);
  const h = Math.max(1, height - 2 * pad);
  const x = steps.map((s) => pad + (s1 > s0 ? ((s - s0) / (s1 - s0)) * w : w / 2));
  const y = ratios.map((r) => pad + (1 - (r - yMin) / (yMax - yMin)) * h);
  return { x, y, steps, yMin, yMax };
}

/** The colour at t in 0..1 on a scale of [position, css colour] stops. */
export function scaleColor(scale: ColorScale, t: number): Rgba {
  const u = Math.max(0, Math.min(1, t));
  for (let i = 1; i < scale.length; i++) {
    const [p1, c1] = scale[i]!;
    const [p0, c0] = scale[i - 1]!;
    if (u <= p1) {
      const a = parseColor(c0)!;
      const b = parseColor(c1)!;
      const f = p1 > p0 ? (u - p0) / (p1 - p0) : 0;
      return { r: a.r + (b.r - a.r) * f, g: a.g + (b.g - a.g) * f, b: a.b + (b.b - a.b) * f, a: 1 };
    }
  }
  return parseColor(scale[scale.length - 1]![1])!;
}

/** RGBA pixels of the matrix (one per cell), pruned cells transparent; values centred on zero. */
export function matrixPixels(m: NotebookMatrix, scale: ColorScale): Uint8ClampedArray {
  const px = new Uint8ClampedArray(m.rows * m.cols * 4);
  const span = m.absMax > 0 ? m.absMax : 1;
  for (let i = 0; i < m.values.length; i++) {
    const v = m.values[i];
    if (v === null || v === undefined) continue;
    const c = scaleColor(scale, 0.5 + v / (2 * span));
    px[i * 4] = c.r;
    px[i * 4 + 1] = c.g;
    px[i * 4 + 2] = c.b;
    px[i * 4 + 3] = 255;
  }
  return px;
}

/** One line under the chart: the latest checkpoint's figures. */
export function latestLine(points: readonly TimelinePoint[]): string {
  if (points.length === 0) return '';
  const p = [...points].sort((a, b) => a.step - b.step)[points.length - 1]!;
  const layers = p.drift.filter((d) => d.layer !== null);
  const pool = layers.length ? layers : p.drift;
  const drift = pool.length ? pool.reduce((s, d) => s + d.meanAbsDelta, 0) / pool.length : 0;
  const parts = [`step ${p.step}`, `kept ${(p.keptRatio * 100).toFixed(1)}%`, `drift ${drift.toExponential(2)}`];
  if (p.accuracy !== undefined) parts.push(`accuracy ${(p.accuracy * 100).toFixed(2)}%`);
  return `${points.length} checkpoint${points.length === 1 ? '' : 's'} · latest ${parts.join(' · ')}`;
}
