// Tokenizing a data set in a worker thread, under a time budget per line. A tokenizer.json may carry a
// normalizer or pre-tokenizer pattern that backtracks without end on some line (`(a|a)+$`): a regular
// expression cannot be interrupted from its own thread, so the work runs in a worker whose current
// line the main thread watches through a shared counter, and terminates when one line takes longer
// than the budget (or when the run is cancelled). Texts are also cut before they are tokenized
// (ModelTokenizer.maxChars), so a 50 MB line costs no more than a long paragraph.
import { Worker } from 'node:worker_threads';
import { CancelledError, CheckpointError, throwIfAborted } from '../errors';
import { workerScript } from '../runtime/worker-script';
import type { Dataset } from './dataset';
import { libraryProblem, type EncodedDataset, type EncodedSample, type ModelTokenizer, type TokenizerSource } from './tokenize';

/** Default time one data line may take to tokenize (KEN_TOKENIZE_LINE_MS overrides it). */
export const LINE_BUDGET_MS = 5000;
/** Opening the tokenizer in the worker (a large vocabulary) may take this many line budgets. */
const OPEN_BUDGETS = 12;

export interface EncodeOptions {
  signal?: AbortSignal | undefined;
  /** Milliseconds one line may take (default KEN_TOKENIZE_LINE_MS, else LINE_BUDGET_MS). */
  lineBudgetMs?: number | undefined;
}

/** What the worker gets. */
export interface TokenizeJob {
  source: TokenizerSource;
  samples: { text: string; pair?: string | undefined }[];
  /** [0]: 1 + the index of the sample being tokenized (0 while the tokenizer opens). */
  progress: SharedArrayBuffer;
}

/** What the worker answers: every sample's ids packed in one buffer, or the failure and where. */
export type TokenizeReply =
  | { type: 'done'; ids: Int32Array; typeIds: Uint8Array; offsets: Int32Array; truncated: Uint8Array }
  | { type: 'failed'; index: number; message: string; ours: boolean };

function budgetFromEnv(): number | undefined {
  const v = Number(process.env['KEN_TOKENIZE_LINE_MS']);
  return Number.isFinite(v) && v > 0 ? v : undefined;
}

/** Tokenizes every sample once, in a worker, time-bounded per line; the result serves any model that shares the tokenizer. */
export async function encodeDataset(tokenizer: ModelTokenizer, data: Pick<Dataset, 'path' | 'labels' | 'samples' | 'skipped'>, opts: EncodeOptions = {}): Promise<EncodedDataset> {
  throwIfAborted(opts.signal);
  const budget = opts.lineBudgetMs ?? budgetFromEnv() ?? LINE_BUDGET_MS;
  const source = tokenizer.source;
  const progress = new SharedArrayBuffer(4);
  const counter = new Int32Array(progress);
  const job: TokenizeJob = { source, samples: data.samples.map((s) => ({ text: s.text, pair: s.pair })), progress };
  const worker = new Worker(workerScript('tokenize-worker.js'), { workerData: job });
  const lineOf = (index: number): string => {
    const s = data.samples[index];
    return s ? `${data.path} line ${s.line}` : data.path;
  };
  const reply = await new Promise<TokenizeReply>((resolve, reject) => {
    let settled = false;
    let seen = -1;
    let since = Date.now();
    const finish = (f: () => void): void => {
      if (settled) return;
      settled = true;
      clearInterval(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      void worker.terminate();
      f();
    };
    const timer = setInterval(() => {
      const current = Atomics.load(counter, 0);
      const now = Date.now();
      if (current !== seen) {
        seen = current;
        since = now;
        return;
      }
      const limit = current === 0 ? budget * OPEN_BUDGETS : budget;
      if (now - since <= limit) return;
      const what = current === 0 ? 'opening it' : `tokenizing ${lineOf(current - 1)}`;
      finish(() => reject(new CheckpointError(
        `${source.file}: ${what} took longer than ${(limit / 1000).toFixed(1)} s, so the run was stopped; a normalizer or pre-tokenizer pattern that backtracks without end does this (KEN_TOKENIZE_LINE_MS sets the limit per line)`,
      )));
    }, Math.max(10, Math.min(200, budget / 5)));
    const onAbort = (): void => finish(() => reject(new CancelledError()));
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    worker.on('message', (m: TokenizeReply) => finish(() => resolve(m)));
    worker.on('error', (e) => finish(() => reject(new CheckpointError(`${source.file}: cannot tokenize ${lineOf(Atomics.load(counter, 0) - 1)} (${libraryProblem(e)})`))));
    worker.on('exit', (code) => finish(() => reject(new Error(`the tokenizer worker stopped (exit code ${code})`))));
  });
  if (reply.type === 'failed') {
    if (reply.ours || reply.index < 0) throw new CheckpointError(reply.message);
    throw new CheckpointError(`${source.file}: cannot tokenize ${lineOf(reply.index)} (${reply.message})`);
  }
  let truncated = 0;
  const samples: EncodedSample[] = data.samples.map((s, i) => {
    if (reply.truncated[i]) truncated++;
    const a = reply.offsets[i]!;
    const b = reply.offsets[i + 1]!;
    return { ids: reply.ids.subarray(a, b), typeIds: reply.typeIds.subarray(a, b), label: s.label, line: s.line };
  });
  return { path: data.path, labels: data.labels, samples, skipped: data.skipped, padId: tokenizer.padId, maxLength: tokenizer.maxLength, truncated };
}
