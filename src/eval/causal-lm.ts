// Causal language models scored line by line: token_logprobs[i] = log p(ids[i+1] | ids[0..i]) from a graph
// whose output is `token_logprobs` [batch, sequence - 1] (the built decoder graphs; see src/models/heads.ts),
// and perplexity = exp(total negative log-likelihood / predicted tokens) over all lines.
// Lines are batched by length and right-padded; the graphs count positions over the attention mask,
// so each line gets what it would alone.
import { throwIfAborted } from '../errors';
import type { OpenedSession } from '../runtime/session';

export interface LmScoreOptions {
  /** Lines per session run (default 8). */
  batchSize?: number | undefined;
  /** The id padding is filled with (any id: the attention mask hides it). Default 0. */
  padId?: number | undefined;
  /** With the vocabulary size, batches are also cut so that one logits tensor stays under `maxLogitBytes` (default 256 MiB). */
  vocabSize?: number | undefined;
  maxLogitBytes?: number | undefined;
  signal?: AbortSignal | undefined;
  onProgress?: ((p: { done: number; total: number }) => void) | undefined;
}

export interface LmScores {
  /** Per line, in input order: log p of each token after the first (length: the line's tokens - 1). */
  tokenLogprobs: Float32Array[];
  /** Tokens predicted over all lines (each line's length - 1). */
  nPredictedTokens: number;
  /** Mean negative log-likelihood per predicted token (NaN when nothing was predicted). */
  meanNll: number;
  /** exp(meanNll). */
  perplexity: number;
}

/** Perplexity figures of per-line log-probabilities (summed in float64). */
export function perplexityOf(tokenLogprobs: readonly Float32Array[]): Omit<LmScores, 'tokenLogprobs'> {
  let nll = 0;
  let n = 0;
  for (const lps of tokenLogprobs) {
    for (const lp of lps) nll -= lp;
    n += lps.length;
  }
  const meanNll = n ? nll / n : Number.NaN;
  return { nPredictedTokens: n, meanNll, perplexity: Math.exp(meanNll) };
}

/** Scores every line with `session` (a causal-LM graph: inputs input_ids, attention_mask; output token_logprobs). */
export async function scoreCausalLm(s: Pick<OpenedSession, 'ort' | 'session'>, lines: readonly ArrayLike<number>[], opts: LmScoreOptions = {}): Promise<LmScores> {
  const batchSize = opts.batchSize ?? 8;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batch size must be a whole number >= 1 (got ${batchSize})`);
  const pad = BigInt(opts.padId ?? 0);
  const maxLogitBytes = opts.maxLogitBytes ?? 256 * 2 ** 20;
  const total = lines.length;
  const order = Array.from({ length: total }, (_, i) => i).sort((a, b) => lines[a]!.length - lines[b]!.length || a - b);
  const out: Float32Array[] = new Array<Float32Array>(total);
  const { ort } = s;
  opts.onProgress?.({ done: 0, total });
  let done = 0;
  while (done < total) {
    throwIfAborted(opts.signal);
    // the longest line of a batch is its last (sorted by length); cut where the logits would grow too big
    let end = Math.min(done + batchSize, total);
    if (opts.vocabSize) {
      while (end - 1 > done && (end - done) * lines[order[end - 1]!]!.length * opts.vocabSize * 4 > maxLogitBytes) end--;
    }
    const rows = order.slice(done, end);
    const width = Math.max(1, ...rows.map((r) => lines[r]!.length));
    const ids = new BigInt64Array(rows.length * width).fill(pad);
    const mask = new BigInt64Array(rows.length * width);
    rows.forEach((r, b) => {
      const line = lines[r]!;
      for (let j = 0; j < line.length; j++) {
        ids[b * width + j] = BigInt(line[j]!);
        mask[b * width + j] = 1n;
      }
    });
    const res = await s.session.run({
      input_ids: new ort.Tensor('int64', ids, [rows.length, width]),
      attention_mask: new ort.Tensor('int64', mask, [rows.length, width]),
    });
    const lp = res['token_logprobs'];
    if (!lp) throw new Error('the causal-LM graph has no token_logprobs output');
    const data = lp.data as Float32Array;
    rows.forEach((r, b) => {
      const n = Math.max(0, lines[r]!.length - 1);
      out[r] = data.slice(b * (width - 1), b * (width - 1) + n);
    });
    done = end;
    opts.onProgress?.({ done, total });
  }
  throwIfAborted(opts.signal);
  return { tokenLogprobs: out, ...perplexityOf(out) };
}
