// Causal language model figures: perplexity = exp(total negative log-likelihood / predicted tokens)
// over every text of a file, each text scored alone. A text longer than the model's window is read
// in windows of `maxLength` tokens starting every `stride` tokens, as transformers' perplexity guide
// does: each window scores only the tokens the previous window did not reach, with the context
// before them, so with a stride below the window every token after the first is predicted exactly
// once (with stride = window the windows do not overlap and each window's first token goes unscored).
import type { CausalLmMetrics } from '../../shared/metrics';

export interface LmWindow {
  /** The window's tokens are ids[begin .. end). */
  begin: number;
  end: number;
  /** The first token scored in this window (tokens from .. end-1 are predicted). */
  from: number;
}

/** The windows of a text of `n` tokens; no window for a text too short to predict anything. */
export function lmWindows(n: number, maxLength: number, stride: number): LmWindow[] {
  if (!(Number.isInteger(maxLength) && maxLength >= 2)) throw new RangeError(`the window must hold at least 2 tokens (got ${maxLength})`);
  if (!(Number.isInteger(stride) && stride >= 1 && stride <= maxLength)) throw new RangeError(`the stride must be 1 to ${maxLength} tokens (got ${stride})`);
  const out: LmWindow[] = [];
  let prevEnd = 0;
  for (let begin = 0; begin < n; begin += stride) {
    const end = Math.min(begin + maxLength, n);
    const from = Math.max(prevEnd, begin + 1);
    if (from < end) out.push({ begin, end, from });
    prevEnd = end;
    if (end === n) break;
  }
  return out;
}

/** Sums the log-probabilities of predicted tokens, text after text. */
export class PerplexityAccumulator {
  private nll = 0;
  private tokens = 0;

  /**
   * Adds one window's scores: `tokenLogprobs[i] = log p(ids[begin+i+1] | ids[begin .. begin+i])`
   * (the `--outputs` contract), of which the targets `from .. end-1` count.
   */
  addWindow(w: LmWindow, tokenLogprobs: ArrayLike<number>): void {
    if (tokenLogprobs.length < w.end - w.begin - 1) throw new RangeError(`${tokenLogprobs.length} log-probabilities for a window of ${w.end - w.begin} tokens`);
    for (let t = w.from; t < w.end; t++) {
      const lp = tokenLogprobs[t - w.begin - 1]!;
      if (!Number.isFinite(lp) && lp !== Number.NEGATIVE_INFINITY) throw new RangeError(`token ${t}: log-probability ${lp}`);
      this.nll -= lp;
      this.tokens++;
    }
  }

  get predictedTokens(): number {
    return this.tokens;
  }

  result(): CausalLmMetrics {
    const mean = this.tokens ? this.nll / this.tokens : Number.NaN;
    return { perplexity: Math.exp(mean), mean_nll: mean, n_predicted_tokens: this.tokens };
  }
}
