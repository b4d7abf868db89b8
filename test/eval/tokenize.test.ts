import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadTokenizer, truncateTokens, truncationOf, type ModelTokenizer } from '../../src/eval';
import { DEMO, tmp } from '../helpers';

const FT = join(DEMO, 'finetuned');
const texts = readFileSync(join(DEMO, 'test.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { text: string }).text);

let cached: ModelTokenizer | undefined;
const tokenizer = async (): Promise<ModelTokenizer> => (cached ??= await loadTokenizer(FT));

test('short texts: our ids and type ids equal the library\'s own encode() on the first 200 test lines', async () => {
  const tok = await tokenizer();
  for (const t of texts.slice(0, 200)) {
    const ours = tok.encode(t);
    const ref = tok.referenceEncode(t);
    assert.ok(ref.ids.length <= 64);
    assert.deepEqual([...ours.ids], ref.ids, t);
    assert.deepEqual([...ours.typeIds], ref.typeIds);
    assert.equal(ours.truncated, false);
  }
});

test('text pairs: [CLS] A [SEP] B [SEP] with type ids 0 then 1, as the library encodes them', async () => {
  const tok = await tokenizer();
  for (let i = 0; i + 1 < 40; i += 2) {
    const ours = tok.encode(texts[i]!, texts[i + 1]!);
    const ref = tok.referenceEncode(texts[i]!, texts[i + 1]!);
    assert.deepEqual([[...ours.ids], [...ours.typeIds]], [ref.ids, ref.typeIds]);
    assert.ok(ours.typeIds.includes(1));
  }
});

test('a long text is cut to max length (64, from tokenizer.json) keeping [CLS] first and [SEP] last', async () => {
  const tok = await tokenizer();
  assert.equal(tok.maxLength, 64);
  const long = texts.slice(0, 30).join(' ');
  const full = tok.referenceEncode(long);
  assert.ok(full.ids.length > 100);
  const cut = tok.encode(long);
  assert.equal(cut.truncated, true);
  assert.equal(cut.ids.length, 64);
  assert.equal(tok.idToToken(cut.ids[0]!), '[CLS]');
  assert.equal(tok.idToToken(cut.ids[63]!), '[SEP]');
  // The kept text tokens are the first 62 of the untruncated encoding.
  assert.deepEqual([...cut.ids.subarray(1, 63)], full.ids.slice(1, 63));
});

test('a long pair is cut longest-first to 64 with both [SEP]s', async () => {
  const tok = await tokenizer();
  const long = texts.slice(0, 30).join(' ');
  const short = texts[40]!;
  const nShort = tok.referenceEncode(short).ids.length - 2;
  const e = tok.encode(short, long);
  assert.equal(e.ids.length, 64);
  const seps = [...e.ids].flatMap((id, i) => (tok.idToToken(id) === '[SEP]' ? [i] : []));
  assert.deepEqual(seps, [1 + nShort, 63]); // the short first text is kept whole
  assert.equal(e.typeIds[64 - 1], 1);
  const both = tok.encode(long, long);
  const sepsBoth = [...both.ids].flatMap((id, i) => (tok.idToToken(id) === '[SEP]' ? [i] : []));
  assert.deepEqual(sepsBoth, [1 + 30, 63]); // 61 text tokens: 30 + 31 (the second gets the odd one on a tie)
});

test('truncateTokens follows the Rust tokenizers crate', () => {
  const seq = (n: number, p: string): string[] => Array.from({ length: n }, (_, i) => `${p}${i}`);
  const lens = (r: [string[], string[] | null]): [number, number | undefined] => [r[0].length, r[1]?.length];
  const lf = { strategy: 'LongestFirst', direction: 'Right' } as const;
  assert.deepEqual(lens(truncateTokens(seq(3, 'a'), seq(6, 'b'), 7, lf)), [3, 4]);
  assert.deepEqual(lens(truncateTokens(seq(6, 'a'), seq(3, 'b'), 7, lf)), [4, 3]);
  assert.deepEqual(lens(truncateTokens(seq(10, 'a'), seq(10, 'b'), 7, lf)), [3, 4]);
  assert.deepEqual(lens(truncateTokens(seq(12, 'a'), seq(10, 'b'), 7, lf)), [4, 3]);
  assert.deepEqual(lens(truncateTokens(seq(3, 'a'), seq(3, 'b'), 7, lf)), [3, 3]);
  assert.deepEqual(truncateTokens(seq(5, 'a'), null, 3, lf)[0], ['a0', 'a1', 'a2']);
  assert.deepEqual(truncateTokens(seq(5, 'a'), null, 3, { ...lf, direction: 'Left' })[0], ['a2', 'a3', 'a4']);
  assert.deepEqual(lens(truncateTokens(seq(5, 'a'), seq(5, 'b'), 7, { ...lf, strategy: 'OnlyFirst' })), [2, 5]);
  assert.deepEqual(lens(truncateTokens(seq(5, 'a'), seq(5, 'b'), 7, { ...lf, strategy: 'OnlySecond' })), [5, 2]);
});

test('maximum length: tokenizer.json, else tokenizer_config, else max_position_embeddings, capped by it', () => {
  const pos = { max_position_embeddings: 128 };
  assert.equal(truncationOf({ truncation: { max_length: 64 } }, { model_max_length: 100 }, pos).maxLength, 64);
  assert.equal(truncationOf({ truncation: null }, { model_max_length: 100 }, pos).maxLength, 100);
  assert.equal(truncationOf({}, { model_max_length: 1e30 }, pos).maxLength, 128);
  assert.equal(truncationOf({}, undefined, pos).maxLength, 128);
  assert.equal(truncationOf({}, { model_max_length: 512 }, pos).maxLength, 128);
  assert.equal(truncationOf({}, undefined, undefined).maxLength, 512);
});

test('a folder without tokenizer.json gets a CheckpointError saying how to write one', async () => {
  const d = tmp();
  await assert.rejects(loadTokenizer(d), { name: 'CheckpointError', message: /tokenizer\.json: missing \(save the tokenizer with tokenizer\.save_pretrained\(dir\)/ });
  const bad = join(tmp(), 'bad');
  mkdirSync(bad);
  writeFileSync(join(bad, 'tokenizer.json'), '{ nope');
  await assert.rejects(loadTokenizer(bad), { name: 'CheckpointError', message: /tokenizer\.json: not valid JSON$/ });
  // Without tokenizer_config.json, truncation still comes from tokenizer.json.
  const bare = join(tmp(), 'bare');
  mkdirSync(bare);
  symlinkSync(join(FT, 'tokenizer.json'), join(bare, 'tokenizer.json'));
  assert.equal((await loadTokenizer(bare)).maxLength, 64);
});
