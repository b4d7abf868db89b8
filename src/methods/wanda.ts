// Wanda (Sun et al., 2024) on the change: |ft - base| times the L2 norm of the column's input activation
// over calibration lines; per row the k largest scores (float32); ties: the lower column. A GPT-2 Conv1D
// ([in, out]) scores |ft - base| times its row's input norm. Tensors whose input is no activation the
// graph measures (embeddings, norms, biases) fall back to delta-magnitude.
import { deltaScores, topKRows } from './delta-magnitude';
import type { SelectionMethod } from './types';

export const wanda: SelectionMethod = {
  name: 'wanda',
  summary: '|fine-tuned - base| x the input activation norm over --calibration lines (Wanda on the change)',
  seeded: false,
  rescales: false,
  calibrated: true,
  selector: ({ inputNorms, inputRowNorms, onFallback }) => (input) => {
    const norms = inputNorms?.get(input.tensor);
    if (norms && norms.length === input.n) {
      return topKRows(input, (r, out) => {
        deltaScores(input, r, out);
        for (let j = 0; j < input.n; j++) out[j] = out[j]! * norms[j]!;
      });
    }
    // a Conv1D's rows are its input features: one norm scales a whole row (which changes its top-k only
    // where the product rounds two scores together, or the norm is 0)
    const rowNorms = inputRowNorms?.get(input.tensor);
    if (rowNorms && rowNorms.length === input.rows) {
      return topKRows(input, (r, out) => {
        deltaScores(input, r, out);
        const s = rowNorms[r]!;
        for (let j = 0; j < input.n; j++) out[j] = out[j]! * s;
      });
    }
    onFallback?.(input.tensor);
    return topKRows(input, (r, out) => deltaScores(input, r, out));
  },
};
