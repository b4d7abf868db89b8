// Finding models, base models and data sets near what the user picked. Plain Node (no vscode) so it
// is unit-tested directly; the extension turns the results into pickers.
import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, extname, isAbsolute, join, resolve } from 'node:path';
import { readRegularFile } from '../formats/input';

const WEIGHTS = /^(model\.safetensors|model\.safetensors\.index\.json|model\.onnx|.*\.safetensors)$/;

/** Whether a folder (or file) looks like a model KEN can open: what openModel looks for. */
export async function looksLikeModel(path: string): Promise<boolean> {
  try {
    const s = await stat(path);
    if (s.isFile()) return /\.(safetensors|onnx)$/.test(path) && !path.endsWith('ken-subnetwork.safetensors');
    const names = await readdir(path);
    return names.some((n) => WEIGHTS.test(n) && n !== 'ken-subnetwork.safetensors');
  } catch {
    return false;
  }
}

/** The folder holding a model given as a folder or a weights file. */
export async function modelDir(path: string): Promise<string> {
  return (await stat(path)).isDirectory() ? path : dirname(path);
}

export interface BaseCandidate {
  path: string;
  /** Why it is offered: 'config' (`_name_or_path`), 'sibling', 'recent'. */
  reason: 'config' | 'sibling' | 'recent';
  detail: string;
}

async function readConfig(dir: string): Promise<Record<string, unknown> | undefined> {
  try {
    // a regular file only: a FIFO named config.json must not block the extension host
    return JSON.parse((await readRegularFile(join(dir, 'config.json'))).toString('utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

const SHAPE_KEYS = ['model_type', 'hidden_size', 'num_hidden_layers', 'd_model', 'n_embd'];

function sameArchitecture(a: Record<string, unknown> | undefined, b: Record<string, unknown> | undefined): boolean {
  if (!a || !b) return true;
  return SHAPE_KEYS.every((k) => a[k] === undefined || b[k] === undefined || a[k] === b[k]);
}

/**
 * Base models to offer for a fine-tuned model, best first: `config.json`'s `_name_or_path` when it is a
 * local folder, sibling folders holding a model of the same architecture (a "pretrained" or "base" name
 * first), then recent choices that still exist.
 */
export async function baseCandidates(finetuned: string, recent: readonly string[] = []): Promise<BaseCandidate[]> {
  const dir = await modelDir(finetuned);
  const config = await readConfig(dir);
  const out: BaseCandidate[] = [];
  const seen = new Set<string>([resolve(dir)]);
  const add = (c: BaseCandidate): void => {
    const key = resolve(c.path);
    if (seen.has(key)) return;
    seen.add(key);
    out.push(c);
  };
  const named = config?.['_name_or_path'];
  if (typeof named === 'string' && named) {
    const p = isAbsolute(named) ? named : resolve(dir, named);
    if (await looksLikeModel(p)) add({ path: p, reason: 'config', detail: `config.json _name_or_path` });
  }
  const parent = dirname(dir);
  let siblings: string[] = [];
  try {
    siblings = (await readdir(parent, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name);
  } catch {
    siblings = [];
  }
  const score = (name: string): number => (/pre-?train|base|original|foundation/i.test(name) ? 0 : 1);
  siblings.sort((a, b) => score(a) - score(b) || a.localeCompare(b));
  for (const name of siblings) {
    const p = join(parent, name);
    if (p === dir || /ken-k\d+|pruned|\.ken-tmp-/.test(name)) continue;
    if (!(await looksLikeModel(p))) continue;
    if (!sameArchitecture(config, await readConfig(p))) continue;
    add({ path: p, reason: 'sibling', detail: `next to ${basename(dir)}` });
  }
  for (const r of recent) if (await looksLikeModel(r)) add({ path: r, reason: 'recent', detail: 'recently used' });
  return out;
}

/** Labelled data sets near a model: files in its folder and its parent with a data extension. */
export async function datasetCandidates(finetuned: string, limit = 20): Promise<string[]> {
  const dir = await modelDir(finetuned);
  const out: string[] = [];
  for (const d of [dir, dirname(dir)]) {
    try {
      for (const e of await readdir(d, { withFileTypes: true })) {
        if (e.isFile() && ['.jsonl', '.csv', '.tsv'].includes(extname(e.name).toLowerCase())) out.push(join(d, e.name));
      }
    } catch {
      // unreadable folder: nothing to offer there
    }
  }
  return out.slice(0, limit);
}

/** The output folder for a prune: the setting's template, or `<model>-ken-k<k>` beside it, made unique. */
export async function outputFolder(finetuned: string, k: number, template: string, workspaceFolder: string | undefined): Promise<string> {
  const dir = await modelDir(finetuned);
  const name = basename(dir);
  let target: string;
  if (template.trim()) {
    const filled = template
      .replaceAll('${model}', name)
      .replaceAll('${k}', String(k))
      .replaceAll('${workspaceFolder}', workspaceFolder ?? dirname(dir));
    target = isAbsolute(filled) ? filled : resolve(workspaceFolder ?? dirname(dir), filled);
  } else {
    target = join(dirname(dir), `${name}-ken-k${k}`);
  }
  let candidate = target;
  for (let i = 2; await exists(candidate); i++) candidate = `${target}-${i}`;
  return candidate;
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}
