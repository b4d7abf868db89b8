// config.json's one owner (formats/hf-config.ts): reading it, its classes and its problem type; openModel,
// evaluation and the extension's base-model guess all read it through here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CheckpointError } from '../../src/errors';
import { configLabels, declaredLabels, peekConfig, problemType, readConfig, readConfigFile } from '../../src/formats/hf-config';
import { openModel } from '../../src/checkpoint/folder';
import { synthModel, tmp } from '../helpers';

function folderWith(config: string | undefined): string {
  const d = tmp('ken-hf-config-');
  if (config !== undefined) writeFileSync(join(d, 'config.json'), config);
  return d;
}

test('readConfig: the validated config, undefined without one, a one-line error naming the file for a bad one', async () => {
  const d = folderWith(JSON.stringify({ model_type: 'bert', num_labels: 3, _name_or_path: 'bert-base-uncased' }));
  assert.deepEqual(await readConfig(d), { model_type: 'bert', num_labels: 3, _name_or_path: 'bert-base-uncased' });
  assert.equal(await readConfig(folderWith(undefined)), undefined);
  const bad = folderWith(JSON.stringify({ num_labels: 'three' }));
  await assert.rejects(readConfig(bad), (e: Error) => e instanceof CheckpointError && e.message.startsWith(join(bad, 'config.json')) && /num_labels/.test(e.message));
  const notJson = folderWith('{ "model_type": ');
  await assert.rejects(readConfig(notJson), (e: Error) => e instanceof CheckpointError && e.message === `${join(notJson, 'config.json')}: not valid JSON`);
  await assert.rejects(readConfigFile(join(folderWith(undefined), 'config.json')), /config\.json: missing/);
});

test('peekConfig: the config, else undefined (missing, not JSON, invalid), never an error', async () => {
  assert.equal((await peekConfig(folderWith(JSON.stringify({ model_type: 'gpt2' }))))?.['model_type'], 'gpt2');
  assert.equal(await peekConfig(folderWith(undefined)), undefined);
  assert.equal(await peekConfig(folderWith('not json')), undefined);
  assert.equal(await peekConfig(folderWith(JSON.stringify({ vocab_size: -1 }))), undefined);
});

test('openModel reads config.json through the same owner: the same validation and message as evaluation', async () => {
  const d = tmp('ken-hf-config-model-');
  await synthModel(d, [{ name: 'w', shape: [2, 3], values: new Float32Array(6) }]);
  writeFileSync(join(d, 'config.json'), JSON.stringify({ model_type: 'bert', num_labels: 0 }));
  const fromEval = await readConfig(d).then(() => 'no error', (e: Error) => e.message);
  await assert.rejects(openModel(d, 'fine-tuned'), (e: Error) => e instanceof CheckpointError && e.message === fromEval);
  writeFileSync(join(d, 'config.json'), JSON.stringify({ model_type: 'bert', id2label: { 0: 'neg', 1: 'pos' } }));
  assert.deepEqual((await openModel(d, 'fine-tuned')).config, await readConfig(d));
});

test('configLabels: id2label, else label2id, else num_labels as LABEL_i; bad numbering and shared names are errors', () => {
  assert.deepEqual(configLabels({ id2label: { 1: 'pos', 0: 'neg' } }, 'c.json'), ['neg', 'pos']);
  assert.deepEqual(configLabels({ label2id: { pos: 1, neg: 0 } }, 'c.json'), ['neg', 'pos']);
  assert.deepEqual(configLabels({ num_labels: 3 }, 'c.json'), ['LABEL_0', 'LABEL_1', 'LABEL_2']);
  assert.equal(configLabels({}, 'c.json'), undefined);
  assert.equal(configLabels(undefined, 'c.json'), undefined);
  assert.throws(() => configLabels({ id2label: { 0: 'a', 2: 'b' } }, 'c.json'), /^CheckpointError: c\.json: id2label\/label2id must number the classes 0\.\.1 once each/);
  assert.throws(() => configLabels({ id2label: { 0: 'a', 1: 'a' } }, 'c.json'), /c\.json: two classes share a name/);
});

test('declaredLabels: the count config.json declares, without names', () => {
  assert.equal(declaredLabels({ id2label: { 0: 'a', 1: 'b' }, num_labels: 5 }), 2);
  assert.equal(declaredLabels({ label2id: { a: 0, b: 1, c: 2 } }), 3);
  assert.equal(declaredLabels({ num_labels: 4 }), 4);
  assert.equal(declaredLabels({ num_labels: 0 }), undefined);
  assert.equal(declaredLabels(undefined), undefined);
});

test('problemType: problem_type when set, else regression for one label and single-label otherwise; a bad one names the file', () => {
  assert.equal(problemType({ problem_type: 'multi_label_classification', num_labels: 1 }), 'multi_label_classification');
  assert.equal(problemType({ num_labels: 1 }), 'regression');
  assert.equal(problemType({ id2label: { 0: 'score' } }), 'regression');
  assert.equal(problemType({ id2label: { 0: 'a', 1: 'b' } }), 'single_label_classification');
  assert.equal(problemType({}), 'single_label_classification');
  assert.throws(() => problemType({ problem_type: 'ranking' }, 'm/config.json'), /^CheckpointError: m\/config\.json: problem_type "ranking" is not one of/);
});

test('a folder whose config.json is a folder is not read as a config', async () => {
  const d = tmp('ken-hf-config-dir-');
  mkdirSync(join(d, 'config.json'));
  await assert.rejects(readConfig(d), CheckpointError);
  assert.equal(await peekConfig(d), undefined);
});
