import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readSubnetwork } from '../../src/formats/subnetwork';
import { readSafetensorsHeader } from '../../src/formats/safetensors';
import { RowPruner } from '../../src/ken/row';
import { KenPool } from '../../src/ken/pool';
import type { KenReport } from '../../src/shared/report';
import { goldenKernelRows, ken, rowValues, synthPair, tmp } from '../helpers';
import { parseKernel } from '../../src/ken/kernels';

test('the js pool (worker threads) keeps every line of ken-rows-kernels.jsonl with its kernel', async () => {
  const byKernel = new Map<string, ReturnType<typeof goldenKernelRows>>();
  for (const g of goldenKernelRows()) byKernel.set(g.kernel, [...(byKernel.get(g.kernel) ?? []), g]);
  const wrong: string[] = [];
  for (const [kernel, rows] of byKernel) {
    const pool = await KenPool.open({ backend: 'js', device: 'cpu', threads: 2, kernel: parseKernel(kernel) });
    try {
      assert.equal(pool.kernel, kernel);
      for (const g of rows) {
        const { mask } = await pool.pruneRows(rowValues(g), 1, g.n, g.k);
        const kept: number[] = [];
        for (let j = 0; j < g.n; j++) if (mask[j]) kept.push(j);
        if (JSON.stringify(kept) !== JSON.stringify(g.kept)) wrong.push(g.id);
      }
    } finally {
      await pool.close();
    }
  }
  assert.deepEqual(wrong, []);
});

test('ken prune --kernel: the rows are pruned with that kernel, and the report and subnetwork record it', async () => {
  const root = tmp();
  const pair = await synthPair(root);
  const out = join(root, 'out');
  const r = await ken(['prune', pair.ft, '--base', pair.base, '-k', '4', '--kernel', 'exponential', '--backend', 'js', '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /KEN k=4 \(exponential kernel\)/);
  const report = JSON.parse(readFileSync(join(out, 'ken-report.json'), 'utf8')) as KenReport;
  assert.equal(report.kernel, 'exponential');
  const sub = await readSubnetwork(join(out, 'ken-subnetwork.safetensors'));
  assert.equal(sub.meta.kernel, 'exponential');
  // the query weight's kept count is the exponential pruner's, row by row
  const name = 'bert.encoder.layer.0.attention.self.query.weight';
  const values = pair.values.get(name)!;
  const pruner = new RowPruner(undefined, 'exponential');
  const mask = new Uint8Array(values.length);
  let kept = 0;
  for (let row = 0; row < 16; row++) kept += pruner.prune(values.subarray(row * 16, row * 16 + 16), 4, mask, row * 16);
  assert.equal(report.tensors.find((t) => t.name === name)!.kept, kept);
  // a gaussian prune is recorded as such
  const out2 = join(root, 'out2');
  assert.equal((await ken(['prune', pair.ft, '--base', pair.base, '-k', '4', '--out', out2])).code, 0);
  assert.equal((JSON.parse(readFileSync(join(out2, 'ken-report.json'), 'utf8')) as KenReport).kernel, 'gaussian');
  assert.equal((await readSubnetwork(join(out2, 'ken-subnetwork.safetensors'))).meta.kernel, 'gaussian');
  assert.ok((await readSafetensorsHeader(join(out2, 'model.safetensors'))).tensors.length > 0);
});

test('--kernel with the ort backend or CUDA is a one-line usage error; an unknown kernel too', async () => {
  const root = tmp();
  const pair = await synthPair(root);
  for (const extra of [['--backend', 'ort'], ['--device', 'cuda']]) {
    const r = await ken(['prune', pair.ft, '--base', pair.base, '-k', '4', '--kernel', 'cosine', ...extra, '--out', join(root, 'o')]);
    assert.equal(r.code, 2, `${extra.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /gaussian densities only; use --backend js \(or auto\) with --kernel cosine/);
    assert.match(r.stderr.split('\n')[1]!, /^usage: /); // the one line, then the usage
  }
  const bad = await ken(['prune', pair.ft, '--base', pair.base, '-k', '4', '--kernel', 'box', '--out', join(root, 'o')]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--kernel must be one of gaussian, tophat/);
});
