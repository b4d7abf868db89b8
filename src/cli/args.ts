// Argument helpers shared by the `ken` subcommands: checked values, one-line usage errors.
import { UsageError } from '../errors';

export type Values = Record<string, string | boolean | string[] | undefined>;

export function str(values: Values, key: string): string | undefined {
  const v = values[key];
  return typeof v === 'string' ? v : undefined;
}

export function required(values: Values, key: string, what: string): string {
  const v = str(values, key);
  if (v === undefined || v === '') throw new UsageError(`--${key} is required (${what})`);
  return v;
}

export function intOption(values: Values, key: string, flag: string, fallback?: number): number {
  const v = str(values, key);
  if (v === undefined) {
    if (fallback === undefined) throw new UsageError(`${flag} is required`);
    return fallback;
  }
  if (!/^\d+$/.test(v.trim())) throw new UsageError(`${flag} must be a whole number >= 1 (got '${v}')`);
  const n = Number(v);
  if (n < 1) throw new UsageError(`${flag} must be a whole number >= 1 (got '${v}')`);
  return n;
}

export function choice<T extends string>(values: Values, key: string, allowed: readonly T[], fallback: T): T {
  const v = str(values, key);
  if (v === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(v)) throw new UsageError(`--${key} must be one of ${allowed.join(', ')} (got '${v}')`);
  return v as T;
}

export function onePositional(positionals: string[], what: string): string {
  if (positionals.length === 0) throw new UsageError(`name the ${what}`);
  if (positionals.length > 1) throw new UsageError(`expected one ${what}, got ${positionals.length} arguments: ${positionals.join(' ')}`);
  return positionals[0]!;
}

export function formatBytes(n: number): string {
  if (n < 0) return `-${formatBytes(-n)}`;
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} GB`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} MB`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} kB`;
  return `${n} B`;
}

export const fmt = (n: number): string => n.toLocaleString('en-US');
export const pct = (x: number, digits = 1): string => `${(x * 100).toFixed(digits)}%`;

