// delta-magnitude: the k largest changes |ft - base| of each row keep their fine-tuned value (the score in
// float32, as PyTorch computes it on float32 tensors; F16/BF16 upcast first); ties: the lower column.
import { markTopK } from './topk';
import type { RowSelection, RowSelectorInput, SelectionMethod } from './types';

/** Keeps the top-k of `score(i)` per row; `score` fills a row's scores into `out`. */
export function topKRows(input: RowSelectorInput, score: (row: number, out: Float32Array) => void): RowSelection {
  const { rows, n, k } = input;
  const mask = new Uint8Array(rows * n);
  const scores = new Float32Array(n);
  const bits = new Uint32Array(scores.buffer);
  let kept = 0;
  for (let r = 0; r < rows; r++) {
    score(r, scores);
    kept += markTopK(scores, n, k, mask, r * n, bits);
  }
  return { mask, kept };
}

/** |ft - base| of one row, in float32. */
export function deltaScores(input: RowSelectorInput, row: number, out: Float32Array): void {
  const { finetuned: f, base: b, n } = input;
  const o = row * n;
  for (let j = 0; j < n; j++) out[j] = Math.abs(f[o + j]! - b[o + j]!);
}

export const deltaMagnitude: SelectionMethod = {
  name: 'delta-magnitude',
  summary: 'the k largest changes |fine-tuned - base| of each row',
  seeded: false,
  rescales: false,
  calibrated: false,
  selector: () => (input) => topKRows(input, (r, out) => deltaScores(input, r, out)),
};
