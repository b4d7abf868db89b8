// What a pruning (selection) method is: given one tensor's rows, which values keep their fine-tuned
// value; every other value is reset to the base. KEN is one method among others so that a user can
// see, on their own model and at the same budget, whether KEN is worth it.
import type { RowSelection, RowSelector, RowSelectorInput } from '../ken/run';

export type { RowSelection, RowSelector, RowSelectorInput };

export interface SelectorOptions {
  /** The seed of random draws (random, dare); ignored by the others. */
  seed: number;
  /** L2 norm of each input column's activation over the calibration lines, by tensor name (Wanda). */
  inputNorms?: ReadonlyMap<string, Float32Array> | undefined;
  /** The same along KEN rows, by tensor name: a GPT-2 Conv1D ([in, out]), whose rows are its input features. */
  inputRowNorms?: ReadonlyMap<string, Float32Array> | undefined;
  /** Told once per tensor that a calibrated method scored without activations (Wanda's fallback). */
  onFallback?: ((tensor: string) => void) | undefined;
}

export interface SelectionMethod {
  /** The name users type (`--method`, `--methods`, the setting). */
  readonly name: string;
  /** One line for help texts and pickers. */
  readonly summary: string;
  /** Chosen with a seed (`--seed`, `--seeds`): random draws. */
  readonly seeded: boolean;
  /** Kept values are not the fine-tuned ones (DARE rescales the kept changes). */
  readonly rescales: boolean;
  /** Needs activations over calibration data (Wanda). */
  readonly calibrated: boolean;
  /**
   * The rows' selection, run in the main thread; absent for KEN, whose kernel densities run in the
   * worker pool. Every other method keeps exactly `min(k, n)` values per row.
   */
  readonly selector?: (opts: SelectorOptions) => RowSelector;
}
