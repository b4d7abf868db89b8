// Classification figures from true and predicted class ids.
import type { ClassMetrics } from '../report/report';

export interface ClassificationMetrics {
  accuracy: number;
  macroF1: number;
  perClass: Record<string, ClassMetrics>;
  /** confusion[true][predicted], in `labels` order. */
  confusion: number[][];
}

/**
 * Accuracy, per-class precision/recall/F1/support and macro-F1. A class nobody predicted has
 * precision 0 (and one with no samples recall 0); macro-F1 averages the classes that occur in the
 * truth or the predictions, as scikit-learn's f1_score(average='macro') does.
 */
export function classificationMetrics(truth: ArrayLike<number>, predicted: ArrayLike<number>, labels: readonly string[]): ClassificationMetrics {
  if (truth.length !== predicted.length) throw new RangeError(`${truth.length} true labels but ${predicted.length} predictions`);
  const n = labels.length;
  const confusion = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  let right = 0;
  for (let i = 0; i < truth.length; i++) {
    const t = truth[i]!;
    const p = predicted[i]!;
    if (!(t >= 0 && t < n && p >= 0 && p < n)) throw new RangeError(`sample ${i}: class id out of range (${t}, ${p})`);
    confusion[t]![p]!++;
    if (t === p) right++;
  }
  const perClass: Record<string, ClassMetrics> = {};
  let f1Sum = 0;
  let present = 0;
  labels.forEach((label, c) => {
    const tp = confusion[c]![c]!;
    const support = confusion[c]!.reduce((a, b) => a + b, 0);
    const predictedAs = confusion.reduce((a, row) => a + row[c]!, 0);
    const precision = predictedAs ? tp / predictedAs : 0;
    const recall = support ? tp / support : 0;
    const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
    perClass[label] = { precision, recall, f1, support };
    if (support || predictedAs) {
      f1Sum += f1;
      present++;
    }
  });
  return { accuracy: truth.length ? right / truth.length : 0, macroF1: present ? f1Sum / present : 0, perClass, confusion };
}
