// From start/end logits to answer text, as Hugging Face's question-answering examples post-process
// them (utils_qa.postprocess_qa_predictions): the n_best largest start and end logits of every
// feature (window) of a question, spans inside the context only and at most max_answer_length
// tokens, the best score over all windows; in SQuAD 2.0 mode the null answer (CLS) wins when its
// score beats the best span by more than null_score_diff_threshold. Logits are float32 as the model
// returns them, so sums are rounded to float32 as NumPy's float32 arithmetic does.

export interface QaFeature {
  startLogits: ArrayLike<number>;
  endLogits: ArrayLike<number>;
  /** Each token's [start, end) in the context, or null for a token outside the context. */
  offsets: readonly (readonly [number, number] | null)[];
}

export interface QaPostprocessOptions {
  /** SQuAD 2.0: a question may have no answer. */
  v2?: boolean;
  nBest?: number;
  maxAnswerLength?: number;
  nullScoreDiffThreshold?: number;
}

export interface QaPrediction {
  /** The answer ("" for no answer in SQuAD 2.0 mode). */
  text: string;
  /** SQuAD 2.0: null score minus the best span's score. */
  scoreDiff?: number;
}

export const QA_DEFAULTS = { nBest: 20, maxAnswerLength: 30, nullScoreDiffThreshold: 0 } as const;

interface Candidate {
  start: number;
  end: number;
  score: number;
  startLogit: number;
  endLogit: number;
  text?: string;
}

const f32 = Math.fround;

/** Indices of the `n` largest values, largest first (NumPy's argsort reversed: on a tie the later index first). */
export function topIndices(values: ArrayLike<number>, n: number): number[] {
  const idx = Array.from({ length: values.length }, (_, i) => i);
  idx.sort((a, b) => values[b]! - values[a]! || b - a);
  return idx.slice(0, n);
}

/** The answer to one question from the logits of its features, in order. */
export function postprocessQa(context: string, features: readonly QaFeature[], opts: QaPostprocessOptions = {}): QaPrediction {
  const nBest = opts.nBest ?? QA_DEFAULTS.nBest;
  const maxLen = opts.maxAnswerLength ?? QA_DEFAULTS.maxAnswerLength;
  const threshold = opts.nullScoreDiffThreshold ?? QA_DEFAULTS.nullScoreDiffThreshold;
  let minNull: Candidate | undefined;
  const prelim: Candidate[] = [];
  for (const f of features) {
    const { startLogits: s, endLogits: e, offsets } = f;
    const nullScore = f32(s[0]! + e[0]!);
    if (minNull === undefined || minNull.score > nullScore) minNull = { start: 0, end: 0, score: nullScore, startLogit: s[0]!, endLogit: e[0]! };
    const starts = topIndices(s, nBest);
    const ends = topIndices(e, nBest);
    for (const i of starts) {
      for (const j of ends) {
        if (i >= offsets.length || j >= offsets.length) continue;
        const oi = offsets[i];
        const oj = offsets[j];
        if (!oi || !oj) continue;
        if (j < i || j - i + 1 > maxLen) continue;
        prelim.push({ start: oi[0], end: oj[1], score: f32(s[i]! + e[j]!), startLogit: s[i]!, endLogit: e[j]! });
      }
    }
  }
  if (opts.v2 && minNull) prelim.push(minNull);
  // A stable sort, best first, as Python's sorted(..., reverse=True).
  const preds = prelim.map((c, k) => [c, k] as const).sort((a, b) => b[0].score - a[0].score || a[1] - b[1]).slice(0, nBest).map(([c]) => c);
  if (opts.v2 && minNull && !preds.some((p) => p.start === 0 && p.end === 0)) preds.push(minNull);
  for (const p of preds) p.text = context.slice(p.start, p.end);
  let fake = false;
  if (preds.length === 0 || (preds.length === 1 && preds[0]!.text === '')) {
    preds.unshift({ start: 0, end: 0, score: 0, startLogit: 0, endLogit: 0, text: 'empty' });
    fake = true;
  }
  if (!opts.v2 || !minNull) return { text: preds[0]!.text! };
  const best = preds.find((p) => p.text !== '')!;
  // NumPy: float32 - float32 stays float32; the made-up "empty" answer's logits are Python floats (0.0).
  const scoreDiff = fake && best === preds[0] ? minNull.score : f32(f32(minNull.score - best.startLogit) - best.endLogit);
  return { text: scoreDiff > threshold ? '' : best.text!, scoreDiff };
}

/**
 * Where each window of a long context starts and stops (token indices, stop exclusive), as the
 * tokenizers library splits an overflowing sequence: windows of `budget` tokens, each starting
 * `budget - stride` after the previous, the last one reaching the end.
 */
export function contextWindows(contextTokens: number, budget: number, stride: number): [number, number][] {
  if (!(budget > 0)) throw new RangeError(`no room for the context (${budget} tokens)`);
  if (contextTokens <= budget) return [[0, contextTokens]];
  if (!(stride >= 0 && stride < budget)) throw new RangeError(`the stride (${stride}) must be smaller than the context's room in a window (${budget} tokens)`);
  const out: [number, number][] = [];
  for (let start = 0; ; start += budget - stride) {
    const stop = Math.min(start + budget, contextTokens);
    out.push([start, stop]);
    if (stop === contextTokens) break;
  }
  return out;
}
