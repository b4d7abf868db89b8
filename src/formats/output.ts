// Output folders: taken at the start, written under a temporary name, renamed into place when complete.
//
// - `--out` is refused when it exists (a dangling symlink included), when its real path lies inside an
//   input's real path, or when a path component on the way is not a folder: at once, before any work.
// - The name is reserved atomically with a lock file beside it (`.<name>.ken-lock`, made by link(2),
//   which fails when the name is taken): a second run into the same --out refuses at once.
// - Work goes to `.<name>.ken-tmp-<pid>-<random>` beside it; parent folders created for it are
//   recorded. Failing or cancelling removes the temporary folder, the lock and those parents.
// - Temporary folders and locks of runs that were killed (their process is gone) are removed by the
//   next run into the same parent folder.
// - Everything live is registered so that a forced exit (a second Ctrl-C) can remove it synchronously.
import { randomBytes } from 'node:crypto';
import { readdirSync, rmSync, rmdirSync, unlinkSync } from 'node:fs';
import { link, lstat, mkdir, readdir, readlink, rename, rm, rmdir, stat, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { CheckpointError, OutputError, UsageError, isKenError } from '../errors';
import { futureRealPath, isInside, readRegularFile } from './paths';

const TMP_RE = /^\.(.+)\.ken-tmp-(\d+)-[0-9a-f]+$/;
const LOCK_SUFFIX = '.ken-lock';

/** Whether a process with this pid exists (EPERM: it exists, owned by someone else). */
export function processAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const live = new Set<OutputReservation>();

/** What a reservation leaves on disk until it is committed or released. */
export interface ReservationPaths {
  tmp: string;
  lock: string;
}

let reservationListener: ((taken: boolean, paths: ReservationPaths) => void) | undefined;

/**
 * Tells `listener` each time this thread takes or frees an output name: a job worker forwards it, so
 * that the host can remove the temporary folder of a worker it had to stop (removeReservedSync).
 */
export function setReservationListener(listener: ((taken: boolean, paths: ReservationPaths) => void) | undefined): void {
  reservationListener = listener;
}

/** Removes a reservation's temporary folder and lock, synchronously (for another thread's). */
export function removeReservedSync(paths: ReservationPaths): void {
  rmSync(paths.tmp, { recursive: true, force: true });
  rmSync(paths.lock, { force: true });
}

/**
 * Removes, synchronously, every temporary folder, lock and created parent of the reservations still
 * open in this process (for a forced exit). Returns the temporary folders removed.
 */
export function discardAllSync(): string[] {
  const removed: string[] = [];
  for (const r of live) {
    if (r.discardSync()) removed.push(r.tmp);
  }
  live.clear();
  for (const t of temporaries) {
    try {
      rmSync(t, { recursive: true, force: true });
      removed.push(t);
    } catch {
      // best effort on the way out
    }
  }
  temporaries.clear();
  return removed;
}

const temporaries = new Set<string>();

/**
 * Registers a temporary file or folder of this run (a scratch folder, an HTML report being written)
 * for removal by a forced stop (discardAllSync); the returned function unregisters it.
 */
export function trackTemporary(path: string): () => void {
  temporaries.add(path);
  return () => {
    temporaries.delete(path);
  };
}

async function staleEntries(parent: string): Promise<{ tmp: string[]; locks: string[] }> {
  let names: string[];
  try {
    names = await readdir(parent);
  } catch {
    return { tmp: [], locks: [] };
  }
  const tmp: string[] = [];
  const locks: string[] = [];
  for (const n of names) {
    const m = TMP_RE.exec(n);
    if (m && !processAlive(Number(m[2]))) tmp.push(join(parent, n));
    else if (n.startsWith('.') && n.endsWith(LOCK_SUFFIX)) {
      const owner = await lockOwner(join(parent, n));
      if (owner !== undefined && !processAlive(owner)) locks.push(join(parent, n));
    }
  }
  return { tmp, locks };
}

async function lockOwner(lock: string): Promise<number | undefined> {
  try {
    const text = (await readRegularFile(lock)).toString('utf8'); // a FIFO named like a lock must not block
    const pid = Number(/^pid (\d+)/.exec(text)?.[1]);
    return Number.isSafeInteger(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

export interface ReserveOptions {
  /** Input files or folders the output must not lie inside (a file means its folder). */
  inputs: readonly string[];
  /** Told about stale temporary folders removed. */
  onNotice?: ((message: string) => void) | undefined;
}

/** An output name taken for this run: its temporary folder, lock, and the parents created for it. */
export class OutputReservation {
  private committed = false;
  private released = false;
  private constructor(
    /** The output as named, resolved. */
    readonly out: string,
    /** The temporary folder to write into. */
    readonly tmp: string,
    private readonly lock: string,
    /** Parent folders this run created, deepest first. */
    private readonly createdParents: string[],
  ) {}

  /** Checks `out`, cleans stale leftovers beside it, and takes the name. */
  static async take(out: string, opts: ReserveOptions): Promise<OutputReservation> {
    const abs = resolve(out);
    await checkOutputPath(out, opts.inputs);
    const parent = dirname(abs);
    const createdParents = await makeParents(parent, out);
    let r: OutputReservation | undefined;
    try {
      const stale = await staleEntries(parent);
      for (const t of stale.tmp) {
        await rm(t, { recursive: true, force: true });
        opts.onNotice?.(`removed ${t}, left by a ken run that was killed`);
      }
      for (const l of stale.locks) await unlink(l).catch(() => undefined);
      const lock = join(parent, `.${basename(abs)}${LOCK_SUFFIX}`);
      await takeLock(lock, out);
      const tmp = join(parent, `.${basename(abs)}.ken-tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
      r = new OutputReservation(abs, tmp, lock, createdParents);
      live.add(r);
      reservationListener?.(true, { tmp, lock });
      // checked again under the lock: a run that finished between the first check and now
      await checkOutputPath(out, opts.inputs);
      await mkdir(tmp);
      return r;
    } catch (e) {
      if (r) await r.release();
      else await removeEmpty(createdParents);
      throw e;
    }
  }

  /** Renames the temporary folder into place and frees the name. */
  async commit(): Promise<void> {
    try {
      await lstat(this.out);
      throw new CheckpointError(`${this.out}: appeared while this run was writing it; the result is left in ${this.tmp}`);
    } catch (e) {
      if (e instanceof CheckpointError) {
        this.committed = true; // keep the temporary folder: it is the only copy of the work
        live.delete(this);
        await unlink(this.lock).catch(() => undefined);
        throw e;
      }
    }
    await rename(this.tmp, this.out);
    this.committed = true;
    live.delete(this);
    await unlink(this.lock).catch(() => undefined);
    reservationListener?.(false, { tmp: this.tmp, lock: this.lock });
  }

  /** Removes the temporary folder, the lock and created parents (after a failure); no-op after commit. */
  async release(): Promise<void> {
    if (this.committed || this.released) return;
    this.released = true;
    live.delete(this);
    await rm(this.tmp, { recursive: true, force: true });
    await unlink(this.lock).catch(() => undefined);
    await removeEmpty(this.createdParents);
    reservationListener?.(false, { tmp: this.tmp, lock: this.lock });
  }

  /** release(), synchronously; true when something was still there to remove. */
  discardSync(): boolean {
    if (this.committed || this.released) return false;
    this.released = true;
    live.delete(this);
    try {
      rmSync(this.tmp, { recursive: true, force: true });
    } catch {
      // best effort on the way out
    }
    try {
      unlinkSync(this.lock);
    } catch {
      // already gone
    }
    for (const d of this.createdParents) {
      try {
        if (readdirSync(d).length === 0) rmdirSync(d);
      } catch {
        break;
      }
    }
    return true;
  }
}

async function removeEmpty(dirs: readonly string[]): Promise<void> {
  for (const d of dirs) {
    try {
      await rmdir(d); // fails when not empty: then its parents are not empty either
    } catch {
      return;
    }
  }
}

/** Creates the missing folders above `parent` (inclusive); returns them deepest first. */
async function makeParents(parent: string, out: string): Promise<string[]> {
  const missing: string[] = [];
  let cur = parent;
  for (;;) {
    try {
      const s = await lstat(cur);
      if (s.isSymbolicLink()) break; // futureRealPath checked it resolves
      if (!s.isDirectory()) throw new UsageError(`${out}: ${cur} is not a folder`);
      break;
    } catch (e) {
      if (e instanceof UsageError) throw e;
      missing.push(cur);
      const up = dirname(cur);
      if (up === cur) break;
      cur = up;
    }
  }
  const created: string[] = [];
  for (const d of [...missing].reverse()) {
    try {
      await mkdir(d);
      created.unshift(d);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') continue;
      await removeEmpty(created);
      throw new UsageError(`${out}: cannot create ${d} (${code ?? 'error'})`);
    }
  }
  return created;
}

async function takeLock(lock: string, out: string): Promise<void> {
  // write the owner to a private name, then link it to the lock name: link(2) fails with EEXIST when
  // the name is taken, so exactly one run gets it, and the lock never exists without its owner line
  const mine = `${lock}-${process.pid}-${randomBytes(4).toString('hex')}`;
  await writeFile(mine, `pid ${process.pid}\nout ${resolve(out)}\n`, { flag: 'wx' });
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await link(mine, lock);
        return;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      const owner = await lockOwner(lock);
      if (owner !== undefined && !processAlive(owner) && attempt === 0) {
        await unlink(lock).catch(() => undefined); // a killed run's lock
        continue;
      }
      throw new UsageError(
        `${out}: another ken run${owner !== undefined ? ` (pid ${owner})` : ''} is writing it; wait for it or choose another --out ` +
          `(if no ken run is, remove ${lock})`,
      );
    }
  } finally {
    await unlink(mine).catch(() => undefined);
  }
}

/**
 * Refuses an output that exists (a dangling symlink included), that lies inside an input (by real
 * paths, so a symlink on the way cannot hide it), or whose real path cannot be known.
 */
export async function checkOutputPath(out: string, inputs: readonly string[]): Promise<string> {
  const abs = resolve(out);
  try {
    const s = await lstat(abs);
    if (s.isSymbolicLink()) {
      const target = await readlink(abs).catch(() => '?');
      throw new UsageError(`${out}: already exists as a symlink (to ${target}); choose a new output folder`);
    }
    throw new UsageError(`${out}: already exists; choose a new output folder`);
  } catch (e) {
    if (e instanceof UsageError) throw e;
  }
  let real: string;
  try {
    real = await futureRealPath(abs);
  } catch (e) {
    throw new UsageError(`${out}: ${(e as Error).message}`);
  }
  for (const input of inputs) {
    const inputAbs = resolve(input);
    let inputDir: string;
    try {
      inputDir = (await stat(inputAbs)).isDirectory() ? inputAbs : dirname(inputAbs);
    } catch {
      inputDir = inputAbs;
    }
    const realInput = await futureRealPath(inputDir).catch(() => inputDir);
    if (isInside(real, realInput)) throw new UsageError(`${out}: lies inside the input ${input}${real !== abs ? ` (it resolves to ${real})` : ''}; choose a folder outside it`);
  }
  return abs;
}

const WRITE_FAILURES: Record<string, string> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EFBIG: 'file too large for the file system or the file size limit',
  EROFS: 'read-only file system',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EIO: 'input/output error',
  EMFILE: 'too many open files',
  ENAMETOOLONG: 'name too long',
};

/** A system error while writing `file`, as a one-line OutputError naming it; our own errors pass as they are. */
export function writeFailure(e: unknown, file: string): unknown {
  if (isKenError(e) || !(e instanceof Error)) return e;
  const code = (e as NodeJS.ErrnoException).code;
  if (typeof code !== 'string' || !/^E[A-Z]+$/.test(code)) return e;
  return new OutputError(`${file}: cannot write (${WRITE_FAILURES[code] ?? code}${WRITE_FAILURES[code] ? `, ${code}` : ''}); nothing was kept`);
}

/** Runs one write step of `file`, turning a system error into writeFailure's message. */
export async function writing<T>(file: string, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (e) {
    throw writeFailure(e, file);
  }
}
