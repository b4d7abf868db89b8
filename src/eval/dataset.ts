// Labelled data sets for evaluation: JSONL, CSV or TSV with a header row, one text or a text pair
// per sample, labels as names (the model's id2label) or integer ids. A line that cannot be used is a
// one-line DataError naming the file and line, or, when asked, skipped and counted.
import { basename, extname } from 'node:path';
import { CsvError, parse as parseCsv } from 'csv-parse';
import { CheckpointError, DataError, UsageError, throwIfAborted } from '../errors';
import { readRegularFile } from '../formats/input';

export type DataFormat = 'jsonl' | 'csv' | 'tsv';

export interface Sample {
  text: string;
  /** The second text of a pair (GLUE-style), when the data set has one. */
  pair?: string;
  /** Index into the data set's `labels`. */
  label: number;
  /** The line the sample starts on (1-based), for messages. */
  line: number;
}

export interface Dataset {
  path: string;
  format: DataFormat;
  /** The model's classes in id order; `Sample.label` indexes them. */
  labels: readonly string[];
  samples: Sample[];
  /** Bad lines skipped (with `skipBadLines`). */
  skipped: number;
  /** The first few skipped lines' reasons, for a summary. */
  skippedReasons: string[];
}

export interface DatasetOptions {
  /** The model's classes in id order (from its config.json). */
  labels: readonly string[];
  textField?: string;
  textPairField?: string | undefined;
  labelField?: string;
  /** Skip (and count) lines that cannot be used instead of failing on the first. */
  skipBadLines?: boolean;
  /** Overrides the format told by the file's extension. */
  format?: DataFormat;
  signal?: AbortSignal | undefined;
}

const KEPT_REASONS = 5;
/** Data sets above this are refused before they are read (a JavaScript string holds at most ~512 MB). */
const MAX_DATA_BYTES = 256 * 1024 * 1024;

/** The format a file's extension names; otherwise sniffed from its first line. */
export function dataFormat(path: string, content: string): DataFormat {
  const ext = extname(path).toLowerCase();
  if (ext === '.jsonl' || ext === '.ndjson' || ext === '.json') return 'jsonl';
  if (ext === '.csv') return 'csv';
  if (ext === '.tsv' || ext === '.tab') return 'tsv';
  const first = content.trimStart().split('\n', 1)[0] ?? '';
  if (first.startsWith('{') || first.startsWith('[')) return 'jsonl';
  return first.includes('\t') ? 'tsv' : 'csv';
}

/**
 * Maps a data set's label value to a class id: a class name first, then an integer id
 * (a JSON number, or digits in CSV/TSV) within range. Undefined when it is neither.
 */
export function labelId(value: unknown, labels: readonly string[], byName: ReadonlyMap<string, number>): number | undefined {
  if (typeof value === 'string') {
    const named = byName.get(value);
    if (named !== undefined) return named;
    const trimmed = value.trim();
    if (byName.has(trimmed)) return byName.get(trimmed);
    if (/^\d+$/.test(trimmed)) value = Number(trimmed);
  }
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value < labels.length) return value;
  return undefined;
}

/** What a bad line's message says about an unknown label. */
function unknownLabel(value: unknown, labels: readonly string[]): string {
  const shown = labels.length > 12 ? `${labels.slice(0, 12).join(', ')}, ...` : labels.join(', ');
  return `unknown label ${JSON.stringify(value)} (the model's labels: ${shown}; or an id 0-${labels.length - 1})`;
}

class BadLine extends Error {}

interface Collector {
  add(line: number, fields: (name: string) => unknown): void;
  bad(line: number, reason: string): void;
}

/** Reads a labelled data set; every line is checked against the model's labels. */
export async function loadDataset(path: string, opts: DatasetOptions): Promise<Dataset> {
  if (opts.labels.length === 0) throw new UsageError('the model has no labels to evaluate against');
  const textField = opts.textField ?? 'text';
  const pairField = opts.textPairField;
  const labelField = opts.labelField ?? 'label';
  let content: string;
  try {
    content = (await readRegularFile(path, MAX_DATA_BYTES)).toString('utf8');
  } catch (e) {
    if (e instanceof CheckpointError) throw new DataError(e.message);
    const code = (e as NodeJS.ErrnoException).code;
    throw new DataError(`${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a folder, not a data file' : `cannot read (${code ?? 'error'})`}`);
  }
  if (content.charCodeAt(0) === 0xfeff) content = content.slice(1);
  const format = opts.format ?? dataFormat(path, content);
  const byName = new Map(opts.labels.map((l, i) => [l, i] as const));
  const data: Dataset = { path, format, labels: opts.labels, samples: [], skipped: 0, skippedReasons: [] };
  const name = basename(path);

  const collector: Collector = {
    bad(line, reason) {
      const message = `${path} line ${line}: ${reason}`;
      if (!opts.skipBadLines) throw new DataError(message);
      data.skipped++;
      if (data.skippedReasons.length < KEPT_REASONS) data.skippedReasons.push(`${name} line ${line}: ${reason}`);
    },
    add(line, field) {
      try {
        const text = field(textField);
        if (text === undefined) throw new BadLine(`missing field "${textField}"`);
        if (typeof text !== 'string') throw new BadLine(`field "${textField}" is not text`);
        let pair: string | undefined;
        if (pairField !== undefined) {
          const p = field(pairField);
          if (p === undefined) throw new BadLine(`missing field "${pairField}"`);
          if (typeof p !== 'string') throw new BadLine(`field "${pairField}" is not text`);
          pair = p;
        }
        const value = field(labelField);
        if (value === undefined || value === null) throw new BadLine(`missing field "${labelField}"`);
        const label = labelId(value, opts.labels, byName);
        if (label === undefined) throw new BadLine(unknownLabel(value, opts.labels));
        data.samples.push(pair === undefined ? { text, label, line } : { text, pair, label, line });
      } catch (e) {
        if (e instanceof BadLine) this.bad(line, e.message);
        else throw e;
      }
    },
  };

  if (looksLikeJsonArray(content)) {
    throw new DataError(`${path}: holds a JSON array; write one JSON object per line (JSONL)`);
  }
  if (format === 'jsonl') readJsonl(content, collector, opts.signal);
  else {
    const fieldFlags: [string, string][] = [[textField, '--text-field'], [labelField, '--label-field']];
    if (pairField !== undefined) fieldFlags.push([pairField, '--text-pair-field']);
    await readDelimited(path, content, format, fieldFlags, collector, opts.signal);
  }
  throwIfAborted(opts.signal);
  if (data.samples.length === 0) {
    throw new DataError(`${path}: no usable samples${data.skipped ? ` (${data.skipped} bad lines skipped; first: ${data.skippedReasons[0]})` : ''}`);
  }
  return data;
}

/** A whole file that is one JSON array (of records): never sent to the CSV parser, whatever its extension. */
function looksLikeJsonArray(content: string): boolean {
  const t = content.trim();
  if (!t.startsWith('[') || !t.endsWith(']')) return false;
  if (/^\[\s*(\{|\[|\]$)/.test(t)) return true;
  try {
    return Array.isArray(JSON.parse(t));
  } catch {
    return false;
  }
}

function readJsonl(content: string, into: Collector, signal: AbortSignal | undefined): void {
  const lines = content.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if ((i & 4095) === 0) throwIfAborted(signal);
    const raw = lines[i]!.trim();
    if (raw === '') continue;
    let obj: unknown;
    try {
      obj = JSON.parse(raw);
    } catch {
      into.bad(i + 1, 'not valid JSON');
      continue;
    }
    if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
      into.bad(i + 1, 'not a JSON object');
      continue;
    }
    const record = obj as Record<string, unknown>;
    into.add(i + 1, (f) => (Object.prototype.hasOwnProperty.call(record, f) ? record[f] : undefined));
  }
}

/**
 * CSV (RFC 4180 quoting: commas, newlines and doubled quotes inside quoted fields) and TSV (no
 * quoting, as GLUE's files are written) through csv-parse; the first row names the columns.
 */
async function readDelimited(
  path: string, content: string, format: 'csv' | 'tsv', fieldFlags: [string, string][], into: Collector, signal: AbortSignal | undefined,
): Promise<void> {
  const parser = parseCsv(content, {
    delimiter: format === 'csv' ? ',' : '\t',
    quote: format === 'csv' ? '"' : false,
    info: true,
    relax_column_count: true,
    skip_empty_lines: true,
  });
  let header: string[] | undefined;
  let prevEnd = 0;
  let prevEmpty = 0;
  let n = 0;
  try {
    for await (const item of parser as AsyncIterable<{ record: string[]; info: { lines: number; empty_lines: number } }>) {
      if ((++n & 4095) === 0) throwIfAborted(signal);
      const { record, info } = item;
      // info.lines is where the record ends; it starts after the previous one and any blank lines.
      const line = prevEnd + 1 + (info.empty_lines - prevEmpty);
      prevEnd = info.lines;
      prevEmpty = info.empty_lines;
      if (!header) {
        header = record.map((h) => h.trim());
        for (const [f, flag] of fieldFlags) {
          if (!header.includes(f)) throw new DataError(`${path}: the header has no column "${f}" (columns: ${header.join(', ')}); name the right one with ${flag}`);
        }
        continue;
      }
      if (record.length !== header.length) {
        into.bad(line, `has ${record.length} fields, the header has ${header.length}${format === 'tsv' ? ' (TSV fields are split at every tab)' : ''}`);
        continue;
      }
      const cols = header;
      into.add(line, (f) => {
        const i = cols.indexOf(f);
        return i < 0 ? undefined : record[i];
      });
    }
  } catch (e) {
    if (e instanceof DataError || e instanceof CheckpointError) throw e;
    const err = e as CsvError;
    // every csv-parse error (CSV_QUOTE_NOT_CLOSED, INVALID_OPENING_QUOTE, ...) is a CsvError with a code
    if (e instanceof CsvError || (typeof err.code === 'string' && err.code.startsWith('CSV_'))) {
      // Where a record ends after a broken quote is unknown, so this is never skipped.
      throw new DataError(`${path} line ${err.lines ?? '?'}: ${err.message.replace(/ at line \d+/, '')}; fix the quoting (a broken quote cannot be skipped: where its record ends is unknown)`);
    }
    throw e;
  }
  if (!header) throw new DataError(`${path}: empty (expected a header row naming the columns)`);
}
