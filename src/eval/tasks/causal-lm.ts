// Causal LM: perplexity over each line alone, read in windows of maxLength tokens every `stride`.
import { CheckpointError, UsageError } from '../../errors';
import { loadRecords } from '../dataset';
import { lmWindows, PerplexityAccumulator } from '../metrics';
import type { NoMetrics, TaskMetrics } from '../../shared/metrics';
import { DEFAULT_BATCH_SIZE } from '../evaluate';
import { scoreCausalLm } from '../causal-lm';
import { output, rowOf, runAll, secs, str, writeJsonl, type TaskEvalReport, type TaskRun } from './common';

/** Evaluates a causal language model (`causal-lm`). */
export async function evaluateCausalLm(run: TaskRun): Promise<TaskEvalReport> {
  const { opened, config, tokenizer, base, pick, spec, started } = run;
  const f = spec.fields ?? {};
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
