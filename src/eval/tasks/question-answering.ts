// Extractive question answering: every window of every line run as one batch list, a line's windows put
// back together, SQuAD (or SQuAD 2.0 when a line has no answer) scoring.
import { loadRecords, RecordError } from '../dataset';
import { postprocessQa, squadMetrics } from '../metrics';
import type { NoMetrics, TaskMetrics } from '../../shared/metrics';
import { qaFeatures, qaWindowing } from '../qa-features';
import { answersOf } from '../samples';
import { output, rowOf, runAll, secs, str, writeJsonl, type TaskEvalReport, type TaskRun } from './common';

/** Evaluates an extractive QA model (`question-answering`). */
export async function evaluateQuestionAnswering(run: TaskRun): Promise<TaskEvalReport> {
  const { opened, tokenizer, base, keys, pick, spec, started } = run;
  const f = spec.fields ?? {};
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
