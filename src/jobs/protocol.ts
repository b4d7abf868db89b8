// Long work that the extension runs in a worker thread, off the extension host's main thread:
// what each job takes and returns, and the messages between the host and the job worker.
import type { CompareRequest } from '../workflows/compare';
import type { PruneRequest } from '../workflows/prune';
import type { RestoreRequest, RestoreResult } from '../workflows/restore';
import type { EvalResult, KenReport } from '../shared/report';
import type { EvalSpec } from '../eval/bench';
import type { SweepRequest } from '../workflows/sweep';
import type { SweepResult } from '../shared/report';
import type { WatchOptions, WatchUpdate } from '../workflows/watch';

type Plain<T> = Omit<T, 'signal' | 'onProgress' | 'onBackend' | 'onEvalProgress' | 'onWarning' | 'reservation'>;

export interface JobParams {
  prune: Plain<PruneRequest>;
  restore: Plain<RestoreRequest>;
  eval: { model: string; spec: EvalSpec };
  sweep: Omit<SweepRequest, 'signal' | 'onProgress' | 'onPoint' | 'onBackend' | 'onWarning' | 'reservation'> & { out?: string };
  watch: Omit<WatchOptions, 'signal' | 'onUpdate' | 'onLog' | 'include' | 'exclude'> & { runDir: string; include?: string; exclude?: string };
  compare: Plain<CompareRequest>;
}

export interface JobResults {
  prune: KenReport;
  restore: RestoreResult;
  eval: EvalResult;
  sweep: { result: SweepResult; out?: string; report?: KenReport };
  watch: { updates: number; reason: 'stopped' | 'folder-removed' };
  compare: KenReport;
}

/** Events a long job streams while it runs (the watcher's checkpoints). */
export type JobEvent = { type: 'watch-update'; update: WatchUpdate };

export type JobKind = keyof JobParams & keyof JobResults;

export interface JobProgress {
  done: number;
  total: number;
  label: string;
}

export type ToJobWorker =
  | { type: 'start'; kind: JobKind; params: JobParams[JobKind] }
  | { type: 'cancel' };

export type FromJobWorker =
  | { type: 'progress'; progress: JobProgress }
  | { type: 'log'; level: 'info' | 'warn' | 'error'; message: string }
  | { type: 'event'; event: JobEvent }
  | { type: 'done'; result: JobResults[JobKind] }
  | { type: 'failed'; error: { name: string; message: string } }
  /** An output name taken (true) or freed: the host removes what is left if it has to stop the worker. */
  | { type: 'output'; taken: boolean; tmp: string; lock: string };
