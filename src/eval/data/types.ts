// What every data set reader gives: rows with named fields, numbered as the user sees them (a
// file's line, or a table's row), the data set's features (its ClassLabel names) when it records
// them, and bad lines reported to a sink that fails or skips and counts.
import type { Features } from './features';

export type DataFormat = 'jsonl' | 'csv' | 'tsv' | 'parquet' | 'arrow' | 'save_to_disk' | 'hf_cache';

export interface RowSink {
  /** One usable row; `get` reads a field (undefined when the row has none). */
  row(n: number, get: (field: string) => unknown): void;
  /** A row that cannot be read at all (not JSON, wrong field count). */
  bad(n: number, reason: string): void;
}

/** A field the caller needs, and the flag that names another one (for "no column" messages). */
export type FieldFlag = readonly [field: string, flag: string];

export interface OpenedData {
  /** What the user named (a file or a folder). */
  path: string;
  format: DataFormat;
  /** How rows are counted in messages: text files by line, tables by row (1-based). */
  unit: 'line' | 'row';
  /** The files read, in order (several for sharded splits). */
  files: string[];
  /** The split read from a folder of several, when one was picked. */
  split?: string;
  /** Something the user should know about what was read (which of several copies). */
  note?: string;
  /** The data set's own features (dataset_info.json, or the files' "huggingface" metadata). */
  features: Features | undefined;
  /** The columns, where a schema tells them without reading rows (Parquet, Arrow). */
  columns?: string[];
  /** Calls `sink` for every row in order; checks that `fields` exist where a header or schema tells. */
  read(sink: RowSink, fields: readonly FieldFlag[], signal?: AbortSignal): Promise<void>;
}

/** The message for a column the data lacks. */
export function noColumn(path: string, field: string, flag: string, columns: readonly string[]): string {
  return `${path}: no column "${field}" (columns: ${columns.join(', ')}); name the right one with ${flag}`;
}
