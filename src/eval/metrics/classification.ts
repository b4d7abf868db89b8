// Sequence classification figures from true and predicted class ids, as scikit-learn computes them
// (its precision_recall_fscore_support, f1_score, matthews_corrcoef and accuracy_score, zero_division
// left at its default of 0): the same formulas in the same order, averages summed as NumPy sums.
import { npMean, npSum, npWeightedAverage } from './numeric';
import type { ClassMetrics, MultiLabelMetrics, SingleLabelMetrics } from '../../shared/metrics';

/** Precision, recall and F1 from counts, with zero_division 0 (scikit-learn's default). */
export function prf(tp: number, predicted: number, support: number): ClassMetrics {
  const precision = predicted ? tp / predicted : 0;
  const recall = support ? tp / support : 0;
  const denom = precision + recall;
  const f1 = denom === 0 ? 0 : (2 * precision * recall) / denom;
  return { precision, recall, f1, support };
}

function checkLengths(truth: ArrayLike<unknown>, predicted: ArrayLike<unknown>): void {
  if (truth.length !== predicted.length) throw new RangeError(`${truth.length} true labels but ${predicted.length} predictions`);
}

/** Every single-label figure of `predicted` against `truth` (class ids indexing `labels`). */
export function singleLabelMetrics(truth: ArrayLike<number>, predicted: ArrayLike<number>, labels: readonly string[]): SingleLabelMetrics {
  checkLengths(truth, predicted);
  const n = labels.length;
  const confusion = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  let right = 0;
  for (let i = 0; i < truth.length; i++) {
    const t = truth[i]!;
    const p = predicted[i]!;
    if (!(Number.isInteger(t) && Number.isInteger(p) && t >= 0 && t < n && p >= 0 && p < n)) throw new RangeError(`sample ${i}: class id out of range (${t}, ${p})`);
    confusion[t]![p]!++;
    if (t === p) right++;
  }
  const trueSum = confusion.map((row) => row.reduce((a, b) => a + b, 0));
  const predSum = labels.map((_, c) => confusion.reduce((a, row) => a + row[c]!, 0));
  const per_class: Record<string, ClassMetrics> = {};
  const presentF1: number[] = [];
  const presentSupport: number[] = [];
  labels.forEach((label, c) => {
    const m = prf(confusion[c]![c]!, predSum[c]!, trueSum[c]!);
    per_class[label] = m;
    // scikit-learn's labels are those present in y_true or y_pred, in sorted order.
    if (trueSum[c] || predSum[c]) {
      presentF1.push(m.f1);
      presentSupport.push(m.support);
    }
  });
  const samples = truth.length;
  const out: SingleLabelMetrics = {
    accuracy: samples ? right / samples : 0,
    macro_f1: presentF1.length ? npMean(presentF1) : 0,
    weighted_f1: presentF1.length && npSum(presentSupport) > 0 ? npWeightedAverage(presentF1, presentSupport) : 0,
    mcc: matthews(confusion, trueSum, predSum),
    per_class,
    confusion,
  };
  if (n === 2) out.f1 = per_class[labels[1]!]!.f1;
  return out;
}

/** matthews_corrcoef from a confusion matrix: covariances of the one-hot truth and prediction. */
function matthews(confusion: number[][], trueSum: number[], predSum: number[]): number {
  const nCorrect = confusion.reduce((a, row, i) => a + row[i]!, 0);
  const nSamples = npSum(predSum);
  let dotTP = 0;
  let dotPP = 0;
  let dotTT = 0;
  for (let c = 0; c < trueSum.length; c++) {
    dotTP += trueSum[c]! * predSum[c]!;
    dotPP += predSum[c]! * predSum[c]!;
    dotTT += trueSum[c]! * trueSum[c]!;
  }
  const covTP = nCorrect * nSamples - dotTP;
  const covPP = nSamples ** 2 - dotPP;
  const covTT = nSamples ** 2 - dotTT;
  if (covPP * covTT === 0) return 0;
  return covTP / Math.sqrt(covTT * covPP);
}

/**
 * Multi-label figures from 0/1 rows (truth[i][label], predicted[i][label]); a label is predicted when
 * its logit is above 0 (sigmoid above 0.5).
 */
export function multiLabelMetrics(truth: readonly ArrayLike<number>[], predicted: readonly ArrayLike<number>[], labels: readonly string[]): MultiLabelMetrics {
  checkLengths(truth, predicted);
  const L = labels.length;
  const tp = new Array<number>(L).fill(0);
  const pred = new Array<number>(L).fill(0);
  const sup = new Array<number>(L).fill(0);
  let exact = 0;
  truth.forEach((t, i) => {
    const p = predicted[i]!;
    if (t.length !== L || p.length !== L) throw new RangeError(`sample ${i}: ${t.length} true and ${p.length} predicted labels, the model has ${L}`);
    let same = true;
    for (let c = 0; c < L; c++) {
      const a = t[c] ? 1 : 0;
      const b = p[c] ? 1 : 0;
      tp[c]! += a & b;
      pred[c]! += b;
      sup[c]! += a;
      if (a !== b) same = false;
    }
    if (same) exact++;
  });
  const per_class: Record<string, ClassMetrics> = {};
  const f1s = labels.map((label, c) => (per_class[label] = prf(tp[c]!, pred[c]!, sup[c]!)).f1);
  return {
    micro_f1: prf(npSum(tp), npSum(pred), npSum(sup)).f1,
    macro_f1: L ? npMean(f1s) : 0,
    subset_accuracy: truth.length ? exact / truth.length : 0,
    per_class,
  };
}

/** The index of the largest value of `row[from .. from+width)` (the first on a tie, as argmax). */
export function argmax(row: ArrayLike<number>, from = 0, width = row.length - from): number {
  let best = 0;
  for (let c = 1; c < width; c++) if (row[from + c]! > row[from + best]!) best = c;
  return best;
}
