// One reader per format: JSONL/CSV/TSV, Parquet, Arrow IPC (file or stream), and data set folders
// (save_to_disk, DatasetDict, the datasets cache, Hub Parquet shards) picked by split.
import { stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { DataError, UsageError } from '../../errors';
import { openArrow } from './arrow';
import { openFolder } from './folders';
import { openParquet } from './parquet';
import { openTextData, type TextFormat } from './text';
import type { DataFormat, OpenedData } from './types';

export { type DataFormat, type OpenedData, type RowSink, type FieldFlag } from './types';
export { parseFeatures, featuresFromMetadata, classNames, type Feature, type Features } from './features';
export { textFormat, type TextFormat } from './text';

export interface OpenDataOptions {
  /** Overrides the format told by the file's extension (text formats). */
  format?: TextFormat | undefined;
  /** The split to read from a folder holding several. */
  split?: string | undefined;
}

/** Opens a data file or folder for reading its rows. */
export async function openData(path: string, opts: OpenDataOptions = {}): Promise<OpenedData> {
  let isDir = false;
  try {
    isDir = (await stat(path)).isDirectory();
  } catch {
    throw new DataError(`${path}: no such file`);
  }
  if (isDir) return openFolder(path, opts.split);
  if (opts.split !== undefined) throw new UsageError(`--split picks a split of a data set folder; ${path} is a file`);
  if (opts.format) return openTextData(path, opts.format);
  const ext = extname(path).toLowerCase();
  if (ext === '.parquet' || ext === '.pq') return openParquet(path);
  if (ext === '.arrow' || ext === '.arrows' || ext === '.ipc' || ext === '.feather') return openArrow(path, [path], 'arrow');
  return openTextData(path);
}

export const DATA_FORMATS: readonly DataFormat[] = ['jsonl', 'csv', 'tsv', 'parquet', 'arrow', 'save_to_disk', 'hf_cache'];
