// Records KEN outcomes as a subnetwork file and report entries: what `ken prune` writes, and what
// the watcher keeps of each checkpoint for the panel.
import { SUBNETWORK_FORMAT, SUBNETWORK_VERSION, SubnetworkWriter, encodePositions, gatherKept, type SubnetworkFile, type SubnetworkMeta, type SubnetworkTensor } from '../formats/subnetwork';
import type { KenReport, TensorReport } from '../shared/report';
import { TOOL } from '../version';
import { elementSize, type FloatDType } from '../formats/dtype';
import type { TensorOutcome } from '../ken/run';

/** One tensor's row of ken-report.json from its pruning outcome. */
export function tensorReport(o: Pick<TensorOutcome, 'tensor' | 'status' | 'rows' | 'kept' | 'total'>): TensorReport {
  const t = o.tensor;
  const r: TensorReport = {
    name: t.name, shape: t.shape, dtype: t.dtype, rows: o.rows, kept: o.kept, total: o.total, status: o.status,
    stored: t.views.map((v) => ({ format: v.format, name: v.name, transposed: v.transposed })),
  };
  if (t.base) r.base = t.base.name;
  if (t.note) r.note = t.note;
  return r;
}

/** The report's totals over its tensors. */
export function summarize(tensors: TensorReport[]): Pick<KenReport, 'totalParams' | 'keptParams' | 'keptRatio'> {
  const totalParams = tensors.reduce((s, t) => s + t.total, 0);
  const keptParams = tensors.reduce((s, t) => s + t.kept, 0);
  return { totalParams, keptParams, keptRatio: totalParams ? keptParams / totalParams : 1 };
}

export interface RecordSettings {
  k: number;
  /** The KDE's kernel; absent for a comparison (nothing was estimated). */
  kernel?: string | undefined;
  /** The pruning method, when not KEN; and its seed when it draws at random. */
  method?: string | undefined;
  seed?: number | undefined;
  scope: string;
  include?: string | undefined;
  exclude?: string | undefined;
  includeHead: boolean;
}

/** Collects outcomes (in plan order) into a subnetwork file and per-tensor report entries. */
export class KenRecorder {
  private readonly writer: SubnetworkWriter;
  readonly tensors: SubnetworkTensor[] = [];
  readonly reports: TensorReport[] = [];

  constructor(dataPath: string) {
    this.writer = new SubnetworkWriter(dataPath);
  }

  async add(o: TensorOutcome): Promise<void> {
    const t = o.tensor;
    this.reports.push(tensorReport(o));
    if (o.status === 'pruned') {
      const positions = encodePositions(o.mask!, o.rows, o.n, o.kept);
      await this.writer.add(`values:${t.name}`, t.dtype, [o.kept], gatherKept(o.pruned, o.mask!, o.kept, elementSize(t.dtype as FloatDType)));
      for (const p of positions.parts) await this.writer.add(`${p.key}:${t.name}`, p.dtype, p.shape, p.data);
      const b = t.base!;
      this.tensors.push({
        name: t.name, dtype: t.dtype, shape: t.shape, layout: positions.layout, status: o.status, kept: o.kept, total: o.total,
        base: { name: b.name, format: b.format, dtype: b.dtype, sha256: o.baseSha256 ?? '' },
      });
    } else {
      await this.writer.add(`whole:${t.name}`, t.dtype, t.shape, o.finetuned);
      this.tensors.push({ name: t.name, dtype: t.dtype, shape: t.shape, layout: 'whole', status: o.status, kept: o.kept, total: o.total });
    }
  }

  /** Adds a file's skeleton (its bytes with the tensors' bytes cut out). */
  async addFile(rel: string, skeleton: Uint8Array): Promise<void> {
    await this.writer.add(`file:${rel}`, 'U8', [skeleton.byteLength], skeleton);
  }

  /** Closes what is open without writing the subnetwork (after a failure or a cancel). */
  abandon(): Promise<void> {
    return this.writer.abandon();
  }

  /** Writes the subnetwork file; returns its size. */
  finish(path: string, settings: RecordSettings, files: SubnetworkFile[]): Promise<number> {
    const meta: SubnetworkMeta = {
      format: SUBNETWORK_FORMAT, version: SUBNETWORK_VERSION, tool: TOOL, k: settings.k, scope: settings.scope,
      includeHead: settings.includeHead, tensors: this.tensors, files,
    };
    if (settings.kernel !== undefined) meta.kernel = settings.kernel;
    if (settings.method !== undefined) meta.method = settings.method;
    if (settings.seed !== undefined) meta.seed = settings.seed;
    if (settings.include !== undefined) meta.include = settings.include;
    if (settings.exclude !== undefined) meta.exclude = settings.exclude;
    return this.writer.finish(path, meta);
  }
}
