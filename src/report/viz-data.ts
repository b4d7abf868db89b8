// The panel's data source over a `ken prune` output folder (ken-report.json + ken-subnetwork.safetensors):
// answers tile requests for any tensor, decoding each tensor once and keeping the decoded ones in a
// byte-bounded LRU so that switching between matrices stays fast.
import { providerLabel } from '../runtime/webgpu';
import { basename, join, resolve } from 'node:path';
import { CheckpointError, oneLine, throwIfAborted } from '../errors';
import { readEntry, readMask, readSubnetwork, type Subnetwork, type SubnetworkTensor } from '../formats/subnetwork';
import { isFloatDType, toFloat32 } from '../formats/dtype';
import { kenRows } from '../formats/layout';
import { SUBNETWORK_FILE } from '../formats/subnetwork';
import { REPORT_FILE } from '../shared/report';
import {
  PROTOCOL_VERSION, isKenReport, isSweepRecord,
  type ErrorMessage, type InitMessage, type RequestTileMessage, type TensorInfo, type ThemeKind, type Tile, type TileMessage, type TimelinePoint,
} from '../shared/protocol';
import { layerOf, layerPattern, type KenReport, type TensorStatus } from '../shared/report';
import { computeTile, neighbourCounts, valueStats, type TileQuery, type ValueGrid } from './tiles';
import { readRegularFile } from '../formats/paths';

export const DEFAULT_CACHE_BYTES = 512 * 1024 * 1024;

/** A least-recently-used map bounded by the bytes its values hold; a value larger than the bound is not kept. */
export class ByteLru<K, V> {
  private readonly map = new Map<K, { value: V; bytes: number }>();
  private used = 0;
  constructor(readonly maxBytes: number) {}

  get(key: K): V | undefined {
    const e = this.map.get(key);
    if (!e) return undefined;
    this.map.delete(key);
    this.map.set(key, e);
    return e.value;
  }

  set(key: K, value: V, bytes: number): void {
    this.delete(key);
    if (bytes > this.maxBytes) return;
    this.map.set(key, { value, bytes });
    this.used += bytes;
    for (const [k, e] of this.map) {
      if (this.used <= this.maxBytes) break;
      this.map.delete(k);
      this.used -= e.bytes;
    }
  }

  delete(key: K): void {
    const e = this.map.get(key);
    if (!e) return;
    this.map.delete(key);
    this.used -= e.bytes;
  }

  has(key: K): boolean {
    return this.map.has(key);
  }

  get bytes(): number {
    return this.used;
  }

  get size(): number {
    return this.map.size;
  }

  clear(): void {
    this.map.clear();
    this.used = 0;
  }
}

/** A decoded tensor and, once asked for, its neighbour counts. */
export interface DecodedTensor extends ValueGrid {
  counts?: Uint8Array;
}

function decodedBytes(d: DecodedTensor): number {
  return d.values.byteLength + (d.counts?.byteLength ?? 0);
}

/** The grid a tensor is shown as: KEN rows x the rest (1-D: one row). */
export function gridShape(shape: readonly number[]): { rows: number; cols: number } {
  const { rows, n } = kenRows(shape);
  return { rows, cols: n };
}

/** The tensors a subnetwork holds, as the panel lists them (status and counts from the report when it has them). */
export function tensorInfos(meta: readonly SubnetworkTensor[], report?: KenReport): TensorInfo[] {
  const byName = new Map(report?.tensors.map((t) => [t.name, t]));
  return meta.map((t) => {
    const { rows, cols } = gridShape(t.shape);
    const r = byName.get(t.name);
    const info: TensorInfo = {
      name: t.name, rows, cols, status: (r?.status ?? t.status) as TensorStatus, kept: r?.kept ?? t.kept, total: r?.total ?? t.total,
      pattern: layerPattern(t.name),
    };
    const layer = layerOf(t.name);
    if (layer !== undefined) info.layer = layer;
    return info;
  });
}

/** Kept values in mask order scattered into a full grid, NaN elsewhere. */
export function scatterKept(mask: Uint8Array, kept: Float32Array, where: string): Float32Array {
  const out = new Float32Array(mask.length);
  let p = 0;
  for (let i = 0; i < mask.length; i++) {
    if (mask[i]) {
      out[i] = kept[p++]!;
    } else {
      out[i] = NaN;
    }
  }
  if (p !== kept.length) throw new CheckpointError(`${where}: ${kept.length} kept values for ${p} kept positions`);
  return out;
}

/** Jaccard overlap of two kept sets (1 when both are empty). */
export function maskJaccard(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) throw new RangeError(`masks of ${a.length} and ${b.length} positions cannot be compared`);
  let both = 0;
  let either = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] !== 0;
    const y = b[i] !== 0;
    if (x && y) both++;
    if (x || y) either++;
  }
  return either === 0 ? 1 : both / either;
}

export interface VizDataOptions {
  /** Bound on decoded tensors kept in memory (default 512 MB). */
  cacheBytes?: number;
}

/** What the host adds to the report for the panel's first message. */
export interface InitExtras {
  title?: string;
  source?: string;
  accuracy?: KenReport['accuracy'];
  sweep?: KenReport['sweep'];
  timeline?: { points: TimelinePoint[] };
  theme?: ThemeKind;
}

/** Reads and checks ken-report.json of an output folder. */
export async function readReport(folder: string): Promise<KenReport> {
  const path = join(folder, REPORT_FILE);
  let text: string;
  try {
    text = (await readRegularFile(path)).toString('utf8'); // a FIFO is refused, never read
  } catch (e) {
    if (e instanceof CheckpointError && !/: no such file$/.test(e.message)) throw e;
    throw new CheckpointError(`${folder}: no ${REPORT_FILE}; run ken prune with --out to make one`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new CheckpointError(`${path}: not JSON (${oneLine(e)})`);
  }
  if (!isKenReport(json)) throw new CheckpointError(`${path}: not a KEN report (k, tensors or totals missing)`);
  if (json.sweep !== undefined && !isSweepRecord(json.sweep)) throw new CheckpointError(`${path}: its sweep is malformed (points, methods, aggregates, recommendations or adapter)`);
  return json;
}

/** Tiles of one `ken prune` output folder. Open with VizDataSource.open. */
export class VizDataSource {
  private readonly cache: ByteLru<string, DecodedTensor>;
  private readonly pending = new Map<string, Promise<DecodedTensor>>();
  private readonly byName: Map<string, SubnetworkTensor>;
  readonly tensors: TensorInfo[];

  private constructor(readonly folder: string, readonly report: KenReport, private readonly sub: Subnetwork, opts: VizDataOptions) {
    this.cache = new ByteLru(opts.cacheBytes ?? DEFAULT_CACHE_BYTES);
    this.byName = new Map(sub.meta.tensors.map((t) => [t.name, t]));
    this.tensors = tensorInfos(sub.meta.tensors, report);
  }

  /** Opens an output folder; a missing or foreign file is a one-line CheckpointError naming it. */
  static async open(folder: string, opts: VizDataOptions = {}): Promise<VizDataSource> {
    const dir = resolve(folder);
    const report = await readReport(dir);
    const sub = await readSubnetwork(join(dir, SUBNETWORK_FILE)).catch((e: unknown) => {
      if (e instanceof CheckpointError) throw e;
      throw new CheckpointError(`${folder}: no readable ${SUBNETWORK_FILE} (${oneLine(e)})`);
    });
    return new VizDataSource(dir, report, sub, opts);
  }

  /** The panel's first message. */
  initMessage(extras: InitExtras = {}): InitMessage {
    const msg: InitMessage = {
      type: 'init', protocolVersion: PROTOCOL_VERSION, report: this.report,
      title: extras.title ?? basename(this.folder), source: extras.source ?? this.folder,
      backend: this.report.backend, executionProvider: providerLabel(this.report.executionProvider, this.report.adapter), tensors: this.tensors,
    };
    if (extras.accuracy) msg.accuracy = extras.accuracy;
    if (extras.sweep) msg.sweep = extras.sweep;
    if (extras.timeline) msg.timeline = extras.timeline;
    if (extras.theme) msg.theme = extras.theme;
    return msg;
  }

  /** The decoded tensor (values, NaN where pruned), from the cache when it is there. */
  async decoded(name: string, signal?: AbortSignal): Promise<DecodedTensor> {
    const hit = this.cache.get(name);
    if (hit) return hit;
    let p = this.pending.get(name);
    if (!p) {
      p = this.decode(name).finally(() => this.pending.delete(name));
      this.pending.set(name, p);
    }
    const d = await p;
    throwIfAborted(signal);
    return d;
  }

  /** The KEN-layout kept mask of a tensor (1 = kept), e.g. to compare checkpoints with maskJaccard. */
  async mask(name: string, signal?: AbortSignal): Promise<Uint8Array> {
    const d = await this.decoded(name, signal);
    const m = new Uint8Array(d.values.length);
    for (let i = 0; i < m.length; i++) m[i] = d.values[i] === d.values[i] ? 1 : 0;
    return m;
  }

  private async decode(name: string): Promise<DecodedTensor> {
    const t = this.byName.get(name);
    if (!t) throw new CheckpointError(`${this.sub.path}: no tensor ${name} in the subnetwork`);
    if (!isFloatDType(t.dtype)) throw new CheckpointError(`${this.sub.path}: tensor ${name} holds ${t.dtype} values; only float tensors can be shown`);
    const { rows, cols } = gridShape(t.shape);
    let values: Float32Array;
    if (t.layout === 'whole') {
      values = toFloat32(await readEntry(this.sub, `whole:${name}`), t.dtype);
      if (values.length !== rows * cols) throw new CheckpointError(`${this.sub.path}: tensor ${name} holds ${values.length} values for shape [${t.shape.join(', ')}]`);
    } else {
      const mask = await readMask(this.sub, t);
      const kept = toFloat32(await readEntry(this.sub, `values:${name}`), t.dtype);
      values = scatterKept(mask, kept, `${this.sub.path}: tensor ${name}`);
    }
    const d: DecodedTensor = { name, rows, cols, values, stats: valueStats(values) };
    this.cache.set(name, d, decodedBytes(d));
    return d;
  }

  /** One tile; errors are one-line CheckpointErrors naming the tensor. */
  async tile(tensor: string, query: TileQuery, signal?: AbortSignal): Promise<Tile> {
    const d = await this.decoded(tensor, signal);
    if (query.kind === 'neighbours' && !d.counts) {
      d.counts = neighbourCounts(d.values, d.rows, d.cols);
      if (this.cache.has(tensor)) this.cache.set(tensor, d, decodedBytes(d));
    }
    try {
      return computeTile(d, query, d.counts);
    } catch (e) {
      throw new CheckpointError(oneLine(e));
    }
  }

  /** Answers a request-tile message with a tile or an error (never throws). */
  async handle(msg: RequestTileMessage, signal?: AbortSignal): Promise<TileMessage | ErrorMessage> {
    try {
      const tile = await this.tile(msg.tensor, { kind: msg.kind, window: msg.window, maxRows: msg.maxRows, maxCols: msg.maxCols, reduce: msg.reduce }, signal);
      return { type: 'tile', inReplyTo: msg.requestId, tile };
    } catch (e) {
      return { type: 'error', inReplyTo: msg.requestId, message: oneLine(e) };
    }
  }

  /** Decoded bytes held and tensors cached. */
  cacheStats(): { bytes: number; tensors: number; maxBytes: number } {
    return { bytes: this.cache.bytes, tensors: this.cache.size, maxBytes: this.cache.maxBytes };
  }

  /** Drops every decoded tensor. */
  clearCache(): void {
    this.cache.clear();
  }
}
