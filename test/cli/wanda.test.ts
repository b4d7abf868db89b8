// `ken prune --method wanda --calibration FILE`: the report's calibration and fallback lists, and bad
// input (one line, nothing written) for the calibration data and for folders without a built graph.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KenReport } from '../../src/shared/report';
import { fixture, ken, ROOT, tmp } from '../helpers';

const DIR = join(ROOT, 'test', 'data', 'methods', 'wanda');
const BERT = join(DIR, 'bert-ft');
const BERT_BASE = join(DIR, 'bert-base');
const GPT2 = join(ROOT, 'test', 'data', 'decoders', 'gpt2-lm');
const EXPECTED = JSON.parse(readFileSync(join(DIR, 'expected.json'), 'utf8')) as Record<'bert' | 'gpt2', { lines: number; fallback: string[] }>;

for (const [name, ft, base, data] of [['bert', BERT, BERT_BASE, join(BERT, 'data.jsonl')], ['gpt2', GPT2, join(DIR, 'gpt2-base'), join(GPT2, 'data.jsonl')]] as const) {
  test(`${name}: the report names the calibration lines and the tensors scored by delta-magnitude (embeddings, norms, biases)`, async () => {
    const out = join(tmp(), 'out');
    const lines = EXPECTED[name].lines;
    const r = await ken(['prune', ft, '--base', base, '-k', '5', '--out', out, '--method', 'wanda', '--calibration', data, '--calibration-lines', String(lines), '--json']);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(readFileSync(join(out, 'ken-report.json'), 'utf8')) as KenReport;
    assert.equal(report.method, 'wanda');
    assert.deepEqual(report.calibration, { data, lines });
    assert.equal(report.fallback?.method, 'delta-magnitude');
    assert.deepEqual([...report.fallback!.tensors].sort(), EXPECTED[name].fallback);
  });
}

test('wanda bad input: one line naming the problem, nothing written', async () => {
  const root = tmp();
  const empty = join(root, 'empty.jsonl');
  writeFileSync(empty, '');
  // token classification's data (ken eval would read a SQuAD file's question and context as a text pair)
  const ner = join(root, 'ner.jsonl');
  writeFileSync(ner, JSON.stringify({ tokens: ['w4', 'w5'], ner_tags: [0, 1] }) + '\n');
  const alien = join(root, 'alien');
  cpSync(BERT, alien, { recursive: true });
  const config = JSON.parse(readFileSync(join(alien, 'config.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(alien, 'config.json'), JSON.stringify({ ...config, model_type: 'not-a-family' }));
  const onnxOnly = fixture('finetuned', ['onnx']);
  const onnxBase = fixture('pretrained', ['onnx']);
  const data = join(BERT, 'data.jsonl');
  const cases: [string[], RegExp][] = [
    [[BERT, '--base', BERT_BASE, '--calibration', join(root, 'missing.jsonl')], /missing\.jsonl: no such file/],
    [[BERT, '--base', BERT_BASE, '--calibration', empty], /empty\.jsonl: wanda's calibration lines are the text-classification model's data, and it holds none/],
    [[BERT, '--base', BERT_BASE, '--calibration', ner], /ner\.jsonl line 1: no field "text" \(text-classification reads its text from it; name another with --text-field\)/],
    [[alien, '--base', BERT_BASE, '--calibration', data], /wanda measures activations in the inference graph built from config\.json, and none can be built here: .*model_type "not-a-family" has no built inference graph.*; --method delta-magnitude needs no data$/m],
    [[onnxOnly, '--base', onnxBase, '--calibration', data], /wanda measures activations in the inference graph built from config\.json, and none can be built here: .*no safetensors weights.*; --method delta-magnitude needs no data$/m],
  ];
  for (const [args, message] of cases) {
    const out = join(tmp(), 'out');
    const r = await ken(['prune', ...args, '--method', 'wanda', '-k', '4', '--out', out]);
    assert.notEqual(r.code, 0, `${args.join(' ')}: ${r.stdout}`);
    assert.match(r.stderr, message);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.ok(!/\bat .*\.js:\d+/.test(r.stderr), 'no stack trace');
    assert.ok(!existsSync(out));
    assert.deepEqual(readdirSync(join(out, '..')), []);
  }
  assert.ok(!existsSync(join(alien, 'ken-report.json')));
});
