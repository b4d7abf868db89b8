// Exactly k of a row by score: the k largest scores, ties broken by the lower column index (as a stable
// sort by descending score would). Linear time per row: a quickselect finds the k-th largest score,
// then one pass keeps every larger score and the first tied ones in column order.

/** Marks in `mask[offset .. offset+n)` the k largest of `scores[0..n)` (ties: lower index); returns the count. */
export function markTopK(scores: Float32Array, n: number, k: number, mask: Uint8Array, offset: number, scratch: Float32Array): number {
  if (k >= n) {
    mask.fill(1, offset, offset + n);
    return n;
  }
  if (k <= 0) return 0;
  scratch.set(scores.subarray(0, n));
  const t = kthLargest(scratch, n, k);
  let above = 0;
  for (let j = 0; j < n; j++) if (scores[j]! > t) above++;
  let ties = k - above;
  for (let j = 0; j < n; j++) {
    const s = scores[j]!;
    if (s > t || (s === t && ties-- > 0)) mask[offset + j] = 1;
  }
  return k;
}

/** The k-th largest of a[0..n) (1-based k); reorders a. Hoare partition with a median-of-three pivot. */
export function kthLargest(a: Float32Array, n: number, k: number): number {
  // the (n-k)-th smallest, 0-based
  const target = n - k;
  let lo = 0;
  let hi = n - 1;
  while (hi > lo) {
    const mid = (lo + hi) >>> 1;
    // median of three into a[mid]
    if (a[mid]! < a[lo]!) swap(a, mid, lo);
    if (a[hi]! < a[lo]!) swap(a, hi, lo);
    if (a[hi]! < a[mid]!) swap(a, hi, mid);
    const pivot = a[mid]!;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        swap(a, i, j);
        i++;
        j--;
      }
    }
    if (target <= j) hi = j;
    else if (target >= i) lo = i;
    else return a[target]!;
  }
  return a[target]!;
}

function swap(a: Float32Array, i: number, j: number): void {
  const t = a[i]!;
  a[i] = a[j]!;
  a[j] = t;
}
