// The fixtures can see errors: a planted change of the kind a re-implementation gets wrong (the GELU
// variant, LayerNorm's eps, RoBERTa's position offset) must move the built graph's outputs on the
// fixture's own inputs by at least 10x the tolerance the PyTorch comparison uses (1e-4 + 1e-4 |x|,
// test/graph/encoders.test.ts). A fixture whose outputs barely depend on the input (initializer-scale
// weights) would pass a wrong graph; this fails it instead.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openModel } from '../../src/checkpoint/folder';
import type { ModelFolder } from '../../src/checkpoint/types';
import { buildGraph, sessionExternalData } from '../../src/models/build';
import { openSession } from '../../src/runtime/session';
import { ROOT } from '../helpers';

const ENC = join(ROOT, 'test', 'data', 'graph', 'encoders');
const MODELS = join(ROOT, 'test', 'data', 'models');

type Change = Record<string, unknown>;

/** Fixture folder -> planted changes (config.json keys the built graph reads). */
const PLANTED: Record<string, { dir: string; changes: Record<string, Change> }> = {};
const gelu = (cfg: Record<string, unknown>, key: string): Change => ({ [key]: cfg[key] === 'gelu_new' ? 'gelu' : 'gelu_new' });
for (const family of ['bert', 'roberta', 'xlm-roberta', 'electra', 'albert', 'distilbert']) {
  for (const task of ['seq', 'token', 'qa']) {
    const dir = join(ENC, `${family}-${task}`);
    const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
    const changes: Record<string, Change> = {};
    changes['GELU exact <-> tanh'] = gelu(cfg, family === 'distilbert' ? 'activation' : 'hidden_act');
    if (family !== 'distilbert') changes['layer_norm_eps 1e-12 <-> 1e-5'] = { layer_norm_eps: (cfg['layer_norm_eps'] as number) < 1e-6 ? 1e-5 : 1e-12 };
    if (family === 'roberta' || family === 'xlm-roberta') changes['position offset (padding_idx) one off'] = { pad_token_id: (cfg['pad_token_id'] as number) + 1 };
    PLANTED[`${family}-${task}`] = { dir, changes };
  }
}
for (const name of ['deberta-v3-seqcls', 'deberta-v2-tokcls', 'deberta-v2-qa']) {
  const dir = join(MODELS, name);
  const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
  PLANTED[name] = { dir, changes: { 'GELU exact <-> tanh': gelu(cfg, 'hidden_act'), 'layer_norm_eps 1e-7 <-> 1e-5': { layer_norm_eps: (cfg['layer_norm_eps'] as number) < 1e-6 ? 1e-5 : 1e-7 } } };
}

function inputsOf(dir: string): Record<string, number[][]> {
  const e = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as Record<string, unknown>;
  const src = (e['inputs'] ?? e) as Record<string, number[][] | undefined>;
  const out: Record<string, number[][]> = {};
  for (const k of ['input_ids', 'attention_mask', 'token_type_ids']) if (src[k]) out[k] = src[k]!;
  return out;
}

async function run(folder: ModelFolder, inputs: Record<string, number[][]>): Promise<Record<string, { data: Float32Array; dims: readonly number[] }>> {
  const built = buildGraph(folder);
  const { session, ort } = await openSession(built.model, 'cpu', sessionExternalData(built));
  try {
    const feeds: Record<string, InstanceType<typeof ort.Tensor>> = {};
    for (const name of built.inputs) {
      const rows = inputs[name]!;
      feeds[name] = new ort.Tensor('int64', BigInt64Array.from(rows.flat(), (x) => BigInt(x)), [rows.length, rows[0]!.length]);
    }
    const out = await session.run(feeds);
    return Object.fromEntries(Object.entries(out).map(([k, t]) => [k, { data: Float32Array.from(t.data as Float32Array), dims: t.dims }]));
  } finally {
    await session.release();
  }
}

/** The largest |planted - ref| / (1e-4 + 1e-4 |ref|) over the real (unpadded) positions. */
function worstRatio(ref: Record<string, { data: Float32Array; dims: readonly number[] }>, got: typeof ref, mask: number[][]): number {
  let worst = 0;
  for (const [k, r] of Object.entries(ref)) {
    const g = got[k]!.data;
    const [b, s] = r.dims as [number, number];
    const per = r.data.length / b;
    for (let i = 0; i < r.data.length; i++) {
      if (r.dims.length >= 2 && r.dims[1] === mask[0]!.length && r.dims.length > 1 && per >= s) {
        const row = Math.floor(i / per);
        const pos = Math.floor((i % per) / (per / s));
        if (mask[row]![pos] === 0) continue;
      }
      worst = Math.max(worst, Math.abs(g[i]! - r.data[i]!) / (1e-4 + 1e-4 * Math.abs(r.data[i]!)));
    }
  }
  return worst;
}

/**
 * Fixtures that do not see every planted change yet (reported as todo, not passed): ALBERT's QA head,
 * whose GELU variant swap moves the outputs by about 3x the tolerance (its eps change: 17x).
 */
const TODO: Record<string, string> = {
  'albert-qa': 'GELU exact <-> tanh moves its outputs by about 3x the tolerance',
};

for (const [name, { dir, changes }] of Object.entries(PLANTED)) {
  test(`fixture ${name} sees planted errors (each moves its outputs by >= 10x the tolerance)`, { todo: TODO[name] }, async () => {
    const folder = await openModel(dir, 'model');
    const inputs = inputsOf(dir);
    const ref = await run(folder, inputs);
    const seen: string[] = [];
    for (const [what, change] of Object.entries(changes)) {
      const ratio = worstRatio(ref, await run({ ...folder, config: { ...folder.config, ...change } }, inputs), inputs['attention_mask']!);
      seen.push(`${what}: ${ratio.toFixed(1)}x`);
    }
    const low = seen.filter((s) => Number(/([\d.]+)x$/.exec(s)![1]) < 10);
    assert.deepEqual(low, [], `${name}: planted changes within 10x the tolerance (all: ${seen.join(', ')})`);
  });
}
