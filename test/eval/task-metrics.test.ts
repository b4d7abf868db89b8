// `ken eval`'s metrics on tiny checkpoints of every head equal the reference tools' numbers on the
// same predictions (test/data/metrics/make_heads.py: PyTorch predictions, then scikit-learn, scipy,
// seqeval's and SQuAD's semantics). Counts and fractions exactly; regression to 1e-5, as its
// predictions are floats onnxruntime reproduces to about 1e-5.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { evaluateTask, toEvalResult } from '../../src/eval/tasks';
import { evalSummary } from '../../src/report/text';
import type { KenReport } from '../../src/shared/report';
import type { SweepResult } from '../../src/shared/report';
import { ken, ROOT, tmp } from '../helpers';

/* eslint-disable @typescript-eslint/no-explicit-any */
const H = join(ROOT, 'test', 'data', 'metrics', 'heads');
const expected = (name: string): any => JSON.parse(readFileSync(join(H, name, 'expected.json'), 'utf8'));
const data = (name: string): string => join(H, name, 'data.jsonl');
const base = { device: 'cpu' as const, graph: 'built' as const };

test('sequence classification (sentence pairs, labels by name and id): scikit-learn on the same predictions', async () => {
  const r = await evaluateTask(join(H, 'bert-seq'), { ...base, data: data('bert-seq'), fields: { text: 'sentence1', textPair: 'sentence2' } });
  const e = expected('bert-seq');
  assert.equal(r.metrics.kind, 'single_label');
  const m = r.metrics as any;
  for (const k of ['accuracy', 'macro_f1', 'weighted_f1']) assert.equal(m[k], e[k], k);
  assert.ok(Math.abs(m.mcc - e.mcc) <= 1e-9);
  assert.deepEqual(m.per_class, e.per_class);
  assert.deepEqual(m.confusion, e.confusion);
});

test('multi-label classification: scikit-learn micro/macro F1 and subset accuracy', async () => {
  const r = await evaluateTask(join(H, 'bert-seq-multilabel'), { ...base, data: data('bert-seq-multilabel') });
  const e = expected('bert-seq-multilabel');
  assert.equal(r.metrics.kind, 'multi_label');
  for (const k of ['micro_f1', 'macro_f1', 'subset_accuracy']) assert.equal((r.metrics as any)[k], e[k], k);
});

test('regression: scipy Pearson/Spearman and scikit-learn MSE', async () => {
  const r = await evaluateTask(join(H, 'bert-seq-regression'), { ...base, data: data('bert-seq-regression') });
  const e = expected('bert-seq-regression');
  assert.equal(r.metrics.kind, 'regression');
  for (const k of ['pearson', 'spearman', 'mse']) assert.ok(Math.abs((r.metrics as any)[k] - e[k]) <= 1e-5, `${k}: ${(r.metrics as any)[k]} vs ${e[k]}`);
});

test('token classification: seqeval (default and strict IOB2) with words at their first sub-token, truncated words left out', async () => {
  const e = expected('bert-token');
  const r = await evaluateTask(join(H, 'bert-token'), { ...base, data: data('bert-token') });
  assert.deepEqual(r.metrics, e.default);
  const s = await evaluateTask(join(H, 'bert-token'), { ...base, data: data('bert-token'), scheme: 'IOB2' });
  assert.deepEqual(s.metrics, e.strict_iob2);
  assert.ok(r.truncated > 0, 'some lines are longer than the window');
});

test('question answering: SQuAD 2.0 EM/F1 of utils_qa answers over strided windows', async () => {
  const e = expected('bert-qa');
  const outputs = join(tmp(), 'qa.jsonl');
  const r = await evaluateTask(join(H, 'bert-qa'), { ...base, data: data('bert-qa'), stride: e.stride, outputs });
  const answers = readFileSync(outputs, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(answers.map((a) => a.answer), e.predictions);
  assert.ok(answers.some((a) => Array.isArray(a.windows)), 'some contexts take several windows');
  const { predictions: _p, stride: _s, ...metrics } = e;
  assert.deepEqual(r.metrics, metrics);
});

test('prune --eval and sweep on a token classification model: the report stores entity metrics, the sweep follows overall_f1', async () => {
  const G = join(ROOT, 'test', 'data', 'graph', 'encoders', 'bert-seq'); // same encoder shapes: a stand-in base
  const out = join(tmp(), 'pruned');
  const r = await ken(['prune', join(H, 'bert-token'), '--base', G, '-k', '4', '--out', out, '--eval', data('bert-token'), '--device', 'cpu']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /after: {2}entity F1 /);
  const report = JSON.parse(readFileSync(join(out, 'ken-report.json'), 'utf8')) as KenReport;
  assert.deepEqual(report.accuracy!.before.metrics, expected('bert-token').default);
  assert.equal(report.accuracy!.after.metrics?.kind, 'token_classification');
  const s = await ken(['sweep', join(H, 'bert-token'), '--base', G, '-k', '2,8', '--data', data('bert-token'), '--device', 'cpu', '--json']);
  assert.equal(s.code, 0, s.stderr);
  const result = JSON.parse(s.stdout) as SweepResult;
  assert.equal(result.metric, 'overall_f1');
  assert.equal(result.finetunedValue, expected('bert-token').default.overall_f1);
  for (const p of result.points) assert.equal(p.value, p.metrics!['overall_f1']);
});

test('--task glue/mnli: matched and mismatched files, GLUE fields; glue/<unknown> and a regression preset on a classifier are usage errors', async () => {
  const dir = tmp();
  const rows = readFileSync(data('bert-seq'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { sentence1: string; sentence2: string; label: unknown });
  const asMnli = (rs: typeof rows): string => rs.map((r) => JSON.stringify({ premise: r.sentence1, hypothesis: r.sentence2, label: r.label })).join('\n') + '\n';
  writeFileSync(join(dir, 'matched.jsonl'), asMnli(rows));
  writeFileSync(join(dir, 'mismatched.jsonl'), asMnli(rows.slice(0, 10)));
  const r = await ken(['eval', join(H, 'bert-seq'), '--task', 'glue/mnli', '--data', join(dir, 'matched.jsonl'), '--data', join(dir, 'mismatched.jsonl'), '--device', 'cpu', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { glue: string; metrics: { accuracy: number }; samples: number; validation_mismatched: { samples: number; metrics: { accuracy: number } } };
  assert.equal(out.glue, 'mnli');
  assert.equal(out.metrics.accuracy, expected('bert-seq').accuracy, 'the matched file is the same lines as the fixture');
  assert.equal(out.validation_mismatched.samples, 10);
  const bad = await ken(['eval', join(H, 'bert-seq'), '--task', 'glue/mnlx', '--data', join(dir, 'matched.jsonl')]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /no such GLUE task \(glue\/cola, glue\/sst2/);
  const stsb = await ken(['eval', join(H, 'bert-seq'), '--task', 'glue/stsb', '--data', join(dir, 'matched.jsonl'), '--text-field', 'premise', '--text-pair-field', 'hypothesis', '--device', 'cpu']);
  assert.equal(stsb.code, 2);
  assert.match(stsb.stderr, /glue\/stsb scores a regression/);
  const two = await ken(['eval', join(H, 'bert-seq'), '--data', join(dir, 'matched.jsonl'), '--data', join(dir, 'mismatched.jsonl')]);
  assert.equal(two.code, 2);
});

test('the extension\'s evaluation summary of another task shows its measures, not an empty accuracy table', async () => {
  const r = toEvalResult(await evaluateTask(join(H, 'bert-token'), { ...base, data: data('bert-token') }));
  assert.ok(Number.isNaN(r.accuracy));
  const text = evalSummary(r);
  assert.match(text, /^30 samples \| cpu, /);
  assert.match(text, new RegExp(`entity F1 ${(expected('bert-token').default.overall_f1 as number).toFixed(4)} `));
  assert.doesNotMatch(text, /NaN|confusion/);
});
