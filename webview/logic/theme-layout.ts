// Plotly layout colours from the VS Code theme's CSS variables (pure: takes the variables' values).
import { flatten, mix, parseColor, toCss, type Rgba } from './colors';

export type ThemeVars = Record<string, string>;

/** The variables read from the page (getComputedStyle(document.body)). */
export const THEME_VARS = [
  '--vscode-editor-background', '--vscode-foreground', '--vscode-descriptionForeground', '--vscode-widget-border',
  '--vscode-panel-border', '--vscode-editorWidget-background', '--vscode-font-family', '--vscode-font-size',
  '--vscode-charts-blue', '--vscode-charts-red', '--vscode-charts-green', '--vscode-charts-yellow', '--vscode-charts-orange',
  '--vscode-charts-purple', '--vscode-charts-foreground', '--vscode-charts-lines', '--vscode-focusBorder',
] as const;

export interface ChartTheme {
  dark: boolean;
  background: Rgba;
  foreground: Rgba;
  paper: string;
  text: string;
  muted: string;
  grid: string;
  line: string;
  hoverBg: string;
  hoverBorder: string;
  fontFamily: string;
  fontSize: number;
  colorway: string[];
  accent: string;
}

const FALLBACK_DARK = { bg: '#1f1f1f', fg: '#cccccc' };

function color(vars: ThemeVars, name: string, fallback: string, bg?: Rgba): Rgba {
  const c = parseColor(vars[name] ?? '') ?? parseColor(fallback)!;
  return bg && c.a < 1 ? flatten(c, bg) : c;
}

/** Chart colours that follow the editor: background, text, grid lines, hover boxes, series colours. */
export function chartTheme(vars: ThemeVars): ChartTheme {
  const background = color(vars, '--vscode-editor-background', FALLBACK_DARK.bg);
  const foreground = color(vars, '--vscode-foreground', FALLBACK_DARK.fg, background);
  const dark = 0.2126 * background.r + 0.7152 * background.g + 0.0722 * background.b < 128;
  const muted = color(vars, '--vscode-descriptionForeground', toCss(mix(background, foreground, 0.7)), background);
  const border = color(vars, '--vscode-widget-border', toCss(mix(background, foreground, 0.2)), background);
  const series = ['blue', 'orange', 'green', 'purple', 'red', 'yellow'].map((c) => vars[`--vscode-charts-${c}`]?.trim()).filter((c): c is string => !!c);
  const size = parseFloat(vars['--vscode-font-size'] ?? '') || 13;
  return {
    dark,
    background,
    foreground,
    paper: toCss(background),
    text: toCss(foreground),
    muted: toCss(muted),
    grid: toCss(mix(background, foreground, dark ? 0.12 : 0.1)),
    line: toCss(mix(background, foreground, 0.35)),
    hoverBg: toCss(color(vars, '--vscode-editorWidget-background', toCss(background), background)),
    hoverBorder: toCss(border),
    fontFamily: (vars['--vscode-font-family'] ?? '').trim() || 'system-ui, sans-serif',
    fontSize: Math.max(10, Math.min(16, size - 1)),
    colorway: series.length >= 3 ? series : ['#3794ff', '#d18616', '#89d185', '#b180d7', '#f14c4c', '#cca700'],
    accent: (vars['--vscode-focusBorder'] ?? '').trim() || '#0078d4',
  };
}

/** The parts of a plotly layout that carry the theme (merged into every chart's layout). */
export function themeLayout(t: ChartTheme): Record<string, unknown> {
  const axis = { color: t.muted, gridcolor: t.grid, zerolinecolor: t.line, linecolor: t.line, tickfont: { color: t.muted }, automargin: true };
  return {
    paper_bgcolor: t.paper,
    plot_bgcolor: t.paper,
    font: { family: t.fontFamily, size: t.fontSize, color: t.text },
    colorway: t.colorway,
    hoverlabel: { bgcolor: t.hoverBg, bordercolor: t.hoverBorder, font: { color: t.text, family: t.fontFamily } },
    legend: { font: { color: t.text }, bgcolor: 'rgba(0,0,0,0)' },
    xaxis: axis,
    yaxis: axis,
    yaxis2: axis,
  };
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** Deep merge of plain objects (arrays and typed arrays are replaced, not merged). */
export function merge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = isRecord(b) && isRecord(v) ? merge(b, v) : v;
  }
  return out;
}

/** A chart's layout with the theme applied to it and to every axis it has (xaxis2, yaxis7, ...). */
export function withTheme(layout: Record<string, unknown>, t: ChartTheme): Record<string, unknown> {
  const themed = themeLayout(t);
  const axis = themed['xaxis'] as Record<string, unknown>;
  let out = merge({ ...themed, xaxis: {}, yaxis: {}, yaxis2: {} }, layout);
  for (const k of Object.keys(out)) {
    if (/^[xy]axis\d*$/.test(k)) out[k] = merge(axis, out[k] as Record<string, unknown>);
  }
  if (!('yaxis2' in layout)) delete out['yaxis2'];
  const colorbar = { tickfont: { color: t.muted }, outlinewidth: 0, title: { font: { color: t.muted } } };
  if (isRecord(out['coloraxis'])) out = merge(out, { coloraxis: { colorbar } });
  return out;
}

/** Theme for a colorbar of a single trace. */
export function colorbarTheme(t: ChartTheme): Record<string, unknown> {
  return { tickfont: { color: t.muted }, outlinewidth: 0, thickness: 12, title: { font: { color: t.muted } } };
}
