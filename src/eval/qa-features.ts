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
  /** Tokens a window shares with the previous one (default qaStride(maxLength)); 0: no overlap. */
  stride?: number | undefined;
}

/**
 * QA's window length and stride for a run: the length asked for (default run_qa's 384), never beyond the
 * model's; the stride asked for, else run_qa's 128 where it is at most half of what a window leaves
 * for the question and context, else that half. One rule for a given and a defaulted stride: a line
 * whose context room is not larger than the stride is refused either way (as the tokenizers do).
 */
export function qaWindowing(tokenizer: ModelTokenizer, opts: QaEncodeOptions = {}): { maxLength: number; stride: number } {
  const maxLength = Math.min(opts.maxLength ?? QA_MAX_LENGTH, tokenizer.maxLength);
  const room = maxLength - tokenizer.specialTokens(true);
  return { maxLength, stride: opts.stride ?? Math.min(QA_STRIDE, Math.max(0, Math.floor(room / 2))) };
}

/** The windows of one question over its context; an error message when the question leaves no room. */
export function qaFeatures(tokenizer: ModelTokenizer, question: string, context: string, opts: QaEncodeOptions = {}): QaInputFeature[] | string {
  const { maxLength, stride } = qaWindowing(tokenizer, opts);
  const q = tokenizer.tokensWithOffsets(question.replace(/^\s+/u, '')).tokens;
  const c = tokenizer.tokensWithOffsets(context);
  const budget = maxLength - q.length - tokenizer.specialTokens(true);
  if (budget <= 0) return `the question takes ${q.length} tokens, leaving no room for the context in ${maxLength}`;
  if (stride >= budget && c.tokens.length > budget) return `the stride (${stride}${opts.stride === undefined ? ', the default' : ''}) must be smaller than the room left for the context (${budget} tokens of ${maxLength}); give a smaller --stride or a larger --max-length`;
  return contextWindows(c.tokens.length, budget, stride).map(([start, stop]) => {
    const e = tokenizer.assemble(q, c.tokens.slice(start, stop));
    let k = start;
    const offsets = e.sequenceIds.map((s) => (s === 1 ? c.offsets[k++]! : null));
    return { ids: e.ids, typeIds: e.typeIds, offsets };
  });
}
