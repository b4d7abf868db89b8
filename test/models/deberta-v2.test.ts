import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
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
