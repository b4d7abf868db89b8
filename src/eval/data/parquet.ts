// Parquet files, as the Hugging Face Hub serves data sets: read with hyparquet (pure JS), its
// snappy decoder and hyparquet-compressors' zstd/gzip/brotli/lz4; dictionary-encoded strings and
// nested columns (SQuAD's `answers` struct of lists) come back as plain values. The data set's
// features are in the file's "huggingface" key-value metadata when `datasets` wrote it.
import { readDataFile } from './text';
import { parquetMetadata, parquetReadObjects, type FileMetaData } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { DataError, throwIfAborted } from '../../errors';
import { featuresFromMetadata } from './features';
import { noColumn, type OpenedData } from './types';

function oneLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0]!;
}

async function bytesOf(path: string): Promise<ArrayBuffer> {
  const b = await readDataFile(path);
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
}

/** The top-level column names of a Parquet schema. */
function columnsOf(md: FileMetaData): string[] {
  const out: string[] = [];
  const schema = md.schema;
  let i = 1;
  while (i < schema.length) {
    out.push(schema[i]!.name);
    // skip this column's nested elements
    let pending = schema[i]!.num_children ?? 0;
    i++;
    while (pending > 0 && i < schema.length) {
      pending += (schema[i]!.num_children ?? 0) - 1;
      i++;
    }
  }
  return out;
}

/** One or more Parquet files (shards of one split), read in order; rows numbered across them. */
export async function openParquet(path: string, files: readonly string[] = [path], split?: string): Promise<OpenedData> {
  const buffers: ArrayBuffer[] = [];
  const metas: FileMetaData[] = [];
  for (const f of files) {
    const ab = await bytesOf(f);
    try {
      metas.push(parquetMetadata(ab));
    } catch (e) {
      throw new DataError(`${f}: not a readable Parquet file (${oneLine(e)})`);
    }
    buffers.push(ab);
  }
  const meta = metas[0]!.key_value_metadata?.find((kv) => kv.key === 'huggingface')?.value;
  const opened: OpenedData = {
    path, format: 'parquet', unit: 'row', files: [...files], features: featuresFromMetadata(meta),
    async read(sink, fields, signal) {
      let n = 0;
      for (let k = 0; k < buffers.length; k++) {
        throwIfAborted(signal);
        const columns = columnsOf(metas[k]!);
        for (const [f, flag] of fields) if (!columns.includes(f)) throw new DataError(noColumn(files[k]!, f, flag, columns));
        let rows: Record<string, unknown>[];
        try {
          rows = await parquetReadObjects({ file: buffers[k]!, compressors, metadata: metas[k]! });
        } catch (e) {
          throw new DataError(`${files[k]}: cannot be decoded (${oneLine(e)})`);
        }
        for (const r of rows) {
          if ((++n & 4095) === 0) throwIfAborted(signal);
          sink.row(n, (f) => (Object.prototype.hasOwnProperty.call(r, f) ? r[f] : undefined));
        }
      }
    },
  };
  if (split !== undefined) opened.split = split;
  opened.columns = columnsOf(metas[0]!);
  return opened;
}
