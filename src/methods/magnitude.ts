// magnitude: the k largest |ft| of each row keep their fine-tuned value (float32 scores); ties: the lower column.
import { topKRows } from './delta-magnitude';
import type { SelectionMethod } from './types';

export const magnitude: SelectionMethod = {
  name: 'magnitude',
  summary: 'the k largest fine-tuned values |fine-tuned| of each row',
  seeded: false,
  rescales: false,
  calibrated: false,
  selector: () => (input) => topKRows(input, (r, out) => {
    const f = input.finetuned;
    const o = r * input.n;
    for (let j = 0; j < input.n; j++) out[j] = Math.abs(f[o + j]!);
  }),
};
