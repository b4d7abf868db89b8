// KEN (Mastromattei & Zanzotto, 2024): the values a kernel density estimate of each row points at; the
// densities run in the worker pool (src/ken), so this entry has no main-thread selector.
import type { SelectionMethod } from './types';

export const ken: SelectionMethod = {
  name: 'ken',
  summary: 'the k values a kernel density estimate of each row points at (KEN, the default)',
  seeded: false,
  rescales: false,
  calibrated: false,
};
