// Every pruning method, in one place: adding one is its file and one line here.
import { UsageError } from '../errors';
import { dare } from './dare';
import { deltaMagnitude } from './delta-magnitude';
import { ken } from './ken';
import { magnitude } from './magnitude';
import { random } from './random';
import type { SelectionMethod } from './types';
import { wanda } from './wanda';

export const METHODS: readonly SelectionMethod[] = [ken, deltaMagnitude, magnitude, random, dare, wanda];

export const METHOD_NAMES: readonly string[] = METHODS.map((m) => m.name);

export type { SelectionMethod } from './types';

/** The method called `name`, or a one-line error naming the methods there are. */
export function methodNamed(name: string): SelectionMethod {
  const m = METHODS.find((x) => x.name === name);
  if (!m) throw new UsageError(`unknown method '${name}'; the methods are ${METHOD_NAMES.join(', ')}`);
  return m;
}

/** A comma-separated list of methods (`--methods`), each once, in the order given. */
export function parseMethods(text: string): SelectionMethod[] {
  const names = text.split(',').map((s) => s.trim()).filter(Boolean);
  if (names.length === 0) throw new UsageError(`--methods needs one or more of ${METHOD_NAMES.join(', ')}`);
  return [...new Set(names)].map(methodNamed);
}

/** `--seed`: a non-negative integer. */
export function parseSeed(text: string | undefined, flag = '--seed'): number {
  if (text === undefined) return 0;
  const v = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(v)) throw new UsageError(`${flag} must be a non-negative integer (got '${text}')`);
  return v;
}
