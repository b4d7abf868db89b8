// A method ready to run over a plan: its row selector (seeded, calibrated), and what the report must say
// about it. Shared by prune and sweep so both doors run a method the same way.
import { UsageError } from '../errors';
import type { ModelFolder } from '../checkpoint/types';
import type { Plan } from '../ken/plan';
import type { RowSelector } from '../ken/run';
import { inputActivationNorms, type CalibrationSpec } from './calibration';
import { methodNamed } from './registry';
import type { SelectionMethod } from './types';

export interface MethodChoice {
  /** A method's name (default ken). */
  method?: string | undefined;
  /** random/dare's seed (default 0). */
  seed?: number | undefined;
  /** Wanda's calibration lines. */
  calibration?: CalibrationSpec | undefined;
}

export interface PreparedMethod {
  method: SelectionMethod;
  /** The seed, for seeded methods. */
  seed: number | undefined;
  /** The selector for `seed` (undefined: KEN in the worker pool). */
  selectorFor: (seed: number) => RowSelector | undefined;
  /** Tensors a calibrated method scored without activations (filled while running). */
  fallback: Set<string>;
  calibration?: { data: string; lines: number };
}

/** Checks the choice before anything is read: an unknown method, a bad seed, wanda without data. */
export function checkMethodChoice(choice: MethodChoice): SelectionMethod {
  const method = methodNamed(choice.method ?? 'ken');
  if (choice.seed !== undefined && !(Number.isSafeInteger(choice.seed) && choice.seed >= 0)) throw new UsageError(`--seed must be a non-negative integer (got ${choice.seed})`);
  if (method.calibrated && !choice.calibration) throw new UsageError(`${method.name} needs --calibration FILE (lines of the task's data whose activations it weighs)`);
  return method;
}

/** Measures what the method needs (Wanda's activations) and returns its selectors. */
export async function prepareMethod(choice: MethodChoice, ft: ModelFolder, plan: Plan, signal?: AbortSignal): Promise<PreparedMethod> {
  const method = checkMethodChoice(choice);
  const fallback = new Set<string>();
  let inputNorms: ReadonlyMap<string, Float32Array> | undefined;
  let inputRowNorms: ReadonlyMap<string, Float32Array> | undefined;
  let calibration: PreparedMethod['calibration'];
  if (method.calibrated) {
    const pruned = plan.tensors.filter((t) => t.status === 'pruned').map((t) => t.name);
    const a = await inputActivationNorms(ft, pruned, choice.calibration!, signal);
    inputNorms = a.norms;
    inputRowNorms = a.rowNorms;
    calibration = { data: choice.calibration!.data, lines: a.lines };
  }
  const make = method.selector;
  const prepared: PreparedMethod = {
    method,
    seed: method.seeded ? choice.seed ?? 0 : undefined,
    selectorFor: (seed) => make?.({ seed, inputNorms, inputRowNorms, onFallback: (t) => fallback.add(t) }),
    fallback,
  };
  if (calibration) prepared.calibration = calibration;
  return prepared;
}
