import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { FAMILIES, familyOf, familyOfType, supportedModelTypes } from '../../src/models/registry';

test('every model_type maps to exactly one family', () => {
  const seen = new Set<string>();
  for (const f of FAMILIES) for (const t of f.modelTypes) {
    assert.ok(!seen.has(t), `${t} registered twice`);
    seen.add(t);
  }
  assert.deepEqual(supportedModelTypes(), [...seen].sort());
});

test('families are found by config.json model_type', () => {
  assert.equal(familyOf({ model_type: 'xlm-roberta' })?.id, 'roberta');
  assert.equal(familyOf({ model_type: 'qwen2' })?.id, 'llama');
  assert.equal(familyOfType('deberta-v2')?.id, 'deberta-v2');
  assert.equal(familyOf({ model_type: 'no-such-model' }), undefined);
  assert.equal(familyOf(undefined), undefined);
});

test('task heads and pre-training heads of one family never overlap', () => {
  const names = ['classifier.bias', 'mask_predictions.classifier.bias', 'cls.predictions.bias', 'lm_head.dense.weight', 'score.weight', 'pooler.dense.weight'];
  for (const f of FAMILIES) for (const n of names) {
    assert.ok(!(f.taskHeads.test(n) && f.pretrainingHeads.test(n)), `${f.id}: ${n} is both a task head and a pre-training head`);
  }
  assert.ok(!FAMILIES.find((f) => f.id === 'deberta-v2')!.taskHeads.test('mask_predictions.classifier.bias'));
});
