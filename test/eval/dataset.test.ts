import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadDataset, type DatasetOptions } from '../../src/eval';
import { DataError, CancelledError } from '../../src/errors';
import { tmp } from '../helpers';

const LABELS = ['neg', 'pos', 'mixed'];

function file(name: string, content: string): string {
  const p = join(tmp('ken-data-'), name);
  writeFileSync(p, content);
  return p;
}

const load = (p: string, o: Partial<DatasetOptions> = {}) => loadDataset(p, { labels: LABELS, ...o });
const brief = (d: Awaited<ReturnType<typeof load>>) => d.samples.map((s) => [s.text, s.pair, s.label, s.line]);

test('JSONL: names and integer ids as labels, blank lines ignored, line numbers kept', async () => {
  const p = file('d.jsonl', '\ufeff{"text": "good", "label": "pos"}\n\n{"text": "bad", "label": 0}\r\n{"text": "so-so", "label": "2"}\n');
  const d = await load(p);
  assert.equal(d.format, 'jsonl');
  assert.deepEqual(brief(d), [['good', undefined, 1, 1], ['bad', undefined, 0, 3], ['so-so', undefined, 2, 4]]);
  assert.equal(d.skipped, 0);
});

test('CSV: quoted fields with commas, newlines and doubled quotes; header order free', async () => {
  const p = file('d.csv', 'label,text\npos,"a, b"\nneg,"first line\nsecond line"\n1,"he said ""hi"""\n\nmixed,plain\n');
  const d = await load(p);
  assert.equal(d.format, 'csv');
  assert.deepEqual(brief(d), [
    ['a, b', undefined, 1, 2],
    ['first line\nsecond line', undefined, 0, 3],
    ['he said "hi"', undefined, 1, 5],
    ['plain', undefined, 2, 7],
  ]);
});

test('TSV: tab-separated, quotes taken literally (as GLUE writes them), text pairs', async () => {
  const p = file('d.tsv', 'sentence1\tsentence2\tlabel\n"quoted" start\tsecond, with comma\t1\nno\tyes\t0\n');
  const d = await load(p, { textField: 'sentence1', textPairField: 'sentence2' });
  assert.equal(d.format, 'tsv');
  assert.deepEqual(brief(d), [['"quoted" start', 'second, with comma', 1, 2], ['no', 'yes', 0, 3]]);
});

test('JSONL text pairs and custom field names', async () => {
  const p = file('pairs.jsonl', '{"premise": "a", "hypothesis": "b", "y": "mixed"}\n');
  const d = await load(p, { textField: 'premise', textPairField: 'hypothesis', labelField: 'y' });
  assert.deepEqual(brief(d), [['a', 'b', 2, 1]]);
});

test('the format is sniffed when the extension does not tell', async () => {
  assert.equal((await load(file('d.txt', '{"text": "x", "label": 1}\n'))).format, 'jsonl');
  assert.equal((await load(file('d.data', 'text\tlabel\nx\t1\n'))).format, 'tsv');
  assert.equal((await load(file('d.data', 'text,label\nx,1\n'))).format, 'csv');
});

const BAD: { name: string; file: string; content: string; opts?: Partial<DatasetOptions>; message: RegExp }[] = [
  { name: 'not JSON', file: 'b.jsonl', content: '{"text": "a", "label": 1}\n{"text": oops}\n', message: /b\.jsonl line 2: not valid JSON$/ },
  { name: 'not an object', file: 'b.jsonl', content: '{"text": "a", "label": 1}\n\n[1, 2]\n', message: /b\.jsonl line 3: not a JSON object$/ },
  { name: 'missing text', file: 'b.jsonl', content: '{"label": 1}\n', message: /b\.jsonl line 1: missing field "text"$/ },
  { name: 'missing label', file: 'b.jsonl', content: '{"text": "a", "label": 1}\n{"text": "b"}\n', message: /b\.jsonl line 2: missing field "label"$/ },
  { name: 'null label', file: 'b.jsonl', content: '{"text": "b", "label": null}\n', message: /line 1: missing field "label"$/ },
  { name: 'text not a string', file: 'b.jsonl', content: '{"text": 5, "label": 1}\n', message: /line 1: field "text" is not text$/ },
  { name: 'missing pair', file: 'b.jsonl', content: '{"text": "a", "label": 1}\n', opts: { textPairField: 'text_b' }, message: /line 1: missing field "text_b"$/ },
  { name: 'unknown label name', file: 'b.jsonl', content: '{"text": "a", "label": 1}\n{"text": "a", "label": "meh"}\n', message: /b\.jsonl line 2: unknown label "meh" \(the model's labels: neg, pos, mixed; or an id 0-2\)$/ },
  { name: 'label id out of range', file: 'b.jsonl', content: '{"text": "a", "label": 3}\n', message: /line 1: unknown label 3 / },
  { name: 'fractional label', file: 'b.jsonl', content: '{"text": "a", "label": 1.5}\n', message: /line 1: unknown label 1\.5 / },
  { name: 'CSV unknown label', file: 'b.csv', content: 'text,label\n"x\ny",pos\nz,7\n', message: /b\.csv line 4: unknown label "7"/ },
  { name: 'CSV field count', file: 'b.csv', content: 'text,label\nx,pos\ny,pos,extra\n', message: /b\.csv line 3: has 3 fields, the header has 2$/ },
  { name: 'CSV too few fields', file: 'b.csv', content: 'text,label\nlonely\n', message: /b\.csv line 2: has 1 fields, the header has 2$/ },
  { name: 'TSV field count', file: 'b.tsv', content: 'text\tlabel\na\tb\tpos\n', message: /b\.tsv line 2: has 3 fields, the header has 2 \(TSV fields are split at every tab\)$/ },
];

for (const c of BAD) {
  test(`bad line (${c.name}): a DataError naming the file and line`, async () => {
    const p = file(c.file, c.content);
    await assert.rejects(load(p, c.opts), (e: unknown) => e instanceof DataError && c.message.test(e.message) && e.message.startsWith(p) && !e.message.includes('\n'));
  });
}

test('with skipBadLines every bad line is skipped and counted, good ones kept', async () => {
  const p = file('mixed.jsonl', [
    '{"text": "a", "label": "pos"}', 'nope', '{"text": "b"}', '{"text": "c", "label": "meh"}', '[]', '{"text": 1, "label": 0}', '{"text": "d", "label": 0}',
  ].join('\n'));
  const d = await load(p, { skipBadLines: true });
  assert.deepEqual(brief(d), [['a', undefined, 1, 1], ['d', undefined, 0, 7]]);
  assert.equal(d.skipped, 5);
  assert.deepEqual(d.skippedReasons, [
    'mixed.jsonl line 2: not valid JSON', 'mixed.jsonl line 3: missing field "label"', 'mixed.jsonl line 4: unknown label "meh" (the model\'s labels: neg, pos, mixed; or an id 0-2)',
    'mixed.jsonl line 5: not a JSON object', 'mixed.jsonl line 6: field "text" is not text',
  ]);
  const csv = await load(file('m.csv', 'text,label\na,pos\nb,pos,x\nc,what\nd,0\n'), { skipBadLines: true });
  assert.deepEqual([csv.samples.map((s) => s.text), csv.skipped], [['a', 'd'], 2]);
});

test('a broken CSV quote is a DataError with its line even when skipping', async () => {
  const p = file('q.csv', 'text,label\nok,pos\n"bad"x,pos\nfine,neg\n');
  await assert.rejects(load(p, { skipBadLines: true }), (e: unknown) => e instanceof DataError && /q\.csv line 3: .*Invalid Closing Quote.*cannot be skipped/.test(e.message));
  const open = file('open.csv', 'text,label\n"never closed,pos\n');
  await assert.rejects(load(open), (e: unknown) => e instanceof DataError && /open\.csv line 2: Quote Not Closed/.test(e.message));
});

test('a header without the named column, no samples, no file: one-line DataErrors', async () => {
  await assert.rejects(load(file('h.csv', 'sentence,label\nx,pos\n')), { name: 'DataError', message: /h\.csv: the header has no column "text" \(columns: sentence, label\); name the right one with --text-field$/ });
  await assert.rejects(load(file('e.jsonl', '\n\n')), { name: 'DataError', message: /e\.jsonl: no usable samples$/ });
  await assert.rejects(load(file('e.csv', '')), { name: 'DataError', message: /e\.csv: empty/ });
  await assert.rejects(load(file('s.jsonl', 'x\n'), { skipBadLines: true }), { name: 'DataError', message: /no usable samples \(1 bad lines skipped; first: s\.jsonl line 1: not valid JSON\)/ });
  await assert.rejects(load(join(tmp(), 'missing.jsonl')), { name: 'DataError', message: /missing\.jsonl: no such file$/ });
});

test('loading stops on an aborted signal', async () => {
  const c = new AbortController();
  c.abort();
  await assert.rejects(load(file('a.jsonl', '{"text": "a", "label": 1}\n'), { signal: c.signal }), CancelledError);
  await assert.rejects(load(file('a.csv', 'text,label\na,1\n'), { signal: c.signal }), CancelledError);
});

test('a JSON array file is refused with a hint to write JSONL', async () => {
  await assert.rejects(load(file('arr.json', '[{"text": "a", "label": 1}]')), { name: 'DataError', message: /arr\.json: holds a JSON array; write one JSON object per line \(JSONL\)$/ });
});
