// Built graphs of every encoder family and head against a PyTorch re-implementation of Hugging Face's
// modeling code (test/data/graph/make_encoders.py): padded batches with sentence pairs, each line alone,
// F16 and BF16 (sharded, with an index) checkpoints. |ours - torch| <= 1e-4 + 1e-4 |torch|.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openModel } from '../../src/checkpoint/folder';
import { buildGraph, sessionExternalData } from '../../src/models/build';
import { openSession } from '../../src/runtime/session';
import { ROOT } from '../helpers';

const DIR = join(ROOT, 'test', 'data', 'graph', 'encoders');

interface Batch {
  inputs: Record<string, number[][]>;
  outputs: Record<string, unknown>;
}

interface Expected extends Batch {
  lengths: number[];
  alone: Record<string, unknown>[];
  /** The same lines left-padded (a short line's first position is then padding, which BERT-style heads pool). */
  left: Batch;
}

const flat = (v: unknown): number[] => (Array.isArray(v) ? v.flatMap(flat) : [v as number]);

/** `skip(i)`: values at padding, which the built graph does not compute (each must still be finite). */
function close(ours: ArrayLike<number>, torch: number[], what: string, skip: (i: number) => boolean = () => false): void {
  assert.equal(ours.length, torch.length, `${what}: ${ours.length} values, torch has ${torch.length}`);
  for (let i = 0; i < torch.length; i++) {
    if (skip(i)) {
      assert.ok(Number.isFinite(ours[i]!), `${what}[${i}] (padding): ${ours[i]}`);
      continue;
    }
    const d = Math.abs(ours[i]! - torch[i]!);
    assert.ok(d <= 1e-4 + 1e-4 * Math.abs(torch[i]!), `${what}[${i}]: ${ours[i]} vs torch ${torch[i]} (|diff| ${d})`);
  }
}

for (const name of readdirSync(DIR).sort()) {
  test(`built graph = PyTorch: ${name}`, async () => {
    const folder = join(DIR, name);
    const exp = JSON.parse(readFileSync(join(folder, 'expected.json'), 'utf8')) as Expected;
    const built = buildGraph(await openModel(folder, 'model'));
    assert.deepEqual([...built.outputs].sort(), Object.keys(exp.outputs).sort());
    assert.deepEqual(built.inputs, Object.keys(exp.inputs));
    const { session, ort } = await openSession(built.model, 'cpu', sessionExternalData(built));
    try {
      const tensor = (rows: number[][]) => new ort.Tensor('int64', BigInt64Array.from(rows.flat(), (x) => BigInt(x)), [rows.length, rows[0]!.length]);
      // per-token outputs ([batch, sequence, ...]) are compared where the attention mask is 1: the built graph
      // computes the tokens the mask covers (and each line's first), never the padding
      const padded = async (b: Batch, what: string): Promise<void> => {
        const out = await session.run(Object.fromEntries(Object.entries(b.inputs).map(([k, v]) => [k, tensor(v)])));
        const mask = b.inputs['attention_mask']!;
        assert.ok(mask.some((row) => row.includes(0)), `${name}: the fixture's ${what} batch has padding`);
        const [batch, seq] = [mask.length, mask[0]!.length];
        for (const [k, v] of Object.entries(b.outputs)) {
          const dims = out[k]!.dims;
          const perToken = dims.length >= 2 && dims[0] === batch && dims[1] === seq;
          const inner = perToken ? dims.slice(2).reduce((x, y) => x * y, 1) : 1;
          const padding = (i: number): boolean => perToken && mask[Math.floor(i / (seq * inner))]![Math.floor(i / inner) % seq] === 0;
          close(out[k]!.data as Float32Array, flat(v), `${name} ${k} (${what} batch)`, padding);
        }
      };
      await padded(exp, 'right-padded');
      await padded(exp.left, 'left-padded');
      // each line alone and unpadded
      for (const [r, n] of exp.lengths.entries()) {
        const one = Object.fromEntries(Object.entries(exp.inputs).map(([k, v]) => [k, tensor([v[r]!.slice(0, n)])]));
        const o = await session.run(one);
        for (const [k, v] of Object.entries(exp.alone[r]!)) close(o[k]!.data as Float32Array, flat(v), `${name} ${k} (line ${r} alone)`);
      }
    } finally {
      await session.release();
    }
  });
}
