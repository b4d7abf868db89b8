// Path safety for everything the tool reads from a model folder (SECURITY.md states the promises):
// - only regular files are opened (a FIFO or a device named config.json would block forever), and
//   the check is made on the opened descriptor, so nothing can be swapped in between;
// - a file inside a model folder may be a symlink only when its target stays inside the folder, or,
//   for a Hugging Face cache snapshot (models--org--name/snapshots/<rev>/...), inside that repository's
//   own blobs/ folder; anything else is refused (weights) or skipped with a warning (side files);
// - real paths, not path text, decide whether one folder lies inside another.
import { constants } from 'node:fs';
import { copyFile, lstat, open, readlink, realpath, stat, type FileHandle } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { CheckpointError } from '../errors';

/** Whether `child` is `parent` or lies under it (path text; give real paths for a real answer). */
export function isInside(child: string, parent: string): boolean {
  const rel = relative(parent, child);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel) && !/^[a-zA-Z]:/.test(rel));
}

export function describeKind(s: { isDirectory(): boolean; isFIFO(): boolean; isSocket(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean }): string {
  if (s.isDirectory()) return 'a folder';
  if (s.isFIFO()) return 'a FIFO (named pipe)';
  if (s.isSocket()) return 'a socket';
  if (s.isCharacterDevice() || s.isBlockDevice()) return 'a device';
  return 'not a regular file';
}

// O_NONBLOCK makes open() return at once on a FIFO (it would otherwise wait for a writer);
// on a regular file it changes nothing. Windows has neither FIFOs nor the flag.
export const OPEN_READ = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);

/**
 * Opens a file for reading only when it is a regular file (checked on the open descriptor).
 * Every problem is a one-line CheckpointError naming the file.
 */
export async function openRegular(path: string): Promise<FileHandle> {
  let fh: FileHandle;
  try {
    fh = await open(path, OPEN_READ);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CheckpointError(`${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a folder, not a file' : `cannot open (${code ?? 'error'})`}`);
  }
  const s = await fh.stat();
  if (!s.isFile()) {
    await fh.close();
    throw new CheckpointError(`${path}: is ${describeKind(s)}, not a regular file; KEN reads only regular files`);
  }
  return fh;
}

/** A regular file's bytes, whole, however large (see openRegular); `readBoundedFile` in input.ts caps the size (config and JSON files). */
export async function readRegularFile(path: string): Promise<Buffer> {
  const fh = await openRegular(path);
  try {
    return await fh.readFile();
  } finally {
    await fh.close();
  }
}

/** readRegularFile, or undefined when there is no such file. */
export async function readRegularFileIfExists(path: string): Promise<Buffer | undefined> {
  try {
    await lstat(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
  }
  return readRegularFile(path);
}

/** Throws unless `path` is a regular file (after symlinks); for files another library opens (onnxruntime). */
export async function assertRegularFile(path: string): Promise<void> {
  let s;
  try {
    s = await stat(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CheckpointError(`${path}: ${code === 'ENOENT' ? 'no such file' : `cannot read (${code ?? 'error'})`}`);
  }
  if (!s.isFile()) throw new CheckpointError(`${path}: is ${describeKind(s)}, not a regular file; KEN reads only regular files`);
}

/**
 * The blobs/ folder of the Hugging Face cache repository that `realDir` is a snapshot of (or lies in),
 * e.g. .../models--org--name/snapshots/<rev>/onnx -> .../models--org--name/blobs.
 */
export function hfCacheBlobs(realDir: string): string | undefined {
  const parts = realDir.split(sep);
  for (let i = parts.length - 2; i >= 1; i--) {
    if (parts[i] === 'snapshots' && /^(models|datasets|spaces)--./.test(parts[i - 1]!) && parts[i + 1]) {
      return [...parts.slice(0, i), 'blobs'].join(sep);
    }
  }
  return undefined;
}

export type FolderFileCheck =
  | { ok: true; path: string; real: string; symlink: boolean }
  | { ok: false; path: string; reason: string };

/**
 * Whether the file `name` (relative) of the model folder `dir` may be read as part of that folder:
 * it exists, is a regular file, and its real path lies inside the folder's real path, or inside the
 * Hugging Face cache repository's blobs/ when the folder is a cache snapshot.
 */
export async function checkFolderFile(dir: string, name: string): Promise<FolderFileCheck> {
  const path = join(dir, name);
  let isLink: boolean;
  try {
    isLink = (await lstat(path)).isSymbolicLink();
  } catch {
    return { ok: false, path, reason: 'is missing' };
  }
  let real: string;
  try {
    real = await realpath(path);
  } catch {
    const target = await readlink(path).catch(() => '?');
    return { ok: false, path, reason: `is a dangling symlink (to ${target})` };
  }
  const s = await stat(real);
  if (!s.isFile()) return { ok: false, path, reason: `is ${describeKind(s)}, not a regular file` };
  const realDir = await realpath(dir);
  if (isInside(real, realDir)) return { ok: true, path, real, symlink: isLink };
  const blobs = hfCacheBlobs(realDir);
  if (blobs && dirname(real) === blobs) return { ok: true, path, real, symlink: isLink };
  return { ok: false, path, reason: `is a symlink to ${real}, outside the model folder${blobs ? ` and outside the cache's ${blobs}` : ''}` };
}

function refusalRule(reason: string): string {
  if (reason.startsWith('is a symlink') || reason.startsWith('is a dangling')) return "KEN reads a model's files only from inside its folder";
  return reason === 'is missing' ? 'the folder is incomplete' : 'KEN reads only regular files';
}

/** checkFolderFile, throwing a one-line CheckpointError naming the file (`what` words it: "shard"). */
export async function requireFolderFile(dir: string, name: string, what: string): Promise<string> {
  const c = await checkFolderFile(dir, name);
  if (!c.ok) throw new CheckpointError(`${c.path}: ${what} ${c.reason}; ${refusalRule(c.reason)}`);
  return c.path;
}

/** Names a side file must not have to travel into a shared output: private keys, tokens, dotfiles. */
const SECRET_NAME = /^\.|(^|[._-])(id_(rsa|dsa|ecdsa|ed25519)|netrc|npmrc|pypirc|credentials?|secrets?|passwords?)([._-]|$)|\.(pem|key|p12|pfx|keystore|jks|kdbx|gpg|asc)$/i;

/** Why a side file (config, tokenizer, ...) of `dir` must not be copied into an output, or undefined. */
export async function sideFileRefusal(dir: string, name: string): Promise<string | undefined> {
  if (SECRET_NAME.test(basename(name))) return `${join(dir, name)}: not copied (its name looks private: hidden or a key/credential file)`;
  const c = await checkFolderFile(dir, name);
  return c.ok ? undefined : `${c.path}: not copied (it ${c.reason})`;
}

/**
 * Copies the file `name` of the model folder `dir` to `dest` (created, never overwritten), reading
 * through one descriptor whose real location is checked: on Linux by the descriptor itself
 * (/proc/self/fd), so a file swapped for a symlink out of the folder after the folder was checked is
 * refused, not copied; elsewhere by checkFolderFile just before opening.
 */
export async function copyFolderFile(dir: string, name: string, dest: string): Promise<void> {
  const check = await checkFolderFile(dir, name);
  if (!check.ok) throw new CheckpointError(`${check.path}: ${check.reason}; ${refusalRule(check.reason)}`);
  const fh = await openRegular(check.path);
  try {
    let fdPath: string | undefined;
    try {
      fdPath = await readlink(`/proc/self/fd/${fh.fd}`);
    } catch {
      fdPath = undefined; // no /proc: the check above stands
    }
    if (fdPath !== undefined) {
      const realDir = await realpath(dir);
      const blobs = hfCacheBlobs(realDir);
      if (!isInside(fdPath, realDir) && !(blobs && dirname(fdPath) === blobs)) {
        throw new CheckpointError(`${check.path}: changed while being read (now ${fdPath}, outside the model folder); not copied`);
      }
    }
    await copyFile(`/proc/self/fd/${fh.fd}`, dest, constants.COPYFILE_EXCL).catch(async (e: NodeJS.ErrnoException) => {
      if (fdPath !== undefined || e.code === 'EEXIST') throw e;
      await copyFile(check.path, dest, constants.COPYFILE_EXCL); // no /proc
    });
  } finally {
    await fh.close();
  }
}

/**
 * The side files of `dir` (config, tokenizer, ...) among `names` that may travel into an output:
 * a FIFO or device is refused (CheckpointError); a symlink out of the folder or a private-looking
 * name is left out with a warning line.
 */
export async function filterSideFiles(dir: string, names: readonly string[]): Promise<{ files: string[]; warnings: string[] }> {
  const files: string[] = [];
  const warnings: string[] = [];
  for (const n of names) {
    const c = await checkFolderFile(dir, n);
    if (!c.ok && !c.reason.startsWith('is a symlink') && !c.reason.startsWith('is a dangling')) {
      throw new CheckpointError(`${c.path}: ${c.reason}; KEN reads only regular files`);
    }
    const refusal = await sideFileRefusal(dir, n);
    if (refusal) warnings.push(refusal);
    else files.push(n);
  }
  return { files, warnings };
}

/**
 * The real path `p` would have: the real path of its deepest existing ancestor plus the rest.
 * A dangling symlink on the way is an error naming it.
 */
export async function futureRealPath(p: string): Promise<string> {
  const abs = resolve(p);
  const rest: string[] = [];
  let cur = abs;
  for (;;) {
    let exists = true;
    try {
      await lstat(cur);
    } catch {
      exists = false;
    }
    if (exists) {
      let real: string;
      try {
        real = await realpath(cur);
      } catch {
        const target = await readlink(cur).catch(() => '?');
        throw new CheckpointError(`${cur}: is a dangling symlink (to ${target})`);
      }
      return rest.length ? join(real, ...rest.reverse()) : real;
    }
    const up = dirname(cur);
    if (up === cur) return abs;
    rest.push(basename(cur));
    cur = up;
  }
}

// Weight files (and KEN's own outputs, and a Trainer's pickled training state) are never side files; every
// other file of the folder (config, tokenizer, chat_template.jinja, remote code, README.md, ...) is
// copied unchanged into a pruned checkpoint.
const NOT_SIDE = /^(\..*|.*\.(safetensors|bin|pt|pth|ckpt|pkl|h5|msgpack|onnx|onnx_data|gguf|ot)|.*\.safetensors\.index\.json|.*\.bin\.index\.json|ken-report\.json)$/;

/** Whether a top-level file of a model folder travels with its pruned checkpoint unchanged. */
export function isSideFile(name: string): boolean {
  return !NOT_SIDE.test(name);
}

/** Whether `p` is a folder (after symlinks): undefined when there is nothing there (or it cannot be stat'ed). One rule, each caller words its own error. */
export async function isDirectory(p: string): Promise<boolean | undefined> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return undefined;
  }
}
