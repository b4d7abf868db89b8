// Every served model_type accepts the class names Hugging Face transformers gives it for each head the
// tool builds. The table is transformers' own auto-class mappings (src/transformers/models/auto/
// modeling_auto.py: MODEL_FOR_SEQUENCE_CLASSIFICATION_MAPPING_NAMES, MODEL_FOR_TOKEN_CLASSIFICATION_
// MAPPING_NAMES, MODEL_FOR_QUESTION_ANSWERING_MAPPING_NAMES, MODEL_FOR_CAUSAL_LM_MAPPING_NAMES), the rows of
// the model_types with a built graph, copied as data.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import type { Task } from '../../src/graph';
import { builtModelTypes, resolveTask } from '../../src/models/build';
import { familyOfType } from '../../src/models/registry';

const AUTO: Readonly<Record<string, Partial<Record<Task, string>>>> = {
  albert: { 'text-classification': 'AlbertForSequenceClassification', 'token-classification': 'AlbertForTokenClassification', 'question-answering': 'AlbertForQuestionAnswering' },
  bert: { 'text-classification': 'BertForSequenceClassification', 'token-classification': 'BertForTokenClassification', 'question-answering': 'BertForQuestionAnswering', 'causal-lm': 'BertLMHeadModel' },
  camembert: { 'text-classification': 'CamembertForSequenceClassification', 'token-classification': 'CamembertForTokenClassification', 'question-answering': 'CamembertForQuestionAnswering', 'causal-lm': 'CamembertForCausalLM' },
  'deberta-v2': { 'text-classification': 'DebertaV2ForSequenceClassification', 'token-classification': 'DebertaV2ForTokenClassification', 'question-answering': 'DebertaV2ForQuestionAnswering' },
  distilbert: { 'text-classification': 'DistilBertForSequenceClassification', 'token-classification': 'DistilBertForTokenClassification', 'question-answering': 'DistilBertForQuestionAnswering' },
  electra: { 'text-classification': 'ElectraForSequenceClassification', 'token-classification': 'ElectraForTokenClassification', 'question-answering': 'ElectraForQuestionAnswering', 'causal-lm': 'ElectraForCausalLM' },
  gpt2: { 'text-classification': 'GPT2ForSequenceClassification', 'token-classification': 'GPT2ForTokenClassification', 'question-answering': 'GPT2ForQuestionAnswering', 'causal-lm': 'GPT2LMHeadModel' },
  llama: { 'text-classification': 'LlamaForSequenceClassification', 'token-classification': 'LlamaForTokenClassification', 'question-answering': 'LlamaForQuestionAnswering', 'causal-lm': 'LlamaForCausalLM' },
  mistral: { 'text-classification': 'MistralForSequenceClassification', 'token-classification': 'MistralForTokenClassification', 'question-answering': 'MistralForQuestionAnswering', 'causal-lm': 'MistralForCausalLM' },
  qwen2: { 'text-classification': 'Qwen2ForSequenceClassification', 'token-classification': 'Qwen2ForTokenClassification', 'question-answering': 'Qwen2ForQuestionAnswering', 'causal-lm': 'Qwen2ForCausalLM' },
  roberta: { 'text-classification': 'RobertaForSequenceClassification', 'token-classification': 'RobertaForTokenClassification', 'question-answering': 'RobertaForQuestionAnswering', 'causal-lm': 'RobertaForCausalLM' },
  'xlm-roberta': { 'text-classification': 'XLMRobertaForSequenceClassification', 'token-classification': 'XLMRobertaForTokenClassification', 'question-answering': 'XLMRobertaForQuestionAnswering', 'causal-lm': 'XLMRobertaForCausalLM' },
};

test('the table covers every model_type with a built graph', () => {
  assert.deepEqual(Object.keys(AUTO).sort(), builtModelTypes());
});

for (const type of Object.keys(AUTO)) {
  test(`model_type ${type}: transformers' class name for each built head resolves to that head`, () => {
    const family = familyOfType(type)!;
    const built = new Set(Object.values(family.graph!.architectures));
    let checked = 0;
    for (const [task, cls] of Object.entries(AUTO[type]!) as [Task, string][]) {
      if (!built.has(task)) continue; // a head the family does not build (BERT's LM head): refused, and said so elsewhere
      const r = resolveTask({ model_type: type, architectures: [cls] }, 'config.json');
      assert.deepEqual(r, { task, architecture: cls }, `${type} ${cls}`);
      checked++;
    }
    assert.ok(checked >= 3, `${type}: only ${checked} heads checked`);
  });
}

test('a CamemBERT fine-tune (CamembertForSequenceClassification) is a text classifier, its MLM base a pre-training checkpoint', () => {
  assert.equal(resolveTask({ model_type: 'camembert', architectures: ['CamembertForSequenceClassification'] }, 'config.json').task, 'text-classification');
  assert.throws(() => resolveTask({ model_type: 'camembert', architectures: ['CamembertForMaskedLM'] }, 'config.json'), /pre-training checkpoint/);
});
