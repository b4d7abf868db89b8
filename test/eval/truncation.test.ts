// Truncation and windows as Hugging Face's tokenizers do them, with what ran in the JSON; --outputs
// holding the input ids (and QA windows' offsets); a gold tag outside --scheme as a one-line data error.
// The models are the RoBERTa fixtures of test/data/graph/encoders (24 positions, pad_token_id 1: 22
// usable) with a word-level tokenizer written here (RoBERTa's template, no model_max_length).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ken, linkFile, ROOT, tmp } from '../helpers';

const ENC = join(ROOT, 'test', 'data', 'graph', 'encoders');

function tokenizerJson(): Record<string, unknown> {
  const vocab: Record<string, number> = { '<s>': 0, '<pad>': 1, '</s>': 2, '<unk>': 3 };
  for (let i = 4; i < 40; i++) vocab[`w${i}`] = i;
  const special = (id: number, content: string): Record<string, unknown> => ({ id, content, special: true, single_word: false, lstrip: false, rstrip: false, normalized: false });
  return {
    version: '1.0', truncation: null, padding: null,
    added_tokens: [special(0, '<s>'), special(1, '<pad>'), special(2, '</s>'), special(3, '<unk>')],
    normalizer: null, pre_tokenizer: { type: 'Whitespace' },
    post_processor: { type: 'RobertaProcessing', sep: ['</s>', 2], cls: ['<s>', 0], trim_offsets: true, add_prefix_space: false },
    decoder: null, model: { type: 'WordLevel', vocab, unk_token: '<unk>' },
  };
}

function model(which: 'roberta-seq' | 'roberta-token' | 'roberta-qa', config: Record<string, unknown> = {}): string {
  const d = join(tmp('ken-trunc-'), which);
  mkdirSync(d);
  linkFile(join(ENC, which, 'model.safetensors'), join(d, 'model.safetensors'));
  const cfg = JSON.parse(readFileSync(join(ENC, which, 'config.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(d, 'config.json'), JSON.stringify({ ...cfg, ...config }));
  writeFileSync(join(d, 'tokenizer.json'), JSON.stringify(tokenizerJson()));
  return d;
}

const words = (n: number, from = 0): string[] => Array.from({ length: n }, (_, i) => `w${4 + ((i + from) % 36)}`);

function jsonl(rows: unknown[]): string {
  const f = join(tmp('ken-trunc-data-'), 'data.jsonl');
  writeFileSync(f, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  return f;
}

function lines(file: string): Record<string, unknown>[] {
  return readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
}

test('a RoBERTa line longer than its positions (no model_max_length): cut at max_position_embeddings - (pad + 1), ids in --outputs', async () => {
  const m = model('roberta-seq');
  const data = jsonl([{ text: words(40).join(' '), label: 'L1' }, { text: words(5).join(' '), label: 'L0' }]);
  const out = join(tmp(), 'o.jsonl');
  const r = await ken(['eval', m, '--data', data, '--json', '--device', 'cpu', '--outputs', out]);
  assert.equal(r.code, 0, r.stderr);
  const o = JSON.parse(r.stdout) as { maxLength: number; truncated: number };
  assert.equal(o.maxLength, 22);
  assert.equal(o.truncated, 1);
  const [a, b] = lines(out) as { input_ids: number[]; logits: number[] }[];
  assert.deepEqual(a!.input_ids, [0, ...words(20).map((w) => Number(w.slice(1))), 2]);
  assert.deepEqual(b!.input_ids, [0, 4, 5, 6, 7, 8, 2]);
  assert.equal(a!.logits.length, 3);
});

test('--max-length cuts sequence and token classification as truncation=True, max_length=N does, and the JSON says so', async () => {
  const seq = model('roberta-seq');
  const data = jsonl([{ text: words(15).join(' '), label: 'L1' }]);
  const full = join(tmp(), 'full.jsonl');
  const cut = join(tmp(), 'cut.jsonl');
  const a = await ken(['eval', seq, '--data', data, '--json', '--device', 'cpu', '--outputs', full]);
  const b = await ken(['eval', seq, '--data', data, '--json', '--device', 'cpu', '--outputs', cut, '--max-length', '8']);
  assert.equal(a.code, 0, a.stderr);
  assert.equal(b.code, 0, b.stderr);
  assert.equal((JSON.parse(b.stdout) as { maxLength: number }).maxLength, 8);
  assert.equal((JSON.parse(b.stdout) as { truncated: number }).truncated, 1);
  const [x] = lines(full) as { input_ids: number[]; logits: number[] }[];
  const [y] = lines(cut) as { input_ids: number[]; logits: number[] }[];
  assert.equal(x!.input_ids.length, 17);
  assert.deepEqual(y!.input_ids, [0, 4, 5, 6, 7, 8, 9, 2]);
  assert.notDeepEqual(x!.logits, y!.logits, 'the cut line gives other logits');
  // never beyond the model's usable positions
  const c = await ken(['eval', seq, '--data', data, '--json', '--device', 'cpu', '--max-length', '500']);
  assert.equal(c.code, 0, c.stderr);
  assert.equal((JSON.parse(c.stdout) as { maxLength: number }).maxLength, 22);

  const tok = model('roberta-token');
  const td = jsonl([{ tokens: words(12), ner_tags: new Array(12).fill('L0') }]);
  const tout = join(tmp(), 't.jsonl');
  const t = await ken(['eval', tok, '--data', td, '--json', '--device', 'cpu', '--outputs', tout, '--max-length', '6']);
  assert.equal(t.code, 0, t.stderr);
  assert.equal((JSON.parse(t.stdout) as { maxLength: number }).maxLength, 6);
  const [row] = lines(tout) as { input_ids: number[]; logits: number[][] }[];
  assert.deepEqual(row!.input_ids, [0, 4, 5, 6, 7, 2]);
  assert.equal(row!.logits.length, 6);
});

test('question answering: the JSON reports the window length and stride that ran; one stride rule given or defaulted; --stride 0 works', async () => {
  const qa = model('roberta-qa');
  const context = words(30).join(' ');
  const data = jsonl([{ question: 'w4 w5', context, answers: { text: ['w10'], answer_start: [context.indexOf('w10')] } }]);
  const out = join(tmp(), 'qa.jsonl');
  const d = await ken(['eval', qa, '--data', data, '--json', '--device', 'cpu', '--outputs', out, '--max-length', '16']);
  assert.equal(d.code, 0, d.stderr);
  const dj = JSON.parse(d.stdout) as { maxLength: number; stride: number };
  // room for the question and context: 16 - 4 special = 12; the default stride is at most half of it
  assert.deepEqual([dj.maxLength, dj.stride], [16, 6]);
  const row = lines(out)[0] as { input_ids: number[]; offsets: ([number, number] | null)[]; windows: { input_ids: number[]; offsets: unknown[] }[] };
  assert.equal(row.input_ids.length, 16);
  assert.equal(row.offsets.length, 16);
  assert.deepEqual(row.offsets.slice(0, 5), [null, null, null, null, null], '<s> q q </s> </s>');
  assert.deepEqual(row.offsets[5], [0, 2]);
  // context room per window 16 - 2 - 4 = 10 tokens, 6 shared: windows start at context tokens 0, 4, 8, 12, 16, 20
  assert.equal(row.windows.length, 5);
  assert.deepEqual(row.windows[0]!.offsets[5], [context.indexOf('w8'), context.indexOf('w8') + 2]);

  const given = await ken(['eval', qa, '--data', data, '--json', '--device', 'cpu', '--max-length', '16', '--stride', '6']);
  assert.equal(given.code, 0, given.stderr);
  assert.deepEqual(JSON.parse(given.stdout), { ...JSON.parse(d.stdout), seconds: (JSON.parse(given.stdout) as { seconds: number }).seconds });
  // a stride that leaves no progress is refused whether given or the default
  const big = await ken(['eval', qa, '--data', data, '--json', '--device', 'cpu', '--max-length', '16', '--stride', '10']);
  assert.equal(big.code, 1);
  assert.match(big.stderr, /line 1: the stride \(10\) must be smaller than the room left for the context \(10 tokens of 16\)/);

  const zero = join(tmp(), 'z.jsonl');
  const z = await ken(['eval', qa, '--data', data, '--json', '--device', 'cpu', '--max-length', '16', '--stride', '0', '--outputs', zero]);
  assert.equal(z.code, 0, z.stderr);
  assert.equal((JSON.parse(z.stdout) as { stride: number }).stride, 0);
  assert.equal((lines(zero)[0] as { windows: unknown[] }).windows.length, 2, '30 context tokens in windows of 10, no overlap');
});

test('a gold tag the --scheme does not allow: one line naming the file, line and tag, exit 1', async () => {
  const tok = model('roberta-token', { id2label: { 0: 'O', 1: 'B-PER', 2: 'I-PER' }, label2id: { O: 0, 'B-PER': 1, 'I-PER': 2 } });
  const data = jsonl([{ tokens: ['w4', 'w5'], ner_tags: ['I-PER', 'O'] }, { tokens: ['w6', 'w7'], ner_tags: ['O', 'B-PER'] }]);
  const r = await ken(['eval', tok, '--data', data, '--device', 'cpu', '--scheme', 'IOE2']);
  assert.equal(r.code, 1, r.stderr);
  const text = r.stderr.trim();
  assert.equal(text.split('\n').length, 1, text);
  assert.match(text, new RegExp(`${data.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} line 2: word 2: tag "B-PER" is not allowed in IOE2`));
  assert.doesNotMatch(text, /internal error|RangeError/);
});
