// Tokenization as the model was trained with it: the folder's tokenizer.json through
// @huggingface/tokenizers (pure JS, offline), plus the truncation that library does not do:
// tokenize without special tokens, cut to the model's maximum length the way the Rust `tokenizers`
// crate does (longest-first for pairs), then apply the post-processor's template.
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { CheckpointError } from '../errors';
import { offsetStyle, tokenOffsets, type Offset } from './offsets';
import { readJsonFile } from '../formats/input';
import { configSchema, tokenizerConfigSchema, tokenizerJsonSchema } from '../formats/schemas';
import { familyOf } from '../models/registry';

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
  /** The data line it came from (1-based), for messages. */
  line?: number;
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

/** Texts are cut to maxLength * CHARS_PER_TOKEN characters (at least MIN_CHARS, at most MAX_CHARS_CAP) before tokenizing. */
const CHARS_PER_TOKEN = 256;
const MIN_CHARS = 4096;
const MAX_CHARS_CAP = 16 * 1024 * 1024;

/** Above this, tokenizer_config's model_max_length is transformers' "no limit" sentinel. */
const NO_LIMIT = 1_000_000;

function positiveInt(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : undefined;
}

/**
 * The positions a model can use: config's max_position_embeddings (GPT-2: n_positions), less
 * RoBERTa's offset (its positions start at padding_idx + 1: 514 positions hold 512 tokens).
 */
export function usablePositions(config: Record<string, unknown> | undefined): number | undefined {
  const positions = positiveInt(config?.['max_position_embeddings']) ?? positiveInt(config?.['n_positions']);
  if (positions === undefined) return undefined;
  if (familyOf(config)?.id !== 'roberta') return positions;
  const pad = typeof config?.['pad_token_id'] === 'number' ? config['pad_token_id'] : 1;
  return Math.max(1, positions - (pad + 1));
}

/**
 * The maximum length: `requested` (ken eval --max-length, truncation=True, max_length=N), else
 * tokenizer.json's truncation.max_length, else tokenizer_config's model_max_length, else the model's
 * usable positions; never above those.
 */
export function truncationOf(
  tokenizerJson: Record<string, unknown>,
  tokenizerConfig: Record<string, unknown> | undefined,
  config: Record<string, unknown> | undefined,
  requested?: number,
): Truncation {
  const t = tokenizerJson['truncation'] as Record<string, unknown> | null | undefined;
  const positions = usablePositions(config);
  const fromConfig = positiveInt(tokenizerConfig?.['model_max_length']);
  let maxLength = positiveInt(requested) ?? positiveInt(t?.['max_length']) ?? (fromConfig !== undefined && fromConfig < NO_LIMIT ? fromConfig : undefined) ?? positions ?? 512;
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

  /** Ids this tokenizer gives are below this (its largest id + 1). */
  readonly vocabSize: number;
  /** Texts longer than this are cut (from the end truncation drops) before they are tokenized. */
  readonly maxChars: number;

  constructor(
    private readonly tokenizer: Tokenizer,
    tokenizerJson: Record<string, unknown>,
    tokenizerConfig: Record<string, unknown> | undefined,
    config: Record<string, unknown> | undefined,
    /** Where it was read from: the worker that tokenizes a data set opens it again from this. */
    readonly source: TokenizerSource = { file: '(in memory)', json: tokenizerJson, tokenizerConfig, config },
  ) {
    this.truncation = truncationOf(tokenizerJson, tokenizerConfig, config, source.maxLength);
    this.maxChars = Math.min(MAX_CHARS_CAP, Math.max(MIN_CHARS, this.truncation.maxLength * CHARS_PER_TOKEN));
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
    let top = this.unkId;
    for (const id of this.ids.values()) if (id > top) top = id;
    this.vocabSize = top + 1;
    this.specialSingle = this.template([], null).tokens.length;
    this.specialPair = this.template([], []).tokens.length;
    if (this.truncation.maxLength <= this.specialPair) {
      throw new CheckpointError(`tokenizer: maximum length ${this.truncation.maxLength} leaves no room for text`);
    }
  }

  get maxLength(): number {
    return this.truncation.maxLength;
  }

  /** This tokenizer cutting at `maxLength` tokens (--max-length), never beyond the model's usable positions. */
  limitedTo(maxLength: number | undefined): ModelTokenizer {
    if (maxLength === undefined) return this;
    return tokenizerFrom({ ...this.source, maxLength });
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
    const ca = this.cut(text);
    const cb = pair === undefined ? undefined : this.cut(pair);
    const a = this.tokenizer.tokenize(ca);
    const b = cb === undefined ? null : this.tokenizer.tokenize(cb);
    const budget = this.truncation.maxLength - (b ? this.specialPair : this.specialSingle);
    const [ta, tb] = truncateTokens(a, b, budget, strategy ? { ...this.truncation, strategy } : this.truncation);
    const truncated = ta.length !== a.length || (b !== null && tb!.length !== b.length) || ca !== text || cb !== pair;
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
      for (const t of this.tokenizer.tokenize(this.cut(w))) {
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

  /**
   * A text cut to maxChars characters on the side truncation keeps (a 50 MB line is never tokenized
   * whole). maxChars allows CHARS_PER_TOKEN characters per token of the maximum length, far more than
   * any real text needs, so the kept tokens are the same as the whole text's.
   */
  private cut(text: string): string {
    if (text.length <= this.maxChars) return text;
    if (this.truncation.direction === 'Right') {
      let end = this.maxChars;
      if (/[\ud800-\udbff]/.test(text[end - 1]!)) end--; // never split a surrogate pair
      return text.slice(0, end);
    }
    let start = text.length - this.maxChars;
    if (/[\udc00-\udfff]/.test(text[start]!)) start++;
    return text.slice(start);
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

/** What a tokenizer is built from: tokenizer.json, tokenizer_config.json and config.json, checked. */
export interface TokenizerSource {
  file: string;
  json: Record<string, unknown>;
  tokenizerConfig: Record<string, unknown> | undefined;
  config: Record<string, unknown> | undefined;
  /** Cut at this many tokens (ken eval --max-length) instead of the model's maximum, never beyond its positions. */
  maxLength?: number | undefined;
}

/** Builds a tokenizer from checked documents; a library failure is one line naming the file. */
export function tokenizerFrom(source: TokenizerSource): ModelTokenizer {
  let tokenizer: Tokenizer;
  try {
    tokenizer = new Tokenizer(source.json, source.tokenizerConfig ?? {});
  } catch (e) {
    throw new CheckpointError(`${source.file}: cannot be used (${libraryProblem(e)})`);
  }
  if (!tokenizer.model) throw new CheckpointError(`${source.file}: has no tokenizer model`);
  try {
    return new ModelTokenizer(tokenizer, source.json, source.tokenizerConfig, source.config, source);
  } catch (e) {
    if (e instanceof CheckpointError) throw new CheckpointError(`${source.file}: ${e.message.replace(/^tokenizer: /, '')}`);
    throw new CheckpointError(`${source.file}: cannot be used (${libraryProblem(e)})`);
  }
}

/**
 * What the tokenizer library said, when it said something meant for people (an Error it threw on
 * purpose, "Unknown PostProcessor type: X"); a JavaScript fault inside it (TypeError, RangeError) is
 * reported as a structure it does not read, not as the fault's text.
 */
export function libraryProblem(e: unknown): string {
  if (e instanceof Error && e.constructor === Error) return e.message.split('\n')[0]!.slice(0, 200);
  return 'its structure is not one the tokenizer library reads';
}

/** Opens the tokenizer of a Hugging Face folder: tokenizer.json (+ tokenizer_config.json, config.json), each checked by its schema. */
export async function loadTokenizer(dir: string): Promise<ModelTokenizer> {
  const file = join(dir, 'tokenizer.json');
  const json = (await readJsonFile(file, tokenizerJsonSchema, { missingHint: '(save the tokenizer with tokenizer.save_pretrained(dir); only fast tokenizers write tokenizer.json)' }))!;
  const tokenizerConfig = await readJsonFile(join(dir, 'tokenizer_config.json'), tokenizerConfigSchema, { optional: true });
  const config = await readJsonFile(join(dir, 'config.json'), configSchema, { optional: true });
  return tokenizerFrom({ file, json, tokenizerConfig, config });
}
