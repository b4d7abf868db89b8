// The jobs a worker can run: each one call into the core with a signal, progress and a log.
import { pruneToFolder } from '../ken/prune';
import { restoreSubnetwork } from '../ken/restore';
import { parseRegex } from '../ken/plan';
import { watchRun } from '../watch/watcher';
import type { JobEvent, JobKind, JobParams, JobProgress, JobResults } from './protocol';

export interface JobContext {
  signal: AbortSignal;
  progress(p: JobProgress): void;
  log(level: 'info' | 'warn' | 'error', message: string): void;
  emit(event: JobEvent): void;
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
  watch: ({ runDir, include, exclude, ...params }, ctx) =>
    watchRun(runDir, {
      ...params,
      include: parseRegex('include', include),
      exclude: parseRegex('exclude', exclude),
      signal: ctx.signal,
      onLog: (level, message) => ctx.log(level, message),
      onUpdate: (update) => ctx.emit({ type: 'watch-update', update }),
    }),
  restore: (params, ctx) =>
    restoreSubnetwork({ ...params, signal: ctx.signal, onProgress: (done, total, file) => ctx.progress({ done, total, label: file }) }),
};
