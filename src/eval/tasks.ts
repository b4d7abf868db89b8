// `ken eval` for every task: sequence classification (single-label, multi-label, regression), token
// classification, question answering and causal LM, on the folder's ONNX export or the graph built from
// its config.json. Each line's raw outputs can be written as JSONL (input order); the metrics here are
// accuracy/macro_f1 (single-label), overall_accuracy (token classification) and perplexity (causal LM).
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { CheckpointError, throwIfAborted } from '../errors';
import { problemType } from '../models/heads';
import { resolveTask, type Task } from '../graph';
import { familyOf } from '../models/registry';
import type { EvalResult } from '../report/report';
import { configLabels, graphInputs, openClassifier, readConfig } from './classifier';
import { loadDataset, loadRecords, RecordError, type DataRecord } from './dataset';
import { DEFAULT_BATCH_SIZE, evaluate, type EvalProgress } from './evaluate';
import { openModelSession, type GraphChoice, type ModelSession } from './model';
import { encodeDataset, loadTokenizer, type EncodedText } from './tokenize';

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
  device?: import('../ken/worker-protocol').DeviceChoice | undefined;
  threads?: number | undefined;
  skipBadLines?: boolean | undefined;
  /** Write each line's outputs here (JSONL, input order). */
  outputs?: string | undefined;
  signal?: AbortSignal | undefined;
  onProgress?: ((p: EvalProgress) => void) | undefined;
}

/** What `ken eval --json` prints. */
export interface TaskEvalReport {
  task: Task;
  samples: number;
  graph: 'built' | 'export';
  executionProvider: string;
  metrics: Record<string, unknown>;
  /** single_label_classification, multi_label_classification or regression (sequence classification). */
  problemType?: string;
  seconds: number;
  model: string;
  data: string;
  skipped?: number;
  /** Lines cut to the model's maximum length. */
  truncated: number;
  maxLength: number;
  /** The classification figures in the report's shape (single-label). */
  classification?: EvalResult;
}

/** The usual field names, first present wins: text classification's text and pair. */
const TEXT_FIELDS = ['text', 'sentence', 'sentence1', 'question1', 'premise', 'question'];
const PAIR_FOR: Record<string, string[]> = {
  text: ['text_pair'], sentence: ['text_pair'], sentence1: ['sentence2'], question1: ['question2'], premise: ['hypothesis'], question: ['sentence', 'context'],
};

/** The task config.json's architectures name (an export of an unknown family: text classification). */
export function autoTask(config: Record<string, unknown> | undefined, file: string): Task {
  if (config && familyOf(config)?.graph) return resolveTask(config, file).task;
  return 'text-classification';
}

/** The first record's keys (JSONL) or header (CSV/TSV), to pick default field names. */
async function firstKeys(path: string): Promise<string[]> {
  const fh = await open(path, 'r').catch(() => undefined);
  if (!fh) return [];
  try {
    const buf = Buffer.alloc(65536);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    const first = buf.subarray(0, bytesRead).toString('utf8').replace(/^\uFEFF/, '').split('\n').find((l) => l.trim() !== '') ?? '';
    if (first.trimStart().startsWith('{')) {
      try {
        return Object.keys(JSON.parse(first) as object);
      } catch {
        return [];
      }
    }
    return first.split(first.includes('\t') ? '\t' : ',').map((s) => s.trim().replace(/^"|"$/g, ''));
  } finally {
    await fh.close();
  }
}

function feeds(s: ModelSession, batch: readonly EncodedText[], padId: number): Record<string, Tensor> {
  const rows = batch.length;
  let len = 1;
  for (const e of batch) len = Math.max(len, e.ids.length);
  const v = {
    input_ids: new Int32Array(rows * len).fill(padId),
    attention_mask: new Int32Array(rows * len),
    token_type_ids: new Int32Array(rows * len),
    position_ids: new Int32Array(rows * len),
  };
  batch.forEach((e, r) => {
    const at = r * len;
    v.input_ids.set(e.ids, at);
    v.attention_mask.fill(1, at, at + e.ids.length);
    v.token_type_ids.set(e.typeIds, at);
    for (let i = 0; i < len; i++) v.position_ids[at + i] = i;
  });
  const out: Record<string, Tensor> = {};
  for (const input of graphInputs(s.session, s.model)) {
    const data = v[input.role];
    out[input.name] = new s.ort.Tensor(input.type, input.type === 'int32' ? data : BigInt64Array.from(data, (x) => BigInt(x)), [rows, len]);
  }
  return out;
}

/** Runs the encoded lines in batches (sorted by length), calling `take` with each line's row of every output. */
async function runAll(
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
function rowOf(o: { data: Float32Array; dims: readonly number[] }, r: number, keep?: number): number[][] | number[] {
  const per = o.dims.slice(1).reduce((a, b) => a * b, 1);
  const row = o.data.subarray(r * per, (r + 1) * per);
  if (o.dims.length === 2) return Array.from(keep === undefined ? row : row.subarray(0, keep));
  const w = o.dims[2]!;
  const n = keep ?? o.dims[1]!;
  return Array.from({ length: n }, (_, i) => Array.from(row.subarray(i * w, (i + 1) * w)));
}

function output(outs: Record<string, { data: Float32Array; dims: readonly number[] }>, name: string, model: string): { data: Float32Array; dims: readonly number[] } {
  const o = outs[name];
  if (!o) throw new CheckpointError(`${model}: the graph has no output ${name} (outputs: ${Object.keys(outs).join(', ')})`);
  return o;
}

/** Writes JSONL under a temporary name and renames it. */
async function writeJsonl(path: string, lines: readonly unknown[]): Promise<void> {
  const tmp = join(dirname(path), `.ken-tmp-${process.pid}-${basename(path)}`);
  try {
    const fh = await open(tmp, 'w');
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
  }
}

function str(r: DataRecord, field: string): string {
  const v = r.get(field);
  if (v === undefined || v === null) throw new RecordError(`missing field "${field}"`);
  if (typeof v !== 'string') throw new RecordError(`field "${field}" is not text`);
  return v;
}

/** Evaluates `model` (a folder or .onnx file) on `spec.data` for its task. */
export async function evaluateTask(model: string, spec: TaskEvalSpec): Promise<TaskEvalReport> {
  const started = performance.now();
  const opened = await openModelSession(model, undefined, { graph: spec.graph, task: spec.task ?? 'auto', device: spec.device, threads: spec.threads });
  try {
    const config = await readConfig(opened.folder);
    const file = join(opened.folder, 'config.json');
    const task: Task = opened.built?.task ?? (spec.task && spec.task !== 'auto' ? spec.task : autoTask(config, file));
    const tokenizer = await loadTokenizer(opened.folder);
    const base = { task, graph: opened.graph, executionProvider: opened.executionProvider, model: opened.model, data: spec.data, maxLength: tokenizer.maxLength };
    const keys = await firstKeys(spec.data);
    const pick = (given: string | undefined, names: string[]): string => given ?? names.find((n) => keys.includes(n)) ?? names[0]!;
    const f = spec.fields ?? {};

    if (task === 'text-classification') {
      const text = pick(f.text, TEXT_FIELDS);
      const pair = f.textPair ?? (f.text === undefined ? PAIR_FOR[text]?.find((n) => keys.includes(n)) : undefined);
      const problem = problemType(config ?? {}, file);
      if (problem === 'single_label_classification') {
        await opened.session.release();
        return await singleLabel(model, spec, { text, pair, label: f.label ?? 'label' }, problem, started);
      }
      const data = await loadRecords(spec.data, [[text, '--text-field'], ...(pair ? [[pair, '--text-pair-field'] as [string, string]] : [])],
        (r) => ({ text: str(r, text), pair: pair ? str(r, pair) : undefined }), spec);
      const encoded = data.items.map((d) => tokenizer.encode(d.text, d.pair));
      const rows: unknown[] = new Array(encoded.length);
      await runAll(opened, encoded, tokenizer.padId, spec, (i, out, r) => (rows[i] = { logits: rowOf(output(out, 'logits', opened.model), r) }));
      if (spec.outputs) await writeJsonl(spec.outputs, rows);
      return { ...base, samples: encoded.length, metrics: {}, problemType: problem, seconds: secs(started), truncated: encoded.filter((e) => e.truncated).length, ...(data.skipped ? { skipped: data.skipped } : {}) };
    }

    if (task === 'token-classification') {
      const tokensField = pick(f.tokens, ['tokens', 'words']);
      const tagsField = pick(f.tags, ['ner_tags', 'tags', 'labels', 'pos_tags']);
      const labels = configLabels(config, file) ?? [];
      const byName = new Map(labels.map((l, i) => [l, i] as const));
      const data = await loadRecords(spec.data, [[tokensField, '--tokens-field']], (r) => {
        const words = r.get(tokensField);
        if (!Array.isArray(words) || !words.every((w) => typeof w === 'string')) throw new RecordError(`field "${tokensField}" is not a list of words`);
        const raw = r.get(tagsField);
        let tags: number[] | undefined;
        if (raw !== undefined) {
          if (!Array.isArray(raw) || raw.length !== words.length) throw new RecordError(`field "${tagsField}" is not one tag per word (${words.length} words)`);
          tags = raw.map((t) => {
            const id = typeof t === 'number' && Number.isInteger(t) && t >= 0 && t < labels.length ? t : byName.get(String(t));
            if (id === undefined) throw new RecordError(`unknown tag ${JSON.stringify(t)} (the model's labels: ${labels.slice(0, 12).join(', ')})`);
            return id;
          });
        }
        return { words: words as string[], tags };
      }, spec);
      const encoded = data.items.map((d) => tokenizer.encodeWords(d.words));
      const rows: unknown[] = new Array(encoded.length);
      let right = 0;
      let scored = 0;
      await runAll(opened, encoded, tokenizer.padId, spec, (i, out, r) => {
        const logits = rowOf(output(out, 'logits', opened.model), r, encoded[i]!.ids.length) as number[][];
        rows[i] = { logits };
        const tags = data.items[i]!.tags;
        if (!tags) return;
        // each word scored at its first sub-token; words cut by truncation are not scored
        const e = encoded[i]!;
        let prev = -1;
        for (let t = 0; t < e.wordIds.length; t++) {
          const w = e.wordIds[t]!;
          if (w < 0 || w === prev) continue;
          prev = w;
          const row = logits[t]!;
          let best = 0;
          for (let c = 1; c < row.length; c++) if (row[c]! > row[best]!) best = c;
          scored++;
          if (best === tags[w]) right++;
        }
      });
      if (spec.outputs) await writeJsonl(spec.outputs, rows);
      const metrics: Record<string, unknown> = scored ? { overall_accuracy: right / scored } : {};
      return { ...base, samples: encoded.length, metrics, seconds: secs(started), truncated: encoded.filter((e) => e.truncated).length, ...(data.skipped ? { skipped: data.skipped } : {}) };
    }

    if (task === 'question-answering') {
      const q = pick(f.question, ['question']);
      const c = pick(f.context, ['context']);
      const data = await loadRecords(spec.data, [[q, '--question-field'], [c, '--context-field']], (r) => ({ question: str(r, q), context: str(r, c) }), spec);
      const encoded = data.items.map((d) => tokenizer.encode(d.question, d.context, 'OnlySecond'));
      const rows: unknown[] = new Array(encoded.length);
      await runAll(opened, encoded, tokenizer.padId, spec, (i, out, r) => {
        const n = encoded[i]!.ids.length;
        rows[i] = { start_logits: rowOf(output(out, 'start_logits', opened.model), r, n), end_logits: rowOf(output(out, 'end_logits', opened.model), r, n) };
      });
      if (spec.outputs) await writeJsonl(spec.outputs, rows);
      return { ...base, samples: encoded.length, metrics: {}, seconds: secs(started), truncated: encoded.filter((e) => e.truncated).length, ...(data.skipped ? { skipped: data.skipped } : {}) };
    }

    // causal LM: each line scored alone; token_logprobs[i] = log p(ids[i+1] | ids[0..i])
    const text = pick(f.text, ['text']);
    const data = await loadRecords(spec.data, [[text, '--text-field']], (r) => ({ text: str(r, text) }), spec);
    const encoded = data.items.map((d) => tokenizer.encode(d.text));
    const rows: unknown[] = new Array(encoded.length);
    let nll = 0;
    let predicted = 0;
    await runAll(opened, encoded, tokenizer.padId, spec, (i, out, r) => {
      const n = encoded[i]!.ids.length;
      const lp = out['token_logprobs'] ? (rowOf(out['token_logprobs'], r, n - 1) as number[]) : logprobsFromLogits(output(out, 'logits', opened.model), r, encoded[i]!.ids);
      rows[i] = { token_logprobs: lp };
      for (const x of lp) nll -= x;
      predicted += lp.length;
    });
    if (spec.outputs) await writeJsonl(spec.outputs, rows);
    const metrics = predicted ? { perplexity: Math.exp(nll / predicted), mean_nll: nll / predicted, n_predicted_tokens: predicted } : {};
    return { ...base, samples: encoded.length, metrics, seconds: secs(started), truncated: encoded.filter((e) => e.truncated).length, ...(data.skipped ? { skipped: data.skipped } : {}) };
  } finally {
    await opened.session.release().catch(() => undefined);
  }
}

/** An export's LM logits [batch, sequence, vocab] -> log p(ids[i+1] | ids[0..i]). */
function logprobsFromLogits(o: { data: Float32Array; dims: readonly number[] }, r: number, ids: Int32Array): number[] {
  if (o.dims.length !== 3) throw new CheckpointError(`the graph's logits have shape [${o.dims.join(', ')}]; a causal LM gives [batch, sequence, vocab]`);
  const [, s, v] = o.dims as [number, number, number];
  const out: number[] = [];
  for (let i = 0; i + 1 < ids.length; i++) {
    const row = o.data.subarray((r * s + i) * v, (r * s + i + 1) * v);
    let max = -Infinity;
    for (const x of row) max = Math.max(max, x);
    let sum = 0;
    for (const x of row) sum += Math.exp(x - max);
    out.push(row[ids[i + 1]!]! - max - Math.log(sum));
  }
  return out;
}

function secs(started: number): number {
  return (performance.now() - started) / 1000;
}

/** Single-label classification through the classifier (accuracy, macro-F1, per class, confusion). */
async function singleLabel(model: string, spec: TaskEvalSpec, fields: { text: string; pair: string | undefined; label: string }, problem: string, started: number): Promise<TaskEvalReport> {
  const clf = await openClassifier(model, undefined, { device: spec.device, threads: spec.threads, graph: spec.graph });
  try {
    const data = await loadDataset(spec.data, { labels: clf.labels, textField: fields.text, textPairField: fields.pair, labelField: fields.label, skipBadLines: spec.skipBadLines ?? false, signal: spec.signal });
    const encoded = encodeDataset(clf.tokenizer, data, spec.signal);
    const rows: unknown[] = [];
    const logitsOf = spec.outputs ? new Map<number, number[]>() : undefined;
    const result = await evaluate(clf, encoded, {
      batchSize: spec.batchSize, signal: spec.signal, onProgress: spec.onProgress,
      ...(logitsOf ? { onLogits: (i: number, l: Float32Array) => logitsOf.set(i, Array.from(l)) } : {}),
    });
    if (spec.outputs && logitsOf) {
      for (let i = 0; i < encoded.samples.length; i++) rows.push({ logits: logitsOf.get(i) });
      await writeJsonl(spec.outputs, rows);
    }
    return {
      task: 'text-classification', samples: result.samples, graph: clf.graph, executionProvider: clf.executionProvider,
      metrics: { accuracy: result.accuracy, macro_f1: result.macroF1, per_class: result.perClass, confusion: result.confusion },
      problemType: problem, seconds: secs(started), model: clf.model, data: spec.data, truncated: encoded.truncated, maxLength: encoded.maxLength,
      ...(data.skipped ? { skipped: data.skipped } : {}), classification: result,
    };
  } finally {
    await clf.close();
  }
}
