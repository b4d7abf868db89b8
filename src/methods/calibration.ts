// Wanda's activations: the L2 norm of each input feature of every Linear/Conv1D whose weight is pruned,
// over calibration lines run through the inference graph the tool builds from config.json (src/graph,
// with `measureWeightInputs`: the graph sums each weight input's squares over the real tokens). The lines
// are read and tokenized as `ken eval` reads and tokenizes the task's data (src/eval).
import { CheckpointError, DataError, throwIfAborted, UsageError } from '../errors';
import type { ModelFolder } from '../checkpoint/types';
import type { Task } from '../graph';
import { buildGraph, EXPORT_WORKS, sessionExternalData, type BuiltGraph } from '../models/build';
import { openSession, type DeviceChoice } from '../runtime/session';
import { batchFeeds, graphInputs } from '../eval/classifier';
import { loadRecords, RecordError, type DataRecord } from '../eval/dataset';
import { DEFAULT_BATCH_SIZE } from '../eval/evaluate';
import { qaFeatures } from '../eval/qa-features';
import { firstKeys, PAIR_FOR, TEXT_FIELDS } from '../eval/tasks';
import { loadTokenizer, type EncodedText, type ModelTokenizer } from '../eval/tokenize';

export interface CalibrationSpec {
  /** Lines of the task's data (any data format `ken eval` reads). */
  data: string;
  /** How many lines (the first ones); default 128. */
  lines?: number | undefined;
  textField?: string | undefined;
  textPairField?: string | undefined;
  labelField?: string | undefined;
  split?: string | undefined;
  batchSize?: number | undefined;
  threads?: number | undefined;
  /** Where the graph runs (default auto, as `ken eval`). */
  device?: DeviceChoice | undefined;
}

export const DEFAULT_CALIBRATION_LINES = 128;

export interface ActivationNorms {
  /** Tensor name (as planned) -> the norm of each input feature along its KEN columns (a Linear's [out, in]: length n). */
  norms: Map<string, Float32Array>;
  /**
   * Tensor name -> the norm of each input feature along its KEN rows: a GPT-2 Conv1D, stored and pruned
   * [in, out], whose rows are its input features (one norm per row).
   */
  rowNorms: Map<string, Float32Array>;
  /** Lines the norms were taken over. */
  lines: number;
}

/** The calibration lines as the graph's inputs: every window `ken eval` would run for them. */
export interface CalibrationTexts {
  texts: EncodedText[];
  /** Data lines read (each may give several windows). */
  lines: number;
}

/** Thrown by the record check once enough lines are read: the rest of the file is never parsed. */
class Enough extends Error {}

/**
 * The first `spec.lines` lines of `spec.data`, read with the fields `ken eval` reads for `task` (labels are
 * not read: calibration needs the inputs only) and tokenized as it tokenizes them.
 */
export async function calibrationTexts(task: Task, tokenizer: ModelTokenizer, spec: CalibrationSpec, signal?: AbortSignal): Promise<CalibrationTexts> {
  const limit = spec.lines ?? DEFAULT_CALIBRATION_LINES;
  if (!Number.isSafeInteger(limit) || limit < 1) throw new UsageError(`--calibration-lines must be a whole number >= 1 (got ${limit})`);
  const keys = await firstKeys(spec.data, spec.split);
  const pick = (given: string | undefined, names: readonly string[]): string => given ?? names.find((n) => keys.includes(n)) ?? names[0]!;
  const what = `${spec.data}: wanda's calibration lines are the ${task} model's data`;
  const str = (r: DataRecord, field: string, flag: string): string => {
    const v = r.get(field);
    if (v === undefined || v === null) throw new RecordError(`no field "${field}" (${task} reads its text from it; name another with ${flag})`);
    if (typeof v !== 'string') throw new RecordError(`field "${field}" is not text`);
    return v;
  };
  const read = async <T>(fields: [string, string][], check: (r: DataRecord) => T): Promise<T[]> => {
    const items: T[] = [];
    try {
      await loadRecords(spec.data, fields, (r) => {
        items.push(check(r));
        if (items.length >= limit) throw new Enough();
        return null;
      }, { split: spec.split, signal });
    } catch (e) {
      if (!(e instanceof Enough)) {
        if (e instanceof DataError && /no usable samples/.test(e.message)) throw new DataError(`${what}, and it holds none`);
        throw e;
      }
    }
    return items;
  };

  switch (task) {
    case 'text-classification': {
      const text = pick(spec.textField, TEXT_FIELDS);
      const pair = spec.textPairField ?? (spec.textField === undefined ? PAIR_FOR[text]?.find((n) => keys.includes(n)) : undefined);
      const fields: [string, string][] = [[text, '--text-field'], ...(pair ? [[pair, '--text-pair-field'] as [string, string]] : [])];
      const items = await read(fields, (r) => tokenizer.encode(str(r, text, '--text-field'), pair ? str(r, pair, '--text-pair-field') : undefined));
      return { texts: items, lines: items.length };
    }
    case 'token-classification': {
      const words = pick(undefined, ['tokens', 'words']);
      const items = await read([[words, '--tokens-field']], (r) => {
        const w = r.get(words);
        if (!Array.isArray(w) || !w.every((x) => typeof x === 'string')) throw new RecordError(`field "${words}" is not a list of words (token classification reads pre-split words)`);
        return tokenizer.encodeWords(w as string[]);
      });
      return { texts: items, lines: items.length };
    }
    case 'question-answering': {
      const q = pick(undefined, ['question']);
      const c = pick(undefined, ['context']);
      const items = await read([[q, '--question-field'], [c, '--context-field']], (r) => {
        const feats = qaFeatures(tokenizer, str(r, q, '--question-field'), str(r, c, '--context-field'));
        if (typeof feats === 'string') throw new RecordError(feats);
        return feats;
      });
      return { texts: items.flat(), lines: items.length };
    }
    case 'causal-lm': {
      // each line in consecutive windows of the model's length (every token run once; a one-token line too,
      // which `ken eval` leaves out as it predicts nothing)
      const text = pick(spec.textField, ['text']);
      const window = tokenizer.maxLength;
      const items = await read([[text, '--text-field']], (r) => {
        const ids = tokenizer.assemble(tokenizer.tokensWithOffsets(str(r, text, '--text-field')).tokens, null);
        const out: EncodedText[] = [];
        for (let b = 0; b < ids.ids.length; b += window) out.push({ ids: ids.ids.subarray(b, b + window), typeIds: ids.typeIds.subarray(b, b + window) });
        return out;
      });
      return { texts: items.flat(), lines: items.length };
    }
  }
}

/** The graph wanda measures in, or a one-line error saying it needs one and naming the data-free method. */
export function calibrationGraph(ft: ModelFolder): BuiltGraph {
  try {
    return buildGraph(ft, { measureWeightInputs: true });
  } catch (e) {
    if (!(e instanceof CheckpointError || e instanceof UsageError)) throw e;
    const why = e.message.replace(`; ${EXPORT_WORKS}`, '').replace(` (${EXPORT_WORKS})`, '');
    throw new CheckpointError(`wanda measures activations in the inference graph built from config.json, and none can be built here: ${why}; --method delta-magnitude needs no data`);
  }
}

export interface MeasureOptions {
  batchSize?: number | undefined;
  threads?: number | undefined;
  device?: DeviceChoice | undefined;
  signal?: AbortSignal | undefined;
}

/** Sums of squares of every measured weight input over `texts` (float64), by weight. */
export async function measureWeightInputs(built: BuiltGraph, model: string, texts: readonly EncodedText[], padId: number, opts: MeasureOptions = {}): Promise<Map<string, Float64Array>> {
  const batchSize = opts.batchSize ?? DEFAULT_BATCH_SIZE;
  const sums = new Map(built.weightInputs.map((w) => [w.weight, new Float64Array(w.features)]));
  if (built.weightInputs.length === 0) return sums;
  const { session, ort } = await openSession(built.model, opts.device ?? 'auto', { intraOpThreads: opts.threads, memPattern: false, ...sessionExternalData(built) });
  try {
    const inputs = graphInputs(session, model);
    const fetches = built.weightInputs.map((w) => w.output);
    // by length, as `ken eval` batches: less padding
    const order = texts.map((_, i) => i).sort((a, b) => texts[a]!.ids.length - texts[b]!.ids.length || a - b);
    for (let start = 0; start < order.length; start += batchSize) {
      throwIfAborted(opts.signal);
      const batch = order.slice(start, start + batchSize).map((i) => texts[i]!);
      let out: Awaited<ReturnType<typeof session.run>>;
      try {
        out = await session.run(batchFeeds(ort, inputs, batch, padId), fetches);
      } catch (e) {
        throw new CheckpointError(`${model}: onnxruntime could not run the calibration lines (${(e instanceof Error ? e.message : String(e)).split('\n')[0]!.slice(0, 200)})`);
      }
      for (const w of built.weightInputs) {
        const t = out[w.output]!;
        const data = t.data as Float32Array;
        const acc = sums.get(w.weight)!;
        for (let j = 0; j < acc.length; j++) acc[j]! += data[j]!;
      }
      for (const t of Object.values(out)) t.dispose();
    }
  } finally {
    await session.release().catch(() => undefined);
  }
  return sums;
}

/** The input-activation norms of `tensors` of the fine-tuned model over the calibration lines. */
export async function inputActivationNorms(ft: ModelFolder, tensors: readonly string[], spec: CalibrationSpec, signal?: AbortSignal): Promise<ActivationNorms> {
  const built = calibrationGraph(ft);
  const tokenizer = await loadTokenizer(ft.dir);
  const { texts, lines } = await calibrationTexts(built.task, tokenizer, spec, signal);
  const sums = await measureWeightInputs(built, ft.dir, texts, tokenizer.padId, { batchSize: spec.batchSize, threads: spec.threads, device: spec.device, signal });
  const wanted = new Set(tensors);
  const norms = new Map<string, Float32Array>();
  const rowNorms = new Map<string, Float32Array>();
  for (const w of built.weightInputs) {
    if (!wanted.has(w.weight)) continue;
    const s = sums.get(w.weight)!;
    (w.storedAxis === 1 ? norms : rowNorms).set(w.weight, Float32Array.from(s, Math.sqrt));
  }
  return { norms, rowNorms, lines };
}

