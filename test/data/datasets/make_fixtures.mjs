// Writes the data set fixtures of test/eval/data-*.test.ts: the same lines as JSONL, as Parquet files
// and as Arrow files laid out as `datasets` lays them out (save_to_disk folders, a DatasetDict, a
// cache folder). pyarrow is not available here, and a fixture must not be written by the library
// that reads it: Parquet is written by parquet-wasm (arrow-rs's writer: dictionary-encoded strings,
// snappy and zstd pages) and read by hyparquet; the Arrow streams of the `datasets` layouts are
// written by arrow-rs too (parquet-wasm's Table.intoIPCStream) and read by apache-arrow. Only the
// Arrow IPC *file* (random-access format) fixture is written with apache-arrow itself: arrow-rs as
// shipped in parquet-wasm writes only the stream format.
//
//   node test/data/datasets/make_fixtures.mjs
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  Field, Int32, Int64, Float64, List, Struct, Table, Utf8, Schema, RecordBatch, makeData, vectorFromArray, tableToIPC,
} from 'apache-arrow';
import * as pq from 'parquet-wasm/node';

const here = fileURLToPath(new URL('.', import.meta.url));
const root = join(here, '..', '..', '..');
rmSync(join(here, 'files'), { recursive: true, force: true });
const out = (...p) => join(here, 'files', ...p);
mkdirSync(out(), { recursive: true });

// ---- the data ----
// Sequence classification: 60 lines of the demo's test set. The data set's ClassLabel lists the
// sections in an order unlike the model's id2label, so ids are only right when mapped by name.
const lines = readFileSync(join(root, 'test', 'data', 'demo-v1', 'debdesc-bert-mini', 'test.jsonl'), 'utf8').trim().split('\n').slice(0, 60).map((l) => JSON.parse(l));
const sections = ['web', 'text', 'sound', 'science', 'net', 'graphics', 'games', 'admin'];
// Token classification.
const nerNames = ['O', 'B-PER', 'I-PER', 'B-LOC', 'I-LOC', 'B-ORG', 'I-ORG'];
const ner = [
  ['Ada', 'Lovelace', 'lived', 'in', 'London', '.'],
  ['The', 'Debian', 'project', 'meets', 'in', 'New', 'York', 'City'],
  ['Nothing', 'here'],
  ['Grace', 'Hopper', 'worked', 'at', 'Harvard'],
  ['Paris'],
  ['Linus', 'visited', 'Helsinki', 'and', 'Portland', 'Oregon'],
];
const nerTags = [
  [1, 2, 0, 0, 3, 0],
  [0, 5, 6, 0, 0, 3, 4, 4],
  [0, 0],
  [1, 2, 0, 0, 5],
  [3],
  [1, 0, 3, 0, 3, 4],
];
// Question answering, SQuAD-shaped (answers as a struct of lists), one unanswerable line.
const qa = [
  { id: 'q1', title: 'Debian', context: 'Debian was first announced in 1993 by Ian Murdock.', question: 'Who announced Debian?', answers: { text: ['Ian Murdock'], answer_start: [39] } },
  { id: 'q2', title: 'Debian', context: 'Debian was first announced in 1993 by Ian Murdock.', question: 'When was Debian announced?', answers: { text: ['1993', 'in 1993'], answer_start: [30, 27] } },
  { id: 'q3', title: 'KEN', context: 'KEN keeps the k values a kernel density estimate points at.', question: 'What does KEN keep?', answers: { text: ['the k values'], answer_start: [10] } },
  { id: 'q4', title: 'KEN', context: 'KEN keeps the k values a kernel density estimate points at.', question: 'Who wrote Hamlet?', answers: { text: [], answer_start: [] } },
  { id: 'q5', title: 'Café', context: 'The café on the corner opens at seven.', question: 'When does the café open?', answers: { text: ['at seven'], answer_start: [29] } },
];
// Causal LM: plain texts.
const texts = lines.slice(0, 8).map((l) => ({ text: l.text }));

// ---- features as `datasets` writes them (dataset_info.json, and the "huggingface" schema metadata) ----
const classFeatures = { text: { dtype: 'string', _type: 'Value' }, label: { names: sections, _type: 'ClassLabel' }, idx: { dtype: 'int32', _type: 'Value' } };
const nerFeatures = { tokens: { feature: { dtype: 'string', _type: 'Value' }, _type: 'Sequence' }, ner_tags: { feature: { names: nerNames, _type: 'ClassLabel' }, _type: 'Sequence' } };
const qaFeatures = {
  id: { dtype: 'string', _type: 'Value' }, title: { dtype: 'string', _type: 'Value' }, context: { dtype: 'string', _type: 'Value' }, question: { dtype: 'string', _type: 'Value' },
  answers: { feature: { text: { dtype: 'string', _type: 'Value' }, answer_start: { dtype: 'int32', _type: 'Value' } }, _type: 'Sequence' },
};
const lmFeatures = { text: { dtype: 'string', _type: 'Value' } };
const hfMeta = (features) => JSON.stringify({ info: { features } });

// ---- Arrow tables (apache-arrow builds them; arrow-rs writes them) ----
function table(columns, features) {
  const fields = [];
  const data = {};
  for (const [name, type, values] of columns) {
    fields.push(new Field(name, type, true));
    data[name] = vectorFromArray(values, type);
  }
  const schema = new Schema(fields, new Map([['huggingface', hfMeta(features)]]));
  const batch = new RecordBatch(schema, makeData({ type: new Struct(fields), length: columns[0][2].length, nullCount: 0, children: fields.map((f) => data[f.name].data[0]) }));
  return new Table(schema, [batch]);
}
const strList = new List(new Field('item', new Utf8(), true));
const classTable = table([
  ['text', new Utf8(), lines.map((l) => l.text)],
  ['label', new Int64(), lines.map((l) => BigInt(sections.indexOf(l.label)))],
  ['idx', new Int32(), lines.map((_, i) => i)],
], classFeatures);
const nerTable = table([
  ['tokens', strList, ner],
  ['ner_tags', new List(new Field('item', new Int64(), true)), nerTags.map((t) => t.map(BigInt))],
], nerFeatures);
const answersType = new Struct([new Field('text', strList, true), new Field('answer_start', new List(new Field('item', new Int32(), true)), true)]);
const qaTable = table([
  ['id', new Utf8(), qa.map((q) => q.id)],
  ['title', new Utf8(), qa.map((q) => q.title)],
  ['context', new Utf8(), qa.map((q) => q.context)],
  ['question', new Utf8(), qa.map((q) => q.question)],
  ['answers', answersType, qa.map((q) => q.answers)],
], qaFeatures);
const lmTable = table([['text', new Utf8(), texts.map((t) => t.text)]], lmFeatures);
const stsb = [
  { sentence1: 'A man is playing a flute.', sentence2: 'A man is playing a flute.', label: 5.0 },
  { sentence1: 'A cat sits.', sentence2: 'A dog runs.', label: 0.6 },
  { sentence1: 'Two kids play.', sentence2: 'Children are playing.', label: 3.8 },
];
const stsbTable = table([
  ['sentence1', new Utf8(), stsb.map((s) => s.sentence1)],
  ['sentence2', new Utf8(), stsb.map((s) => s.sentence2)],
  ['label', new Float64(), stsb.map((s) => s.label)],
], { sentence1: { dtype: 'string', _type: 'Value' }, sentence2: { dtype: 'string', _type: 'Value' }, label: { dtype: 'float32', _type: 'Value' } });

// ---- writers ----
function parquet(t, features, compression, file) {
  const wasmTable = pq.Table.fromIPCStream(tableToIPC(t, 'stream'));
  const props = new pq.WriterPropertiesBuilder()
    .setCompression(compression)
    .setDictionaryEnabled(true)
    .setMaxRowGroupSize(32) // more than one row group for the 60 lines
    .setKeyValueMetadata(new Map([['huggingface', hfMeta(features)]]))
    .build();
  writeFileSync(file, pq.writeParquet(wasmTable, props));
}
/** Arrow IPC stream bytes written by arrow-rs. */
function arrowRsStream(t) {
  const bytes = pq.writeParquet(pq.Table.fromIPCStream(tableToIPC(t, 'stream')), new pq.WriterPropertiesBuilder().build());
  return pq.readParquet(bytes).intoIPCStream();
}
function saveToDisk(dir, t, features, split) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'data-00000-of-00001.arrow'), arrowRsStream(t));
  writeFileSync(join(dir, 'dataset_info.json'), JSON.stringify({ citation: '', description: '', features, homepage: '', license: '' }, null, 2));
  writeFileSync(join(dir, 'state.json'), JSON.stringify({ _data_files: [{ filename: 'data-00000-of-00001.arrow' }], _fingerprint: '0123456789abcdef', _format_columns: null, _format_kwargs: {}, _format_type: null, _output_all_columns: false, _split: split }, null, 2));
}
const jsonl = (file, rows) => writeFileSync(file, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');

// classification
jsonl(out('debdesc.jsonl'), lines.map((l) => ({ text: l.text, label: l.label })));
parquet(classTable, classFeatures, pq.Compression.SNAPPY, out('debdesc.snappy.parquet'));
saveToDisk(out('debdesc-saved'), classTable, classFeatures, 'test');
// a DatasetDict.save_to_disk(): one folder per split
mkdirSync(out('debdesc-dict'), { recursive: true });
writeFileSync(out('debdesc-dict', 'dataset_dict.json'), JSON.stringify({ splits: ['train', 'test'] }));
saveToDisk(out('debdesc-dict', 'test'), classTable, classFeatures, 'test');
saveToDisk(out('debdesc-dict', 'train'), table([
  ['text', new Utf8(), ['x']], ['label', new Int64(), [0n]], ['idx', new Int32(), [0]],
], classFeatures), classFeatures, 'train');
// a datasets cache folder: <name>/<config>/<version>/<hash>/<name>-<split>.arrow (+ a sharded split)
const cache = out('hf-cache', 'debdesc', 'default', '0.0.0', '5d1c7bb1a5e0');
mkdirSync(cache, { recursive: true });
writeFileSync(join(cache, 'debdesc-test.arrow'), arrowRsStream(classTable));
const half = (a, b) => table([
  ['text', new Utf8(), lines.slice(a, b).map((l) => l.text)],
  ['label', new Int64(), lines.slice(a, b).map((l) => BigInt(sections.indexOf(l.label)))],
  ['idx', new Int32(), lines.slice(a, b).map((_, i) => a + i)],
], classFeatures);
writeFileSync(join(cache, 'debdesc-validation-00000-of-00002.arrow'), arrowRsStream(half(0, 25)));
writeFileSync(join(cache, 'debdesc-validation-00001-of-00002.arrow'), arrowRsStream(half(25, 60)));
writeFileSync(join(cache, 'dataset_info.json'), JSON.stringify({ builder_name: 'debdesc', config_name: 'default', features: classFeatures, splits: { test: { name: 'test', num_examples: 60 }, validation: { name: 'validation', num_examples: 60 } } }));
// an Arrow IPC file (random-access format; written by apache-arrow, see the header)
writeFileSync(out('debdesc.arrow'), tableToIPC(classTable, 'file'));

// token classification
jsonl(out('ner.jsonl'), ner.map((tokens, i) => ({ tokens, ner_tags: nerTags[i].map((t) => nerNames[t]) })));
parquet(nerTable, nerFeatures, pq.Compression.ZSTD, out('ner.zstd.parquet'));
saveToDisk(out('ner-saved'), nerTable, nerFeatures, 'validation');

// question answering
jsonl(out('squad.jsonl'), qa);
parquet(qaTable, qaFeatures, pq.Compression.ZSTD, out('squad.zstd.parquet'));
saveToDisk(out('squad-saved'), qaTable, qaFeatures, 'validation');

// causal LM
jsonl(out('texts.jsonl'), texts);
parquet(lmTable, lmFeatures, pq.Compression.SNAPPY, out('texts.snappy.parquet'));

// regression (GLUE STS-B shaped)
jsonl(out('stsb.jsonl'), stsb);
parquet(stsbTable, {}, pq.Compression.SNAPPY, out('stsb.snappy.parquet'));


console.log('wrote', out());
