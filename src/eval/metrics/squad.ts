// Question answering figures as SQuAD's official scripts compute them (v1.1, and v2.0 where the data
// has unanswerable questions), reported as fractions rather than percentages.
import type { QuestionAnsweringMetrics } from '../../shared/metrics';

/** Python's str.split() separators: Unicode white space (not U+FEFF, which JS's \s includes). */
const WHITE = '\\t\\n\\v\\f\\r \\x1c-\\x1f\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const SPLIT = new RegExp(`[${WHITE}]+`, 'u');
/** Python's string.punctuation. */
const PUNCT = /[!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]/g;
/** \b(a|an|the)\b with Python's Unicode word characters. */
const ARTICLES = /(?<![\p{L}\p{N}_])(?:a|an|the)(?![\p{L}\p{N}_])/gu;

/** Python's str.split(): the words between runs of white space. */
export function pySplit(s: string): string[] {
  return s.split(SPLIT).filter((w) => w !== '');
}

/** SQuAD's normalize_answer: lower case, no punctuation, no articles, single spaces. */
export function normalizeAnswer(s: string): string {
  return pySplit(s.toLowerCase().replace(PUNCT, '').replace(ARTICLES, ' ')).join(' ');
}

function tokens(s: string): string[] {
  return s ? pySplit(normalizeAnswer(s)) : [];
}

export function exactMatch(prediction: string, truth: string): number {
  return normalizeAnswer(prediction) === normalizeAnswer(truth) ? 1 : 0;
}

/**
 * Token F1 of two answers. `v2`: an empty answer on either side scores 1 when both are empty, else 0
 * (SQuAD 2.0's rule; v1.1 scores an empty side 0).
 */
export function answerF1(prediction: string, truth: string, v2 = false): number {
  const p = tokens(prediction);
  const t = tokens(truth);
  if (v2 && (p.length === 0 || t.length === 0)) return p.length === t.length ? 1 : 0;
  const count = new Map<string, number>();
  for (const w of t) count.set(w, (count.get(w) ?? 0) + 1);
  let same = 0;
  for (const w of p) {
    const c = count.get(w) ?? 0;
    if (c > 0) {
      same++;
      count.set(w, c - 1);
    }
  }
  if (same === 0) return 0;
  const precision = same / p.length;
  const recall = same / t.length;
  return (2 * precision * recall) / (precision + recall);
}

export interface ScoredAnswer {
  /** The predicted answer ("" for no answer). */
  prediction: string;
  /** The gold answers (none: unanswerable). */
  answers: readonly string[];
}

/**
 * SQuAD v1.1 (`v2` false: every question has answers) or v2.0 figures. In v2, gold answers that
 * normalise to nothing are dropped, and a question with none left is unanswerable: only the empty
 * prediction is right.
 */
export function squadMetrics(items: readonly ScoredAnswer[], v2: boolean): QuestionAnsweringMetrics {
  let em = 0;
  let f1 = 0;
  const has = { em: 0, f1: 0, n: 0 };
  const no = { em: 0, f1: 0, n: 0 };
  items.forEach(({ prediction, answers }, i) => {
    let golds = answers;
    if (v2) {
      golds = answers.filter((a) => normalizeAnswer(a) !== '');
      if (golds.length === 0) golds = [''];
    } else if (golds.length === 0) throw new RangeError(`question ${i} has no gold answer (SQuAD v1.1 needs one; unanswerable questions are SQuAD v2)`);
    const e = Math.max(...golds.map((g) => exactMatch(prediction, g)));
    const f = Math.max(...golds.map((g) => answerF1(prediction, g, v2)));
    em += e;
    f1 += f;
    // As the official script: answerable means the data lists an answer, even one that normalises away.
    const bucket = v2 && answers.length === 0 ? no : has;
    bucket.em += e;
    bucket.f1 += f;
    bucket.n++;
  });
  const n = items.length;
  const out: QuestionAnsweringMetrics = { exact_match: n ? em / n : 0, f1: n ? f1 / n : 0 };
  if (v2) {
    out.has_answer_total = has.n;
    out.no_answer_total = no.n;
    if (has.n) {
      out.has_answer_exact_match = has.em / has.n;
      out.has_answer_f1 = has.f1 / has.n;
    }
    if (no.n) {
      out.no_answer_exact_match = no.em / no.n;
      out.no_answer_f1 = no.f1 / no.n;
    }
  }
  return out;
}
