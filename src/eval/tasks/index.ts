// `ken eval` for every task, one file each in this folder (as metrics/ has one file per task's measures):
// sequence classification (single-label, multi-label, regression), token classification, question
// answering and causal LM, on the folder's ONNX export or the graph built from its config.json. This file
// picks the task and opens the session, tokenizer and config; common.ts holds what the tasks share.
import { open, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { isAdapterPath, mergeAdapter } from '../adapter';
import { type Task } from '../../graph';
import { resolveTask } from '../../models/build';
import { familyOf } from '../../models/registry';
import type { EvalResult } from '../../shared/report';
import { CONFIG_FILE, readConfig } from '../../formats/hf-config';
import { openData } from '../data';
import { openModelSession, type ModelInput } from '../session';
import { loadTokenizer } from '../tokenize';
import type { TaskEvalReport, TaskEvalSpec, TaskRun } from './common';
import { evaluateSequenceClassification } from './sequence-classification';
import { evaluateTokenClassification } from './token-classification';
import { evaluateQuestionAnswering } from './question-answering';
import { evaluateCausalLm } from './causal-lm';

export { PAIR_FOR, TEXT_FIELDS, type TaskEvalReport, type TaskEvalSpec, type TaskFields } from './common';

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

    const run: TaskRun = { model, folder, spec, opened, config, file, tokenizer, base, keys, pick, started };
    switch (task) {
      case 'text-classification': return await evaluateSequenceClassification(run);
      case 'token-classification': return await evaluateTokenClassification(run);
      case 'question-answering': return await evaluateQuestionAnswering(run);
      case 'causal-lm': return await evaluateCausalLm(run);
    }
  } finally {
    await opened.session.release().catch(() => undefined);
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
