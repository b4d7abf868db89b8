// The extension's settings (package.json `contributes.configuration`), read in one place.
import * as vscode from 'vscode';
import { KERNELS, type Kernel } from '../ken/kernels';
import type { Scope } from '../ken/plan';
import type { BackendChoice } from '../ken/worker-protocol';
import type { DeviceChoice } from '../runtime/session';
import { METHOD_NAMES } from '../methods/registry';

export interface KenSettings {
  k: number;
  scope: Scope;
  executionProvider: DeviceChoice;
  backend: BackendChoice;
  kernel: Kernel;
  outputFolder: string;
  evalDataset: string;
  includeHead: boolean;
  evalBatchSize: number;
  /** The metric a sweep follows and its budget is in ('auto': the task's main one). */
  sweepMetric: string;
  /** The pruning method offered first (src/methods). */
  method: string;
  /** random/dare's seed. */
  seed: number;
  /** Runs of each seeded method per k in a sweep. */
  sweepSeeds: number;
  /** Wanda's calibration lines ('' = ask). */
  calibrationDataset: string;
}

export function readSettings(scope?: vscode.Uri): KenSettings {
  const c = vscode.workspace.getConfiguration('ken', scope);
  const k = c.get<number>('k', 96);
  return {
    k: Number.isInteger(k) && k >= 1 ? k : 96,
    scope: c.get<Scope>('scope', 'all') === 'attention' ? 'attention' : 'all',
    executionProvider: (['auto', 'cuda', 'webgpu', 'cpu'] as const).find((v) => v === c.get('executionProvider')) ?? 'auto',
    backend: (['auto', 'js', 'ort'] as const).find((v) => v === c.get('backend')) ?? 'auto',
    kernel: KERNELS.find((v) => v === c.get('kernel')) ?? 'gaussian',
    outputFolder: c.get<string>('outputFolder', ''),
    evalDataset: c.get<string>('evalDataset', ''),
    includeHead: c.get<boolean>('includeHead', false),
    evalBatchSize: Math.max(1, c.get<number>('evalBatchSize', 32)),
    sweepMetric: c.get<string>('sweepMetric', 'auto') || 'auto',
    method: METHOD_NAMES.find((v) => v === c.get('method')) ?? 'ken',
    seed: wholeNumber(c.get<number>('seed', 0), 0, 0),
    sweepSeeds: wholeNumber(c.get<number>('sweepSeeds', 3), 1, 3),
    calibrationDataset: c.get<string>('calibrationDataset', '') ?? '',
  };
}

/** A setting that must be a whole number >= min: anything else gives the default. */
function wholeNumber(v: unknown, min: number, fallback: number): number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= min ? v : fallback;
}
