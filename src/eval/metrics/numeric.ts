// Sums as NumPy computes them, so that averages equal the reference tools' to the last bit:
// NumPy's add.reduce over a contiguous float64 array is a pairwise sum (blocks of up to 128
// values summed with 8 accumulators, halves above that), not a left-to-right loop.

/** NumPy's pairwise float64 sum of `a[from .. from+n)`. */
function pairwise(a: ArrayLike<number>, from: number, n: number): number {
  if (n < 8) {
    let res = -0;
    for (let i = 0; i < n; i++) res += a[from + i]!;
    return res;
  }
  if (n <= 128) {
    const r = [a[from]!, a[from + 1]!, a[from + 2]!, a[from + 3]!, a[from + 4]!, a[from + 5]!, a[from + 6]!, a[from + 7]!];
    let i = 8;
    for (; i < n - (n % 8); i += 8) for (let j = 0; j < 8; j++) r[j]! += a[from + i + j]!;
    let res = ((r[0]! + r[1]!) + (r[2]! + r[3]!)) + ((r[4]! + r[5]!) + (r[6]! + r[7]!));
    for (; i < n; i++) res += a[from + i]!;
    return res;
  }
  let n2 = Math.floor(n / 2);
  n2 -= n2 % 8;
  return pairwise(a, from, n2) + pairwise(a, from + n2, n - n2);
}

/** `np.sum(a)` for float64 values. */
export function npSum(a: ArrayLike<number>): number {
  return a.length === 0 ? 0 : pairwise(a, 0, a.length);
}

/** `np.mean(a)` (`np.average(a)`): the pairwise sum over the count. */
export function npMean(a: ArrayLike<number>): number {
  return npSum(a) / a.length;
}

/** `np.average(a, weights=w)`: sum(a*w) / sum(w), both pairwise. */
export function npWeightedAverage(a: ArrayLike<number>, w: ArrayLike<number>): number {
  const prod = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) prod[i] = a[i]! * w[i]!;
  return npSum(prod) / npSum(w);
}
