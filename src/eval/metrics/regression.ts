// Regression figures (`problem_type` regression, GLUE's STS-B): Pearson and Spearman correlation as
// scipy.stats computes them, and the mean squared error as scikit-learn does.
import { npMean, npSum } from './numeric';
import type { RegressionMetrics } from '../../shared/metrics';

/** scipy.stats.pearsonr's r: centred vectors scaled to unit norm, then their dot product, clipped to [-1, 1]. */
export function pearson(x: ArrayLike<number>, y: ArrayLike<number>): number {
  const n = x.length;
  if (n !== y.length) throw new RangeError(`${n} values against ${y.length}`);
  if (n < 2) return Number.NaN;
  const mx = npMean(x);
  const my = npMean(y);
  const xm = new Float64Array(n);
  const ym = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    xm[i] = x[i]! - mx;
    ym[i] = y[i]! - my;
  }
  const nx = Math.sqrt(npSum(xm.map((v) => v * v)));
  const ny = Math.sqrt(npSum(ym.map((v) => v * v)));
  // A constant input has no correlation (scipy warns and returns nan).
  if (nx === 0 || ny === 0) return Number.NaN;
  let r = 0;
  for (let i = 0; i < n; i++) r += (xm[i]! / nx) * (ym[i]! / ny);
  return Math.max(Math.min(r, 1), -1);
}

/** Ranks from 1, ties sharing their average rank (scipy.stats.rankdata, method 'average'). */
export function averageRanks(x: ArrayLike<number>): Float64Array {
  const n = x.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => x[a]! - x[b]! || a - b);
  const ranks = new Float64Array(n);
  for (let i = 0; i < n;) {
    let j = i;
    while (j + 1 < n && x[order[j + 1]!] === x[order[i]!]) j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) ranks[order[k]!] = rank;
    i = j + 1;
  }
  return ranks;
}

/** scipy.stats.spearmanr's rho: Pearson's r of the average ranks. */
export function spearman(x: ArrayLike<number>, y: ArrayLike<number>): number {
  return pearson(averageRanks(x), averageRanks(y));
}

/** sklearn.metrics.mean_squared_error. */
export function meanSquaredError(truth: ArrayLike<number>, predicted: ArrayLike<number>): number {
  if (truth.length !== predicted.length) throw new RangeError(`${truth.length} true values but ${predicted.length} predictions`);
  const sq = new Float64Array(truth.length);
  for (let i = 0; i < sq.length; i++) sq[i] = (truth[i]! - predicted[i]!) ** 2;
  return npMean(sq);
}

export function regressionMetrics(truth: ArrayLike<number>, predicted: ArrayLike<number>): RegressionMetrics {
  return { pearson: pearson(predicted, truth), spearman: spearman(predicted, truth), mse: meanSquaredError(truth, predicted) };
}
