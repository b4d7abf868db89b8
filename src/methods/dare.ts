// DARE (Yu et al., 2024, "Language Models are Super Mario"): the columns of `random`, their changes
// rescaled by n/k: kept value = base + (ft - base) * (n/k), in float32, then cast to the tensor's dtype.
import { randomRows } from './random';
import type { SelectionMethod } from './types';

export const dare: SelectionMethod = {
  name: 'dare',
  summary: 'random columns (--seed) with their changes rescaled by n/k (DARE)',
  seeded: true,
  rescales: true,
  calibrated: false,
  selector: ({ seed }) => (input) => {
    const sel = randomRows(input, seed);
    const { finetuned: f, base: b, n, k } = input;
    if (k >= n) return sel;
    const scale = Math.fround(n / k);
    const values = Float32Array.from(b);
    const mask = sel.mask;
    for (let i = 0; i < mask.length; i++) {
      if (mask[i]) values[i] = b[i]! + Math.fround(Math.fround(f[i]! - b[i]!) * scale);
    }
    return { ...sel, values };
  },
};
