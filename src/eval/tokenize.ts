// Tokenization as the model was trained with it: the folder's tokenizer.json through
// @huggingface/tokenizers (pure JS, offline), plus the truncation that library does not do:
// tokenize without special tokens, cut to the model's maximum length the way the Rust `tokenizers`
// crate does (longest-first for pairs), then apply the post-processor's template.
import { readRegularFileIfExists } from '../formats/paths';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { CheckpointError, throwIfAborted } from '../errors';
import type { Dataset } from './dataset';
import { offsetStyle, tokenOffsets, type Offset } from './offsets';

export type TruncationStrategy = 'LongestFirst' | 'OnlyFirst' | 'OnlySecond';

export interface Truncation {
  /** Tokens in all, special tokens included. */
  maxLength: number;
  strategy: TruncationStrategy;
  direction: 'Right' | 'Left';
}

export interface EncodedText {
  ids: Int32Array;
  typeIds: Uint8Array;
}

/** A sample ready for the model: token ids, token type ids, and its class id. */
export interface EncodedSample extends EncodedText {
  label: number;
}

/** A data set tokenized once, to be evaluated by any model sharing the tokenizer. */
export interface EncodedDataset {
  path: string;
  labels: readonly string[];
  samples: EncodedSample[];
  skipped: number;
  padId: number;
  maxLength: number;
  /** Lines whose text (or pair) was cut to maxLength. */
  truncated: number;
}

/** Above this, tokenizer_config's model_max_length is transformers' "no limit" sentinel. */
const NO_LIMIT = 1_000_000;

async function readJson(path: string, required: boolean): Promise<Record<string, unknown> | undefined> {
  const bytes = await readRegularFileIfExists(path); // a FIFO or device is refused, never opened for a blocking read
  if (bytes === undefined) {
    if (!required) return undefined;
    throw new CheckpointError(`${path}: missing (save the tokenizer with tokenizer.save_pretrained(dir); only fast tokenizers write tokenizer.json)`);
  }
  const text = bytes.toString('utf8');
  try {
    const v = JSON.parse(text) as unknown;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not an object');
    return v as Record<string, unknown>;
  } catch {
    throw new CheckpointError(`${path}: not valid JSON`);
  }
}

function positiveInt(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : undefined;
}

/**
 * The maximum length: tokenizer.json's truncation.max_length, else tokenizer_config's
 * model_max_length, else config's max_position_embeddings (GPT-2: n_positions); never above it.
 */
export function truncationOf(
  tokenizerJson: Record<string, unknown>,
  tokenizerConfig: Record<string, unknown> | undefined,
  config: Record<string, unknown> | undefined,
): Truncation {
  const t = tokenizerJson['truncation'] as Record<string, unknown> | null | undefined;
  const positions = positiveInt(config?.['max_position_embeddings']) ?? positiveInt(config?.['n_positions']);
  const fromConfig = positiveInt(tokenizerConfig?.['model_max_length']);
  let maxLength = positiveInt(t?.['max_length']) ?? (fromConfig !== undefined && fromConfig < NO_LIMIT ? fromConfig : undefined) ?? positions ?? 512;
  if (positions !== undefined) maxLength = Math.min(maxLength, positions);
  const strategy = t?.['strategy'];
  const direction = t?.['direction'];
  return {
    maxLength,
    strategy: strategy === 'OnlyFirst' || strategy === 'OnlySecond' ? strategy : 'LongestFirst',
    direction: direction === 'Left' ? 'Left' : 'Right',
  };
}

/** Keeps `n` tokens from the end the truncation direction says. */
function keep(tokens: string[], n: number, direction: 'Right' | 'Left'): string[] {
  if (tokens.length <= n) return tokens;
  return direction === 'Right' ? tokens.slice(0, n) : tokens.slice(tokens.length - n);
}

/**
 * Cuts a text (and pair) to `budget` tokens (special tokens excluded). LongestFirst as the Rust
 * crate: the shorter input is kept whole when the longer can take the cut, else both get half
 * (the longer one the odd token; the second on a tie).
 */
export function truncateTokens(a: string[], b: string[] | null, budget: number, t: Pick<Truncation, 'strategy' | 'direction'>): [string[], string[] | null] {
  const total = a.length + (b?.length ?? 0);
  if (total <= budget) return [a, b];
  if (b === null) return [keep(a, budget, t.direction), null];
  if (t.strategy === 'OnlyFirst') return [keep(a, Math.max(0, a.length - (total - budget)), t.direction), b];
  if (t.strategy === 'OnlySecond') return [a, keep(b, Math.max(0, b.length - (total - budget)), t.direction)];
  const swap = a.length > b.length;
  let n1 = swap ? b.length : a.length;
  let n2 = n1 > budget ? n1 : Math.max(n1, budget - n1);
  if (n1 + n2 > budget) {
    n1 = Math.floor(budget / 2);
    n2 = n1 + (budget % 2);
  }
  return swap ? [keep(a, n2, t.direction), keep(b, n1, t.direction)] : [keep(a, n1, t.direction), keep(b, n2, t.direction)];
}

/** A model folder's tokenizer with truncation to the model's maximum length. */
export class ModelTokenizer {
  readonly truncation: Truncation;
  readonly padId: number;
  private readonly ids: Map<string, number>;
  private readonly unkId: number;
  private readonly specialSingle: number;
  private readonly specialPair: number;

  constructor(
    private readonly tokenizer: Tokenizer,
    tokenizerJson: Record<string, unknown>,
    tokenizerConfig: Record<string, unknown> | undefined,
    config: Record<string, unknown> | undefined,
  ) {
    this.truncation = truncationOf(tokenizerJson, tokenizerConfig, config);
    // The same lookup as the library's encode(): added tokens, then the model's vocabulary, else unknown.
    this.ids = new Map(tokenizer.model?.tokens_to_ids ?? []);
    for (const [id, added] of tokenizer.get_added_tokens_decoder()) this.ids.set(added.content, id);
    const unkToken = tokenizer.model?.unk_token ?? (typeof tokenizerConfig?.['unk_token'] === 'string' ? tokenizerConfig['unk_token'] : undefined);
    this.unkId = tokenizer.model?.unk_token_id ?? (unkToken !== undefined ? this.ids.get(unkToken) : undefined) ?? 0;
    const padding = tokenizerJson['padding'] as Record<string, unknown> | null | undefined;
    const padToken = typeof tokenizerConfig?.['pad_token'] === 'string' ? tokenizerConfig['pad_token'] : undefined;
    this.padId = (padToken !== undefined ? this.ids.get(padToken) : undefined)
      ?? (typeof padding?.['pad_id'] === 'number' ? padding['pad_id'] : undefined)
      ?? (typeof config?.['pad_token_id'] === 'number' ? config['pad_token_id'] : undefined)
      ?? 0;
    this.specialSingle = this.template([], null).tokens.length;
    this.specialPair = this.template([], []).tokens.length;
    if (this.truncation.maxLength <= this.specialPair) {
      throw new CheckpointError(`tokenizer: maximum length ${this.truncation.maxLength} leaves no room for text`);
    }
  }

  get maxLength(): number {
    return this.truncation.maxLength;
  }

  private template(a: string[], b: string[] | null): { tokens: string[]; typeIds: number[] | undefined } {
    const pp = this.tokenizer.post_processor;
    if (!pp) return { tokens: b ? [...a, ...b] : a, typeIds: undefined };
    const out = pp.post_process(a, b, true);
    return { tokens: out.tokens, typeIds: out.token_type_ids };
  }

  /**
   * Token ids and type ids for a text (or pair), cut to the maximum length (by tokenizer.json's
   * strategy unless `strategy` says otherwise, e.g. OnlySecond for question answering's context).
   */
  encode(text: string, pair?: string, strategy?: TruncationStrategy): EncodedText & { truncated: boolean } {
    const a = this.tokenizer.tokenize(text);
    const b = pair === undefined ? null : this.tokenizer.tokenize(pair);
    const budget = this.truncation.maxLength - (b ? this.specialPair : this.specialSingle);
    const [ta, tb] = truncateTokens(a, b, budget, strategy ? { ...this.truncation, strategy } : this.truncation);
    const truncated = ta.length !== a.length || (b !== null && tb!.length !== b.length);
    const { tokens, typeIds } = this.template(ta, tb);
    const ids = new Int32Array(tokens.length);
    for (let i = 0; i < tokens.length; i++) ids[i] = this.ids.get(tokens[i]!) ?? this.unkId;
    const types = new Uint8Array(tokens.length);
    if (typeIds) types.set(typeIds);
    return { ids, typeIds: types, truncated };
  }

  /**
   * Words given already split (token classification, `is_split_into_words`): each word tokenized on
   * its own, cut to the maximum length, with the word each token came from (-1 for special tokens).
   */
  encodeWords(words: readonly string[]): EncodedText & { wordIds: Int32Array; truncated: boolean } {
    const pieces: string[] = [];
    const wordOf: number[] = [];
    words.forEach((w, i) => {
      for (const t of this.tokenizer.tokenize(w)) {
        pieces.push(t);
        wordOf.push(i);
      }
    });
    const budget = this.truncation.maxLength - this.specialSingle;
    const keptFrom = this.truncation.direction === 'Left' ? Math.max(0, pieces.length - budget) : 0;
    const kept = pieces.slice(keptFrom, keptFrom + budget);
    const marker = '\u2400ken\u2400';
    const at = this.template([marker], null).tokens.indexOf(marker);
    const { tokens, typeIds } = this.template(kept, null);
    const ids = new Int32Array(tokens.length);
    for (let i = 0; i < tokens.length; i++) ids[i] = this.ids.get(tokens[i]!) ?? this.unkId;
    const wordIds = new Int32Array(tokens.length).fill(-1);
    for (let i = 0; i < kept.length; i++) wordIds[Math.max(0, at) + i] = wordOf[keptFrom + i]!;
    const types = new Uint8Array(tokens.length);
    if (typeIds) types.set(typeIds);
    return { ids, typeIds: types, wordIds, truncated: kept.length !== pieces.length };
  }

  /** The library's own encoding (no truncation), for cross-checks. */
  referenceEncode(text: string, pair?: string): { ids: number[]; typeIds: number[] } {
    const e = this.tokenizer.encode(text, { text_pair: pair ?? null, return_token_type_ids: true });
    return { ids: e.ids, typeIds: e.token_type_ids ?? new Array<number>(e.ids.length).fill(0) };
  }

  idToToken(id: number): string | undefined {
    return this.tokenizer.id_to_token(id);
  }

  /** The tokens of a text (no special tokens, no truncation) with where each lies in it. */
  tokensWithOffsets(text: string): { tokens: string[]; offsets: Offset[] } {
    const tokens = this.tokenizer.tokenize(text);
    const style = offsetStyle(this.tokenizer.decoder as Parameters<typeof offsetStyle>[0], this.tokenizer.model as Parameters<typeof offsetStyle>[1]);
    return { tokens, offsets: tokenOffsets(text, tokens, style, this.tokenizer.model?.unk_token) };
  }

  /** Special tokens the template adds to one text, or to a pair. */
  specialTokens(pair: boolean): number {
    return pair ? this.specialPair : this.specialSingle;
  }

  /** The template over token strings: ids, type ids, and which input each position holds (null: special). */
  assemble(a: readonly string[], b: readonly string[] | null): EncodedText & { sequenceIds: (0 | 1 | null)[] } {
    const markA = a.map((_, i) => `\u2400a${i}\u2400`);
    const markB = b?.map((_, i) => `\u2400b${i}\u2400`) ?? null;
    const layout = this.template(markA, markB).tokens;
    const { tokens, typeIds } = this.template([...a], b ? [...b] : null);
    const ids = new Int32Array(tokens.length);
    for (let i = 0; i < tokens.length; i++) ids[i] = this.ids.get(tokens[i]!) ?? this.unkId;
    const types = new Uint8Array(tokens.length);
    if (typeIds) types.set(typeIds);
    const sequenceIds = layout.map((t) => (t.startsWith('\u2400a') ? 0 : t.startsWith('\u2400b') ? 1 : null));
    return { ids, typeIds: types, sequenceIds };
  }
}

/** Opens the tokenizer of a Hugging Face folder: tokenizer.json (+ tokenizer_config.json, config.json). */
export async function loadTokenizer(dir: string): Promise<ModelTokenizer> {
  const file = join(dir, 'tokenizer.json');
  const json = (await readJson(file, true))!;
  const tokenizerConfig = await readJson(join(dir, 'tokenizer_config.json'), false);
  const config = await readJson(join(dir, 'config.json'), false);
  let tokenizer: Tokenizer;
  try {
    tokenizer = new Tokenizer(json, tokenizerConfig ?? {});
  } catch (e) {
    throw new CheckpointError(`${file}: cannot be used (${e instanceof Error ? e.message.split('\n')[0] : String(e)})`);
  }
  if (!tokenizer.model) throw new CheckpointError(`${file}: has no tokenizer model`);
  return new ModelTokenizer(tokenizer, json, tokenizerConfig, config);
}

/** Tokenizes every sample once; the result serves any model that shares the tokenizer. */
export function encodeDataset(tokenizer: ModelTokenizer, data: Dataset, signal?: AbortSignal): EncodedDataset {
  let truncated = 0;
  const samples: EncodedSample[] = data.samples.map((s, i) => {
    if ((i & 255) === 0) throwIfAborted(signal);
    const e = tokenizer.encode(s.text, s.pair);
    if (e.truncated) truncated++;
    return { ids: e.ids, typeIds: e.typeIds, label: s.label };
  });
  return { path: data.path, labels: data.labels, samples, skipped: data.skipped, padId: tokenizer.padId, maxLength: tokenizer.maxLength, truncated };
}
