// Sequence classification: single-label through the classifier (accuracy, macro-F1, per class,
// confusion), multi-label (a label applies when its logit is above 0) and regression, as config.json's
// problem type says (formats/hf-config.ts).
import { configLabels, problemType } from '../../formats/hf-config';
import { RecordError, LabelMap, loadDataset, loadRecords, type DataRecord } from '../dataset';
import { multiLabelMetrics, regressionMetrics } from '../metrics';
import type { NoMetrics, TaskMetrics } from '../../shared/metrics';
import { evaluate } from '../evaluate';
import { openClassifier } from '../classifier';
import { encodeDataset } from '../tokenize-pool';
import type { ModelInput } from '../session';
import { output, PAIR_FOR, rowOf, runAll, secs, str, TEXT_FIELDS, writeJsonl, type TaskEvalReport, type TaskEvalSpec, type TaskRun } from './common';

/** Evaluates a sequence classifier (`text-classification`). */
export async function evaluateSequenceClassification(run: TaskRun): Promise<TaskEvalReport> {
  const { opened, config, file, tokenizer, base, keys, pick, spec, started } = run;
  const f = spec.fields ?? {};
  const text = pick(f.text, TEXT_FIELDS);
  const pair = f.textPair ?? (f.text === undefined ? PAIR_FOR[text]?.find((n) => keys.includes(n)) : undefined);
  const problem = problemType(config ?? {}, file);
  if (problem === 'single_label_classification') {
    await opened.session.release();
    return await singleLabel(run.model, run.folder, spec, { text, pair, label: f.label ?? 'label' }, problem, started);
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
