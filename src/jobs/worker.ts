// Entry of dist/job-worker.js: runs one job per worker thread and reports progress, logs and the result.
import { parentPort } from 'node:worker_threads';
import { discardAllSync, setReservationListener } from '../formats/output';
import { describeError } from '../errors';
import { jobs, type JobContext } from './registry';
import type { FromJobWorker, JobKind, JobParams, ToJobWorker } from './protocol';
import { setProviderLog } from '../runtime/session';

const port = parentPort;
if (!port) throw new Error('job-worker.js must run as a worker thread');
const controller = new AbortController();
const post = (m: FromJobWorker): void => port.postMessage(m);
let lastProgress = 0;
// providers that were tried and failed: one line in the KEN output channel
setProviderLog((message) => post({ type: 'log', level: 'warn', message }));
let finished = false;
setReservationListener((taken, paths) => post({ type: 'output', taken, ...paths }));
/** As the CLI: a cancelled job that has not wound down this long after is reported cancelled, its output removed. */
const STOP_WITHIN_MS = 1500;

port.on('message', (msg: ToJobWorker) => {
  if (msg.type === 'cancel') {
    controller.abort();
    setTimeout(() => {
      if (finished) return;
      discardAllSync();
      post({ type: 'failed', error: { name: 'CancelledError', message: 'cancelled' } });
    }, STOP_WITHIN_MS).unref();
    return;
  }
  const ctx: JobContext = {
    signal: controller.signal,
    progress: (p) => {
      const now = Date.now();
      if (now - lastProgress < 100 && p.done < p.total) return; // at most ten updates a second
      lastProgress = now;
      post({ type: 'progress', progress: p });
    },
    log: (level, message) => post({ type: 'log', level, message }),
    emit: (event) => post({ type: 'event', event }),
  };
  const run = jobs[msg.kind] as (p: JobParams[JobKind], c: JobContext) => Promise<unknown>;
  run(msg.params, ctx).finally(() => (finished = true)).then(
    (result) => post({ type: 'done', result: result as never }),
    // the extension's one place where a thrown error becomes the line a user sees (see describeError)
    (e: unknown) => {
      const d = describeError(e);
      post({ type: 'failed', error: { name: d.kind === 'internal' ? 'InternalError' : (e as Error).name, message: d.message } });
    },
  );
});
