import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { test } from 'node:test';
import { openModel } from '../../src/checkpoint/folder';
import { readSubnetwork } from '../../src/formats/subnetwork';
import { KenPool } from '../../src/ken/pool';
import { analyzeCheckpoint } from '../../src/workflows/watch-analyze';
import { DEMO, tmp } from '../helpers';

test('a watched checkpoint\'s record (what the panel and the notebook renderer read) passes the subnetwork validation', async () => {
  const pool = await KenPool.open({ backend: 'js', device: 'cpu', threads: 1 });
  try {
    const out = join(tmp(), 'record');
    const base = await openModel(join(DEMO, 'pretrained'), 'base');
    await analyzeCheckpoint(join(DEMO, 'finetuned'), base, pool, undefined, { k: 8, scope: 'all', recordTo: out });
    const sub = await readSubnetwork(join(out, 'ken-subnetwork.safetensors'));
    assert.equal(sub.meta.k, 8);
    assert.ok(sub.meta.tensors.some((t) => t.layout !== 'whole' && t.base?.sha256 === ''), 'no fingerprints in a watch record');
  } finally {
    await pool.close();
  }
});
