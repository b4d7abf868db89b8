import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findTrainerCalls } from '../../src/extension/trainer-calls';

test('finds TrainingArguments / Trainer calls with a literal output_dir, across lines', () => {
  const src = [
    'from transformers import Trainer, TrainingArguments',
    'args = TrainingArguments(',
    '    output_dir="runs/bert-debdesc",  # where checkpoints go',
    '    per_device_train_batch_size=32,',
    '    learning_rate=1e-4,',
    ')',
    "trainer = Trainer(model=model, args=TrainingArguments('out/positional', num_train_epochs=3))",
    'other = TrainingArguments(output_dir=f"runs/{name}")',
    'also = TrainingArguments(output_dir=some_var)',
    "raw = Seq2SeqTrainingArguments(output_dir=r'C:\\runs\\x', save_steps=10)",
    '# TrainingArguments(output_dir="in a comment") gets no lens',
  ].join('\n');
  const calls = findTrainerCalls(src);
  assert.deepEqual(calls.map((c) => [c.line, c.callee, c.outputDir]), [
    [1, 'TrainingArguments', 'runs/bert-debdesc'],
    [6, 'TrainingArguments', 'out/positional'],
    [9, 'Seq2SeqTrainingArguments', 'C:\\runs\\x'],
  ]);
  assert.equal(calls[1]!.character, 36);
});

test('ignores calls without a literal path and unbalanced text', () => {
  assert.deepEqual(findTrainerCalls('TrainingArguments(output_dir=os.path.join("a", "b"))'), []);
  assert.deepEqual(findTrainerCalls('TrainingArguments(output_dir="unclosed"'), []);
  assert.deepEqual(findTrainerCalls('Trainer(model=m, args=args)'), []);
});
