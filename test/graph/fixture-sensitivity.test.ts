// The fixtures can see errors: a planted change of the kind a re-implementation gets wrong must move the
// built graph's outputs on the fixture's own inputs by at least 10x the tolerance the PyTorch comparison
// uses (1e-4 + 1e-4 |x|, test/graph/encoders.test.ts and decoders.test.ts; 5e-5 on a causal LM's token
// log-probabilities). Encoders: the GELU variant, LayerNorm's eps, RoBERTa's position offset. Decoders
// (test/data/decoders): GPT-2's activation, eps, attention scalings (scale_attn_weights,
// scale_attn_by_inverse_layer_idx) and positions one off (wpe read a row late); the Llama family's
// activation, RMSNorm eps, rope_theta, rope_scaling, sliding windows one off and Qwen2's use_sliding_window.
// A fixture whose outputs barely depend on the input (initializer-scale weights) would pass a wrong
// graph; this fails it instead.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openSync, readSync, closeSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openModel } from '../../src/checkpoint/folder';
import type { ModelFolder } from '../../src/checkpoint/types';
import { buildGraph, sessionExternalData } from '../../src/models/build';
import { openSession } from '../../src/runtime/session';
import { ROOT } from '../helpers';

const ENC = join(ROOT, 'test', 'data', 'graph', 'encoders');
const MODELS = join(ROOT, 'test', 'data', 'models');
const DEC = join(ROOT, 'test', 'data', 'decoders');

/** A planted change: config.json keys the built graph reads, and/or tensors replaced (stored dtype and layout). */
interface Change {
  config?: Record<string, unknown>;
  overrides?: (folder: ModelFolder) => Map<string, Uint8Array>;
}

interface Fixture {
  dir: string;
  /** Encoders: one padded batch (expected.json's inputs); decoders: every line alone, unpadded. */
  batches: (dir: string) => Record<string, number[][]>[];
  changes: Record<string, Change>;
}

/** Fixture folder -> planted changes. */
const PLANTED: Record<string, Fixture> = {};
const gelu = (cfg: Record<string, unknown>, key: string): Change => ({ config: { [key]: cfg[key] === 'gelu_new' ? 'gelu' : 'gelu_new' } });
const configOf = (dir: string): Record<string, unknown> => JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;

function encoderBatches(dir: string): Record<string, number[][]>[] {
  const e = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as Record<string, unknown>;
  const src = (e['inputs'] ?? e) as Record<string, number[][] | undefined>;
  const out: Record<string, number[][]> = {};
  for (const k of ['input_ids', 'attention_mask', 'token_type_ids']) if (src[k]) out[k] = src[k]!;
  return [out];
}

function decoderBatches(dir: string): Record<string, number[][]>[] {
  const e = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as { lines: { ids: number[] }[] };
  return e.lines.map((l) => ({ input_ids: [l.ids], attention_mask: [l.ids.map(() => 1)] }));
}

for (const family of ['bert', 'roberta', 'xlm-roberta', 'electra', 'albert', 'distilbert']) {
  for (const task of ['seq', 'token', 'qa']) {
    const dir = join(ENC, `${family}-${task}`);
    const cfg = configOf(dir);
    const changes: Record<string, Change> = {};
    changes['GELU exact <-> tanh'] = gelu(cfg, family === 'distilbert' ? 'activation' : 'hidden_act');
    if (family !== 'distilbert') changes['layer_norm_eps 1e-12 <-> 1e-5'] = { config: { layer_norm_eps: (cfg['layer_norm_eps'] as number) < 1e-6 ? 1e-5 : 1e-12 } };
    if (family === 'roberta' || family === 'xlm-roberta') changes['position offset (padding_idx) one off'] = { config: { pad_token_id: (cfg['pad_token_id'] as number) + 1 } };
    PLANTED[`${family}-${task}`] = { dir, batches: encoderBatches, changes };
  }
}
for (const name of ['deberta-v3-seqcls', 'deberta-v2-tokcls', 'deberta-v2-qa']) {
  const dir = join(MODELS, name);
  const cfg = configOf(dir);
  PLANTED[name] = {
    dir,
    batches: encoderBatches,
    changes: { 'GELU exact <-> tanh': gelu(cfg, 'hidden_act'), 'layer_norm_eps 1e-7 <-> 1e-5': { config: { layer_norm_eps: (cfg['layer_norm_eps'] as number) < 1e-6 ? 1e-5 : 1e-7 } } },
  };
}

/** The stored bytes of `name`, every row moved up by one (row p holds row p + 1; the last row stays): position p reads p + 1's embedding. */
function rowsShifted(folder: ModelFolder, name: string): Uint8Array {
  const t = folder.safetensors!.tensors.get(name)!;
  const bytes = new Uint8Array(t.entry.end - t.entry.begin);
  const fd = openSync(t.file.path, 'r');
  try {
    readSync(fd, bytes, 0, bytes.length, t.entry.begin);
  } finally {
    closeSync(fd);
  }
  const row = bytes.length / t.entry.shape[0]!;
  const out = Uint8Array.from(bytes);
  out.copyWithin(0, row);
  return out;
}

for (const name of ['gpt2-lm', 'gpt2-hub-lm', 'gpt2-seq', 'gpt2-tok', 'gpt2-qa']) {
  const dir = join(DEC, name);
  const cfg = configOf(dir);
  const wpe = (folder: ModelFolder): string => [...folder.safetensors!.tensors.keys()].find((k) => /(^|\.)wpe\.weight$/.test(k))!;
  PLANTED[name] = {
    dir,
    batches: decoderBatches,
    changes: {
      'GELU exact <-> tanh': gelu(cfg, 'activation_function'),
      'layer_norm_epsilon 1e-5 <-> 1e-6': { config: { layer_norm_epsilon: (cfg['layer_norm_epsilon'] as number) > 5e-6 ? 1e-6 : 1e-5 } },
      'scale_attn_weights off': { config: { scale_attn_weights: false } },
      'scale_attn_by_inverse_layer_idx toggled': { config: { scale_attn_by_inverse_layer_idx: cfg['scale_attn_by_inverse_layer_idx'] !== true } },
      'positions one off (wpe a row late)': { overrides: (folder) => new Map([[wpe(folder), rowsShifted(folder, wpe(folder))]]) },
    },
  };
}

for (const name of ['llama-lm', 'llama-seq', 'llama-tok', 'llama-qa', 'mistral-lm', 'mistral-tok', 'mistral-qa', 'qwen2-lm', 'qwen2-seq', 'qwen2-tok', 'qwen2-qa']) {
  const dir = join(DEC, name);
  const cfg = configOf(dir);
  const theta = cfg['rope_theta'] as number;
  const changes: Record<string, Change> = {
    'SiLU <-> GELU (tanh)': { config: { hidden_act: 'gelu_pytorch_tanh' } },
    'rms_norm_eps 1e-5 <-> 1e-6': { config: { rms_norm_eps: (cfg['rms_norm_eps'] as number) > 5e-6 ? 1e-6 : 1e-5 } },
    'rope_theta default 1e4 <-> 1e6': { config: { rope_theta: theta === 10000 ? 1e6 : 10000 } },
  };
  if (cfg['rope_scaling']) changes['rope_scaling ignored'] = { config: { rope_scaling: null } };
  const windowed = cfg['model_type'] === 'mistral' || (cfg['model_type'] === 'qwen2' && cfg['use_sliding_window'] === true);
  if (windowed && typeof cfg['sliding_window'] === 'number') changes['sliding_window one off'] = { config: { sliding_window: cfg['sliding_window'] + 1 } };
  if (cfg['model_type'] === 'qwen2' && cfg['use_sliding_window'] === false && typeof cfg['sliding_window'] === 'number') changes['use_sliding_window ignored'] = { config: { use_sliding_window: true } };
  PLANTED[name] = { dir, batches: decoderBatches, changes };
}

type Outputs = Record<string, { data: Float32Array; dims: readonly number[] }>;

async function run(folder: ModelFolder, batches: Record<string, number[][]>[], overrides?: Map<string, Uint8Array>): Promise<Outputs[]> {
  const built = buildGraph(folder, overrides ? { overrides } : {});
  const { session, ort } = await openSession(built.model, 'cpu', sessionExternalData(built));
  try {
    const outs: Outputs[] = [];
    for (const inputs of batches) {
      const feeds: Record<string, InstanceType<typeof ort.Tensor>> = {};
      for (const name of built.inputs) {
        const rows = inputs[name]!;
        feeds[name] = new ort.Tensor('int64', BigInt64Array.from(rows.flat(), (x) => BigInt(x)), [rows.length, rows[0]!.length]);
      }
      const out = await session.run(feeds);
      outs.push(Object.fromEntries(Object.entries(out).map(([k, t]) => [k, { data: Float32Array.from(t.data as Float32Array), dims: t.dims }])));
    }
    return outs;
  } finally {
    await session.release();
  }
}

/** The tolerance the PyTorch comparisons use for output `key` at reference value `x`. */
const tolerance = (key: string, x: number): number => (key === 'token_logprobs' ? 5e-5 : 1e-4 + 1e-4 * Math.abs(x));

/** The largest |planted - ref| / tolerance over the real (unpadded) positions. */
function worstRatio(ref: Outputs, got: Outputs, mask: number[][]): number {
  let worst = 0;
  for (const [k, r] of Object.entries(ref)) {
    const g = got[k]!.data;
    const [b, s] = r.dims as [number, number];
    const per = r.data.length / b;
    for (let i = 0; i < r.data.length; i++) {
      if (r.dims.length >= 2 && r.dims[1] === mask[0]!.length && per >= s) {
        const row = Math.floor(i / per);
        const pos = Math.floor((i % per) / (per / s));
        if (mask[row]![pos] === 0) continue;
      }
      worst = Math.max(worst, Math.abs(g[i]! - r.data[i]!) / tolerance(k, r.data[i]!));
    }
  }
  return worst;
}

for (const [name, { dir, batches: batchesOf, changes }] of Object.entries(PLANTED)) {
  test(`fixture ${name} sees planted errors (each moves its outputs by >= 10x the tolerance)`, async () => {
    const folder = await openModel(dir, 'model');
    const batches = batchesOf(dir);
    const ref = await run(folder, batches);
    const seen: string[] = [];
    for (const [what, change] of Object.entries(changes)) {
      const planted = change.config ? { ...folder, config: { ...folder.config, ...change.config } } : folder;
      const got = await run(planted, batches, change.overrides?.(folder));
      const ratio = Math.max(...batches.map((b, i) => worstRatio(ref[i]!, got[i]!, b['attention_mask']!)));
      seen.push(`${what}: ${ratio.toFixed(1)}x`);
    }
    if (process.env['KEN_SENSITIVITY_LOG']) console.log(`${name}: ${seen.join(', ')}`);
    const low = seen.filter((s) => Number(/([\d.]+)x$/.exec(s)![1]) < 10);
    assert.deepEqual(low, [], `${name}: planted changes within 10x the tolerance (all: ${seen.join(', ')})`);
  });
}
