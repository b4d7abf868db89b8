// The Hugging Face cache, where most people's pre-trained models live: a hub id (`bert-base-uncased`,
// `org/name`, optional `@revision`) resolved the way the Hub client lays the cache out:
// <cache>/models--org--name/refs/<revision> holds a commit hash, <cache>/models--org--name/snapshots/<hash>/
// holds the files (links into ../../blobs). <cache> is HF_HUB_CACHE, else HF_HOME/hub, else
// XDG_CACHE_HOME/huggingface/hub, else ~/.cache/huggingface/hub. Nothing is ever downloaded.
import { readdir, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { isDirectory, readRegularFile } from '../formats/paths';

export interface HubId {
  repo: string;
  revision: string;
}

type Env = Readonly<Record<string, string | undefined>>;

/** The cache folders to look in, most specific first (the one the Hub client would use comes first). */
export function hubCacheDirs(env: Env = process.env): string[] {
  const dirs: string[] = [];
  if (env['HF_HUB_CACHE']) dirs.push(env['HF_HUB_CACHE']);
  if (env['HUGGINGFACE_HUB_CACHE']) dirs.push(env['HUGGINGFACE_HUB_CACHE']);
  if (env['HF_HOME']) dirs.push(join(env['HF_HOME'], 'hub'));
  if (env['XDG_CACHE_HOME']) dirs.push(join(env['XDG_CACHE_HOME'], 'huggingface', 'hub'));
  dirs.push(join(env['HOME'] ?? homedir(), '.cache', 'huggingface', 'hub'));
  return [...new Set(dirs.map((d) => resolve(d)))];
}

const PART = /^[A-Za-z0-9][\w.-]{0,95}$/;

/** A hub id (`name`, `org/name`, with an optional `@revision`), or undefined for anything that reads as a path. */
export function parseHubId(text: string): HubId | undefined {
  if (!text || isAbsolute(text) || text.startsWith('.') || text.startsWith('~') || text.includes('\\')) return undefined;
  const at = text.indexOf('@');
  const repo = at < 0 ? text : text.slice(0, at);
  const revision = at < 0 ? 'main' : text.slice(at + 1);
  const parts = repo.split('/');
  if (parts.length > 2 || !parts.every((p) => PART.test(p) && !p.includes('..'))) return undefined;
  if (!/^[\w.\-/]{1,128}$/.test(revision) || revision.includes('..')) return undefined;
  return { repo, revision };
}

/** The snapshot folder of a hub id in one cache folder: refs/<revision> names the commit, or the revision is the commit. */
async function snapshotIn(cache: string, id: HubId): Promise<string | undefined> {
  const repoDir = join(cache, `models--${id.repo.replaceAll('/', '--')}`);
  let commit: string | undefined;
  try {
    commit = ((await readRegularFile(join(repoDir, 'refs', id.revision))).toString('utf8')).trim();
  } catch {
    if (/^[0-9a-f]{7,40}$/.test(id.revision)) {
      try {
        commit = (await readdir(join(repoDir, 'snapshots'))).find((c) => c.startsWith(id.revision));
      } catch {
        commit = undefined;
      }
    }
  }
  if (!commit || !/^[\w.-]+$/.test(commit)) return undefined;
  const snap = join(repoDir, 'snapshots', commit);
  return (await isDirectory(snap)) === true ? snap : undefined;
}

/** The local folder of a hub id in the Hugging Face cache, or undefined when it is not cached. */
export async function resolveHubId(text: string, env: Env = process.env): Promise<string | undefined> {
  const id = parseHubId(text);
  if (!id) return undefined;
  for (const cache of hubCacheDirs(env)) {
    const snap = await snapshotIn(cache, id);
    if (snap) return snap;
  }
  return undefined;
}

export interface CachedModel {
  /** The hub id (`org/name`). */
  id: string;
  /** Its `main` snapshot folder. */
  path: string;
  config: Record<string, unknown> | undefined;
}

/** Every model cached at its `main` revision, with its config.json. */
export async function cachedModels(env: Env = process.env): Promise<CachedModel[]> {
  const out: CachedModel[] = [];
  for (const cache of hubCacheDirs(env)) {
    let names: string[];
    try {
      names = await readdir(cache);
    } catch {
      continue;
    }
    for (const n of names.sort()) {
      if (!n.startsWith('models--')) continue;
      const id = n.slice('models--'.length).replace('--', '/');
      const snap = await snapshotIn(cache, { repo: id, revision: 'main' });
      if (!snap) continue;
      let config: Record<string, unknown> | undefined;
      try {
        config = JSON.parse((await readRegularFile(join(snap, 'config.json'))).toString('utf8')) as Record<string, unknown>;
      } catch {
        config = undefined;
      }
      out.push({ id, path: snap, config });
    }
  }
  return out;
}

/**
 * A model name as a config names it (`_name_or_path`, `base_model_name_or_path`) or a user types it: an
 * existing path (relative to `dir`), else a hub id in the cache. Undefined when neither exists.
 */
export async function resolveModelRef(ref: string, dir: string, env: Env = process.env): Promise<string | undefined> {
  const local = isAbsolute(ref) ? ref : resolve(dir, ref);
  try {
    await stat(local);
    return local;
  } catch {
    return resolveHubId(ref, env);
  }
}
