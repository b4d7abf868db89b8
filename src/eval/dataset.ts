// Labelled data sets for evaluation, in any format src/eval/data reads (JSONL, CSV, TSV, Parquet,
// Arrow, save_to_disk and cache folders). Labels are names (the model's id2label/label2id) or ids:
// an id is read through the data set's ClassLabel names when it has them, so a data set whose
// classes are ordered unlike the model's is still scored right. A line that cannot be used is a
// one-line DataError naming the file and line (or row), or, when asked, skipped and counted.
import { basename } from 'node:path';
import { DataError, UsageError, throwIfAborted } from '../errors';
import { classNames, openData, type DataFormat, type FieldFlag, type OpenedData, type TextFormat } from './data';
import type { ProblemType } from '../formats/hf-config';

export type { DataFormat } from './data';

export interface Sample {
  text: string;
  /** The second text of a pair (GLUE-style), when the data set has one. */
  pair?: string;
  /** Index into the data set's `labels` (single-label); 0 for regression and multi-label. */
  label: number;
  /** Regression: the target value. */
  value?: number;
  /** Multi-label: the ids of the labels that apply. */
  labels?: number[];
  /** The line (text files) or row (tables) the sample comes from, 1-based, for messages. */
  line: number;
}

export interface Dataset {
  path: string;
  format: DataFormat;
  /** The model's classes in id order; `Sample.label` indexes them. */
  labels: readonly string[];
  problem?: ProblemType;
  samples: Sample[];
  /** Bad lines skipped (with `skipBadLines`). */
  skipped: number;
  /** The first few skipped lines' reasons, for a summary. */
  skippedReasons: string[];
  /** The split read from a folder, and anything to tell about it. */
  split?: string;
  note?: string;
}

export interface DatasetOptions {
  /** The model's classes in id order (from its config.json). */
  labels: readonly string[];
  textField?: string;
  textPairField?: string | undefined;
  labelField?: string;
  problem?: ProblemType | undefined;
  /** Skip (and count) lines that cannot be used instead of failing on the first. */
  skipBadLines?: boolean;
  /** Overrides the format told by the file's extension (text formats). */
  format?: TextFormat;
  /** The split of a data set folder. */
  split?: string | undefined;
  signal?: AbortSignal | undefined;
}

const KEPT_REASONS = 5;

/** A data set's own label: a class id (number, bigint, or digits), or a name. */
function asId(value: unknown): number | undefined {
  if (typeof value === 'bigint') return value >= -(2n ** 31n) && value < 2n ** 31n ? Number(value) : undefined;
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  if (typeof value === 'string' && /^\s*-?\d+\s*$/.test(value)) return Number(value.trim());
  return undefined;
}

/** Whether a model's labels are transformers' placeholders (LABEL_0, LABEL_1, ...): it names no classes. */
export function placeholderLabels(labels: readonly string[]): boolean {
  return labels.every((l, i) => l === `LABEL_${i}`);
}

/** Turns a data set's label values into the model's class ids. */
export class LabelMap {
  private readonly byName: Map<string, number>;
  private readonly byFolded = new Map<string, number | null>();
  private readonly placeholder: boolean;

  /** `dataNames`: the data set's ClassLabel names, when it records them. */
  constructor(readonly labels: readonly string[], readonly dataNames?: readonly string[]) {
    this.byName = new Map(labels.map((l, i) => [l, i] as const));
    for (const [l, i] of this.byName) {
      const k = l.trim().toLowerCase();
      this.byFolded.set(k, this.byFolded.has(k) ? null : i);
    }
    this.placeholder = placeholderLabels(labels);
  }

  private byLabelName(name: string): number | undefined {
    return this.byName.get(name) ?? this.byName.get(name.trim()) ?? this.byFolded.get(name.trim().toLowerCase()) ?? undefined;
  }

  /** The model's class id of `value`, or a reason it has none. */
  id(value: unknown): number | string {
    if (typeof value === 'string') {
      const named = this.byLabelName(value);
      if (named !== undefined) return named;
    }
    const id = asId(value);
    if (id === undefined) return this.unknown(value);
    if (id < 0) return `label ${id}: the line is unlabelled (GLUE-style test splits store -1; evaluate a labelled split)`;
    if (this.dataNames) {
      if (id >= this.dataNames.length) return `label ${id} is outside the data set's ClassLabel (${this.dataNames.length} names)`;
      const name = this.dataNames[id]!;
      const named = this.byLabelName(name);
      if (named !== undefined) return named;
      // A model without class names is taken to use the data set's ids.
      if (this.placeholder && id < this.labels.length) return id;
      return `label "${name}" (class ${id} of the data set's ClassLabel) is not one of the model's labels (${this.shown()})`;
    }
    if (id < this.labels.length) return id;
    return this.unknown(value);
  }

  private shown(): string {
    const l = this.labels;
    return l.length > 12 ? `${l.slice(0, 12).join(', ')}, ...` : l.join(', ');
  }

  private unknown(value: unknown): string {
    return `unknown label ${JSON.stringify(typeof value === 'bigint' ? Number(value) : value)} (the model's labels: ${this.shown()}; or an id 0-${this.labels.length - 1})`;
  }
}

/**
 * Maps a data set's label value to a class id: a class name first, then an integer id within
 * range. Undefined when it is neither.
 */
export function labelId(value: unknown, labels: readonly string[]): number | undefined {
  const r = new LabelMap(labels).id(value);
  return typeof r === 'number' ? r : undefined;
}

class BadLine extends Error {}

/** Collects rows into samples: failing on, or skipping and counting, lines that cannot be used. */
export class SampleCollector<S> {
  readonly samples: S[] = [];
  skipped = 0;
  readonly skippedReasons: string[] = [];

  constructor(private readonly data: OpenedData, private readonly skipBadLines: boolean) {}

  bad(n: number, reason: string): void {
    const where = `${this.data.files.length === 1 ? this.data.files[0] : this.data.path} ${this.data.unit} ${n}`;
    if (!this.skipBadLines) throw new DataError(`${where}: ${reason}`);
    this.skipped++;
    if (this.skippedReasons.length < KEPT_REASONS) this.skippedReasons.push(`${basename(this.data.files.length === 1 ? this.data.files[0]! : this.data.path)} ${this.data.unit} ${n}: ${reason}`);
  }

  /** Reads every row with `make`; a BadLine it throws is a bad line. */
  async read(fields: readonly FieldFlag[], make: (get: (f: string) => unknown, n: number) => S, signal?: AbortSignal): Promise<void> {
    await this.data.read({
      row: (n, get) => {
        try {
          this.samples.push(make(get, n));
        } catch (e) {
          if (e instanceof BadLine) this.bad(n, e.message);
          else throw e;
        }
      },
      bad: (n, reason) => this.bad(n, reason),
    }, fields, signal);
    throwIfAborted(signal);
    if (this.samples.length === 0) {
      throw new DataError(`${this.data.path}: no usable samples${this.skipped ? ` (${this.skipped} bad lines skipped; first: ${this.skippedReasons[0]})` : ''}`);
    }
  }
}

/** Throws a bad-line reason (inside SampleCollector.read). */
export function badLine(reason: string): never {
  throw new BadLine(reason);
}

/** A text field of a row, or a bad line. */
export function textOf(get: (f: string) => unknown, field: string): string {
  const v = get(field);
  if (v === undefined || v === null) badLine(`missing field "${field}"`);
  if (typeof v !== 'string') badLine(`field "${field}" is not text`);
  return v;
}

/** Reads a labelled data set; every line is checked against the model's labels. */
export async function loadDataset(path: string, opts: DatasetOptions): Promise<Dataset> {
  const problem = opts.problem ?? 'single_label_classification';
  if (problem !== 'regression' && opts.labels.length === 0) throw new UsageError('the model has no labels to evaluate against');
  const textField = opts.textField ?? 'text';
  const pairField = opts.textPairField;
  const labelField = opts.labelField ?? 'label';
  const data = await openData(path, { format: opts.format, split: opts.split });
  const map = new LabelMap(opts.labels, classNames(data.features, labelField));
  const fields: FieldFlag[] = [[textField, '--text-field'], [labelField, '--label-field']];
  if (pairField !== undefined) fields.push([pairField, '--text-pair-field']);
  const collector = new SampleCollector<Sample>(data, opts.skipBadLines ?? false);
  await collector.read(fields, (get, line) => {
    const text = textOf(get, textField);
    const pair = pairField === undefined ? undefined : textOf(get, pairField);
    const value = get(labelField);
    if (value === undefined || value === null) badLine(`missing field "${labelField}"`);
    const s: Sample = { text, label: 0, line };
    if (pair !== undefined) s.pair = pair;
    if (problem === 'regression') {
      const v = typeof value === 'string' && value.trim() !== '' ? Number(value) : typeof value === 'bigint' ? Number(value) : value;
      if (typeof v !== 'number' || !Number.isFinite(v)) badLine(`label ${JSON.stringify(String(value))} is not a number (regression)`);
      s.value = v;
    } else if (problem === 'multi_label_classification') {
      const list = Array.isArray(value) ? value : typeof value === 'string' && value.trim().startsWith('[') ? safeJson(value) : undefined;
      if (!Array.isArray(list)) badLine(`label field "${labelField}" is not a list of labels (multi-label)`);
      s.labels = [...new Set(list.map((v) => {
        const id = map.id(v);
        return typeof id === 'number' ? id : badLine(id);
      }))].sort((a, b) => a - b);
    } else {
      const id = map.id(value);
      if (typeof id !== 'number') badLine(id);
      s.label = id;
    }
    return s;
  }, opts.signal);
  const out: Dataset = { path, format: data.format, labels: opts.labels, problem, samples: collector.samples, skipped: collector.skipped, skippedReasons: collector.skippedReasons };
  if (data.split !== undefined) out.split = data.split;
  if (data.note !== undefined) out.note = data.note;
  return out;
}

function safeJson(s: string): unknown {
  try {
    return JSON.parse(s) as unknown;
  } catch {
    return undefined;
  }
}

/** One line (or row) of a data set with its fields, for tasks other than sequence classification. */
export interface DataRecord {
  line: number;
  get(field: string): unknown;
}

/** What a loadRecords check throws for a line it cannot use. */
export class RecordError extends Error {}

/**
 * Every record of a data set in any format (src/eval/data). `fields` (name, flag) are checked against
 * a header or schema; `check` turns a record into a value or throws a message that becomes that
 * line's DataError (or, with skipBadLines, a counted skip).
 */
export async function loadRecords<T>(
  path: string,
  fields: [string, string][],
  check: (r: DataRecord) => T,
  opts: {
    skipBadLines?: boolean | undefined; signal?: AbortSignal | undefined; split?: string | undefined; format?: TextFormat | undefined;
    /** Called with the data set's features once it is open, before any record is read. */
    onOpen?: ((features: OpenedData['features']) => void) | undefined;
  } = {},
): Promise<{ items: (T & { line: number })[]; skipped: number; skippedReasons: string[]; features: OpenedData['features']; format: DataFormat; split?: string; note?: string }> {
  const data = await openData(path, { format: opts.format, split: opts.split });
  opts.onOpen?.(data.features);
  const c = new SampleCollector<T & { line: number }>(data, opts.skipBadLines ?? false);
  await c.read(fields, (get, line) => {
    try {
      return { ...check({ line, get }), line };
    } catch (e) {
      if (e instanceof RecordError) badLine(e.message);
      throw e;
    }
  }, opts.signal);
  const out: Awaited<ReturnType<typeof loadRecords<T>>> = { items: c.samples, skipped: c.skipped, skippedReasons: c.skippedReasons, features: data.features, format: data.format };
  if (data.split !== undefined) out.split = data.split;
  if (data.note !== undefined) out.note = data.note;
  return out;
}
