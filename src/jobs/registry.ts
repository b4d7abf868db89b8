// The jobs a worker can run: each one call into the core with a signal, progress and a log.
import { pruneToFolder } from '../ken/prune';
import { restoreSubnetwork } from '../ken/restore';
import type { JobKind, JobParams, JobProgress, JobResults } from './protocol';

export interface JobContext {
  signal: AbortSignal;
  progress(p: JobProgress): void;
  log(level: 'info' | 'warn' | 'error', message: string): void;
}

type Runner<K extends JobKind> = (params: JobParams[K], ctx: JobContext) => Promise<JobResults[K]>;

export const jobs: { [K in JobKind]: Runner<K> } = {
  prune: (params, ctx) =>
    pruneToFolder({
      ...params,
      signal: ctx.signal,
      onBackend: (backend, ep) => ctx.log('info', `KEN backend ${backend}, execution provider ${ep}`),
      onProgress: (p) => ctx.progress({ done: p.rowsDone, total: p.rowsTotal, label: p.tensor }),
    }),
  restore: (params, ctx) =>
    restoreSubnetwork({ ...params, signal: ctx.signal, onProgress: (done, total, file) => ctx.progress({ done, total, label: file }) }),
};
