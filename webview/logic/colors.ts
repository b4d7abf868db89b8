// Colours: CSS colour parsing and mixing, and the theme-aware scales the charts use (pure).

export interface Rgba {
  r: number;
  g: number;
  b: number;
  a: number;
}

/** Parses #rgb, #rgba, #rrggbb, #rrggbbaa, rgb() and rgba(); undefined for anything else. */
export function parseColor(css: string): Rgba | undefined {
  const s = css.trim().toLowerCase();
  let m = /^#([0-9a-f]{3,8})$/.exec(s);
  if (m) {
    const h = m[1]!;
    if (h.length === 3 || h.length === 4) {
      const v = [...h].map((c) => parseInt(c + c, 16));
      return { r: v[0]!, g: v[1]!, b: v[2]!, a: h.length === 4 ? v[3]! / 255 : 1 };
    }
    if (h.length === 6 || h.length === 8) {
      const v = [0, 2, 4, 6].map((i) => parseInt(h.slice(i, i + 2), 16));
      return { r: v[0]!, g: v[1]!, b: v[2]!, a: h.length === 8 ? v[3]! / 255 : 1 };
    }
    return undefined;
  }
  m = /^rgba?\(\s*([\d.]+)[\s,]+([\d.]+)[\s,]+([\d.]+)(?:[\s,/]+([\d.]+%?))?\s*\)$/.exec(s);
  if (m) {
    const alpha = m[4] === undefined ? 1 : m[4].endsWith('%') ? parseFloat(m[4]) / 100 : parseFloat(m[4]);
    return { r: +m[1]!, g: +m[2]!, b: +m[3]!, a: Math.max(0, Math.min(1, alpha)) };
  }
  return undefined;
}

export function toCss(c: Rgba): string {
  const r = Math.round(c.r);
  const g = Math.round(c.g);
  const b = Math.round(c.b);
  return c.a >= 1 ? `rgb(${r},${g},${b})` : `rgba(${r},${g},${b},${+c.a.toFixed(3)})`;
}

/** a + (b - a) * t per channel. */
export function mix(a: Rgba, b: Rgba, t: number): Rgba {
  return { r: a.r + (b.r - a.r) * t, g: a.g + (b.g - a.g) * t, b: a.b + (b.b - a.b) * t, a: a.a + (b.a - a.a) * t };
}

/** A translucent colour over an opaque background, made opaque. */
export function flatten(c: Rgba, background: Rgba): Rgba {
  return { ...mix(background, { ...c, a: 1 }, c.a), a: 1 };
}

/** Relative luminance (sRGB), 0 black .. 1 white. */
export function luminance(c: Rgba): number {
  const f = (v: number): number => {
    const x = v / 255;
    return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b);
}

export type ColorScale = [number, string][];

/**
 * Diverging scale for weights, centred on zero: blues below, reds above, a neutral grey in the middle
 * that differs from the background (blank = pruned must not look like a kept zero).
 */
export function divergingScale(background: Rgba, foreground: Rgba): ColorScale {
  const dark = luminance(background) < 0.35;
  const mid = toCss(mix(background, foreground, dark ? 0.3 : 0.22));
  const neg = dark ? ['#2f7fd8', '#5aa3ef', '#8fc3f5'] : ['#0b4f9c', '#2f7fd8', '#8fc3f5'];
  const pos = dark ? ['#f4a07a', '#ef6a4a', '#e0403a'] : ['#f4a07a', '#d6452f', '#9b1520'];
  return [
    [0, neg[0]!], [0.2, neg[1]!], [0.4, neg[2]!], [0.5, mid], [0.6, pos[0]!], [0.8, pos[1]!], [1, pos[2]!],
  ];
}

/**
 * Sequential scale for neighbour counts 0..4: an isolated kept value (0) in the same neutral grey as a
 * kept zero in the value view, then viridis' blue, teal, green and yellow for 1..4 neighbours.
 */
export function neighbourScale(background: Rgba, foreground: Rgba): ColorScale {
  const dark = luminance(background) < 0.35;
  return [
    [0, toCss(mix(background, foreground, dark ? 0.3 : 0.22))], [0.25, '#3b528b'], [0.5, '#21918c'], [0.75, '#5ec962'], [1, '#fde725'],
  ];
}

/**
 * A colour range that is not ruled by a few outliers: the q-quantile of |v| over the kept (non-NaN)
 * values, sampled when there are many; falls back to the largest magnitude, and to 1 when all are 0.
 */
export function robustAbsMax(values: ArrayLike<number>, q = 0.995, maxSamples = 65536): number {
  const n = values.length;
  const step = Math.max(1, Math.floor(n / maxSamples));
  const sample: number[] = [];
  let max = 0;
  for (let i = 0; i < n; i += step) {
    const v = values[i]!;
    if (v !== v) continue;
    const a = Math.abs(v);
    sample.push(a);
    if (a > max) max = a;
  }
  if (sample.length === 0) return 1;
  sample.sort((a, b) => a - b);
  const at = sample[Math.min(sample.length - 1, Math.floor(q * (sample.length - 1)))]!;
  return at > 0 ? at : max > 0 ? max : 1;
}
