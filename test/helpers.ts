// Shared test helpers: fixture paths, temporary folders, synthetic checkpoints, in-process CLI runs.
import { copyFileSync, linkSync, mkdtempSync, mkdirSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after } from 'node:test';
import { main } from '../src/cli/main';
import { writeSafetensors } from '../src/formats/safetensors';
import { fillGrid } from '../src/ken/row';

/** The repository root (tests run from dist/test/...). */
export const ROOT = (() => {
  let d = __dirname;
  while (!require('node:fs').existsSync(join(d, 'package.json'))) d = resolve(d, '..');
  return d;
})();

/** The earlier demo pair (short pre-training, far fine-tune), kept as test data: tests' expected numbers are its own. */
export const DEMO = join(ROOT, 'test', 'data', 'demo-v1', 'debdesc-bert-mini');
export const EXTRA = join(ROOT, 'test', 'data', 'debdesc-bert-mini');
export const GOLDEN = join(ROOT, 'test', 'data', 'golden', 'ken-rows.jsonl');
export const GOLDEN_KERNELS = join(ROOT, 'test', 'data', 'golden', 'ken-rows-kernels.jsonl');

export interface Expected {
  finetunedAccuracy: number;
  ken: Record<string, { accuracy: number; keptParams: number; totalParams: number; keptRatio: number }>;
}
export const EXPECTED: Expected = JSON.parse(readFileSync(join(DEMO, 'expected.json'), 'utf8')) as Expected;

const tmpRoots: string[] = [];
after(() => {
  for (const d of tmpRoots) rmSync(d, { recursive: true, force: true });
});

/** A fresh temporary folder, removed after the test file. */
export function tmp(prefix = 'ken-test-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  tmpRoots.push(d);
  return d;
}

const FT_FILES = ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'vocab.txt'];

/**
 * `src` placed at `dest` as a regular file: a hard link (no copy) where the file system allows, else a
 * copy. Not a symlink: a model folder's files that are symlinks out of it are refused (SECURITY.md).
 */
export function linkFile(src: string, dest: string): void {
  try {
    linkSync(src, dest);
  } catch {
    copyFileSync(src, dest);
  }
}

/**
 * A folder of the fixture pair holding the formats asked for (files hard-linked, not copied):
 * finetuned: safetensors and/or onnx; pretrained: safetensors and/or onnx.
 */
export function fixture(which: 'finetuned' | 'pretrained', formats: ('safetensors' | 'onnx')[]): string {
  const d = join(tmp('ken-fixture-'), which);
  mkdirSync(d);
  const src = (f: string): string => {
    const inDemo = join(DEMO, which, f);
    return require('node:fs').existsSync(inDemo) ? inDemo : join(EXTRA, which, f);
  };
  for (const f of which === 'finetuned' ? FT_FILES : ['config.json']) linkFile(src(f), join(d, f));
  if (formats.includes('safetensors')) linkFile(src('model.safetensors'), join(d, 'model.safetensors'));
  if (formats.includes('onnx')) linkFile(src('model.onnx'), join(d, 'model.onnx'));
  return d;
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `ken ...args` in this process. */
/** `onOut`: called with the whole stdout so far after each write (a test can wait for a line instead of a fixed time). */
export async function ken(args: string[], signal: AbortSignal = new AbortController().signal, onOut?: (stdout: string) => void): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const out = (s: string): void => {
    stdout += s;
    onOut?.(stdout);
  };
  const code = await main(args, { out, err: (s) => (stderr += s), progress: false, signal });
  return { code, stdout, stderr };
}

/** Deterministic pseudo-random normal values. */
export function normals(count: number, seed: number, scale = 1): Float32Array {
  const out = new Float32Array(count);
  let s = seed >>> 0 || 1;
  const uni = (): number => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return (s + 0.5) / 4294967296;
  };
  for (let i = 0; i < count; i++) out[i] = Math.sqrt(-2 * Math.log(uni())) * Math.cos(2 * Math.PI * uni()) * scale;
  return out;
}

export interface SynthTensor {
  name: string;
  shape: number[];
  values: Float32Array;
  dtype?: 'F32' | 'F16' | 'BF16';
}

/** Writes a model.safetensors (and config.json) into a new folder. */
export async function synthModel(dir: string, tensors: SynthTensor[]): Promise<string> {
  const { fromFloat32 } = await import('../src/formats/dtype');
  mkdirSync(dir, { recursive: true });
  await writeSafetensors(
    join(dir, 'model.safetensors'),
    tensors.map((t) => ({ name: t.name, dtype: t.dtype ?? 'F32', shape: t.shape, data: fromFloat32(t.values, t.dtype ?? 'F32') })),
    { format: 'pt' },
  );
  require('node:fs').writeFileSync(join(dir, 'config.json'), JSON.stringify({ model_type: 'bert' }));
  return dir;
}

const SMALL_PAIR: [string, number[]][] = [
  ['bert.embeddings.word_embeddings.weight', [50, 16]],
  ['bert.encoder.layer.0.attention.self.query.weight', [16, 16]],
  ['bert.encoder.layer.0.attention.self.query.bias', [16]],
  ['bert.encoder.layer.1.attention.self.query.weight', [16, 16]],
  ['bert.encoder.layer.1.output.LayerNorm.weight', [16]],
  ['classifier.weight', [3, 16]],
];

export interface SynthPairOptions {
  dtype?: 'F32' | 'F16' | 'BF16';
  /** Tensor names and shapes (default: a small BERT-like set); `classifier.*` exists in the fine-tuned model only. */
  shapes?: [string, number[]][];
  seed?: number;
}

/**
 * A base / fine-tuned pair: base ~ N(0, 0.02), fine-tuned = base + N(0, 0.005); the base also has an
 * MLM-head tensor. Returns the folders and the fine-tuned values by name.
 */
export async function synthPair(root: string, opts: SynthPairOptions = {}): Promise<{ ft: string; base: string; values: Map<string, Float32Array> }> {
  const seed = opts.seed ?? 100;
  const base: SynthTensor[] = [];
  const ft: SynthTensor[] = [];
  const values = new Map<string, Float32Array>();
  (opts.shapes ?? SMALL_PAIR).forEach(([name, shape], i) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const b = normals(n, seed + i, 0.02);
    const noise = normals(n, seed + 800 + i, 0.005);
    const f = b.map((v, j) => v + noise[j]!);
    values.set(name, f);
    if (!name.startsWith('classifier')) base.push({ name, shape, values: b, dtype: opts.dtype });
    ft.push({ name, shape, values: f, dtype: opts.dtype });
  });
  base.push({ name: 'cls.predictions.bias', shape: [50], values: normals(50, 7, 0.02), dtype: opts.dtype });
  return { ft: await synthModel(join(root, 'ft'), ft), base: await synthModel(join(root, 'base'), base), values };
}

export interface GoldenRow {
  id: string;
  source: string;
  k: number;
  n: number;
  values_f32_b64: string;
  kept: number[];
  bandwidth: number;
  /** Only in ken-rows-kernels.jsonl (scikit-learn's kernel name); the others are gaussian. */
  kernel?: string;
}

export function goldenRows(file = GOLDEN): GoldenRow[] {
  return readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as GoldenRow);
}

/** The 360 lines of ken-rows-kernels.jsonl (60 per scikit-learn kernel). */
export function goldenKernelRows(): (GoldenRow & { kernel: string })[] {
  return goldenRows(GOLDEN_KERNELS) as (GoldenRow & { kernel: string })[];
}

export function rowValues(g: GoldenRow): Float32Array {
  const b = Buffer.from(g.values_f32_b64, 'base64');
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}


/** Golden rows grouped by (n, k), as whole tensors would be. */
export function groupsOf<T extends { n: number; k: number }>(rows: readonly T[]): T[][] {
  const groups = new Map<string, T[]>();
  for (const g of rows) groups.set(`${g.n}:${g.k}`, [...(groups.get(`${g.n}:${g.k}`) ?? []), g]);
  return [...groups.values()];
}

/** Runs golden rows through a pool, a (n, k) group per call; returns the ids of rows kept differently. */
export async function goldenThrough(pool: { pruneRows(values: Float32Array, rows: number, n: number, k: number): Promise<{ mask: Uint8Array }> }, rows: readonly GoldenRow[] = goldenRows()): Promise<string[]> {
  const wrong: string[] = [];
  for (const group of groupsOf(rows)) {
    const { n, k } = group[0]!;
    const values = new Float32Array(group.length * n);
    group.forEach((g, r) => values.set(rowValues(g), r * n));
    const { mask } = await pool.pruneRows(values, group.length, n, k);
    group.forEach((g, r) => {
      const kept: number[] = [];
      for (let j = 0; j < n; j++) if (mask[r * n + j]) kept.push(j);
      if (JSON.stringify(kept) !== JSON.stringify(g.kept)) wrong.push(g.id);
    });
  }
  return wrong;
}

/** The indices a bit-per-value mask keeps among `n` values from `offset`. */
export function keptIndices(mask: Uint8Array, offset = 0, n = mask.length): number[] {
  const out: number[] = [];
  for (let j = 0; j < n; j++) if (mask[offset + j]) out.push(j);
  return out;
}

/** The reference's grid for a row: `k` points, linspace(min, max) as src/ken/row.ts fills it. */
export function rowGrid(row: Float32Array, k: number): Float64Array {
  let min = Infinity;
  let max = -Infinity;
  for (const v of row) {
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  const grid = new Float64Array(k);
  fillGrid(min, max, k, grid);
  return grid;
}
