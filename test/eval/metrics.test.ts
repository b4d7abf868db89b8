import { test } from 'node:test';
import assert from 'node:assert/strict';
import { singleLabelMetrics } from '../../src/eval';

test('metrics of a small confusion matrix worked out by hand', () => {
  // true:      a a a a b b b c c c
  // predicted: a a b c b b a c c b
  const labels = ['a', 'b', 'c', 'd'];
  const truth = [0, 0, 0, 0, 1, 1, 1, 2, 2, 2];
  const pred = [0, 0, 1, 2, 1, 1, 0, 2, 2, 1];
  const m = singleLabelMetrics(truth, pred, labels);
  assert.deepEqual(m.confusion, [
    [2, 1, 1, 0],
    [1, 2, 0, 0],
    [0, 1, 2, 0],
    [0, 0, 0, 0],
  ]);
  assert.equal(m.accuracy, 6 / 10);
  const close = (x: number, y: number): void => assert.ok(Math.abs(x - y) < 1e-12, `${x} vs ${y}`);
  // a: tp 2, predicted 3, support 4 -> p 2/3, r 1/2, f1 4/7
  close(m.per_class['a']!.precision, 2 / 3);
  close(m.per_class['a']!.recall, 1 / 2);
  close(m.per_class['a']!.f1, 4 / 7);
  assert.equal(m.per_class['a']!.support, 4);
  // b: tp 2, predicted 4, support 3 -> p 1/2, r 2/3, f1 4/7
  close(m.per_class['b']!.precision, 1 / 2);
  close(m.per_class['b']!.recall, 2 / 3);
  close(m.per_class['b']!.f1, 4 / 7);
  // c: tp 2, predicted 3, support 3 -> 2/3 each
  close(m.per_class['c']!.f1, 2 / 3);
  // d: absent from truth and predictions: zeros, and left out of the macro average (as scikit-learn)
  assert.deepEqual(m.per_class['d'], { precision: 0, recall: 0, f1: 0, support: 0 });
  close(m.macro_f1, (4 / 7 + 4 / 7 + 2 / 3) / 3);
});

test('a class predicted but never true counts in macro-F1 with F1 0', () => {
  const m = singleLabelMetrics([0, 0], [0, 1], ['x', 'y']);
  assert.deepEqual(m.per_class['y'], { precision: 0, recall: 0, f1: 0, support: 0 });
  assert.equal(m.macro_f1, (2 / 3 + 0) / 2);
  assert.throws(() => singleLabelMetrics([0], [2], ['x', 'y']), RangeError);
});
