// Data set folders: what `datasets` writes (save_to_disk, its cache) and what the Hub serves
// (Parquet shards named by split), each read by split name.
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import { DataError, UsageError } from '../../errors';
import { openArrow } from './arrow';
import { parseFeatures, type Features } from './features';
import { openParquet } from './parquet';
import type { OpenedData } from './types';

async function readJson(file: string): Promise<Record<string, unknown> | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const v = JSON.parse(text) as unknown;
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new DataError(`${file}: not valid JSON`);
}

function pickSplit(path: string, splits: readonly string[], split: string | undefined): string {
  if (split !== undefined) {
    if (!splits.includes(split)) throw new UsageError(`${path}: no split "${split}" (splits: ${splits.join(', ') || 'none'})`);
    return split;
  }
  if (splits.length === 1) return splits[0]!;
  throw new UsageError(`${path}: holds the splits ${splits.join(', ')}; name one with --split`);
}

/** A Dataset.save_to_disk() folder (state.json + dataset_info.json + data-*.arrow). */
async function savedDataset(dir: string, state: Record<string, unknown>, split: string | undefined): Promise<OpenedData> {
  const files = state['_data_files'];
  if (!Array.isArray(files) || files.length === 0) throw new DataError(`${join(dir, 'state.json')}: lists no _data_files`);
  const names = files.map((f, i) => {
    const name = (f as { filename?: unknown } | null)?.filename;
    if (typeof name !== 'string' || name.includes('/') || name.includes('\\') || name === '..') throw new DataError(`${join(dir, 'state.json')}: _data_files[${i}] has no usable filename`);
    return join(dir, name);
  });
  const info = await readJson(join(dir, 'dataset_info.json'));
  const features = parseFeatures(info?.['features']);
  const own = typeof state['_split'] === 'string' ? state['_split'] : undefined;
  return openArrow(dir, names, 'save_to_disk', { features, split: split ?? own });
}

interface SplitFiles {
  dir: string;
  split: string;
  files: string[];
  kind: 'arrow' | 'parquet';
  mtime: number;
}

const SHARD = /-(\d{5})-of-(\d{5})$/;

/** Files named <prefix>-<split>[-NNNNN-of-NNNNN].arrow|parquet, or <split>/NNNN.parquet (the Hub's conversion). */
async function findSplitFiles(root: string, knownSplits: readonly string[] | undefined): Promise<SplitFiles[]> {
  const groups = new Map<string, SplitFiles>();
  const visit = async (dir: string, depth: number): Promise<void> => {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(dir, e.name);
      if (e.isDirectory() || e.isSymbolicLink()) {
        let isDir = e.isDirectory();
        if (!isDir) isDir = await stat(p).then((s) => s.isDirectory(), () => false);
        if (isDir && depth < 6 && !e.name.startsWith('.')) await visit(p, depth + 1);
        if (isDir) continue;
      }
      const m = /^(.*)\.(arrow|parquet)$/.exec(e.name);
      if (!m) continue;
      const kind = m[2] as 'arrow' | 'parquet';
      const stem = m[1]!.replace(SHARD, '');
      let split: string | undefined;
      if (knownSplits) split = knownSplits.filter((s) => stem === s || stem.endsWith(`-${s}`)).sort((a, b) => b.length - a.length)[0];
      else if (stem.includes('-')) split = stem.slice(stem.lastIndexOf('-') + 1);
      else if (kind === 'parquet' && /^\d+$/.test(stem)) split = basename(dir); // <config>/<split>/0000.parquet
      else split = stem; // data/validation.parquet
      if (!split) continue;
      const key = `${dir}\0${split}\0${kind}`;
      const mtime = (await stat(p)).mtimeMs;
      const g = groups.get(key);
      if (g) {
        g.files.push(p);
        g.mtime = Math.max(g.mtime, mtime);
      } else groups.set(key, { dir, split, files: [p], kind, mtime });
    }
  };
  await visit(root, 0);
  for (const g of groups.values()) g.files.sort();
  return [...groups.values()];
}

/**
 * A folder: a save_to_disk Dataset or DatasetDict, or a folder of split files (the datasets cache, a
 * Hub download). Several copies of a split (cache versions): the newest is read and named.
 */
export async function openFolder(dir: string, split: string | undefined): Promise<OpenedData> {
  const state = await readJson(join(dir, 'state.json'));
  if (state) return savedDataset(dir, state, split);
  const dict = await readJson(join(dir, 'dataset_dict.json'));
  if (dict) {
    const splits = Array.isArray(dict['splits']) ? dict['splits'].filter((s): s is string => typeof s === 'string') : [];
    const s = pickSplit(dir, splits, split);
    const sub = join(dir, s);
    const subState = await readJson(join(sub, 'state.json'));
    if (!subState) throw new DataError(`${sub}: no state.json (expected the "${s}" split saved by DatasetDict.save_to_disk)`);
    return savedDataset(sub, subState, s);
  }
  const info = await readJson(join(dir, 'dataset_info.json'));
  const infoSplits = info?.['splits'] && typeof info['splits'] === 'object' ? Object.keys(info['splits'] as object) : undefined;
  const found = await findSplitFiles(dir, infoSplits?.length ? infoSplits : undefined);
  if (found.length === 0) throw new DataError(`${dir}: no data set here (looked for state.json, dataset_dict.json, and .arrow/.parquet files named by split)`);
  const splits = [...new Set(found.map((f) => f.split))].sort();
  const s = pickSplit(dir, splits, split);
  const copies = found.filter((f) => f.split === s).sort((a, b) => b.mtime - a.mtime);
  const chosen = copies[0]!;
  let features: Features | undefined;
  const near = await readJson(join(chosen.dir, 'dataset_info.json'));
  features = parseFeatures(near?.['features']) ?? parseFeatures(info?.['features']);
  const opened = chosen.kind === 'parquet'
    ? await openParquet(dir, chosen.files, s)
    : await openArrow(dir, chosen.files, 'hf_cache', { features, split: s });
  if (chosen.kind === 'parquet' && !opened.features && features) opened.features = features;
  if (copies.length > 1) opened.note = `${copies.length} copies of split "${s}"; read the newest, ${relative(dir, chosen.dir) || '.'}`;
  return opened;
}
