// Question answering inputs as Hugging Face's run_qa prepares them for evaluation: the question
// (left-stripped) and the context as a pair, the context cut into windows of what the maximum length
// leaves, each starting `stride` tokens before the previous one ended (the tokenizer's overflowing
// tokens), and for every position the context offsets it covers (null outside the context), which
// the post-processing turns back into answer text.
import { contextWindows } from './metrics/qa';
import type { Offset } from './offsets';
import type { EncodedText, ModelTokenizer } from './tokenize';

/** run_qa's defaults: max_seq_length 384, doc_stride 128. */
export const QA_MAX_LENGTH = 384;
export const QA_STRIDE = 128;

export interface QaInputFeature extends EncodedText {
  /** Context offsets of each position, null for the question and special tokens. */
  offsets: (Offset | null)[];
}

export interface QaEncodeOptions {
  /** Tokens per window, special tokens included (default min(384, the model's maximum)). */
  maxLength?: number | undefined;
  /** Tokens a window shares with the previous one (default 128, less when the window is short). */
  stride?: number | undefined;
}

/** The windows of one question over its context; an error message when the question leaves no room. */
export function qaFeatures(tokenizer: ModelTokenizer, question: string, context: string, opts: QaEncodeOptions = {}): QaInputFeature[] | string {
  const maxLength = Math.min(opts.maxLength ?? QA_MAX_LENGTH, tokenizer.maxLength);
  const q = tokenizer.tokensWithOffsets(question.replace(/^\s+/u, '')).tokens;
  const c = tokenizer.tokensWithOffsets(context);
  const budget = maxLength - q.length - tokenizer.specialTokens(true);
  if (budget <= 0) return `the question takes ${q.length} tokens, leaving no room for the context in ${maxLength}`;
  const stride = Math.min(opts.stride ?? QA_STRIDE, budget - 1);
  if (opts.stride !== undefined && opts.stride >= budget) return `the stride (${opts.stride}) must be smaller than the room left for the context (${budget} tokens)`;
  return contextWindows(c.tokens.length, budget, stride).map(([start, stop]) => {
    const e = tokenizer.assemble(q, c.tokens.slice(start, stop));
    let k = start;
    const offsets = e.sequenceIds.map((s) => (s === 1 ? c.offsets[k++]! : null));
    return { ids: e.ids, typeIds: e.typeIds, offsets };
  });
}
