// Exactly k of a row by score: the k largest scores, ties broken by the lower column index (as a stable
// sort by descending score would). Linear time per row: scores are non-negative float32, whose bit
// patterns order as their values, so a three-pass radix select (11, 11 and 10 bits, each pass counting
// only the values that share the bits found so far) finds the k-th largest score's bits; one more pass
// keeps every larger score and the first tied ones in column order.

const hist = new Uint32Array(2048);

/** The bit pattern of the k-th largest (1-based) of `bits[0..n)`, unsigned 32-bit patterns of non-negative floats. */
export function kthLargestBits(bits: Uint32Array, n: number, k: number): number {
  let want = k;
  let prefix = 0;
  let known = 0; // the bits fixed so far
  for (let pass = 0; pass < 3; pass++) {
    const shift = pass === 0 ? 21 : pass === 1 ? 10 : 0;
    const width = pass === 2 ? 10 : 11;
    const top = (1 << width) - 1;
    hist.fill(0, 0, top + 1);
    for (let j = 0; j < n; j++) {
      const x = bits[j]!;
      if ((x & known) >>> 0 === prefix) hist[(x >>> shift) & top]!++;
    }
    let b = top;
    let above = 0;
    for (; b > 0; b--) {
      if (above + hist[b]! >= want) break;
      above += hist[b]!;
    }
    want -= above;
    prefix = (prefix | (b << shift)) >>> 0;
    known = (known | (top << shift)) >>> 0;
  }
  return prefix;
}

/**
 * Marks in `mask[offset .. offset+n)` the k largest of `scores[0..n)` (non-negative float32; ties: lower
 * index); returns the count. `scoreBits` is a Uint32Array view of `scores`.
 */
export function markTopK(scores: Float32Array, n: number, k: number, mask: Uint8Array, offset: number, scoreBits = new Uint32Array(scores.buffer, scores.byteOffset, n)): number {
  if (k >= n) {
    mask.fill(1, offset, offset + n);
    return n;
  }
  if (k <= 0) return 0;
  const t = kthLargestBits(scoreBits, n, k);
  let above = 0;
  for (let j = 0; j < n; j++) if (scoreBits[j]! > t) above++;
  let ties = k - above;
  for (let j = 0; j < n; j++) {
    const s = scoreBits[j]!;
    if (s > t || (s === t && ties-- > 0)) mask[offset + j] = 1;
  }
  return k;
}
