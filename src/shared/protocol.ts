// Every message between the extension host and the KEN webview, one interface per message, a `type`
// discriminant, a union per direction. The webview sends `ready` first; the host queues until then.
// Requests carry `requestId`, their answers `inReplyTo`. Matrix data is pulled by the webview in
// tiles (typed arrays, never JSON number lists), never pushed whole.
// The guards at the end validate shape at runtime: neither side trusts what it receives.
import type { KenReport, TensorStatus } from './report';

export const PROTOCOL_VERSION = 1;

/** The most cells one tile may hold (host and webview both enforce it). */
export const MAX_TILE_CELLS = 1 << 20;

// ---------------------------------------------------------------------------------------------
// Shared shapes

/** A half-open window of a matrix (KEN layout: the PyTorch layout, rows = its first axis): rows [row0, row1), cols [col0, col1). */
export interface TileWindow {
  row0: number;
  row1: number;
  col0: number;
  col1: number;
}

/** `values`: kept fine-tuned values; `neighbours`: per kept position, how many of its 4 neighbours are kept. */
export type TileKind = 'values' | 'neighbours';

/** How a block of many positions becomes one cell: mean of its kept values, or the kept value of largest magnitude (signed). */
export type TileReduce = 'mean' | 'absmax';

/** One tensor as the panel shows it: a grid of rows x cols (1-D tensors are one row). */
export interface TensorInfo {
  name: string;
  rows: number;
  cols: number;
  status: TensorStatus;
  kept: number;
  total: number;
  /** Layer number (`...layer.3...`), absent outside numbered layers. */
  layer?: number;
  /** The name with its layer replaced by `*` (see layerPattern). */
  pattern: string;
}

/**
 * A grid of at most MAX_TILE_CELLS cells over `window`. Each cell covers a block of rowStep x colStep
 * positions (the last row/column of blocks may be smaller). At full resolution (steps of 1) a cell is
 * one position. Cell (i, j) is at values[i * cols + j].
 */
export interface Tile {
  tensor: string;
  kind: TileKind;
  reduce: TileReduce;
  window: TileWindow;
  rows: number;
  cols: number;
  rowStep: number;
  colStep: number;
  /** Per cell: the block's reduced kept value (or mean neighbour count), NaN when nothing in it is kept. */
  values: Float32Array;
  /** Per cell: the fraction of the block's positions that are kept (0 or 1 at full resolution). */
  keptFraction: Float32Array;
  /** Whole-tensor figures, so that zooming keeps one colour scale. */
  stats: TileStats;
}

export interface TileStats {
  /** Over the tensor's kept values (for `neighbours`: 0 and 4). */
  min: number;
  max: number;
  absMax: number;
  kept: number;
  total: number;
}

/** Drift of one layer between two consecutive checkpoints of a fine-tuning run. */
export interface LayerDrift {
  /** null: tensors outside numbered layers. */
  layer: number | null;
  /** Mean |delta| of the weights against the pre-trained base. */
  meanAbsDelta: number;
  /** Fraction of the weights that differ from the base at all. */
  movedFraction: number;
}

/** Jaccard overlap of a tensor's kept set with the previous checkpoint's (1 = same positions). */
export interface TensorOverlap {
  tensor: string;
  jaccard: number;
}

/** One checkpoint seen by the live fine-tuning watcher. */
export interface TimelinePoint {
  step: number;
  keptRatio: number;
  drift: LayerDrift[];
  overlap: TensorOverlap[];
  accuracy?: number;
  /** ISO time the checkpoint was seen. */
  time?: string;
  /** Checkpoint label (folder name). */
  label?: string;
}

export type ThemeKind = 'light' | 'dark' | 'high-contrast' | 'high-contrast-light';

export type LogLevel = 'error' | 'warn' | 'info';

// ---------------------------------------------------------------------------------------------
// Host -> webview

/** The first message after `ready`: everything the views need except matrix data. */
export interface InitMessage {
  type: 'init';
  protocolVersion: number;
  report: KenReport;
  /** Panel title, e.g. the output folder's name. */
  title: string;
  /** Where the report came from (a path or a label), shown under the title. */
  source: string;
  /** What ran: e.g. backend 'js' on 'cpu', or 'ort' on 'CUDA'. */
  backend: string;
  executionProvider: string;
  /** Tensors the host can answer tiles for. */
  tensors: TensorInfo[];
  /** Evaluation before/after, when not already in the report. */
  accuracy?: KenReport['accuracy'];
  /** The k sweep, when not already in the report. */
  sweep?: KenReport['sweep'];
  /** Present when a live watcher runs: the points seen so far. */
  timeline?: { points: TimelinePoint[] };
  theme?: ThemeKind;
}

export interface TileMessage {
  type: 'tile';
  inReplyTo: number;
  tile: Tile;
}

/** A request failed (with `inReplyTo`), or the host wants the panel to show a problem. */
export interface ErrorMessage {
  type: 'error';
  inReplyTo?: number;
  message: string;
}

/** A request finished with nothing to return (an export written). */
export interface DoneMessage {
  type: 'done';
  inReplyTo: number;
  message?: string;
}

/** The report changed on disk (a new prune): the webview drops its tiles and redraws. */
export interface ReportUpdatedMessage {
  type: 'report-updated';
  report: KenReport;
  tensors: TensorInfo[];
  backend: string;
  executionProvider: string;
  accuracy?: KenReport['accuracy'];
  sweep?: KenReport['sweep'];
  title?: string;
  source?: string;
}

/** A new checkpoint seen by the live watcher. */
export interface TimelinePointMessage {
  type: 'timeline-point';
  point: TimelinePoint;
}

/** VS Code's colour theme changed (the webview also watches its body class). */
export interface ThemeChangedMessage {
  type: 'theme-changed';
  kind: ThemeKind;
}

/** The panel opened before its report exists (a prune running): what to show meanwhile. */
export interface PendingMessage {
  type: 'pending';
  title: string;
  message: string;
  /** 0..1 when known. */
  progress?: number;
}

export type HostMessage =
  | InitMessage
  | PendingMessage
  | TileMessage
  | ErrorMessage
  | DoneMessage
  | ReportUpdatedMessage
  | TimelinePointMessage
  | ThemeChangedMessage;

// ---------------------------------------------------------------------------------------------
// Webview -> host

export interface ReadyMessage {
  type: 'ready';
  protocolVersion: number;
}

/** Asks for one tile; the host answers `tile` or `error` with inReplyTo = requestId. */
export interface RequestTileMessage {
  type: 'request-tile';
  requestId: number;
  tensor: string;
  kind: TileKind;
  /** Absent: the whole tensor. */
  window?: TileWindow;
  /** Cell budget per axis; the host also caps maxRows * maxCols at MAX_TILE_CELLS. */
  maxRows: number;
  maxCols: number;
  reduce?: TileReduce;
}

/** Save the report JSON (the host asks where). */
export interface ExportJsonMessage {
  type: 'export-json';
  requestId: number;
  suggestedName: string;
}

/** Save a chart as PNG. */
export interface ExportPngMessage {
  type: 'export-png';
  requestId: number;
  /** data:image/png;base64,... */
  dataUrl: string;
  suggestedName: string;
}

/** Errors (and notes) from the webview, for the host's output channel. */
export interface LogMessage {
  type: 'log';
  level: LogLevel;
  message: string;
}

/** Open one of the output folder's files (ken-report.json) in an editor; the host checks the path. */
export interface OpenFileMessage {
  type: 'open-file';
  path: string;
}

export type WebviewMessage = ReadyMessage | RequestTileMessage | ExportJsonMessage | ExportPngMessage | LogMessage | OpenFileMessage;

// ---------------------------------------------------------------------------------------------
// Runtime guards

const MAX_NAME = 4096;
const MAX_LOG = 16384;
/** A PNG of a large chart is a few MB; refuse anything absurd. */
export const MAX_DATA_URL = 64 * 1024 * 1024;

type Obj = Record<string, unknown>;

function isObj(x: unknown): x is Obj {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}
function isStr(x: unknown, max = MAX_NAME): x is string {
  return typeof x === 'string' && x.length <= max;
}
function isNum(x: unknown): x is number {
  return typeof x === 'number' && Number.isFinite(x);
}
function isNonNegInt(x: unknown): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
}
function isPosInt(x: unknown): x is number {
  return isNonNegInt(x) && x > 0;
}
function optional(x: unknown, test: (v: unknown) => boolean): boolean {
  return x === undefined || test(x);
}

const TILE_KINDS: readonly string[] = ['values', 'neighbours'];
const REDUCES: readonly string[] = ['mean', 'absmax'];
const LEVELS: readonly string[] = ['error', 'warn', 'info'];
const THEMES: readonly string[] = ['light', 'dark', 'high-contrast', 'high-contrast-light'];
const STATUSES: readonly string[] = ['pruned', 'no-base', 'head', 'excluded', 'kept-all'];

export function isTileWindow(x: unknown): x is TileWindow {
  return isObj(x) && isNonNegInt(x['row0']) && isNonNegInt(x['row1']) && isNonNegInt(x['col0']) && isNonNegInt(x['col1'])
    && x['row0'] < x['row1'] && x['col0'] < x['col1'];
}

/** A file name without folders, for a save dialog's default. */
export function isPlainFileName(x: unknown): x is string {
  return isStr(x, 255) && x.length > 0 && !/[\\/\0]/.test(x) && x !== '.' && x !== '..';
}

/** Validates a message from the webview; anything else (a stray or hostile post) is refused. */
export function isWebviewMessage(x: unknown): x is WebviewMessage {
  if (!isObj(x)) return false;
  switch (x['type']) {
    case 'ready':
      return isNonNegInt(x['protocolVersion']);
    case 'request-tile':
      return isNonNegInt(x['requestId']) && isStr(x['tensor']) && TILE_KINDS.includes(x['kind'] as string)
        && optional(x['window'], isTileWindow) && isPosInt(x['maxRows']) && isPosInt(x['maxCols'])
        && optional(x['reduce'], (v) => REDUCES.includes(v as string));
    case 'export-json':
      return isNonNegInt(x['requestId']) && isPlainFileName(x['suggestedName']);
    case 'export-png':
      return isNonNegInt(x['requestId']) && isPlainFileName(x['suggestedName'])
        && isStr(x['dataUrl'], MAX_DATA_URL) && x['dataUrl'].startsWith('data:image/png;base64,');
    case 'log':
      return LEVELS.includes(x['level'] as string) && isStr(x['message'], MAX_LOG);
    case 'open-file':
      return isStr(x['path']) && x['path'].length > 0;
    default:
      return false;
  }
}

function isTensorInfo(x: unknown): x is TensorInfo {
  return isObj(x) && isStr(x['name']) && isNonNegInt(x['rows']) && isNonNegInt(x['cols']) && STATUSES.includes(x['status'] as string)
    && isNonNegInt(x['kept']) && isNonNegInt(x['total']) && optional(x['layer'], isNonNegInt) && isStr(x['pattern']);
}

/** Enough of a KenReport to draw from (the views cope with optional parts being absent). */
export function isKenReport(x: unknown): x is KenReport {
  if (!isObj(x) || !isNonNegInt(x['k']) || !isStr(x['backend']) || !isStr(x['executionProvider'])) return false;
  if (!isNonNegInt(x['totalParams']) || !isNonNegInt(x['keptParams']) || !isNum(x['keptRatio'])) return false;
  const ts = x['tensors'];
  if (!Array.isArray(ts)) return false;
  return ts.every((t) => isObj(t) && isStr(t['name']) && Array.isArray(t['shape']) && (t['shape'] as unknown[]).every(isNonNegInt)
    && isNonNegInt(t['kept']) && isNonNegInt(t['total']) && STATUSES.includes(t['status'] as string));
}

/** A number, or the null that JSON writes for a metric a task does not have (NaN). */
function isNumOrNull(x: unknown): boolean {
  return x === null || isNum(x);
}

function isSweepPoint(x: unknown): boolean {
  return isObj(x) && isPosInt(x['k']) && isNonNegInt(x['keptParams']) && isNum(x['keptRatio'])
    && optional(x['accuracy'], isNumOrNull) && optional(x['value'], isNumOrNull)
    && optional(x['method'], (v) => isStr(v, 64)) && optional(x['seed'], isNonNegInt) && optional(x['subnetworkBytes'], isNonNegInt)
    && optional(x['metrics'], isObj);
}

/**
 * A sweep's record (KenReport['sweep']) as the views read it: its points, the methods in order,
 * seeded methods' aggregates, per-method recommendations, the adapter point.
 */
export function isSweepRecord(x: unknown): x is NonNullable<KenReport['sweep']> {
  if (!isObj(x) || !isNumOrNull(x['finetunedAccuracy']) || !Array.isArray(x['points']) || !x['points'].every(isSweepPoint)) return false;
  const agg = (a: unknown): boolean => isObj(a) && isStr(a['method'], 64) && isPosInt(a['k']) && isPosInt(a['runs'])
    && ['mean', 'spread', 'min', 'max'].every((k) => isNumOrNull(a[k])) && isNonNegInt(a['keptParams']) && optional(a['subnetworkBytes'], isNonNegInt);
  const rec = (r: unknown): boolean => isObj(r) && isStr(r['method'], 64) && optional(r['k'], isPosInt) && optional(r['keptParams'], isNonNegInt)
    && optional(r['subnetworkBytes'], isNonNegInt) && optional(r['value'], isNumOrNull) && optional(r['note'], (v) => isStr(v, MAX_LOG));
  const adapter = (a: unknown): boolean => isObj(a) && isStr(a['path']) && isNumOrNull(a['value']) && isNonNegInt(a['trainableParams']) && isNonNegInt(a['bytes']);
  return optional(x['metric'], (v) => isStr(v, 64)) && optional(x['finetunedValue'], isNumOrNull)
    && optional(x['methods'], (m) => Array.isArray(m) && m.every((v) => isStr(v, 64)))
    && optional(x['aggregates'], (a) => Array.isArray(a) && a.every(agg))
    && optional(x['recommendations'], (r) => Array.isArray(r) && r.every(rec))
    && optional(x['adapter'], adapter) && optional(x['totalParams'], isNonNegInt);
}

function isTimelinePoint(x: unknown): x is TimelinePoint {
  if (!isObj(x) || !isNum(x['step']) || !isNum(x['keptRatio'])) return false;
  if (!Array.isArray(x['drift']) || !Array.isArray(x['overlap'])) return false;
  const driftOk = (x['drift'] as unknown[]).every((d) => isObj(d) && (d['layer'] === null || isNonNegInt(d['layer']))
    && isNum(d['meanAbsDelta']) && isNum(d['movedFraction']));
  const overlapOk = (x['overlap'] as unknown[]).every((o) => isObj(o) && isStr(o['tensor']) && isNum(o['jaccard']));
  return driftOk && overlapOk && optional(x['accuracy'], isNum) && optional(x['time'], isStr) && optional(x['label'], isStr);
}

/** A Float32Array, or an ArrayBuffer standing for one (some transports strip the view). */
function isF32(x: unknown, length: number): boolean {
  if (x instanceof Float32Array) return x.length === length;
  if (x instanceof ArrayBuffer) return x.byteLength === length * 4;
  return false;
}

export function isTile(x: unknown): x is Tile {
  if (!isObj(x) || !isStr(x['tensor']) || !TILE_KINDS.includes(x['kind'] as string) || !REDUCES.includes(x['reduce'] as string)) return false;
  if (!isTileWindow(x['window']) || !isNonNegInt(x['rows']) || !isNonNegInt(x['cols']) || !isPosInt(x['rowStep']) || !isPosInt(x['colStep'])) return false;
  const cells = x['rows'] * x['cols'];
  if (cells > MAX_TILE_CELLS) return false;
  const s = x['stats'];
  if (!isObj(s) || !['min', 'max', 'absMax'].every((k) => typeof s[k] === 'number') || !isNonNegInt(s['kept']) || !isNonNegInt(s['total'])) return false;
  return isF32(x['values'], cells) && isF32(x['keptFraction'], cells);
}

/** A tile's arrays as Float32Array views, whichever form the transport delivered. */
export function tileArrays(t: Tile): { values: Float32Array; keptFraction: Float32Array } {
  const f = (a: Float32Array | ArrayBuffer): Float32Array => (a instanceof Float32Array ? a : new Float32Array(a));
  return { values: f(t.values as Float32Array | ArrayBuffer), keptFraction: f(t.keptFraction as Float32Array | ArrayBuffer) };
}

/** Validates a message from the host. */
export function isHostMessage(x: unknown): x is HostMessage {
  if (!isObj(x)) return false;
  switch (x['type']) {
    case 'init':
      return isNonNegInt(x['protocolVersion']) && isKenReport(x['report']) && optional(x['report']['sweep'], isSweepRecord) && isStr(x['title']) && isStr(x['source'])
        && isStr(x['backend']) && isStr(x['executionProvider']) && Array.isArray(x['tensors']) && x['tensors'].every(isTensorInfo)
        && optional(x['accuracy'], isObj) && optional(x['sweep'], isSweepRecord)
        && optional(x['timeline'], (t) => isObj(t) && Array.isArray(t['points']) && t['points'].every(isTimelinePoint))
        && optional(x['theme'], (v) => THEMES.includes(v as string));
    case 'tile':
      return isNonNegInt(x['inReplyTo']) && isTile(x['tile']);
    case 'error':
      return optional(x['inReplyTo'], isNonNegInt) && isStr(x['message'], MAX_LOG);
    case 'done':
      return isNonNegInt(x['inReplyTo']) && optional(x['message'], (v) => isStr(v, MAX_LOG));
    case 'report-updated':
      return isKenReport(x['report']) && optional(x['report']['sweep'], isSweepRecord) && Array.isArray(x['tensors']) && x['tensors'].every(isTensorInfo)
        && isStr(x['backend']) && isStr(x['executionProvider'])
        && optional(x['accuracy'], isObj) && optional(x['sweep'], isSweepRecord) && optional(x['title'], isStr) && optional(x['source'], isStr);
    case 'timeline-point':
      return isTimelinePoint(x['point']);
    case 'theme-changed':
      return THEMES.includes(x['kind'] as string);
    case 'pending':
      return isStr(x['title']) && isStr(x['message'], MAX_LOG) && optional(x['progress'], (v) => isNum(v) && (v as number) >= 0 && (v as number) <= 1);
    default:
      return false;
  }
}

// ---------------------------------------------------------------------------------------------
// The self-contained HTML report: no host, so the data the views pull is embedded, and a static
// transport in the webview answers `request-tile` from it (reducing further when asked for less).

export const STATIC_FORMAT = 'ken-static-report';
export const STATIC_VERSION = 1;

/**
 * One tensor at a moderate resolution, both views. `data` is base64 of the gzip of, cell by cell
 * (rows x cols, row-major): Int16 little-endian values (round(v / stats.absMax * 32767), -32768 where
 * nothing is kept), then Uint8 kept fraction (round(f * 255)), then Uint8 mean neighbour count
 * (round(m * 63), 255 where nothing is kept).
 */
export interface StaticTile {
  tensor: string;
  window: TileWindow;
  rows: number;
  cols: number;
  rowStep: number;
  colStep: number;
  /** Values are the kept value of largest magnitude per block (`absmax`). */
  reduce: TileReduce;
  stats: TileStats;
  data: string;
}

export interface StaticReportData {
  format: typeof STATIC_FORMAT;
  version: number;
  init: InitMessage;
  tiles: StaticTile[];
}

/** The id of the <script type="application/json"> element that holds StaticReportData. */
export const STATIC_DATA_ID = 'ken-static-data';

export function isStaticReportData(x: unknown): x is StaticReportData {
  if (!isObj(x) || x['format'] !== STATIC_FORMAT || !isNonNegInt(x['version']) || !isHostMessage(x['init']) || (x['init'] as HostMessage).type !== 'init') return false;
  const tiles = x['tiles'];
  return Array.isArray(tiles) && tiles.every((t) => isObj(t) && isStr(t['tensor']) && isTileWindow(t['window']) && isNonNegInt(t['rows']) && isNonNegInt(t['cols'])
    && isPosInt(t['rowStep']) && isPosInt(t['colStep']) && REDUCES.includes(t['reduce'] as string) && isObj(t['stats']) && typeof t['data'] === 'string');
}

// ---------------------------------------------------------------------------------------------
// The notebook output renderer (webview/notebook-renderer.ts) and the extension host
// (src/extension/notebook.ts), over VS Code's renderer messaging.

/** The MIME type a notebook cell displays to show a run's KEN_viz timeline and latest matrix. */
export const KEN_VIZ_MIME = 'application/vnd.ken.viz+json';
/** The renderer's id in package.json `contributes.notebookRenderer`. */
export const KEN_RENDERER_ID = 'ken-viz-notebook';

/** The cell output's JSON: the run folder (relative to the notebook's folder, or absolute). */
export interface NotebookVizData {
  run: string;
  /** A snapshot of the timeline, drawn until the extension sends the live one. */
  points?: TimelinePoint[];
}

/** The latest checkpoint's matrix, reduced on the host to a small grid (null = pruned). */
export interface NotebookMatrix {
  tensor: string;
  step: number;
  rows: number;
  cols: number;
  /** Rows and columns of the tensor itself. */
  tensorRows: number;
  tensorCols: number;
  values: (number | null)[];
  absMax: number;
}

export type RendererToHost =
  | { type: 'subscribe'; run: string }
  | { type: 'watch'; run: string };

export interface RunSnapshotMessage {
  type: 'run';
  /** As the output names it (the renderer matches on it). */
  run: string;
  /** The folder it resolved to. */
  runDir: string;
  watching: boolean;
  points: TimelinePoint[];
  matrix?: NotebookMatrix;
  /** Why there is nothing to draw yet. */
  note?: string;
}

export type HostToRenderer = RunSnapshotMessage;

export function isNotebookVizData(x: unknown): x is NotebookVizData {
  return isObj(x) && isStr(x['run'], 4096) && x['run'] !== '' && optional(x['points'], (p) => Array.isArray(p) && p.every(isTimelinePoint));
}

export function isRendererToHost(x: unknown): x is RendererToHost {
  return isObj(x) && (x['type'] === 'subscribe' || x['type'] === 'watch') && isStr(x['run'], 4096) && x['run'] !== '';
}

function isNotebookMatrix(x: unknown): x is NotebookMatrix {
  return isObj(x) && isStr(x['tensor']) && isNum(x['step']) && isNonNegInt(x['rows']) && isNonNegInt(x['cols'])
    && isNonNegInt(x['tensorRows']) && isNonNegInt(x['tensorCols']) && isNum(x['absMax'])
    && Array.isArray(x['values']) && x['values'].length === (x['rows'] as number) * (x['cols'] as number)
    && (x['values'] as unknown[]).every((v) => v === null || isNum(v));
}

export function isHostToRenderer(x: unknown): x is HostToRenderer {
  return isObj(x) && x['type'] === 'run' && isStr(x['run'], 4096) && isStr(x['runDir'], 4096) && typeof x['watching'] === 'boolean'
    && Array.isArray(x['points']) && x['points'].every(isTimelinePoint) && optional(x['matrix'], isNotebookMatrix) && optional(x['note'], isStr);
}
