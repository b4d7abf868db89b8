import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { autoTask } from '../../src/eval/tasks';

test('--task auto: config.json architectures first; an export whose config names none is read by its outputs', () => {
  const bare = { model_type: 'bert', num_labels: 3 };
  assert.equal(autoTask({ ...bare, architectures: ['BertForTokenClassification'] }, 'config.json'), 'token-classification');
  assert.throws(() => autoTask(bare, 'config.json'), /no architectures has no built head/, 'a built graph needs a known architecture');
  assert.equal(autoTask(bare, 'config.json', ['logits']), 'text-classification');
  assert.equal(autoTask(bare, 'config.json', ['start_logits', 'end_logits']), 'question-answering');
  assert.equal(autoTask(bare, 'config.json', ['token_logprobs']), 'causal-lm');
  assert.equal(autoTask({ model_type: 'no-such-family' }, 'config.json'), 'text-classification');
});
