// Token offsets derived from the tokens (the tokenizer library returns none), and question answering
// windows with a stride built on them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadTokenizer, postprocessQa, qaFeatures, tokenOffsets } from '../../src/eval';
import { DEMO, ROOT } from '../helpers';

const fold = (s: string): string => s.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase();

test('WordPiece (lowercasing, accent-stripping BERT): offsets worked out by hand, unknown CJK characters one each', async () => {
  const tok = await loadTokenizer(join(DEMO, 'finetuned'));
  const text = 'Héllo, wörld! Ünïcödé café 東京 naïve';
  const { tokens, offsets } = tok.tokensWithOffsets(text);
  assert.deepEqual(tokens, ['h', '##ell', '##o', ',', 'world', '!', 'unicode', 'ca', '##f', '##e', '[UNK]', '[UNK]', 'naive']);
  assert.deepEqual(offsets, [[0, 1], [1, 4], [4, 5], [5, 6], [7, 12], [12, 13], [14, 21], [22, 24], [24, 25], [25, 26], [27, 28], [28, 29], [30, 35]]);
});

test('WordPiece on a real data set line: every token spans text that folds to the token', async () => {
  const tok = await loadTokenizer(join(DEMO, 'finetuned'));
  const text = 'GNU Emacs editor (with GTK+ GUI support) — «quoted» 3.14 mañana  twice-spaced';
  const { tokens, offsets } = tok.tokensWithOffsets(text);
  let prevEnd = 0;
  tokens.forEach((t, i) => {
    const [s, e] = offsets[i]!;
    assert.ok(s >= prevEnd && e > s, `${t} ${s}-${e}`);
    if (t !== '[UNK]') assert.equal(fold(text.slice(s, e)), t.replace(/^##/, ''), `${t} at ${s}-${e}`);
    prevEnd = e;
  });
});

test('byte-level BPE: offsets follow the bytes; a character split across tokens spans each of them', async () => {
  const tok = await loadTokenizer(join(ROOT, 'test', 'data', 'tokenizers', 'bytelevel'));
  const { tokens, offsets } = tok.tokensWithOffsets('Hi café 🙂! world');
  assert.deepEqual(tokens, ['Hi', 'Ġcaf', 'Ã', '©', 'Ġ', 'ð', 'Ł', 'Ļ', 'Ĥ', '!', 'Ġwor', 'ld']);
  assert.deepEqual(offsets, [[0, 2], [3, 6], [6, 7], [6, 7], [7, 8], [8, 10], [8, 10], [8, 10], [8, 10], [10, 11], [12, 15], [15, 17]]);
});

test('Metaspace (SentencePiece) tokens with byte fallback', () => {
  const text = 'Hello wörld 🙂x';
  const tokens = ['▁Hello', '▁w', 'ö', 'rld', '▁', '<0xF0>', '<0x9F>', '<0x99>', '<0x82>', 'x'];
  assert.deepEqual(tokenOffsets(text, tokens, { kind: 'metaspace', marker: '▁' }), [[0, 5], [6, 7], [7, 8], [8, 11], [12, 12], [12, 14], [12, 14], [12, 14], [12, 14], [14, 15]]);
});

test('QA windows: each fits the maximum length, they overlap by the stride, offsets point into the context only', async () => {
  const tok = await loadTokenizer(join(DEMO, 'finetuned'));
  const context = Array.from({ length: 90 }, (_, i) => `word${i % 7} item${i}`).join(' ');
  const question = '   which item comes after word3?';
  const features = qaFeatures(tok, question, context, { maxLength: 48, stride: 10 });
  assert.ok(Array.isArray(features) && features.length > 3);
  const all = tok.tokensWithOffsets(context);
  const seen: (readonly [number, number])[][] = features.map((f) => f.offsets.filter((o): o is [number, number] => o !== null));
  features.forEach((f, k) => {
    assert.ok(f.ids.length <= 48);
    assert.equal(f.offsets.length, f.ids.length);
    assert.equal(f.offsets[0], null, 'CLS is not context');
    if (k > 0) assert.deepEqual(seen[k]!.slice(0, 10), seen[k - 1]!.slice(-10), 'windows share stride tokens');
  });
  assert.deepEqual(seen.at(-1)!.at(-1), all.offsets.at(-1), 'the last window reaches the end');
  // An answer the logits point at in the third window comes back as that text of the context.
  const f = features[2]!;
  const firstCtx = f.offsets.findIndex((o) => o !== null);
  const startLogits = new Float32Array(f.ids.length).fill(-5);
  const endLogits = new Float32Array(f.ids.length).fill(-5);
  startLogits[firstCtx + 3] = 9;
  endLogits[firstCtx + 5] = 9;
  const features2 = features.map((g, k) => (k === 2 ? { startLogits, endLogits, offsets: g.offsets } : { startLogits: new Float32Array(g.ids.length), endLogits: new Float32Array(g.ids.length), offsets: g.offsets }));
  const answer = postprocessQa(context, features2).text;
  assert.equal(answer, context.slice(f.offsets[firstCtx + 3]![0], f.offsets[firstCtx + 5]![1]));
  assert.match(qaFeatures(tok, 'a '.repeat(80), context, { maxLength: 48 }) as string, /leaving no room/);
});
