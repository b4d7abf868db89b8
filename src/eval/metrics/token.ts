// Token classification (NER) figures with seqeval's semantics, as Hugging Face's `seqeval` metric
// reports them: entity-level precision/recall/F1 per entity type and over all (micro), and token
// accuracy. Default mode is conlleval's lenient chunking (an I- after O opens an entity); strict
// mode follows a tagging scheme (IOB1, IOB2, IOE1, IOE2, IOBES) and drops ill-formed entities.
import { argmax, prf } from './classification';
import type { EntityTypeMetrics, TokenClassificationMetrics } from '../../shared/metrics';

export type TagScheme = 'IOB1' | 'IOB2' | 'IOE1' | 'IOE2' | 'IOBES';
export const TAG_SCHEMES: readonly TagScheme[] = ['IOB1', 'IOB2', 'IOE1', 'IOE2', 'IOBES'];

export interface TokenClassificationOptions {
  /** 'default' (conlleval) or 'strict' (needs `scheme`). */
  mode?: 'default' | 'strict';
  scheme?: TagScheme | undefined;
  /** Tags written as TYPE-B instead of B-TYPE. */
  suffix?: boolean;
}

/** An entity: its type and first and last word, `sentence` numbering the sequences. */
export interface Entity {
  type: string;
  sentence: number;
  start: number;
  end: number;
}

// ---- default (conlleval) mode: seqeval's get_entities over the sequences joined by 'O' ----

function splitTag(chunk: string, suffix: boolean): [string, string] {
  if (suffix) {
    const body = chunk.slice(0, -1);
    const cut = body.lastIndexOf('-');
    return [chunk.slice(-1), (cut < 0 ? body : body.slice(0, cut)) || '_'];
  }
  const body = chunk.slice(1);
  const cut = body.indexOf('-');
  return [chunk.slice(0, 1), (cut < 0 ? body : body.slice(cut + 1)) || '_'];
}

function endOfChunk(prevTag: string, tag: string, prevType: string, type: string): boolean {
  if (prevTag === 'E' || prevTag === 'S') return true;
  if ((prevTag === 'B' || prevTag === 'I') && (tag === 'B' || tag === 'S' || tag === 'O')) return true;
  return prevTag !== 'O' && prevTag !== '.' && prevType !== type;
}

function startOfChunk(prevTag: string, tag: string, prevType: string, type: string): boolean {
  if (tag === 'B' || tag === 'S') return true;
  if ((prevTag === 'E' || prevTag === 'S' || prevTag === 'O') && (tag === 'E' || tag === 'I')) return true;
  return tag !== 'O' && tag !== '.' && prevType !== type;
}

/**
 * Entities in conlleval's lenient reading (seqeval's default mode): the sequences are joined with
 * an 'O' after each, as seqeval joins them, so `start`/`end` count words in that joined sequence.
 */
export function lenientEntities(sequences: readonly (readonly string[])[], suffix = false): Entity[] {
  const out: Entity[] = [];
  let prevTag = 'O';
  let prevType = '';
  let begin = 0;
  let i = 0;
  const step = (chunk: string, sentence: number): void => {
    const [tag, type] = splitTag(chunk, suffix);
    if (endOfChunk(prevTag, tag, prevType, type)) out.push({ type: prevType, sentence, start: begin, end: i - 1 });
    if (startOfChunk(prevTag, tag, prevType, type)) begin = i;
    prevTag = tag;
    prevType = type;
    i++;
  };
  sequences.forEach((seq, sentence) => {
    for (const chunk of seq) step(chunk, sentence);
    step('O', sentence);
  });
  step('O', sequences.length - 1);
  return out;
}

// ---- strict mode: seqeval's Token classes of each scheme ----

type Cond = 'SAME' | 'DIFF' | 'ANY';
/** [previous prefixes, current prefixes, type condition]. */
type Pattern = readonly [string, string, Cond];
interface SchemeRules {
  allowed: string;
  start: readonly Pattern[];
  inside: readonly Pattern[];
  end: readonly Pattern[];
}
const ANY = 'IOBES';
const RULES: Record<TagScheme, SchemeRules> = {
  IOB1: {
    allowed: 'IOB',
    start: [['O', 'I', 'ANY'], ['I', 'I', 'DIFF'], ['B', 'I', 'ANY'], ['I', 'B', 'SAME'], ['B', 'B', 'SAME']],
    inside: [['B', 'I', 'SAME'], ['I', 'I', 'SAME']],
    end: [['I', 'I', 'DIFF'], ['I', 'O', 'ANY'], ['I', 'B', 'ANY'], ['B', 'O', 'ANY'], ['B', 'I', 'DIFF'], ['B', 'B', 'SAME']],
  },
  IOE1: {
    allowed: 'IOE',
    start: [['O', 'I', 'ANY'], ['I', 'I', 'DIFF'], ['E', 'I', 'ANY'], ['E', 'E', 'SAME']],
    inside: [['I', 'I', 'SAME'], ['I', 'E', 'SAME']],
    end: [['I', 'I', 'DIFF'], ['I', 'O', 'ANY'], ['I', 'E', 'DIFF'], ['E', 'I', 'SAME'], ['E', 'E', 'SAME']],
  },
  IOB2: {
    allowed: 'IOB',
    start: [[ANY, 'B', 'ANY']],
    inside: [['B', 'I', 'SAME'], ['I', 'I', 'SAME']],
    end: [['I', 'O', 'ANY'], ['I', 'I', 'DIFF'], ['I', 'B', 'ANY'], ['B', 'O', 'ANY'], ['B', 'I', 'DIFF'], ['B', 'B', 'ANY']],
  },
  IOE2: {
    allowed: 'IOE',
    start: [['O', 'I', 'ANY'], ['O', 'E', 'ANY'], ['E', 'I', 'ANY'], ['E', 'E', 'ANY'], ['I', 'I', 'DIFF'], ['I', 'E', 'DIFF']],
    inside: [['I', 'E', 'SAME'], ['I', 'I', 'SAME']],
    end: [['E', ANY, 'ANY']],
  },
  IOBES: {
    allowed: 'IOBES',
    start: [[ANY, 'B', 'ANY'], [ANY, 'S', 'ANY']],
    inside: [['B', 'I', 'SAME'], ['B', 'E', 'SAME'], ['I', 'I', 'SAME'], ['I', 'E', 'SAME']],
    end: [['S', ANY, 'ANY'], ['E', ANY, 'ANY']],
  },
};

interface StrictToken {
  prefix: string;
  type: string;
}

function strictToken(token: string, suffix: boolean, scheme: TagScheme): StrictToken {
  const prefix = suffix ? token.slice(-1) : token.slice(0, 1);
  if (!ANY.includes(prefix) || prefix === '') throw new RangeError(`tag "${token}": its prefix is none of I, O, B, E, S`);
  if (!RULES[scheme].allowed.includes(prefix)) throw new RangeError(`tag "${token}" is not allowed in ${scheme} (prefixes ${RULES[scheme].allowed.split('').join(', ')})`);
  const body = suffix ? token.slice(0, -1) : token.slice(1);
  return { prefix, type: body.replace(/^-+|-+$/g, '') || '_' };
}

function matches(prev: StrictToken, cur: StrictToken, patterns: readonly Pattern[]): boolean {
  return patterns.some(([p, c, cond]) => p.includes(prev.prefix) && c.includes(cur.prefix)
    && (cond === 'ANY' || (cond === 'SAME') === (prev.type === cur.type)));
}

/** Why seqeval's strict mode refuses `tag` under `scheme` (a prefix it does not allow), or undefined when it takes it. */
export function schemeProblem(tag: string, scheme: TagScheme, suffix = false): string | undefined {
  try {
    strictToken(tag, suffix, scheme);
    return undefined;
  } catch (e) {
    if (e instanceof RangeError) return e.message;
    throw e;
  }
}

/** Entities of each sequence that are well formed in `scheme` (seqeval's strict mode). */
export function strictEntities(sequences: readonly (readonly string[])[], scheme: TagScheme, suffix = false): Entity[] {
  const rules = RULES[scheme];
  const out: Entity[] = [];
  const outside = strictToken('O', false, scheme);
  sequences.forEach((seq, sentence) => {
    const tokens = [...seq.map((t) => strictToken(t, suffix, scheme)), outside];
    const forward = (start: number, prev: StrictToken): number => {
      for (let i = start; i < tokens.length; i++) {
        if (matches(prev, tokens[i]!, rules.inside)) prev = tokens[i]!;
        else return i;
      }
      return tokens.length - 2;
    };
    let i = 0;
    let prev = outside;
    while (i < tokens.length) {
      const token = tokens[i]!;
      if (matches(prev, token, rules.start)) {
        const end = forward(i + 1, token);
        if (matches(tokens[end - 1]!, tokens[end]!, rules.end)) out.push({ type: token.type, sentence, start: i, end });
        i = Math.max(end, i + 1);
      } else i++;
      prev = tokens[i - 1]!;
    }
  });
  return out;
}

/**
 * Entity-level and token-level figures of predicted tag sequences against the true ones (one
 * sequence per sentence, tags as names such as "B-PER").
 */
export function tokenClassificationMetrics(
  truth: readonly (readonly string[])[], predicted: readonly (readonly string[])[], opts: TokenClassificationOptions = {},
): TokenClassificationMetrics {
  if (truth.length !== predicted.length) throw new RangeError(`${truth.length} true sequences but ${predicted.length} predicted`);
  let words = 0;
  let right = 0;
  truth.forEach((t, i) => {
    const p = predicted[i]!;
    if (t.length !== p.length) throw new RangeError(`sequence ${i}: ${t.length} true tags but ${p.length} predicted`);
    words += t.length;
    for (let j = 0; j < t.length; j++) if (t[j] === p[j]) right++;
  });
  const suffix = opts.suffix ?? false;
  let extract: (s: readonly (readonly string[])[]) => Entity[];
  if (opts.mode === 'strict') {
    if (!opts.scheme) throw new RangeError('strict mode needs a tagging scheme (IOB1, IOB2, IOE1, IOE2 or IOBES)');
    const scheme = opts.scheme;
    extract = (s) => strictEntities(s, scheme, suffix);
  } else extract = (s) => lenientEntities(s, suffix);
  const key = (e: Entity): string => `${e.sentence}:${e.start}:${e.end}`;
  const byType = (entities: Entity[]): Map<string, Set<string>> => {
    const m = new Map<string, Set<string>>();
    for (const e of entities) {
      let s = m.get(e.type);
      if (!s) m.set(e.type, (s = new Set()));
      s.add(key(e));
    }
    return m;
  };
  const trueByType = byType(extract(truth));
  const predByType = byType(extract(predicted));
  // seqeval sorts the type names as Python sorts strings (by code point).
  const types = [...new Set([...trueByType.keys(), ...predByType.keys()])].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const per_type: Record<string, EntityTypeMetrics> = {};
  let tpAll = 0;
  let predAll = 0;
  let trueAll = 0;
  for (const type of types) {
    const t = trueByType.get(type) ?? new Set<string>();
    const p = predByType.get(type) ?? new Set<string>();
    let tp = 0;
    for (const k of p) if (t.has(k)) tp++;
    const m = prf(tp, p.size, t.size);
    per_type[type] = { precision: m.precision, recall: m.recall, f1: m.f1, number: t.size };
    tpAll += tp;
    predAll += p.size;
    trueAll += t.size;
  }
  const overall = prf(tpAll, predAll, trueAll);
  return {
    overall_precision: overall.precision,
    overall_recall: overall.recall,
    overall_f1: overall.f1,
    overall_accuracy: words ? right / words : 0,
    per_type,
  };
}

/**
 * The predicted class of each word, read at its first sub-token (what Hugging Face's token
 * classification examples score: later sub-tokens and special tokens carry no label). `wordIds[t]`
 * is the word token t belongs to, or null for special tokens; `logits` is row-major [tokens, width].
 * Words that truncation cut off have no prediction (undefined), and are left out of the scoring.
 */
export function firstSubTokenPredictions(logits: ArrayLike<number>, width: number, wordIds: readonly (number | null)[], words: number): (number | undefined)[] {
  if (logits.length !== wordIds.length * width) throw new RangeError(`${logits.length} logits for ${wordIds.length} tokens of ${width} classes`);
  const out = new Array<number | undefined>(words).fill(undefined);
  let prev: number | null = null;
  wordIds.forEach((w, t) => {
    if (w !== null && w !== prev && w < words && out[w] === undefined) out[w] = argmax(logits, t * width, width);
    prev = w;
  });
  return out;
}
