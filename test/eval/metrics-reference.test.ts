// Every metric against the reference tools' numbers on the same predictions (scikit-learn, scipy,
// and seqeval's / SQuAD's / transformers' published semantics written out in
// test/data/metrics/make_reference.py, which made reference.json).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  singleLabelMetrics, multiLabelMetrics, regressionMetrics, tokenClassificationMetrics, squadMetrics, normalizeAnswer,
  exactMatch, answerF1, postprocessQa, contextWindows, lmWindows, PerplexityAccumulator, firstSubTokenPredictions, type TagScheme,
} from '../../src/eval';
import { ROOT } from '../helpers';

/* eslint-disable @typescript-eslint/no-explicit-any */
const REF: any = JSON.parse(readFileSync(join(ROOT, 'test', 'data', 'metrics', 'reference.json'), 'utf8'));

const close = (actual: number, expected: number, tol: number, what: string): void =>
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: ${actual} vs ${expected}`);

test('single-label classification equals scikit-learn exactly (accuracy, macro/weighted F1, MCC, binary F1, per class, confusion)', () => {
  assert.ok(REF.single_label.length >= 8);
  for (const c of REF.single_label) {
    const m = singleLabelMetrics(c.truth, c.predicted, c.labels);
    assert.equal(m.accuracy, c.accuracy, `${c.name} accuracy`);
    assert.equal(m.macro_f1, c.macro_f1, `${c.name} macro_f1`);
    assert.equal(m.weighted_f1, c.weighted_f1, `${c.name} weighted_f1`);
    close(m.mcc, c.mcc, 1e-9, `${c.name} mcc`);
    assert.equal(m.f1, c.f1, `${c.name} f1`);
    assert.deepEqual(m.confusion, c.confusion, c.name);
    c.labels.forEach((l: string, i: number) => assert.deepEqual(m.per_class[l], c.per_class[i], `${c.name} ${l}`));
  }
});

test('multi-label classification equals scikit-learn exactly (micro/macro F1, subset accuracy, per label)', () => {
  for (const c of REF.multi_label) {
    const m = multiLabelMetrics(c.truth, c.predicted, c.labels);
    assert.equal(m.micro_f1, c.micro_f1);
    assert.equal(m.macro_f1, c.macro_f1);
    assert.equal(m.subset_accuracy, c.subset_accuracy);
    c.labels.forEach((l: string, i: number) => assert.deepEqual(m.per_class[l], c.per_class[i], l));
  }
});

test('regression equals scipy (Pearson, Spearman with ties, to 1e-9) and scikit-learn (MSE, exactly)', () => {
  for (const c of REF.regression) {
    const m = regressionMetrics(c.truth, c.predicted);
    close(m.pearson, c.pearson, 1e-9, 'pearson');
    close(m.spearman, c.spearman, 1e-9, 'spearman');
    assert.equal(m.mse, c.mse);
  }
});

test('token classification equals seqeval (README example, default and strict modes of IOB1/IOB2/IOE1/IOE2/IOBES, suffix tags)', () => {
  const names = REF.token_classification.map((c: any) => c.name);
  assert.ok(names.includes('seqeval README') && names.includes('README: strict IOB2'));
  for (const c of REF.token_classification) {
    const m = tokenClassificationMetrics(c.truth, c.predicted, { mode: c.mode ?? 'default', scheme: c.scheme as TagScheme | undefined, suffix: c.suffix ?? false });
    assert.equal(m.overall_precision, c.overall_precision, `${c.name} precision`);
    assert.equal(m.overall_recall, c.overall_recall, `${c.name} recall`);
    assert.equal(m.overall_f1, c.overall_f1, `${c.name} f1`);
    assert.equal(m.overall_accuracy, c.overall_accuracy, `${c.name} accuracy`);
    assert.deepEqual(m.per_type, c.per_type, c.name);
  }
});

test('strict mode rejects a tag its scheme does not allow', () => {
  assert.throws(() => tokenClassificationMetrics([['B-PER', 'E-PER']], [['B-PER', 'I-PER']], { mode: 'strict', scheme: 'IOB2' }), /E-PER.*IOB2/);
  assert.throws(() => tokenClassificationMetrics([['B-PER']], [['B-PER', 'O']]), /1 true tags but 2/);
});

test('SQuAD answer normalisation equals the official script (Unicode words, Python white space, ASCII punctuation)', () => {
  for (const c of REF.squad.normalisation) assert.equal(normalizeAnswer(c.text), c.normalized, JSON.stringify(c.text));
  for (const p of REF.squad.pairs) {
    assert.equal(exactMatch(p.prediction, p.truth), p.em, `${p.prediction} / ${p.truth}`);
    assert.equal(answerF1(p.prediction, p.truth), p.f1, `${p.prediction} / ${p.truth}`);
    assert.equal(answerF1(p.prediction, p.truth, true), p.f1_v2, `v2 ${p.prediction} / ${p.truth}`);
  }
});

test('SQuAD v1.1 and v2.0 exact match and F1 (fractions), max over gold answers, unanswerable questions', () => {
  const v1 = squadMetrics(REF.squad.v1.items, false);
  assert.equal(v1.exact_match, REF.squad.v1.exact_match);
  assert.equal(v1.f1, REF.squad.v1.f1);
  const v2 = squadMetrics(REF.squad.v2.items, true);
  for (const k of ['exact_match', 'f1', 'has_answer_total', 'no_answer_total', 'has_answer_exact_match', 'has_answer_f1', 'no_answer_exact_match', 'no_answer_f1'] as const) {
    assert.equal(v2[k], REF.squad.v2[k], k);
  }
  assert.throws(() => squadMetrics([{ prediction: 'x', answers: [] }], false), /no gold answer/);
});

test('QA post-processing equals transformers utils_qa (n-best, max answer length, null answer threshold, several windows)', () => {
  assert.ok(REF.qa_postprocess.some((c: any) => c.v2 && c.text === '') && REF.qa_postprocess.some((c: any) => c.text === 'empty'));
  for (const c of REF.qa_postprocess) {
    const features = c.features.map((f: any) => ({ startLogits: Float32Array.from(f.start), endLogits: Float32Array.from(f.end), offsets: f.offsets }));
    const p = postprocessQa(c.context, features, { v2: c.v2, nBest: c.n_best, maxAnswerLength: c.max_answer_length, nullScoreDiffThreshold: c.threshold });
    assert.equal(p.text, c.text);
    if (c.v2) assert.equal(p.scoreDiff, c.score_diff);
  }
});

test('long contexts split into windows as the tokenizers library overflows them with a stride', () => {
  for (const c of REF.qa_windows) assert.deepEqual(contextWindows(c.n, c.budget, c.stride), c.windows, JSON.stringify(c));
  assert.throws(() => contextWindows(100, 10, 10), /stride/);
});

test('causal LM perplexity over sliding windows equals the transformers guide with masked labels', () => {
  for (const c of REF.causal_lm) {
    const acc = new PerplexityAccumulator();
    for (const ids of c.texts as number[][]) {
      for (const w of lmWindows(ids.length, c.max_length, c.stride)) {
        // token_logprobs[i] = log p(ids[begin+i+1] | ids[begin..begin+i]) of the same made-up model
        const lp = Array.from({ length: w.end - w.begin - 1 }, (_, i) => {
          const t = w.begin + i + 1;
          const d = t - w.begin;
          return -Math.log(2 + ((ids[t]! * 7 + d * 3 + ids[w.begin]! + d * d) % 11) + 0.25 * d);
        });
        acc.addWindow(w, lp);
      }
    }
    const m = acc.result();
    assert.equal(m.n_predicted_tokens, c.n_predicted_tokens);
    close(m.mean_nll, c.mean_nll, 1e-12 * c.mean_nll, 'mean_nll');
    close(m.perplexity, c.perplexity, 1e-12 * c.perplexity, 'perplexity');
  }
});

test('words are scored at their first sub-token; special tokens and words cut by truncation are not scored', () => {
  // tokens: [CLS] w0a w0b w1 [SEP]; classes O, B-PER; the second piece of w0 argues for the other class
  const logits = [0, 0, 0.2, 0.9, 0.9, 0.1, 0.1, 0.7, 5, 5];
  const preds = firstSubTokenPredictions(logits, 2, [null, 0, 0, 1, null], 3);
  assert.deepEqual(preds, [1, 1, undefined]);
  assert.throws(() => firstSubTokenPredictions(logits, 3, [null, 0, 0, 1, null], 3), RangeError);
});
