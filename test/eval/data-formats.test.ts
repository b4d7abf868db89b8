// The same lines as JSONL, Parquet (snappy and zstd pages, dictionary-encoded strings, nested
// answers), Arrow IPC and the folders `datasets` writes give the same samples and the same metrics.
// Fixtures: test/data/datasets/make_fixtures.mjs (written by parquet-wasm/arrow-rs, read by
// hyparquet/apache-arrow).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { parquetMetadata } from 'hyparquet';
import {
  evaluate, loadDataset, loadQaDataset, loadTextDataset, loadTokenDataset, openClassifier, openData, squadMetrics, encodeDataset,
} from '../../src/eval';
import { DataError, UsageError } from '../../src/errors';
import { DEMO, ROOT, tmp } from '../helpers';

const D = join(ROOT, 'test', 'data', 'datasets', 'files');
const MODEL_LABELS = ['admin', 'games', 'graphics', 'net', 'science', 'sound', 'text', 'web'];
const brief = (d: { samples: { text: string; label: number; pair?: string }[] }) => d.samples.map((s) => [s.text, s.label]);

function parquetInfo(file: string): { codecs: Set<string>; encodings: Set<string>; rowGroups: number; hf: boolean } {
  const b = readFileSync(file);
  const md = parquetMetadata(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
  const codecs = new Set<string>();
  const encodings = new Set<string>();
  for (const rg of md.row_groups) for (const c of rg.columns) {
    codecs.add(c.meta_data!.codec);
    for (const e of c.meta_data!.encodings) encodings.add(e);
  }
  return { codecs, encodings, rowGroups: md.row_groups.length, hf: !!md.key_value_metadata?.some((kv) => kv.key === 'huggingface') };
}

test('the fixtures hold what the Hub serves: snappy and zstd pages, dictionary-encoded strings, ClassLabel features', () => {
  const s = parquetInfo(join(D, 'debdesc.snappy.parquet'));
  assert.deepEqual([...s.codecs], ['SNAPPY']);
  assert.ok(s.encodings.has('RLE_DICTIONARY') && s.rowGroups === 2 && s.hf);
  const z = parquetInfo(join(D, 'squad.zstd.parquet'));
  assert.deepEqual([...z.codecs], ['ZSTD']);
  assert.ok(z.encodings.has('RLE_DICTIONARY'));
});

test('classification: Parquet, Arrow IPC file, save_to_disk, DatasetDict and cache folders read as the JSONL (ids through ClassLabel names)', async () => {
  const jsonl = brief(await loadDataset(join(D, 'debdesc.jsonl'), { labels: MODEL_LABELS }));
  assert.equal(jsonl.length, 60);
  for (const [path, split, format] of [
    [join(D, 'debdesc.snappy.parquet'), undefined, 'parquet'],
    [join(D, 'debdesc.arrow'), undefined, 'arrow'],
    [join(D, 'debdesc-saved'), undefined, 'save_to_disk'],
    [join(D, 'debdesc-dict'), 'test', 'save_to_disk'],
    [join(D, 'hf-cache'), 'test', 'hf_cache'],
    [join(D, 'hf-cache', 'debdesc', 'default', '0.0.0', '5d1c7bb1a5e0'), 'validation', 'hf_cache'],
  ] as const) {
    const d = await loadDataset(path, { labels: MODEL_LABELS, split });
    assert.equal(d.format, format, path);
    assert.deepEqual(brief(d), jsonl, `${path} ${split ?? ''}`);
    if (split) assert.equal(d.split, split);
  }
  // the stored ids are the data set's, not the model's: read without the names they would differ
  const ids = brief(await loadDataset(join(D, 'debdesc.jsonl'), { labels: MODEL_LABELS }));
  assert.notDeepEqual(ids.map(([, l]) => l), (await openRowsLabels(join(D, 'debdesc.snappy.parquet'))));
});

async function openRowsLabels(path: string): Promise<number[]> {
  const data = await openData(path);
  const out: number[] = [];
  await data.read({ row: (_n, get) => out.push(Number(get('label'))), bad: () => undefined }, []);
  return out;
}

test('a Parquet file and a save_to_disk folder give the same metrics as the same lines in JSONL', async () => {
  const clf = await openClassifier(join(DEMO, 'finetuned'), undefined, { device: 'cpu' });
  try {
    const run = async (p: string) => {
      const r = await evaluate(clf, await encodeDataset(clf.tokenizer, await loadDataset(p, { labels: clf.labels })));
      return r.metrics;
    };
    const j = await run(join(D, 'debdesc.jsonl'));
    assert.equal(j?.kind, 'single_label');
    assert.ok(j && j.kind === 'single_label' && j.accuracy > 0.3 && j.weighted_f1 > 0);
    assert.deepEqual(await run(join(D, 'debdesc.snappy.parquet')), j);
    assert.deepEqual(await run(join(D, 'debdesc-saved')), j);
  } finally {
    await clf.close();
  }
});

test('token classification: zstd Parquet and save_to_disk (Sequence(ClassLabel) ids) read as the JSONL tag names', async () => {
  const labels = ['O', 'B-LOC', 'I-LOC', 'B-PER', 'I-PER', 'B-ORG', 'I-ORG'];
  const j = await loadTokenDataset(join(D, 'ner.jsonl'), { labels });
  assert.deepEqual(j.samples[0]!.tags.map((t) => labels[t]), ['B-PER', 'I-PER', 'O', 'O', 'B-LOC', 'O']);
  for (const p of ['ner.zstd.parquet', 'ner-saved']) {
    const d = await loadTokenDataset(join(D, p), { labels });
    assert.deepEqual(d.samples.map((s) => [s.words, s.tags]), j.samples.map((s) => [s.words, s.tags]), p);
  }
  await assert.rejects(loadTokenDataset(join(D, 'ner.zstd.parquet'), { labels: ['O', 'B-PER', 'I-PER'] }),
    (e: unknown) => e instanceof DataError && /ner\.zstd\.parquet row 1: word 5: label "B-LOC" \(class 3 of the data set's ClassLabel\) is not one of the model's labels \(O, B-PER, I-PER\)$/.test(e.message));
});

test('question answering: nested answers structs (zstd Parquet, save_to_disk) read as the JSONL; unanswerable lines make it SQuAD 2.0', async () => {
  const j = await loadQaDataset(join(D, 'squad.jsonl'));
  assert.equal(j.v2, true);
  assert.deepEqual(j.samples[1]!.answers, ['1993', 'in 1993']);
  assert.deepEqual(j.samples[1]!.answerStarts, [30, 27]);
  const predictions = ['Ian Murdock', 'in 1993', 'k values', '', 'seven'];
  const score = (d: typeof j) => squadMetrics(d.samples.map((s, i) => ({ prediction: predictions[i]!, answers: s.answers })), d.v2);
  for (const p of ['squad.zstd.parquet', 'squad-saved']) {
    const d = await loadQaDataset(join(D, p));
    assert.deepEqual(d.samples, j.samples, p);
    assert.deepEqual(score(d), score(j));
  }
});

test('texts and regression targets from Parquet equal the JSONL', async () => {
  assert.deepEqual((await loadTextDataset(join(D, 'texts.snappy.parquet'))).samples, (await loadTextDataset(join(D, 'texts.jsonl'))).samples);
  const opts = { labels: [] as string[], problem: 'regression' as const, textField: 'sentence1', textPairField: 'sentence2' };
  const a = await loadDataset(join(D, 'stsb.snappy.parquet'), opts);
  assert.deepEqual(a.samples.map((s) => [s.text, s.pair, s.value]), (await loadDataset(join(D, 'stsb.jsonl'), opts)).samples.map((s) => [s.text, s.pair, s.value]));
  assert.deepEqual(a.samples.map((s) => s.value), [5, 0.6, 3.8]);
});

test('labels the model does not know: one line naming the label, or skipped and counted', async () => {
  const without = MODEL_LABELS.filter((l) => l !== 'web');
  await assert.rejects(loadDataset(join(D, 'debdesc-saved'), { labels: without }),
    (e: unknown) => e instanceof DataError && /data-00000-of-00001\.arrow row 1: label "web" \(class 0 of the data set's ClassLabel\) is not one of the model's labels/.test(e.message) && !e.message.includes('\n'));
  const d = await loadDataset(join(D, 'debdesc.snappy.parquet'), { labels: without, skipBadLines: true });
  const webLines = (await loadDataset(join(D, 'debdesc.jsonl'), { labels: MODEL_LABELS })).samples.filter((s) => s.label === 7).length;
  assert.ok(webLines > 0);
  assert.equal(d.skipped, webLines);
  assert.equal(d.samples.length, 60 - webLines);
  assert.match(d.skippedReasons[0]!, /^debdesc\.snappy\.parquet row \d+: label "web"/);
});

test('folders: a split that is not there, several splits without --split, a missing column', async () => {
  await assert.rejects(loadDataset(join(D, 'debdesc-dict'), { labels: MODEL_LABELS }), (e: unknown) => e instanceof UsageError && /holds the splits train, test; name one with --split$/.test(e.message));
  await assert.rejects(loadDataset(join(D, 'hf-cache'), { labels: MODEL_LABELS, split: 'train' }), (e: unknown) => e instanceof UsageError && /no split "train" \(splits: test, validation\)$/.test(e.message));
  await assert.rejects(loadDataset(join(D, 'debdesc.snappy.parquet'), { labels: MODEL_LABELS, textField: 'sentence' }), (e: unknown) => e instanceof DataError && /no column "sentence" \(columns: text, label, idx\); name the right one with --text-field$/.test(e.message));
  await assert.rejects(loadDataset(join(D, 'debdesc.jsonl'), { labels: MODEL_LABELS, split: 'test' }), UsageError);
});

test('a cache folder holding several copies of a split reads the newest and says which', async () => {
  const root = join(tmp(), 'cache');
  const hash = join(D, 'hf-cache', 'debdesc', 'default', '0.0.0', '5d1c7bb1a5e0');
  const older = join(root, 'debdesc', 'default', '0.0.0', 'aaaaaaaaaaaa');
  const newer = join(root, 'debdesc', 'default', '0.0.1', 'bbbbbbbbbbbb');
  for (const dir of [older, newer]) {
    mkdirSync(dir, { recursive: true });
    for (const f of ['dataset_info.json', 'debdesc-test.arrow']) copyFileSync(join(hash, f), join(dir, f));
  }
  // the older copy holds the validation shards' first 25 lines under the test name
  copyFileSync(join(hash, 'debdesc-validation-00000-of-00002.arrow'), join(older, 'debdesc-test.arrow'));
  utimesSync(join(older, 'debdesc-test.arrow'), new Date(2020, 0, 1), new Date(2020, 0, 1));
  const d = await loadDataset(root, { labels: MODEL_LABELS, split: 'test' });
  assert.equal(d.samples.length, 60);
  assert.match(d.note ?? '', /2 copies of split "test"; read the newest, debdesc\/default\/0\.0\.1\/bbbbbbbbbbbb/);
});
