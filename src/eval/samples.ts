// Samples of the other tasks, from any data set format: token classification (pre-split words and
// their tags, as CoNLL-style data sets store them), question answering (SQuAD's id, question,
// context and answers {text, answer_start}), and plain texts for causal language models.
import { UsageError } from '../errors';
import { classNames, openData, type TextFormat } from './data';
import { badLine, LabelMap, SampleCollector, textOf, type Dataset } from './dataset';

interface Common {
  skipBadLines?: boolean | undefined;
  format?: TextFormat | undefined;
  split?: string | undefined;
  signal?: AbortSignal | undefined;
}

type Loaded<S> = Omit<Dataset, 'samples' | 'labels' | 'problem'> & { samples: S[] };

export interface TokenSample {
  words: string[];
  /** The model's tag id of each word. */
  tags: number[];
  line: number;
}

export interface TokenDatasetOptions extends Common {
  /** The model's tags in id order (config.json id2label), e.g. O, B-PER, I-PER. */
  labels: readonly string[];
  tokensField?: string | undefined;
  tagsField?: string | undefined;
}

export interface QaSample {
  id: string;
  question: string;
  context: string;
  /** Gold answers (none: unanswerable, SQuAD 2.0). */
  answers: string[];
  answerStarts: number[];
  line: number;
}

export interface QaDatasetOptions extends Common {
  questionField?: string | undefined;
  contextField?: string | undefined;
  answersField?: string | undefined;
  idField?: string | undefined;
}

export interface TextSample {
  text: string;
  line: number;
}

export interface TextDatasetOptions extends Common {
  textField?: string | undefined;
}

function finish<S>(path: string, data: Awaited<ReturnType<typeof openData>>, c: SampleCollector<S>): Loaded<S> {
  const out: Loaded<S> = { path, format: data.format, samples: c.samples, skipped: c.skipped, skippedReasons: c.skippedReasons };
  if (data.split !== undefined) out.split = data.split;
  if (data.note !== undefined) out.note = data.note;
  return out;
}

/** Words and tags (names, or ids through the data set's ClassLabel names) per line. */
export async function loadTokenDataset(path: string, opts: TokenDatasetOptions): Promise<Loaded<TokenSample> & { labels: readonly string[] }> {
  if (opts.labels.length === 0) throw new UsageError('the model has no tags to evaluate against');
  const tokensField = opts.tokensField ?? 'tokens';
  const tagsField = opts.tagsField ?? 'ner_tags';
  const data = await openData(path, { format: opts.format, split: opts.split });
  const map = new LabelMap(opts.labels, classNames(data.features, tagsField));
  const c = new SampleCollector<TokenSample>(data, opts.skipBadLines ?? false);
  await c.read([[tokensField, '--tokens-field'], [tagsField, '--tags-field']], (get, line) => {
    const row = tokenRow(get, tokensField, tagsField, map);
    if (!row.tags) badLine(`missing field "${tagsField}"`);
    return { words: row.words, tags: row.tags, line };
  }, opts.signal);
  return { ...finish(path, data, c), labels: opts.labels };
}

/**
 * A token classification row: its words, and the model's tag id of each word when the row has tags
 * (names, or ids through the data set's ClassLabel names in `map`). A bad line otherwise.
 */
export function tokenRow(get: (f: string) => unknown, tokensField: string, tagsField: string, map: LabelMap): { words: string[]; tags?: number[] } {
  const words = get(tokensField);
  if (!Array.isArray(words) || !words.every((w) => typeof w === 'string')) badLine(`field "${tokensField}" is not a list of words`);
  const raw = get(tagsField);
  if (raw === undefined || raw === null) return { words: words as string[] };
  if (!Array.isArray(raw) || raw.length !== words.length) badLine(`field "${tagsField}" is not one tag per word (${words.length} words)`);
  return {
    words: words as string[],
    tags: raw.map((t, i) => {
      const id = map.id(t);
      return typeof id === 'number' ? id : badLine(`word ${i + 1}: ${id}`);
    }),
  };
}

/** SQuAD's answers: {text: [...], answer_start: [...]}, or a list of {text, answer_start}, or of strings. */
export function answersOf(v: unknown, field: string): { text: string[]; starts: number[] } {
  const num = (x: unknown): number => (typeof x === 'bigint' ? Number(x) : typeof x === 'number' ? x : -1);
  if (Array.isArray(v)) {
    const text: string[] = [];
    const starts: number[] = [];
    for (const a of v) {
      if (typeof a === 'string') {
        text.push(a);
        starts.push(-1);
      } else if (a && typeof a === 'object' && typeof (a as { text?: unknown }).text === 'string') {
        text.push((a as { text: string }).text);
        starts.push(num((a as { answer_start?: unknown }).answer_start));
      } else badLine(`field "${field}" holds an answer that is not text`);
    }
    return { text, starts };
  }
  if (v && typeof v === 'object') {
    const o = v as { text?: unknown; answer_start?: unknown };
    if (Array.isArray(o.text) && o.text.every((t) => typeof t === 'string')) {
      const starts = Array.isArray(o.answer_start) ? o.answer_start.map(num) : o.text.map(() => -1);
      return { text: o.text as string[], starts };
    }
  }
  return badLine(`field "${field}" is not SQuAD answers ({"text": [...], "answer_start": [...]})`);
}

export async function loadQaDataset(path: string, opts: QaDatasetOptions = {}): Promise<Loaded<QaSample> & { v2: boolean }> {
  const qf = opts.questionField ?? 'question';
  const cf = opts.contextField ?? 'context';
  const af = opts.answersField ?? 'answers';
  const idf = opts.idField ?? 'id';
  const data = await openData(path, { format: opts.format, split: opts.split });
  const c = new SampleCollector<QaSample>(data, opts.skipBadLines ?? false);
  await c.read([[qf, '--question-field'], [cf, '--context-field'], [af, '--answers-field']], (get, line) => {
    const question = textOf(get, qf);
    const context = textOf(get, cf);
    const { text, starts } = answersOf(get(af), af);
    const id = get(idf);
    return { id: typeof id === 'string' || typeof id === 'number' ? String(id) : String(line), question, context, answers: text, answerStarts: starts, line };
  }, opts.signal);
  const out = finish(path, data, c);
  return { ...out, v2: out.samples.some((s) => s.answers.length === 0) };
}

export async function loadTextDataset(path: string, opts: TextDatasetOptions = {}): Promise<Loaded<TextSample>> {
  const tf = opts.textField ?? 'text';
  const data = await openData(path, { format: opts.format, split: opts.split });
  const c = new SampleCollector<TextSample>(data, opts.skipBadLines ?? false);
  await c.read([[tf, '--text-field']], (get, line) => ({ text: textOf(get, tf), line }), opts.signal);
  return finish(path, data, c);
}
