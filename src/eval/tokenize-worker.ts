// Entry of dist/tokenize-worker.js: tokenizes a data set for encodeDataset (src/eval/tokenize-pool.ts),
// telling the main thread which line it is on through a shared counter, and answers once.
import { parentPort, workerData } from 'node:worker_threads';
import { CheckpointError } from '../errors';
import { libraryProblem, tokenizerFrom } from './tokenize';
import type { TokenizeJob, TokenizeReply } from './tokenize-pool';

const port = parentPort;
if (!port) throw new Error('tokenize-worker.js must run as a worker thread');
const job = workerData as TokenizeJob;
const counter = new Int32Array(job.progress);
let index = -1;
try {
  const tokenizer = tokenizerFrom(job.source);
  const parts: Int32Array[] = [];
  const types: Uint8Array[] = [];
  const offsets = new Int32Array(job.samples.length + 1);
  const truncated = new Uint8Array(job.samples.length);
  let total = 0;
  job.samples.forEach((s, i) => {
    index = i;
    Atomics.store(counter, 0, i + 1);
    const e = tokenizer.encode(s.text, s.pair);
    parts.push(e.ids);
    types.push(e.typeIds);
    truncated[i] = e.truncated ? 1 : 0;
    total += e.ids.length;
    offsets[i + 1] = total;
  });
  const ids = new Int32Array(total);
  const typeIds = new Uint8Array(total);
  parts.forEach((p, i) => {
    ids.set(p, offsets[i]!);
    typeIds.set(types[i]!, offsets[i]!);
  });
  const reply: TokenizeReply = { type: 'done', ids, typeIds, offsets, truncated };
  port.postMessage(reply, [ids.buffer, typeIds.buffer, offsets.buffer, truncated.buffer]);
} catch (e) {
  const reply: TokenizeReply = {
    type: 'failed', index, ours: e instanceof CheckpointError,
    message: e instanceof CheckpointError ? e.message : libraryProblem(e),
  };
  port.postMessage(reply);
}
