// Watches a fine-tuning run's output folder and analyses each checkpoint once it is complete:
// Hugging Face Trainer `checkpoint-<step>/` folders (complete when trainer_state.json is there and the
// weights' size is stable), or a folder whose weights file is rewritten in place (complete when it is
// stable and its safetensors header accounts for every byte). The weights are model.safetensors (or
// shards with their index), or a PEFT LoRA adapter (adapter_config.json + adapter_model.safetensors, as
// PEFT + Trainer save them), analysed merged onto the watched base. One checkpoint at a time, at low
// priority, skipping to the newest when behind; stops when aborted or when the folder disappears.
import { readdir, rm, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { CancelledError, CheckpointError, oneLine } from '../errors';
import { openModel } from '../checkpoint/folder';
import { EvalBench, type EvalSpec } from '../eval/bench';
import { readRange, readSafetensorsHeader } from '../formats/safetensors';
import { KenPool } from '../ken/pool';
import type { BackendChoice } from '../ken/worker-protocol';
import type { DeviceChoice } from '../runtime/session';
import type { Kernel } from '../ken/kernels';
import { analyzeCheckpoint, type CheckpointAnalysis, type KeptSets } from './watch-analyze';
import type { PlanOptions } from '../ken/plan';
import { readRegularFile } from '../formats/paths';

export interface WatchUpdate extends CheckpointAnalysis {
  step: number;
  /** The checkpoint folder (or the weights file rewritten in place). */
  path: string;
  /** Older complete checkpoints skipped to keep up with the run. */
  skipped: number[];
  seconds: number;
  accuracy?: number;
  /** A KEN output folder (report + subnetwork) for this checkpoint, when `recordDir` was given. */
  record?: string;
}

export interface WatchOptions extends PlanOptions {
  base: string;
  k: number;
  backend?: BackendChoice;
  device?: DeviceChoice;
  /** The KDE's kernel (default gaussian). */
  kernel?: Kernel;
  /** Worker threads for KEN (default 1: the run keeps the other cores). */
  threads?: number;
  pollMs?: number;
  signal: AbortSignal;
  onUpdate: (u: WatchUpdate) => void | Promise<void>;
  onLog?: (level: 'info' | 'warn', message: string) => void;
  /** Keep each checkpoint's report and subnetwork in a subfolder of this (the newest few), for the panel. */
  recordDir?: string | undefined;
  /** A labelled data set: each checkpoint is evaluated on it (its ONNX export, or the graph built from its config.json). */
  eval?: EvalSpec | undefined;
}

export interface Candidate {
  step: number;
  path: string;
  /** What must stay the same between two polls for the checkpoint to count as complete. */
  fingerprint: string;
  complete: boolean;
}

const CHECKPOINT = /^checkpoint-(\d+)$/;
const WEIGHTS = ['model.safetensors', 'model.safetensors.index.json'];
const ADAPTER = ['adapter_config.json', 'adapter_model.safetensors', 'adapter_model.bin'];
const WATCHED = [...WEIGHTS, ...ADAPTER];

async function fileSig(path: string): Promise<string | undefined> {
  try {
    const s = await stat(path);
    return `${s.size}:${s.mtimeMs}`;
  } catch {
    return undefined;
  }
}

/** A safetensors file (or index with shards) whose header accounts for every byte: not half-written. */
async function weightsComplete(dir: string): Promise<boolean> {
  try {
    const names = await readdir(dir);
    if (names.includes('adapter_config.json')) return await adapterComplete(dir, names);
    const shards = names.includes('model.safetensors.index.json')
      ? [...new Set(Object.values((JSON.parse((await readRegularFile(join(dir, 'model.safetensors.index.json'))).toString('utf8')) as { weight_map: Record<string, string> }).weight_map))]
      : names.includes('model.safetensors') ? ['model.safetensors'] : [];
    if (shards.length === 0) return false;
    for (const shard of shards) {
      const h = await readSafetensorsHeader(join(dir, shard));
      const end = h.tensors.reduce((m, t) => Math.max(m, t.end), h.dataStart);
      if (end !== h.fileSize) return false;
    }
    return true;
  } catch {
    return false;
  }
}

/**
 * A LoRA adapter as PEFT saves it: adapter_config.json that parses, and adapter_model.safetensors whose
 * header accounts for every byte (adapter_model.bin, torch.save's zip: its end-of-central-directory record
 * is there). The config without weights is a save in progress.
 */
async function adapterComplete(dir: string, names: readonly string[]): Promise<boolean> {
  try {
    JSON.parse((await readRegularFile(join(dir, 'adapter_config.json'))).toString('utf8'));
    if (names.includes('adapter_model.safetensors')) {
      const h = await readSafetensorsHeader(join(dir, 'adapter_model.safetensors'));
      return h.tensors.reduce((m, t) => Math.max(m, t.end), h.dataStart) === h.fileSize;
    }
    if (names.includes('adapter_model.bin')) {
      const path = join(dir, 'adapter_model.bin');
      const size = (await stat(path)).size;
      const tail = Math.min(size, 65557); // the record (22 bytes) and at most a 64 KiB comment
      const bytes = Buffer.from(await readRange(path, size - tail, tail));
      return size >= 22 && bytes.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06])) >= 0;
    }
    return false;
  } catch {
    return false;
  }
}

/** The checkpoints in a run folder as they are now (Trainer subfolders, else the folder itself). */
export async function scanRun(runDir: string, revision: number): Promise<Candidate[]> {
  const names = await readdir(runDir);
  const subs = names.map((n) => CHECKPOINT.exec(n)).filter((m): m is RegExpExecArray => m !== null);
  if (subs.length > 0) {
    const out: Candidate[] = [];
    for (const m of subs) {
      const dir = join(runDir, m[0]);
      const state = await fileSig(join(dir, 'trainer_state.json'));
      const sigs = await Promise.all(WATCHED.map((w) => fileSig(join(dir, w))));
      let inner = '';
      try {
        for (const n of (await readdir(dir)).filter((x) => x.endsWith('.safetensors')).sort()) inner += `${n}=${await fileSig(join(dir, n))};`;
      } catch {
        continue;
      }
      out.push({ step: Number(m[1]), path: dir, fingerprint: `${state}|${sigs.join('|')}|${inner}`, complete: state !== undefined && (await weightsComplete(dir)) });
    }
    return out.sort((a, b) => a.step - b.step);
  }
  if (names.some((n) => WATCHED.includes(n))) {
    const sig = (await Promise.all(WATCHED.map((w) => fileSig(join(runDir, w))))).filter((x) => x !== undefined).join('|');
    let step = revision;
    try {
      const state = JSON.parse((await readRegularFile(join(runDir, 'trainer_state.json'))).toString('utf8')) as { global_step?: unknown };
      if (typeof state.global_step === 'number') step = state.global_step;
    } catch {
      // no trainer_state.json: number the rewrites
    }
    return [{ step, path: runDir, fingerprint: sig ?? '', complete: await weightsComplete(runDir) }];
  }
  return [];
}

const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });

/**
 * Watches until `signal` aborts or the folder disappears. A checkpoint counts once it is complete and
 * unchanged across two polls; each counts once (a rewritten in-place file counts again).
 */
export async function watchRun(runDir: string, opts: WatchOptions): Promise<{ updates: number; reason: 'stopped' | 'folder-removed' }> {
  const log = opts.onLog ?? (() => undefined);
  const base = await openModel(opts.base, 'base', { refuseAdapter: true });
  let existed = await stat(runDir).then((s) => {
    if (!s.isDirectory()) throw new CheckpointError(`${runDir}: not a folder to watch`);
    return true;
  }, () => false);
  if (!existed) log('info', `waiting for ${runDir} to appear`);
  let pool: KenPool | undefined;
  let previous: KeptSets | undefined;
  const seen = new Map<string, string>(); // path -> fingerprint analysed
  const lastSeen = new Map<string, string>(); // path -> fingerprint at the previous poll
  let revision = 0;
  let updates = 0;
  const records: string[] = [];
  const pollMs = opts.pollMs ?? 1000;
  try {
    for (;;) {
      if (opts.signal.aborted) return { updates, reason: 'stopped' };
      let candidates: Candidate[];
      try {
        candidates = await scanRun(runDir, revision + 1);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
        if (existed) {
          log('warn', `${runDir} was removed; stopped watching`);
          return { updates, reason: 'folder-removed' };
        }
        await sleep(pollMs, opts.signal);
        continue;
      }
      existed = true;
      const ready = candidates.filter((c) => {
        const stable = c.complete && lastSeen.get(c.path) === c.fingerprint;
        return stable && seen.get(c.path) !== c.fingerprint;
      });
      for (const c of candidates) lastSeen.set(c.path, c.fingerprint);
      if (ready.length > 0) {
        const newest = ready[ready.length - 1]!;
        for (const r of ready) seen.set(r.path, r.fingerprint);
        const skipped = ready.slice(0, -1).map((r) => r.step);
        if (skipped.length) log('info', `behind the run: skipping to step ${newest.step} (skipped ${skipped.join(', ')})`);
        pool ??= await KenPool.open({ backend: opts.backend ?? 'js', device: opts.device ?? 'cpu', threads: opts.threads ?? 1, lowPriority: true, kernel: opts.kernel ?? 'gaussian' });
        const started = performance.now();
        try {
          const folder = await openModel(newest.path, 'checkpoint', { adapterBase: base }); // a LoRA run's checkpoints merge into the watched base
          const record = opts.recordDir ? join(opts.recordDir, `step-${newest.step}-${revision + 1}`) : undefined;
          const { analysis, kept } = await analyzeCheckpoint(folder, base, pool, previous, { ...opts, signal: opts.signal, recordTo: record });
          previous = kept;
          revision++;
          const update: WatchUpdate = { ...analysis, step: newest.step, path: newest.path, skipped, seconds: (performance.now() - started) / 1000 };
          if (record) {
            update.record = record;
            records.push(record);
            // keep the newest few: the panel may still be reading the previous one
            while (records.length > 3) await rm(records.shift()!, { recursive: true, force: true });
          }
          if (opts.eval && (folder.onnx || folder.safetensors)) {
            let bench: EvalBench | undefined;
            try {
              // the checkpoint's export when it has one, else the graph built over its safetensors (a LoRA
              // checkpoint: merged into the watched base, in a temporary folder removed after)
              bench = await EvalBench.open(folder.dir, opts.eval, opts.signal, { adapterBase: folder.lora ? base : undefined });
              const useExport = folder.onnx && opts.eval.graph !== 'built';
              const accuracy = (await bench.evaluate(useExport ? folder.onnx!.path : folder.dir, { signal: opts.signal })).accuracy;
              // the timeline plots accuracy: other tasks' evaluations have none (NaN)
              if (Number.isFinite(accuracy)) update.accuracy = accuracy;
            } catch (e) {
              if (e instanceof CancelledError || opts.signal.aborted) throw e;
              log('warn', `${basename(newest.path)}: no accuracy (${oneLine(e)})`);
            } finally {
              await bench?.close();
            }
          }
          updates++;
          await opts.onUpdate(update);
        } catch (e) {
          if (e instanceof CancelledError || opts.signal.aborted) return { updates, reason: 'stopped' };
          log('warn', `${basename(newest.path)}: ${oneLine(e)}`);
        }
        continue; // look again at once: more may have completed meanwhile
      }
      await sleep(pollMs, opts.signal);
    }
  } finally {
    await pool?.close();
  }
}
