// Finding models, base models and data sets near what the user picked. Plain Node (no vscode) so it
// is unit-tested directly; the extension turns the results into pickers.
import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, extname, isAbsolute, join, resolve } from 'node:path';
import { cachedModels, resolveModelRef } from '../checkpoint/hfcache';
import { readBoundedFile } from '../formats/input';
import { SUBNETWORK_FILE } from '../formats/subnetwork';
import { peekConfig } from '../formats/hf-config';

const WEIGHTS = /^(model\.safetensors|model\.safetensors\.index\.json|model\.onnx|.*\.safetensors|pytorch_model\.bin|pytorch_model\.bin\.index\.json|adapter_config\.json)$/;
const TRAINER_CHECKPOINT = /^checkpoint-\d+$/;

/** Whether a folder (or file) looks like a model KEN can open: what openModel looks for. */
export async function looksLikeModel(path: string): Promise<boolean> {
  try {
    const s = await stat(path);
    if (s.isFile()) return /\.(safetensors|onnx|bin)$/.test(path) && !path.endsWith(SUBNETWORK_FILE);
    const names = await readdir(path);
    return names.some((n) => WEIGHTS.test(n) && n !== SUBNETWORK_FILE);
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
  /** Why it is offered: 'config' (`_name_or_path`, an adapter's `base_model_name_or_path`), 'sibling', 'recent', 'cache' (Hugging Face cache). */
  reason: 'config' | 'sibling' | 'recent' | 'cache';
  detail: string;
  /** What to call it in a picker (a hub id for a cached snapshot); else its folder name. */
  label?: string;
}

async function readJson(path: string): Promise<Record<string, unknown> | undefined> {
  try {
    // a regular file only: a FIFO named config.json must not block the extension host
    return JSON.parse((await readBoundedFile(path)).toString('utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

async function isAdapter(dir: string): Promise<boolean> {
  try {
    await stat(join(dir, 'adapter_config.json'));
    return true;
  } catch {
    return false;
  }
}

const SHAPE_KEYS = ['model_type', 'hidden_size', 'num_hidden_layers', 'd_model', 'n_embd'];

function sameArchitecture(a: Record<string, unknown> | undefined, b: Record<string, unknown> | undefined): boolean {
  if (!a || !b) return true;
  return SHAPE_KEYS.every((k) => a[k] === undefined || b[k] === undefined || a[k] === b[k]);
}

/**
 * Base models to offer for a fine-tuned model, best first: `config.json`'s `_name_or_path` (an adapter's
 * `base_model_name_or_path`) as a local folder or a hub id in the Hugging Face cache, sibling folders
 * holding a model of the same architecture (a "pretrained" or "base" name first), recent choices that
 * still exist, then cached models of the same `model_type`. Never another Trainer checkpoint of the same
 * run, never a LoRA adapter.
 */
export async function baseCandidates(finetuned: string, recent: readonly string[] = [], env: Readonly<Record<string, string | undefined>> = process.env): Promise<BaseCandidate[]> {
  const dir = await modelDir(finetuned);
  const adapter = await readJson(join(dir, 'adapter_config.json'));
  const config = adapter ? undefined : await peekConfig(dir);
  const out: BaseCandidate[] = [];
  const seen = new Set<string>([resolve(dir)]);
  const add = async (c: BaseCandidate): Promise<void> => {
    const key = resolve(c.path);
    if (seen.has(key) || (await isAdapter(c.path))) return;
    seen.add(key);
    out.push(c);
  };
  const [named, field] = adapter
    ? [adapter['base_model_name_or_path'], 'adapter_config.json base_model_name_or_path']
    : [config?.['_name_or_path'], 'config.json _name_or_path'];
  if (typeof named === 'string' && named) {
    const p = await resolveModelRef(named, dir, env);
    if (p && (await looksLikeModel(p))) {
      const cached = !(isAbsolute(named) ? named === p : resolve(dir, named) === p);
      await add({ path: p, reason: 'config', detail: `${field}${cached ? ` ${named} (Hugging Face cache)` : ''}`, ...(cached ? { label: named } : {}) });
    }
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
  const sameRun = TRAINER_CHECKPOINT.test(basename(dir));
  for (const name of siblings) {
    const p = join(parent, name);
    if (p === dir || /ken-k\d+|pruned|\.ken-tmp-/.test(name)) continue;
    if (sameRun && TRAINER_CHECKPOINT.test(name)) continue; // another checkpoint of the same Trainer run
    if (!(await looksLikeModel(p))) continue;
    if (!sameArchitecture(config, await peekConfig(p))) continue;
    await add({ path: p, reason: 'sibling', detail: `next to ${basename(dir)}` });
  }
  for (const r of recent) if (await looksLikeModel(r)) await add({ path: r, reason: 'recent', detail: 'recently used' });
  const modelType = config?.['model_type'];
  if (typeof modelType === 'string') {
    for (const m of await cachedModels(env)) {
      if (m.config?.['model_type'] !== modelType || !sameArchitecture(config, m.config)) continue;
      if (await looksLikeModel(m.path)) await add({ path: m.path, reason: 'cache', detail: `Hugging Face cache: ${m.id}`, label: m.id });
    }
  }
  return out;
}

/** Labelled data sets near a model: files in its folder and its parent with a data extension. */
export async function datasetCandidates(finetuned: string, limit = 20): Promise<string[]> {
  const dir = await modelDir(finetuned);
  const out: string[] = [];
  for (const d of [dir, dirname(dir)]) {
    try {
      for (const e of await readdir(d, { withFileTypes: true })) {
        if (e.isFile() && ['.jsonl', '.csv', '.tsv', '.parquet', '.arrow'].includes(extname(e.name).toLowerCase())) out.push(join(d, e.name));
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
