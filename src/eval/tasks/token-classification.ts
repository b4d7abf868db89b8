// Token classification: each word scored at its first sub-token, conlleval's lenient entities or
// seqeval's strict mode with --scheme.
import { CheckpointError } from '../../errors';
import { configLabels } from '../../formats/hf-config';
import { LabelMap, loadRecords, RecordError } from '../dataset';
import { classNames } from '../data';
import { firstSubTokenPredictions, schemeProblem, tokenClassificationMetrics } from '../metrics';
import type { NoMetrics, TaskMetrics } from '../../shared/metrics';
import { tokenRow } from '../samples';
import { output, rowOf, runAll, secs, writeJsonl, type TaskEvalReport, type TaskRun } from './common';

/** Evaluates a token classifier (`token-classification`). */
export async function evaluateTokenClassification(run: TaskRun): Promise<TaskEvalReport> {
  const { opened, config, file, tokenizer, base, pick, spec, started } = run;
  const f = spec.fields ?? {};
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
