// Arrow IPC files (file or stream format) through apache-arrow, and the folders `datasets` writes:
// Dataset.save_to_disk() (state.json lists the data files, dataset_info.json holds the features),
// DatasetDict.save_to_disk() (dataset_dict.json and a folder per split), and its cache folder
// (<name>-<split>.arrow, or shards <name>-<split>-00000-of-00003.arrow, beside dataset_info.json),
// picked by split name.
import { readDataFile } from './text';
import { tableFromIPC, Vector, type Table } from 'apache-arrow';
import { DataError, throwIfAborted } from '../../errors';
import { featuresFromMetadata, type Features } from './features';
import { noColumn, type DataFormat, type OpenedData } from './types';

/** Arrow values as plain JS: lists as arrays, structs as objects; int64 stays bigint. */
export function plain(v: unknown): unknown {
  if (v instanceof Vector) return Array.from(v as Iterable<unknown>, plain);
  if (v !== null && typeof v === 'object' && !Array.isArray(v) && !ArrayBuffer.isView(v) && typeof (v as { toJSON?: unknown }).toJSON === 'function') {
    const o = (v as { toJSON(): Record<string, unknown> }).toJSON();
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(o)) out[k] = plain(x);
    return out;
  }
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return Array.from(v as unknown as ArrayLike<unknown>);
  return v;
}

async function readTable(file: string): Promise<Table> {
  const bytes: Uint8Array = await readDataFile(file);
  try {
    return tableFromIPC(bytes);
  } catch (e) {
    throw new DataError(`${file}: not a readable Arrow IPC file or stream (${(e instanceof Error ? e.message : String(e)).split('\n')[0]})`);
  }
}

/** Arrow files read in order as one data set (shards of a split); `features` when a folder told them. */
export async function openArrow(
  path: string, files: readonly string[], format: DataFormat, opts: { features?: Features | undefined; split?: string | undefined } = {},
): Promise<OpenedData> {
  const tables: Table[] = [];
  for (const f of files) tables.push(await readTable(f));
  const features = opts.features ?? featuresFromMetadata(tables[0]?.schema.metadata.get('huggingface'));
  const opened: OpenedData = {
    path, format, unit: 'row', files: [...files], features,
    async read(sink, fields, signal) {
      let n = 0;
      for (let k = 0; k < tables.length; k++) {
        const t = tables[k]!;
        const columns = t.schema.fields.map((f) => f.name);
        for (const [f, flag] of fields) if (!columns.includes(f)) throw new DataError(noColumn(files[k]!, f, flag, columns));
        const cache = new Map<string, Vector | null>();
        const column = (f: string): Vector | null => {
          let c = cache.get(f);
          if (c === undefined) cache.set(f, (c = t.getChild(f)));
          return c;
        };
        for (let i = 0; i < t.numRows; i++) {
          if ((++n & 4095) === 0) throwIfAborted(signal);
          sink.row(n, (f) => {
            const c = column(f);
            return c ? plain(c.get(i)) : undefined;
          });
        }
      }
    },
  };
  if (opts.split !== undefined) opened.split = opts.split;
  if (tables[0]) opened.columns = tables[0].schema.fields.map((f) => f.name);
  return opened;
}
