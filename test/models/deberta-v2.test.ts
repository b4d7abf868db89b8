import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { openModel } from '../../src/checkpoint/folder';
import { buildGraph, sessionExternalData } from '../../src/models/build';
import { openSession } from '../../src/runtime/session';
import { relativeBucket } from '../../src/models/deberta-v2';
import { ROOT as repoRoot } from '../helpers';

interface BucketTable { buckets: number; max_position: number; from: number; values: number[] }

test('DeBERTa relative-position buckets equal torch float32 ones (fixture settings and v3-base: 256 buckets, 512 positions)', () => {
  const tables = JSON.parse(readFileSync(join(repoRoot, 'test/data/models/deberta-buckets.json'), 'utf8')) as BucketTable[];
  assert.ok(tables.some((t) => t.buckets === 256 && t.max_position === 512));
  for (const t of tables) {
    t.values.forEach((want, i) => {
      const rel = t.from + i;
      assert.equal(relativeBucket(rel, t.buckets, t.max_position), want, `buckets ${t.buckets}, max ${t.max_position}, rel ${rel}`);
    });
  }
  assert.equal(relativeBucket(-300, -1, 512), -300, 'no buckets: the distance itself');
});

interface Expected {
  input_ids: number[][];
  attention_mask: number[][];
  token_type_ids: number[][];
  outputs: Record<string, number[][] | number[][][]>;
}

const FIXTURES = ['deberta-v3-seqcls', 'deberta-v2-tokcls', 'deberta-v2-qa'];

for (const name of FIXTURES) {
  test(`built DeBERTa graph equals PyTorch on ${name} (padded batch, log-bucketed distances)`, async () => {
    const dir = join(repoRoot, 'test/data/models', name);
    const exp = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as Expected;
    const built = buildGraph(await openModel(dir, 'fine-tuned'));
    const { session, ort } = await openSession(built.model, 'cpu', sessionExternalData(built));
    try {
      const B = exp.input_ids.length;
      const L = exp.input_ids[0]!.length;
      const tensor = (rows: number[][]): InstanceType<typeof ort.Tensor> => new ort.Tensor('int64', BigInt64Array.from(rows.flat(), BigInt), [B, L]);
      const feeds: Record<string, InstanceType<typeof ort.Tensor>> = { input_ids: tensor(exp.input_ids), attention_mask: tensor(exp.attention_mask) };
      if (built.inputs.includes('token_type_ids')) feeds['token_type_ids'] = tensor(exp.token_type_ids);
      const got = await session.run(feeds);
      assert.deepEqual(Object.keys(exp.outputs).sort(), [...built.outputs].sort());
      let worst = 0;
      for (const [key, want] of Object.entries(exp.outputs)) {
        const ours = got[key]!.data as Float32Array;
        const perLine = ours.length / B;
        for (let b = 0; b < B; b++) {
          const valid = exp.attention_mask[b]!.reduce((s, m) => s + m, 0);
          const row = (want[b] as (number | number[])[]).flat();
          // per-token outputs: only the line's own tokens (padding rows are not part of any result)
          const width = Array.isArray(want[b]![0]) ? (want[b]![0] as number[]).length : key === 'logits' && built.task === 'text-classification' ? row.length : 1;
          const count = built.task === 'text-classification' ? row.length : valid * width;
          for (let i = 0; i < count; i++) {
            const t = row[i]!;
            const o = ours[b * perLine + i]!;
            worst = Math.max(worst, Math.abs(o - t) / (1 + Math.abs(t)));
            assert.ok(Math.abs(o - t) <= 1e-4 + 1e-4 * Math.abs(t), `${key}[${b}][${i}]: ${o} vs torch ${t}`);
          }
        }
      }
      assert.ok(worst < 1e-4);
    } finally {
      await session.release();
    }
  });
}
