// Runs a core job in a worker thread (dist/job-worker.js) so the extension host's main thread stays
// free, with VS Code progress (percentage, cancellable) and the KEN log.
import * as vscode from 'vscode';
import { Worker } from 'node:worker_threads';
import { join } from 'node:path';
import { removeReservedSync, type ReservationPaths } from '../formats/output';
import { describeError } from '../errors';
import type { FromJobWorker, JobEvent, JobKind, JobParams, JobResults, ToJobWorker } from '../jobs/protocol';

/** An error from the job, with the core's error class name (UsageError, CheckpointError, CancelledError...). */
export class JobError extends Error {
  constructor(readonly kind: string, message: string) {
    super(message);
    this.name = kind;
  }
}

export interface JobHooks {
  log: vscode.LogOutputChannel;
  onProgress?: (done: number, total: number, label: string) => void;
  onEvent?: (event: JobEvent) => void;
}

export function runJob<K extends JobKind>(
  extensionPath: string,
  kind: K,
  params: JobParams[K],
  token: vscode.CancellationToken | undefined,
  hooks: JobHooks,
): Promise<JobResults[K]> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(join(extensionPath, 'dist', 'job-worker.js'));
    let settled = false;
    /** Output names the worker holds: removed here if it has to be stopped before it frees them. */
    const reserved = new Map<string, ReservationPaths>();
    const finish = (f: () => void): void => {
      if (settled) return;
      settled = true;
      sub?.dispose();
      // give the worker a moment to clean up its temporary folder before it is stopped
      setTimeout(() => void worker.terminate(), 2000).unref();
      f();
    };
    const sub = token?.onCancellationRequested(() => {
      worker.postMessage({ type: 'cancel' } satisfies ToJobWorker);
      // a worker whose thread is stuck (a long native call) cannot answer: stop it and clean up after it
      setTimeout(() => {
        if (settled) return;
        void worker.terminate();
        for (const p of reserved.values()) removeReservedSync(p);
        finish(() => reject(new JobError('CancelledError', 'cancelled')));
      }, 2500).unref();
    });
    worker.on('message', (m: FromJobWorker) => {
      if (m.type === 'output') {
        if (m.taken) reserved.set(m.tmp, { tmp: m.tmp, lock: m.lock });
        else reserved.delete(m.tmp);
      } else if (m.type === 'progress') hooks.onProgress?.(m.progress.done, m.progress.total, m.progress.label);
      else if (m.type === 'log') hooks.log[m.level](m.message);
      else if (m.type === 'event') hooks.onEvent?.(m.event);
      else if (m.type === 'done') finish(() => resolve(m.result as JobResults[K]));
      else finish(() => reject(new JobError(m.error.name, m.error.message)));
    });
    worker.on('error', (e) => finish(() => reject(new JobError('InternalError', describeError(e).message))));
    worker.on('exit', (code) => finish(() => reject(new JobError('Error', `the KEN worker stopped (exit code ${code})`))));
    worker.postMessage({ type: 'start', kind, params } satisfies ToJobWorker);
  });
}

/** runJob inside a cancellable notification showing percentage and the current item. */
export function runJobWithProgress<K extends JobKind>(
  extensionPath: string,
  title: string,
  kind: K,
  params: JobParams[K],
  log: vscode.LogOutputChannel,
  onProgress?: (done: number, total: number, label: string) => void,
): Promise<JobResults[K]> {
  return Promise.resolve(
    vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, async (progress, token) => {
      let reported = 0;
      return runJob(extensionPath, kind, params, token, {
        log,
        onProgress: (done, total, label) => {
          onProgress?.(done, total, label);
          const pct = total > 0 ? (100 * done) / total : 0;
          const increment = Math.max(0, pct - reported);
          reported = Math.max(reported, pct);
          progress.report({ increment, message: `${Math.floor(pct)}% ${label}` });
        },
      });
    }),
  );
}
