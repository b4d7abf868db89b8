// A self-contained HTML report of a `ken prune` output folder: the same webview app as the panel, with
// its scripts, styles, the report and pre-computed tiles inlined, so that it opens offline from file://
// under the same strict Content-Security-Policy (scripts by nonce only, no eval, no remote origins).
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { UsageError, throwIfAborted } from '../errors';
import {
  STATIC_DATA_ID, STATIC_FORMAT, STATIC_VERSION,
  type InitMessage, type StaticReportData, type StaticTile, type ThemeKind, type Tile, type TimelinePoint,
} from '../shared/protocol';
import type { KenReport } from '../shared/report';
import { STATIC_THEME_CSS } from './html-theme';
import { VizDataSource } from './viz-data';
import { PLOTLY_STYLE_ID, escapeAttr, escapeHtml } from './webview-html';
import { trackTemporary } from '../formats/output';

/** The webview bundle files the report inlines (built by scripts/build.mjs into dist/). */
export const WEBVIEW_ASSETS = { script: 'webview.js', style: 'webview.css', plotly: 'plotly.min.js' } as const;

export interface HtmlReportOptions {
  title?: string;
  /** Theme the report opens in (the page also offers a switch). Default: dark. */
  theme?: 'light' | 'dark';
  /** Cells per axis of each tensor's pre-computed tile (default 256, at most 1024). */
  tileSize?: number;
  /** Folder holding webview.js, webview.css and plotly.min.js (default: the built dist/ folder). */
  assetsDir?: string;
  accuracy?: KenReport['accuracy'];
  sweep?: KenReport['sweep'];
  timeline?: { points: TimelinePoint[] };
  /** Replace an existing file at htmlPath (otherwise that is refused). */
  overwrite?: boolean;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number, tensor: string) => void;
}

export interface HtmlReportResult {
  path: string;
  bytes: number;
  tensors: number;
}

/** The folder with the built webview assets, looked for above `start` (dist/ itself or <root>/dist). */
export function findWebviewAssets(start: string = __dirname): string | undefined {
  let d = resolve(start);
  for (;;) {
    for (const cand of [d, join(d, 'dist')]) {
      if (existsSync(join(cand, WEBVIEW_ASSETS.script)) && existsSync(join(cand, WEBVIEW_ASSETS.plotly))) return cand;
    }
    const up = dirname(d);
    if (up === d) return undefined;
    d = up;
  }
}

const Q_NAN = -32768;
const N_NAN = 255;

/** Packs a values tile and a neighbours tile of the same geometry into the report's StaticTile. */
export function encodeStaticTile(values: Tile, neighbours: Tile): StaticTile {
  const cells = values.rows * values.cols;
  if (neighbours.rows * neighbours.cols !== cells) throw new RangeError(`tensor ${values.tensor}: values and neighbours tiles differ in size`);
  const buf = Buffer.alloc(cells * 4);
  const scale = values.stats.absMax > 0 ? 32767 / values.stats.absMax : 0;
  for (let i = 0; i < cells; i++) {
    const v = values.values[i]!;
    buf.writeInt16LE(v !== v ? Q_NAN : Math.max(-32767, Math.min(32767, Math.round(v * scale))), i * 2);
    buf[cells * 2 + i] = Math.round(values.keptFraction[i]! * 255);
    const m = neighbours.values[i]!;
    buf[cells * 3 + i] = m !== m ? N_NAN : Math.round(m * 63);
  }
  return {
    tensor: values.tensor, window: values.window, rows: values.rows, cols: values.cols, rowStep: values.rowStep, colStep: values.colStep,
    reduce: values.reduce, stats: values.stats, data: gzipSync(buf, { level: 9 }).toString('base64'),
  };
}

/** JSON that is safe inside a <script> element (no `</script`, no `<!--`). */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/** Inline script text cannot contain `</script`; source map comments would point at files the report lacks. */
function inlineScript(code: string): string {
  return code.replace(/<\/(script)/gi, '<\\/$1').replace(/\n\/\/# sourceMappingURL=[^\n]*\s*$/, '\n');
}

/** Builds the report's data: the init message plus one StaticTile per tensor. */
export async function staticReportData(data: VizDataSource, opts: HtmlReportOptions = {}): Promise<StaticReportData> {
  const size = Math.max(8, Math.min(1024, Math.floor(opts.tileSize ?? 256)));
  const init: InitMessage = data.initMessage({
    title: opts.title ?? `KEN report: ${basename(data.folder)}`,
    source: data.report.finetuned ?? data.folder,
    ...(opts.accuracy ? { accuracy: opts.accuracy } : {}),
    ...(opts.sweep ? { sweep: opts.sweep } : {}),
    ...(opts.timeline ? { timeline: opts.timeline } : {}),
    theme: (opts.theme ?? 'dark') as ThemeKind,
  });
  const tiles: StaticTile[] = [];
  let done = 0;
  for (const t of data.tensors) {
    throwIfAborted(opts.signal);
    opts.onProgress?.(done, data.tensors.length, t.name);
    const q = { maxRows: size, maxCols: size, reduce: 'absmax' as const };
    const values = await data.tile(t.name, { kind: 'values', ...q }, opts.signal);
    const neighbours = await data.tile(t.name, { kind: 'neighbours', ...q }, opts.signal);
    tiles.push(encodeStaticTile(values, neighbours));
    // the report reads each tensor once; keep memory flat on large models
    data.clearCache();
    done++;
  }
  opts.onProgress?.(done, data.tensors.length, '');
  return { format: STATIC_FORMAT, version: STATIC_VERSION, init, tiles };
}

/** The report page around inlined assets and data. */
export function staticHtml(parts: { title: string; theme: 'light' | 'dark'; css: string; plotly: string; script: string; data: StaticReportData; nonce: string }): string {
  const n = parts.nonce;
  const csp = `default-src 'none'; script-src 'nonce-${n}'; style-src 'nonce-${n}'; img-src data: blob:; font-src data:`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${escapeAttr(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<meta name="generator" content="${escapeHtml(parts.data.init.report.tool ?? 'ken')}">
<title>${escapeHtml(parts.title)}</title>
<style id="${PLOTLY_STYLE_ID}" nonce="${n}"></style>
<style nonce="${n}">
${STATIC_THEME_CSS}</style>
<style nonce="${n}">
${parts.css.replace(/<\/(style)/gi, '<\\/$1').replace(/\/\*# sourceMappingURL=[^*]*\*\/\s*$/, '')}
</style>
</head>
<body class="vscode-${parts.theme} ken-static" data-vscode-theme-kind="vscode-${parts.theme}">
<div id="app" class="ken-app"></div>
<script type="application/json" id="${STATIC_DATA_ID}" nonce="${n}">${scriptJson(parts.data)}</script>
<script nonce="${n}">${inlineScript(parts.plotly)}</script>
<script nonce="${n}">${inlineScript(parts.script)}</script>
</body>
</html>
`;
}

/**
 * Writes `htmlPath`: one HTML file showing the prune in `outFolder` (ken-report.json and
 * ken-subnetwork.safetensors), with every view of the panel, that works offline. Written under a
 * temporary name and renamed into place.
 */
export async function writeHtmlReport(outFolder: string, htmlPath: string, opts: HtmlReportOptions = {}): Promise<HtmlReportResult> {
  const path = resolve(htmlPath);
  if (!opts.overwrite && existsSync(path)) throw new UsageError(`${htmlPath}: already exists; choose another name or allow overwriting`);
  if (!existsSync(dirname(path))) throw new UsageError(`${htmlPath}: the folder ${dirname(path)} does not exist`);
  const assets = opts.assetsDir ?? findWebviewAssets();
  if (!assets || !existsSync(join(assets, WEBVIEW_ASSETS.script))) {
    throw new UsageError(`the webview bundle (${WEBVIEW_ASSETS.script}, ${WEBVIEW_ASSETS.plotly}) is missing${assets ? ` in ${assets}` : ''}; build it with node scripts/build.mjs`);
  }
  const data = await VizDataSource.open(outFolder);
  const staticData = await staticReportData(data, opts);
  const [script, plotly, css] = await Promise.all([
    readFile(join(assets, WEBVIEW_ASSETS.script), 'utf8'),
    readFile(join(assets, WEBVIEW_ASSETS.plotly), 'utf8'),
    readFile(join(assets, WEBVIEW_ASSETS.style), 'utf8').catch(() => ''),
  ]);
  const html = staticHtml({
    title: staticData.init.title, theme: opts.theme ?? 'dark', css, plotly, script, data: staticData, nonce: randomBytes(18).toString('base64'),
  });
  throwIfAborted(opts.signal);
  const tmp = join(dirname(path), `.${basename(path)}.ken-tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  const untrack = trackTemporary(tmp); // removed by a forced stop too
  try {
    await writeFile(tmp, html, { flag: 'wx' });
    throwIfAborted(opts.signal);
    await rename(tmp, path);
  } finally {
    await rm(tmp, { force: true });
    untrack();
  }
  return { path, bytes: (await stat(path)).size, tensors: staticData.tiles.length };
}
