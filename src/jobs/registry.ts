// The jobs a worker can run: each one call into the core with a signal, progress and a log.
import { compareToFolder } from '../workflows/compare';
import { pruneToFolder } from '../workflows/prune';
import { restoreSubnetwork } from '../workflows/restore';
import { sweepAndPrune } from '../workflows/sweep';
import { EvalBench } from '../eval/bench';
import { parseRegex } from '../ken/plan';
import { watchRun } from '../workflows/watch';
import type { JobEvent, JobKind, JobParams, JobProgress, JobResults } from './protocol';

export interface JobContext {
  signal: AbortSignal;
  progress(p: JobProgress): void;
  log(level: 'info' | 'warn' | 'error', message: string): void;
  emit(event: JobEvent): void;
}

type Runner<K extends JobKind> = (params: JobParams[K], ctx: JobContext) => Promise<JobResults[K]>;

export const jobs: { [K in JobKind]: Runner<K> } = {
  prune: (params, ctx) => {
    // One percentage over the phases: evaluation before (15%), KEN (70% or all), evaluation after (15%).
    const evals = params.eval ? (params.evalBefore ? 1 : 2) : 0;
    const kenShare = 1 - 0.15 * evals;
    const scale = 10000;
    const at = (start: number, share: number, done: number, total: number): number => Math.round(scale * (start + share * (total ? done / total : 1)));
    const beforeShare = params.eval && !params.evalBefore ? 0.15 : 0;
    return pruneToFolder({
      ...params,
      signal: ctx.signal,
      onWarning: (w) => ctx.log('warn', w),
      onBackend: (backend, ep, note) => ctx.log('info', `KEN backend ${backend}, execution provider ${ep}${note ? ` (${note})` : ''}`),
      onProgress: (p) => ctx.progress({ done: at(beforeShare, kenShare, p.rowsDone, p.rowsTotal), total: scale, label: p.tensor }),
      onEvalProgress: (phase, done, total) =>
        ctx.progress({
          done: phase === 'before' ? at(0, 0.15, done, total) : at(beforeShare + kenShare, 0.15, done, total),
          total: scale,
          label: phase === 'before' ? 'evaluating the fine-tuned model' : 'evaluating the pruned model',
        }),
    });
  },
  watch: ({ runDir, include, exclude, ...params }, ctx) =>
    watchRun(runDir, {
      ...params,
      include: parseRegex('include', include),
      exclude: parseRegex('exclude', exclude),
      signal: ctx.signal,
      onLog: (level, message) => ctx.log(level, message),
      onUpdate: (update) => ctx.emit({ type: 'watch-update', update }),
    }),
  compare: (params, ctx) =>
    compareToFolder({ ...params, signal: ctx.signal, onProgress: (done, total, tensor) => ctx.progress({ done, total, label: tensor }) }),
  eval: async ({ model, spec }, ctx) => {
    const bench = await EvalBench.open(model, spec, ctx.signal);
    return bench.evaluate(model, { signal: ctx.signal, onProgress: (p) => ctx.progress({ done: p.done, total: p.total, label: 'samples' }) });
  },
  sweep: ({ out, ...params }, ctx) =>
    sweepAndPrune({
      ...params,
      out,
      signal: ctx.signal,
      onWarning: (w) => ctx.log('warn', w),
      onBackend: (backend, ep, note) => ctx.log('info', `KEN backend ${backend}, execution provider ${ep}${note ? ` (${note})` : ''}`),
      onProgress: (p) => ctx.progress({ done: p.done, total: p.total, label: `${p.phase}${p.method ? ` ${p.method}` : ''}${p.k ? ` k=${p.k}` : ''}` }),
      onPoint: (p) => ctx.log('info', `${p.method ?? 'ken'}${p.seed !== undefined ? ` seed ${p.seed}` : ''} k=${p.k}: kept ${(p.keptRatio * 100).toFixed(1)}%, ${params.metric ?? 'accuracy'} ${(p.value ?? p.accuracy).toFixed(4)}`),
      onPruneProgress: (p, k) => ctx.progress({ done: p.rowsDone, total: p.rowsTotal, label: `pruning at k=${k}` }),
    }),
  restore: (params, ctx) =>
    restoreSubnetwork({ ...params, signal: ctx.signal, onWarning: (w) => ctx.log('warn', w), onProgress: (done, total, file) => ctx.progress({ done, total, label: file }) }),
};
