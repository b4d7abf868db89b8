// A base checkpoint saved with its pre-training head (BertForMaskedLM, ElectraForPreTraining, ...) has no
// task head to evaluate: resolveTask and `ken eval` say so in one line, name the heads that evaluate, and
// point at the fine-tuned model.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { CheckpointError } from '../../src/errors';
import { resolveTask } from '../../src/models/build';
import { DEMO, fixture, ken } from '../helpers';

const CASES = [
  { model_type: 'bert', arch: 'BertForMaskedLM', kind: 'masked LM', head: 'BertForSequenceClassification' },
  { model_type: 'bert', arch: 'BertForPreTraining', kind: 'masked LM and next-sentence prediction', head: 'BertForTokenClassification' },
  { model_type: 'roberta', arch: 'RobertaForMaskedLM', kind: 'masked LM', head: 'RobertaForSequenceClassification' },
  { model_type: 'xlm-roberta', arch: 'XLMRobertaForMaskedLM', kind: 'masked LM', head: 'XLMRobertaForQuestionAnswering' },
  { model_type: 'deberta-v2', arch: 'DebertaV2ForMaskedLM', kind: 'masked LM', head: 'DebertaV2ForSequenceClassification' },
  { model_type: 'electra', arch: 'ElectraForPreTraining', kind: 'replaced-token detection', head: 'ElectraForQuestionAnswering' },
  { model_type: 'distilbert', arch: 'DistilBertForMaskedLM', kind: 'masked LM', head: 'DistilBertForTokenClassification' },
  { model_type: 'albert', arch: 'AlbertForMaskedLM', kind: 'masked LM', head: 'AlbertForSequenceClassification' },
];

for (const c of CASES) {
  test(`${c.arch}: a pre-training checkpoint, with the heads that evaluate`, () => {
    const config = { model_type: c.model_type, architectures: [c.arch] };
    for (const task of ['auto', 'text-classification', 'causal-lm'] as const) {
      assert.throws(() => resolveTask(config, '/m/config.json', task), (e: unknown) => {
        assert.ok(e instanceof CheckpointError, String(e));
        assert.ok(!e.message.includes('\n'), e.message);
        assert.ok(e.message.startsWith(`/m/config.json: architectures ${c.arch} is a pre-training checkpoint (${c.kind}), which has no task head to evaluate;`), e.message);
        assert.ok(e.message.includes(c.head), `names the evaluable heads: ${e.message}`);
        assert.match(e.message, /evaluate the model fine-tuned from it$/);
        return true;
      }, `--task ${task}`);
    }
  });
}

test('a task architecture listed beside the pre-training one still wins', () => {
  const r = resolveTask({ model_type: 'bert', architectures: ['BertForMaskedLM', 'BertForSequenceClassification'] }, '/m/config.json');
  assert.deepEqual(r, { task: 'text-classification', architecture: 'BertForSequenceClassification' });
});

test('ken eval on the demo\'s pre-trained BertForMaskedLM folder: one line, exit code, nothing evaluated', async () => {
  const base = fixture('pretrained', ['safetensors']);
  for (const f of ['tokenizer.json', 'tokenizer_config.json', 'vocab.txt']) symlinkSync(join(DEMO, 'finetuned', f), join(base, f));
  const r = await ken(['eval', base, '--data', join(DEMO, 'test.jsonl'), '--device', 'cpu']);
  assert.notEqual(r.code, 0);
  assert.equal(r.stdout, '');
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, /config\.json: architectures BertForMaskedLM is a pre-training checkpoint \(masked LM\), which has no task head to evaluate; the built bert graph evaluates BertForSequenceClassification, BertForTokenClassification, BertForQuestionAnswering: evaluate the model fine-tuned from it/);
});
