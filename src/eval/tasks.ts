// `ken eval` for every task: sequence classification (single-label, multi-label, regression), token
// classification, question answering and causal LM, on the folder's ONNX export or the graph built from
// its config.json. Each line's raw outputs can be written as JSONL (input order); the metrics here are
// accuracy/macro_f1 (single-label), overall_accuracy (token classification) and perplexity (causal LM).
import { open, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { isAdapterPath, mergeAdapter } from './adapter';
import { CheckpointError, UsageError, throwIfAborted } from '../errors';
import { type Task } from '../graph';
import { resolveTask } from '../models/build';
import { familyOf } from '../models/registry';
import type { EvalResult } from '../shared/report';
import { CONFIG_FILE, configLabels, problemType, readConfig } from '../formats/hf-config';
import { batchFeeds, graphInputs, openClassifier } from './classifier';
import { LabelMap, loadDataset, loadRecords, RecordError, type DataRecord } from './dataset';
import { classNames, openData } from './data';
import {
  firstSubTokenPredictions, lmWindows, multiLabelMetrics, PerplexityAccumulator, postprocessQa, regressionMetrics, squadMetrics, tokenClassificationMetrics,
  schemeProblem, type TagScheme,
} from './metrics';
import type { NoMetrics, TaskMetrics } from '../shared/metrics';
import { qaFeatures, qaWindowing } from './qa-features';
import { answersOf, tokenRow } from './samples';
import { DEFAULT_BATCH_SIZE, evaluate, type EvalProgress } from './evaluate';
import { openModelSession, type GraphChoice, type ModelInput, type ModelSession } from './session';
import { scoreCausalLm } from './causal-lm';
import { loadTokenizer, type EncodedText } from './tokenize';
import { encodeDataset } from './tokenize-pool';
import { trackTemporary } from '../formats/output';

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
  device?: import('../runtime/session').DeviceChoice | undefined;
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

/**
 * The task config.json's architectures name. For an ONNX export (`outputs`: its output names) whose
 * config names no known architecture, the outputs decide: start/end logits are QA, token log-probs a
 * causal LM, anything else text classification.
 */
export function autoTask(config: Record<string, unknown> | undefined, file: string, outputs?: readonly string[]): Task {
  if (config && familyOf(config)?.graph) {
    try {
      return resolveTask(config, file).task;
    } catch (e) {
      if (!outputs) throw e;
    }
  }
  if (outputs?.includes('start_logits')) return 'question-answering';
  if (outputs?.includes('token_logprobs')) return 'causal-lm';
  return 'text-classification';
}

/** The first record's keys (JSONL), header (CSV/TSV) or schema (Parquet, Arrow, data set folders), to pick default field names. */
export async function firstKeys(path: string, split?: string): Promise<string[]> {
  if (split !== undefined || /\.(parquet|pq|arrow|arrows|ipc|feather)$/i.test(path) || (await stat(path).then((st) => st.isDirectory(), () => false))) {
    const d = await openData(path, { split }).catch(() => undefined);
    return d?.columns ?? [];
  }
  // a pipe (`--data <(zcat data.jsonl.gz)`) can be read once only, by the loader: no peeking
  if (!(await stat(path).then((st) => st.isFile(), () => false))) return [];
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
  return batchFeeds(s.ort, graphInputs(s.session, s.model), batch, padId);
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

function str(r: DataRecord, field: string): string {
  const v = r.get(field);
  if (v === undefined || v === null) throw new RecordError(`missing field "${field}"`);
  if (typeof v !== 'string') throw new RecordError(`field "${field}" is not text`);
  return v;
}

/** Evaluates `model` (a folder or .onnx file) on `spec.data` for its task. */
export async function evaluateTask(model: ModelInput, spec: TaskEvalSpec, folder?: string): Promise<TaskEvalReport> {
  if (typeof model === 'string' && folder === undefined && (await isAdapterPath(model))) {
    // a LoRA adapter folder: the merged model, written into a temporary folder removed after
    const merged = await mergeAdapter(resolve(model), { signal: spec.signal });
    try {
      const r = await evaluateTask(merged.folder, spec);
      if (r.classification) r.classification.model = merged.adapter;
      return { ...r, model: merged.adapter, note: r.note ? `${merged.note}; ${r.note}` : merged.note };
    } finally {
      await merged.dispose();
    }
  }
  const started = performance.now();
  const opened = await openModelSession(model, folder, { graph: spec.graph, task: spec.task ?? 'auto', device: spec.device, threads: spec.threads });
  try {
    const config = await readConfig(opened.folder);
    const file = join(opened.folder, CONFIG_FILE);
    const task: Task = opened.built?.task ?? (spec.task && spec.task !== 'auto' ? spec.task : autoTask(config, file, opened.session.outputNames));
    // --max-length: truncation=True, max_length=N for every task (sequence and token classification cut
    // there; QA and causal LM read windows of it), never beyond the model's usable positions
    const tokenizer = (await loadTokenizer(opened.folder)).limitedTo(task === 'text-classification' || task === 'token-classification' ? spec.maxLength : undefined);
    const base = { task, graph: opened.graph, executionProvider: opened.executionProvider, model: opened.model, data: spec.data, maxLength: tokenizer.maxLength };
    const keys = await firstKeys(spec.data, spec.split);
    const pick = (given: string | undefined, names: string[]): string => given ?? names.find((n) => keys.includes(n)) ?? names[0]!;
    const f = spec.fields ?? {};

    if (task === 'text-classification') {
      const text = pick(f.text, TEXT_FIELDS);
      const pair = f.textPair ?? (f.text === undefined ? PAIR_FOR[text]?.find((n) => keys.includes(n)) : undefined);
      const problem = problemType(config ?? {}, file);
      if (problem === 'single_label_classification') {
        await opened.session.release();
        return await singleLabel(model, folder, spec, { text, pair, label: f.label ?? 'label' }, problem, started);
      }
      const labelField = f.label ?? 'label';
      const labelled = keys.includes(labelField) || (f.label !== undefined);
      const labels = configLabels(config, file) ?? [];
      const data = await loadRecords(spec.data, [[text, '--text-field'], ...(pair ? [[pair, '--text-pair-field'] as [string, string]] : [])],
        (r) => ({ text: str(r, text), pair: pair ? str(r, pair) : undefined, target: labelled ? target(r, labelField, problem, labels) : undefined }), spec);
      const encoded = data.items.map((d) => tokenizer.encode(d.text, d.pair));
      const rows: unknown[] = new Array(encoded.length);
      const scores: Float32Array[] = new Array(encoded.length);
      await runAll(opened, encoded, tokenizer.padId, spec, (i, out, r) => {
        const row = rowOf(output(out, 'logits', opened.model), r) as number[];
        rows[i] = { input_ids: Array.from(encoded[i]!.ids), logits: row };
        scores[i] = Float32Array.from(row);
      });
      if (spec.outputs) await writeJsonl(spec.outputs, rows);
      let metrics: TaskMetrics | NoMetrics = {};
      let scatter: TaskEvalReport['scatter'];
      if (labelled && problem === 'regression') {
        const truth = data.items.map((d) => d.target as number);
        const predicted = scores.map((l) => l[0]!);
        metrics = { kind: 'regression', ...regressionMetrics(truth, predicted) };
        scatter = { truth: truth.slice(0, 5000), predicted: predicted.slice(0, 5000) };
      } else if (labelled) {
        const names = labels.length ? labels : Array.from({ length: scores[0]?.length ?? 0 }, (_, i) => `LABEL_${i}`);
        const truth = data.items.map((d) => { const row = new Array<number>(names.length).fill(0); for (const id of d.target as number[]) row[id] = 1; return row; });
        // a label applies when its logit is above 0 (sigmoid above 0.5)
        metrics = { kind: 'multi_label', ...multiLabelMetrics(truth, scores.map((l) => Array.from(l, (x) => (x > 0 ? 1 : 0))), names) };
      }
      return { ...base, samples: encoded.length, metrics, problemType: problem, seconds: secs(started), truncated: encoded.filter((e) => e.truncated).length, ...(data.skipped ? { skipped: data.skipped } : {}), ...(data.note ? { note: data.note } : {}), ...(scatter ? { scatter } : {}) };
    }

    if (task === 'token-classification') {
      const tokensField = pick(f.tokens, ['tokens', 'words']);
      const tagsField = pick(f.tags, ['ner_tags', 'tags', 'labels', 'pos_tags']);
      let tagNames: string[] | undefined;
      const labels = configLabels(config, file) ?? [];
      let tagMap: LabelMap | undefined;
      const data = await loadRecords(spec.data, [[tokensField, '--tokens-field']], (r) => {
        tagMap ??= new LabelMap(labels, tagNames);
        const row = tokenRow(r.get, tokensField, tagsField, tagMap);
        if (spec.scheme && row.tags) {
          // seqeval's strict mode takes only the scheme's prefixes: a gold tag outside it is a bad line
          for (const [w, id] of row.tags.entries()) {
            const problem = schemeProblem(labels[id] ?? String(id), spec.scheme);
            if (problem) throw new RecordError(`word ${w + 1}: ${problem} (--scheme ${spec.scheme})`);
          }
        }
        return row;
      }, { ...spec, onOpen: (features) => (tagNames = classNames(features, tagsField)) });
      const encoded = data.items.map((d) => tokenizer.encodeWords(d.words));
      const rows: unknown[] = new Array(encoded.length);
      const truth: string[][] = [];
      const predicted: string[][] = [];
      await runAll(opened, encoded, tokenizer.padId, spec, (i, out, r) => {
        const logits = rowOf(output(out, 'logits', opened.model), r, encoded[i]!.ids.length) as number[][];
        rows[i] = { input_ids: Array.from(encoded[i]!.ids), logits };
        const tags = data.items[i]!.tags;
        if (!tags) return;
        // each word scored at its first sub-token; words cut by truncation are left out of both sides
        const e = encoded[i]!;
        const width = logits[0]?.length ?? 0;
        const preds = firstSubTokenPredictions(Float32Array.from(logits.flat()), width, Array.from(e.wordIds, (w) => (w < 0 ? null : w)), tags.length);
        const t: string[] = [];
        const p: string[] = [];
        preds.forEach((pred, w) => {
          if (pred === undefined) return;
          t.push(labels[tags[w]!] ?? String(tags[w]));
          p.push(labels[pred] ?? String(pred));
        });
        truth[i] = t;
        predicted[i] = p;
      });
      if (spec.outputs) await writeJsonl(spec.outputs, rows);
      const scored = truth.map((_, i) => i).filter((i) => truth[i] !== undefined);
      let metrics: TaskMetrics | NoMetrics = {};
      try {
        if (scored.length) metrics = { kind: 'token_classification', ...tokenClassificationMetrics(scored.map((i) => truth[i]!), scored.map((i) => predicted[i]!), spec.scheme ? { mode: 'strict', scheme: spec.scheme } : {}) };
      } catch (e) {
        // gold tags were checked line by line: a tag outside the scheme here is one the model predicted
        if (e instanceof RangeError) throw new CheckpointError(`${file}: the model predicts a ${e.message.replace(/^tag /, 'tag ')}; its id2label does not follow --scheme ${spec.scheme}`);
        throw e;
      }
      return { ...base, samples: encoded.length, metrics, seconds: secs(started), truncated: encoded.filter((e) => e.truncated).length, ...(data.skipped ? { skipped: data.skipped } : {}), ...(data.note ? { note: data.note } : {}) };
    }

    if (task === 'question-answering') {
      const q = pick(f.question, ['question']);
      const c = pick(f.context, ['context']);
      const a = pick(f.answers, ['answers']);
      const answered = keys.includes(a) || f.answers !== undefined;
      const windowing = qaWindowing(tokenizer, { maxLength: spec.maxLength, stride: spec.stride });
      const data = await loadRecords(spec.data, [[q, '--question-field'], [c, '--context-field']], (r) => {
        const feats = qaFeatures(tokenizer, str(r, q), str(r, c), windowing);
        if (typeof feats === 'string') throw new RecordError(feats);
        return { context: str(r, c), feats, answers: answered ? answersOf(r.get(a), a).text : undefined };
      }, spec);
      // every window of every line, run as one batch list; a line's windows are put back together after
      const windows = data.items.flatMap((d, line) => d.feats.map((feat, w) => ({ line, w, feat })));
      const logits: { start: Float32Array; end: Float32Array }[] = new Array(windows.length);
      await runAll(opened, windows.map((x) => x.feat), tokenizer.padId, spec, (i, out, r) => {
        const n = windows[i]!.feat.ids.length;
        logits[i] = { start: Float32Array.from(rowOf(output(out, 'start_logits', opened.model), r, n) as number[]), end: Float32Array.from(rowOf(output(out, 'end_logits', opened.model), r, n) as number[]) };
      });
      const v2 = data.items.some((d) => d.answers !== undefined && d.answers.length === 0);
      const rows: unknown[] = [];
      const scored: { prediction: string; answers: string[] }[] = [];
      let k = 0;
      for (const d of data.items) {
        const mine = logits.slice(k, k + d.feats.length);
        k += d.feats.length;
        const answer = postprocessQa(d.context, mine.map((l, w) => ({ startLogits: l.start, endLogits: l.end, offsets: d.feats[w]!.offsets })), { v2, nullScoreDiffThreshold: spec.nullScoreDiffThreshold });
        // each window's ids and the context character span of each position (null: question, special tokens)
        const win = (w: number): Record<string, unknown> => ({
          input_ids: Array.from(d.feats[w]!.ids), offsets: d.feats[w]!.offsets.map((o) => (o ? [o[0], o[1]] : null)),
          start_logits: Array.from(mine[w]!.start), end_logits: Array.from(mine[w]!.end),
        });
        const row: Record<string, unknown> = win(0);
        if (mine.length > 1) row['windows'] = mine.slice(1).map((_, w) => win(w + 1));
        row['answer'] = answer.text;
        rows.push(row);
        if (d.answers) scored.push({ prediction: answer.text, answers: d.answers });
      }
      if (spec.outputs) await writeJsonl(spec.outputs, rows);
      const metrics: TaskMetrics | NoMetrics = scored.length ? { kind: 'question_answering', version: v2 ? 'squad_v2' : 'squad', ...squadMetrics(scored, v2) } : {};
      return { ...base, ...windowing, samples: data.items.length, metrics, seconds: secs(started), truncated: data.items.filter((d) => d.feats.length > 1).length, ...(data.skipped ? { skipped: data.skipped } : {}), ...(data.note ? { note: data.note } : {}) };
    }

    // causal LM: each line scored alone; token_logprobs[i] = log p(ids[i+1] | ids[0..i]); a line longer than
    // the window is read in windows of maxLength tokens every `stride` (each token predicted once)
    const text = pick(f.text, ['text']);
    const window = Math.min(spec.maxLength ?? tokenizer.maxLength, tokenizer.maxLength);
    if (spec.stride === 0) throw new UsageError('--stride 0: a causal LM\'s stride is how far each window moves (1 to the window\'s length); 0 is for question answering\'s overlap');
    const stride = spec.stride ?? Math.max(1, Math.floor(window / 2));
    if (stride > window) throw new UsageError(`--stride ${stride} is larger than the window (${window} tokens)`);
    const data = await loadRecords(spec.data, [[text, '--text-field']], (r) => {
      const t = str(r, text);
      const ids = tokenizer.assemble(tokenizer.tokensWithOffsets(t).tokens, null);
      return { ids, windows: lmWindows(ids.ids.length, window, stride) };
    }, spec);
    const pieces = data.items.flatMap((d, line) => d.windows.map((w) => ({ line, w, enc: { ids: d.ids.ids.subarray(w.begin, w.end), typeIds: d.ids.typeIds.subarray(w.begin, w.end) } })));
    const perWindow: number[][] = new Array(pieces.length);
    if (opened.built) {
      // the built graph's token_logprobs, in batches also cut so that one logits tensor stays bounded (large vocabularies)
      const vocabSize = typeof config?.['vocab_size'] === 'number' ? config['vocab_size'] : undefined;
      const scores = await scoreCausalLm(opened, pieces.map((p) => p.enc.ids), { batchSize: spec.batchSize ?? DEFAULT_BATCH_SIZE, padId: tokenizer.padId, vocabSize, signal: spec.signal, onProgress: spec.onProgress });
      scores.tokenLogprobs.forEach((lp, i) => (perWindow[i] = Array.from(lp)));
    } else {
      await runAll(opened, pieces.map((p) => p.enc), tokenizer.padId, spec, (i, out, r) => {
        const n = pieces[i]!.enc.ids.length;
        perWindow[i] = out['token_logprobs'] ? (rowOf(out['token_logprobs'], r, n - 1) as number[]) : logprobsFromLogits(output(out, 'logits', opened.model), r, pieces[i]!.enc.ids);
      });
    }
    const acc = new PerplexityAccumulator();
    // token_logprobs[i] predicts ids[i+1]; a token no window predicts (stride = window) is null
    const rows: (number | null)[][] = data.items.map((d) => new Array<number | null>(Math.max(0, d.ids.ids.length - 1)).fill(null));
    pieces.forEach((p, i) => {
      acc.addWindow(p.w, perWindow[i]!);
      for (let t = p.w.from; t < p.w.end; t++) rows[p.line]![t - 1] = perWindow[i]![t - p.w.begin - 1]!;
    });
    if (spec.outputs) await writeJsonl(spec.outputs, rows.map((lp, i) => ({ input_ids: Array.from(data.items[i]!.ids.ids), token_logprobs: lp })));
    const metrics: TaskMetrics | NoMetrics = acc.predictedTokens ? { kind: 'causal_lm', ...acc.result() } : {};
    return { ...base, maxLength: window, stride, samples: data.items.length, metrics, seconds: secs(started), truncated: data.items.filter((d) => d.windows.length > 1).length, ...(data.skipped ? { skipped: data.skipped } : {}), ...(data.note ? { note: data.note } : {}) };
  } finally {
    await opened.session.release().catch(() => undefined);
  }
}

/** A sequence classification target: a number (regression) or the label ids that apply (multi-label). */
function target(r: DataRecord, field: string, problem: string, labels: readonly string[]): number | number[] {
  const v = r.get(field);
  if (v === undefined || v === null) throw new RecordError(`missing field "${field}"`);
  if (problem === 'regression') {
    const x = typeof v === 'bigint' ? Number(v) : typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
    if (typeof x !== 'number' || !Number.isFinite(x)) throw new RecordError(`label ${JSON.stringify(String(v))} is not a number (regression)`);
    return x;
  }
  const list = Array.isArray(v) ? v : typeof v === 'string' ? v.split(/[,;|]/).map((x) => x.trim()).filter((x) => x !== '') : undefined;
  if (!list) throw new RecordError(`field "${field}" is not a list of labels (multi-label)`);
  const map = new LabelMap(labels);
  return [...new Set(list.map((x) => {
    const id = map.id(x);
    if (typeof id !== 'number') throw new RecordError(id);
    return id;
  }))];
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
async function singleLabel(model: ModelInput, folder: string | undefined, spec: TaskEvalSpec, fields: { text: string; pair: string | undefined; label: string }, problem: string, started: number): Promise<TaskEvalReport> {
  const clf = await openClassifier(model, folder, { device: spec.device, threads: spec.threads, graph: spec.graph });
  try {
    const data = await loadDataset(spec.data, { labels: clf.labels, textField: fields.text, textPairField: fields.pair, labelField: fields.label, skipBadLines: spec.skipBadLines ?? false, signal: spec.signal, split: spec.split });
    const encoded = await encodeDataset(clf.tokenizer.limitedTo(spec.maxLength), data, { signal: spec.signal });
    const rows: unknown[] = [];
    const logitsOf = spec.outputs ? new Map<number, number[]>() : undefined;
    const result = await evaluate(clf, encoded, {
      batchSize: spec.batchSize, signal: spec.signal, onProgress: spec.onProgress,
      ...(logitsOf ? { onLogits: (i: number, l: Float32Array) => logitsOf.set(i, Array.from(l)) } : {}),
    });
    if (spec.outputs && logitsOf) {
      for (let i = 0; i < encoded.samples.length; i++) rows.push({ input_ids: Array.from(encoded.samples[i]!.ids), logits: logitsOf.get(i) });
      await writeJsonl(spec.outputs, rows);
    }
    return {
      task: 'text-classification', samples: result.samples, graph: clf.graph, executionProvider: clf.executionProvider,
      metrics: result.metrics ?? {},
      problemType: problem, seconds: secs(started), model: clf.model, data: spec.data, truncated: encoded.truncated, maxLength: encoded.maxLength,
      ...(data.skipped ? { skipped: data.skipped } : {}), ...(data.note ? { note: data.note } : {}), classification: result,
    };
  } finally {
    await clf.close();
  }
}

/** A task evaluation in the report's shape (classification fields empty for other tasks; `metrics` holds the figures). */
export function toEvalResult(r: TaskEvalReport): EvalResult {
  if (r.classification) return r.classification;
  const out: EvalResult = {
    accuracy: Number.NaN, macroF1: Number.NaN, perClass: {}, confusion: [], labels: [], samples: r.samples,
    executionProvider: r.executionProvider, seconds: r.seconds, model: r.model, data: r.data, graph: r.graph,
  };
  if (r.metrics.kind !== undefined) out.metrics = r.metrics;
  if (r.skipped) out.skipped = r.skipped;
  if (r.scatter) out.scatter = r.scatter;
  return out;
}
