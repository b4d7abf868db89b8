// random: k columns of each row drawn uniformly without replacement (draws.ts says how, seed by seed).
import { TensorDraws } from './draws';
import type { RowSelection, RowSelectorInput, SelectionMethod } from './types';

/** The rows' random columns for `seed`. */
export function randomRows(input: RowSelectorInput, seed: number): RowSelection {
  const { rows, n, k } = input;
  const mask = new Uint8Array(rows * n);
  const draws = new TensorDraws(seed, input.tensor);
  let kept = 0;
  for (let r = 0; r < rows; r++) kept += draws.columns(r, n, k, mask, r * n);
  return { mask, kept };
}

export const random: SelectionMethod = {
  name: 'random',
  summary: 'k columns of each row drawn at random (--seed)',
  seeded: true,
  rescales: false,
  calibrated: false,
  selector: ({ seed }) => (input) => randomRows(input, seed),
};
