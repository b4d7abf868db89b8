import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KenPool } from '../../src/ken/pool';
import { goldenRows, rowValues } from '../helpers';

test('scratch: golden on webgpu', async () => {
  const pool = await KenPool.open({ backend: 'ort', device: 'webgpu', threads: 2 });
  try {
    console.log(pool.backend, pool.executionProvider, pool.adapter);
    const groups = new Map<string, ReturnType<typeof goldenRows>>();
    for (const g of goldenRows()) {
      const key = `${g.n}:${g.k}`;
      groups.set(key, [...(groups.get(key) ?? []), g]);
    }
    const wrong: string[] = [];
    const t0 = Date.now();
    for (const rows of groups.values()) {
      const { n, k } = rows[0]!;
      const values = new Float32Array(rows.length * n);
      rows.forEach((g, r) => values.set(rowValues(g), r * n));
      const { mask } = await pool.pruneRows(values, rows.length, n, k);
      rows.forEach((g, r) => {
        const kept: number[] = [];
        for (let j = 0; j < n; j++) if (mask[r * n + j]) kept.push(j);
        if (JSON.stringify(kept) !== JSON.stringify(g.kept)) wrong.push(g.id);
      });
    }
    console.log('ms', Date.now() - t0, 'densities', pool.densities, 'rechecked', pool.rechecked, pool.rechecked / pool.densities);
    assert.deepEqual(wrong, []);
  } finally {
    await pool.close();
  }
});
