// What every task's evaluation shares: the spec and report types, the run context the dispatcher
// (index.ts) hands to each task's file, batching the encoded lines through the session, and writing the
// outputs as JSONL.
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { CheckpointError, throwIfAborted } from '../../errors';
import type { Task } from '../../graph';
import type { ModelConfig } from '../../formats/schemas';
import type { EvalResult } from '../../shared/report';
import type { NoMetrics, TaskMetrics } from '../../shared/metrics';
import { trackTemporary } from '../../formats/output';
import { batchFeeds, graphInputs } from '../classifier';
import { RecordError, type DataRecord } from '../dataset';
import type { TagScheme } from '../metrics';
import { DEFAULT_BATCH_SIZE, type EvalProgress } from '../evaluate';
import type { GraphChoice, ModelInput, ModelSession } from '../session';
import type { EncodedText, ModelTokenizer } from '../tokenize';

type Tensor = import('onnxruntime-node').Tensor;

export interface TaskFields {
  text?: string | undefined;
  textPair?: string | undefined;
  label?: string | undefined;
  tokens?: string | undefined;
  tags?: string | undefined;
  question?: string | undefined;
  context?: string | undefined;
  answers?: string | undefined;
}

export interface TaskEvalSpec {
  data: string;
  task?: Task | 'auto' | undefined;
  fields?: TaskFields | undefined;
  graph?: GraphChoice | undefined;
  batchSize?: number | undefined;
  device?: import('../../runtime/session').DeviceChoice | undefined;
  threads?: number | undefined;
  skipBadLines?: boolean | undefined;
  /** Write each line's outputs here (JSONL, input order). */
  outputs?: string | undefined;
  /** The split of a data set folder (save_to_disk, DatasetDict, the datasets cache). */
  split?: string | undefined;
  /** Token classification: seqeval's strict mode with this tagging scheme (default: conlleval's lenient mode). */
  scheme?: TagScheme | undefined;
  /** Question answering / causal LM: window length in tokens (default: 384 for QA as run_qa, the model's maximum for LMs). */
  maxLength?: number | undefined;
  /** Question answering / causal LM: tokens a window shares with the previous (QA default 128; LM default half the window). */
  stride?: number | undefined;
  /** SQuAD 2.0: the null answer wins when its score beats the best span's by more than this (default 0). */
  nullScoreDiffThreshold?: number | undefined;
  signal?: AbortSignal | undefined;
  onProgress?: ((p: EvalProgress) => void) | undefined;
}

/** What `ken eval --json` prints. */
export interface TaskEvalReport {
  task: Task;
  samples: number;
  graph: 'built' | 'export';
  executionProvider: string;
  /** The task's measures by their fixed names (src/eval/metrics), tagged by `kind`; empty without labels. */
  metrics: TaskMetrics | NoMetrics;
  /** single_label_classification, multi_label_classification or regression (sequence classification). */
  problemType?: string;
  seconds: number;
  model: string;
  data: string;
  skipped?: number;
  /** Lines cut to the model's maximum length. */
  truncated: number;
  /** What the data reader wants the user to know (which of several copies of a split it read). */
  note?: string;
  /** The length in tokens that ran: lines were cut there (classification) or read in windows of it (QA, causal LM). */
  maxLength: number;
  /** QA: tokens a window shares with the previous; causal LM: tokens each window moves on. */
  stride?: number;
  /** The classification figures in the report's shape (single-label). */
  classification?: EvalResult;
  /** Regression: true and predicted values (at most 5,000), for the Metrics view's scatter. */
  scatter?: { truth: number[]; predicted: number[] };
}

/** The usual field names, first present wins: text classification's text and pair. */
export const TEXT_FIELDS = ['text', 'sentence', 'sentence1', 'question1', 'premise', 'question'];
export const PAIR_FOR: Record<string, string[]> = {
  text: ['text_pair'], sentence: ['text_pair'], sentence1: ['sentence2'], question1: ['question2'], premise: ['hypothesis'], question: ['sentence', 'context'],
};

/** One evaluation under way: what the dispatcher opened and read, handed to the task's file. */
export interface TaskRun {
  model: ModelInput;
  folder: string | undefined;
  spec: TaskEvalSpec;
  opened: ModelSession;
  /** The model folder's config.json (formats/hf-config.ts), and its path for messages. */
  config: ModelConfig | undefined;
  file: string;
  tokenizer: ModelTokenizer;
  /** The report fields every task fills the same way. */
  base: Pick<TaskEvalReport, 'task' | 'graph' | 'executionProvider' | 'model' | 'data' | 'maxLength'>;
  /** The data's field names (first record, header or schema). */
  keys: string[];
  /** The field given, else the first of `names` the data has, else the first of `names`. */
  pick: (given: string | undefined, names: string[]) => string;
  started: number;
}

function feeds(s: ModelSession, batch: readonly EncodedText[], padId: number): Record<string, Tensor> {
  return batchFeeds(s.ort, graphInputs(s.session, s.model), batch, padId);
}

/** Runs the encoded lines in batches (sorted by length), calling `take` with each line's row of every output. */
export async function runAll(
  s: ModelSession, encoded: readonly EncodedText[], padId: number, spec: TaskEvalSpec,
  take: (index: number, out: Record<string, { data: Float32Array; dims: readonly number[] }>, row: number) => void,
): Promise<void> {
  const batchSize = spec.batchSize ?? DEFAULT_BATCH_SIZE;
  const order = encoded.map((_, i) => i).sort((a, b) => encoded[a]!.ids.length - encoded[b]!.ids.length || a - b);
  spec.onProgress?.({ done: 0, total: encoded.length });
  for (let start = 0; start < order.length; start += batchSize) {
    throwIfAborted(spec.signal);
    const idx = order.slice(start, start + batchSize);
    const result = await s.session.run(feeds(s, idx.map((i) => encoded[i]!), padId));
    const out: Record<string, { data: Float32Array; dims: readonly number[] }> = {};
    for (const [name, t] of Object.entries(result)) {
      if (t.type !== 'float32') throw new CheckpointError(`${s.model}: output ${name} is ${t.type}; expected float32`);
      out[name] = { data: t.data as Float32Array, dims: t.dims };
    }
    idx.forEach((i, r) => take(i, out, r));
    for (const t of Object.values(result)) t.dispose();
    spec.onProgress?.({ done: Math.min(start + batchSize, order.length), total: order.length });
  }
}

/** Row `r` of a [batch, ...rest] output, first `keep` entries of axis 1 when it has a sequence axis. */
export function rowOf(o: { data: Float32Array; dims: readonly number[] }, r: number, keep?: number): number[][] | number[] {
  const per = o.dims.slice(1).reduce((a, b) => a * b, 1);
  const row = o.data.subarray(r * per, (r + 1) * per);
  if (o.dims.length === 2) return Array.from(keep === undefined ? row : row.subarray(0, keep));
  const w = o.dims[2]!;
  const n = keep ?? o.dims[1]!;
  return Array.from({ length: n }, (_, i) => Array.from(row.subarray(i * w, (i + 1) * w)));
}

export function output(outs: Record<string, { data: Float32Array; dims: readonly number[] }>, name: string, model: string): { data: Float32Array; dims: readonly number[] } {
  const o = outs[name];
  if (!o) throw new CheckpointError(`${model}: the graph has no output ${name} (outputs: ${Object.keys(outs).join(', ')})`);
  return o;
}

/** Writes JSONL under a temporary name and renames it. */
export async function writeJsonl(path: string, lines: readonly unknown[]): Promise<void> {
  const tmp = join(dirname(path), `.ken-tmp-${process.pid}-${basename(path)}`);
  const untrack = trackTemporary(tmp); // removed by a forced stop too
  try {
    const fh = await open(tmp, 'wx'); // never through a link someone left at the temporary name
    try {
      let chunk = '';
      for (const l of lines) {
        chunk += JSON.stringify(l) + '\n';
        if (chunk.length > 1 << 20) {
          await fh.write(chunk);
          chunk = '';
        }
      }
      await fh.write(chunk);
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw new CheckpointError(`${path}: cannot write the outputs (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  } finally {
    untrack();
  }
}

export function str(r: DataRecord, field: string): string {
  const v = r.get(field);
  if (v === undefined || v === null) throw new RecordError(`missing field "${field}"`);
  if (typeof v !== 'string') throw new RecordError(`field "${field}" is not text`);
  return v;
}

/** Seconds since `started` (performance.now()). */
export function secs(started: number): number {
  return (performance.now() - started) / 1000;
}
