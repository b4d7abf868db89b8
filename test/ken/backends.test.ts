import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KenPool } from '../../src/ken/pool';
import { NonFiniteRowError } from '../../src/ken/row';
import { goldenRows, goldenThrough } from '../helpers';
import { emptyProfile } from '../../src/ken/profile';


test('js backend (worker threads, WebAssembly density pass) keeps the reference set on 100% of golden rows', async () => {
  const pool = await KenPool.open({ backend: 'js', device: 'cpu', threads: 2 });
  try {
    assert.equal(pool.backend, 'js');
    assert.equal(pool.densityEngine, 'wasm');
    assert.deepEqual(await goldenThrough(pool), []);
  } finally {
    await pool.close();
  }
});

test('a profiled js pool keeps the same sets and reports each worker thread\'s rows and phase seconds', async () => {
  const pool = await KenPool.open({ backend: 'js', device: 'cpu', threads: 2 });
  try {
    const profile = emptyProfile();
    pool.profile = profile;
    assert.deepEqual(await goldenThrough(pool), []);
    const rows = goldenRows().length;
    assert.equal(profile.threads.reduce((s, t) => s + t.rows, 0), rows);
    assert.ok(profile.threads.length >= 1 && profile.threads.length <= 2);
    for (const t of profile.threads) {
      for (const x of [t.bandwidthSort, t.densities, t.rechecks, t.selection]) assert.ok(x >= 0 && x <= t.busy + 1e-9);
      assert.ok(t.densities > 0 && t.selection > 0 && t.bandwidthSort > 0);
      assert.ok(Math.abs(t.bandwidthSort + t.densities + t.rechecks + t.selection + t.other - t.busy) < 1e-9);
    }
  } finally {
    await pool.close();
  }
});

test('js backend with KEN_WASM=0 (TypeScript density pass) keeps the reference set on 100% of golden rows', async () => {
  const before = process.env['KEN_WASM'];
  process.env['KEN_WASM'] = '0'; // workers copy the environment when they start
  let pool: KenPool;
  try {
    pool = await KenPool.open({ backend: 'js', device: 'cpu', threads: 2 });
  } finally {
    if (before === undefined) delete process.env['KEN_WASM'];
    else process.env['KEN_WASM'] = before;
  }
  try {
    assert.equal(pool.densityEngine, 'js');
    assert.deepEqual(await goldenThrough(pool), []);
  } finally {
    await pool.close();
  }
});

test('ort backend (ONNX density graph, CPU provider) keeps the reference set on 100% of golden rows', async () => {
  const pool = await KenPool.open({ backend: 'ort', device: 'cpu' });
  try {
    assert.equal(pool.backend, 'ort');
    assert.equal(pool.executionProvider, 'cpu');
    assert.deepEqual(await goldenThrough(pool), []);
  } finally {
    await pool.close();
  }
});

test('auto without the CUDA provider or a hardware WebGPU adapter runs js and says so', async () => {
  const pool = await KenPool.open({ backend: 'auto', device: 'auto' });
  try {
    const { cudaProviderInstalled } = await import('../../src/runtime/session');
    const { probeWebGpu } = await import('../../src/runtime/webgpu');
    const webgpu = await probeWebGpu();
    if (cudaProviderInstalled()) assert.deepEqual([pool.backend, pool.executionProvider], ['ort', 'cuda']);
    else if (webgpu.ok && !webgpu.adapter.software) assert.deepEqual([pool.backend, pool.executionProvider], ['ort', 'webgpu']);
    else assert.deepEqual([pool.backend, pool.executionProvider], ['js', 'cpu']);
  } finally {
    await pool.close();
  }
});

test('a non-finite value comes back as an error with its absolute row', async () => {
  for (const backend of ['js', 'ort'] as const) {
    const pool = await KenPool.open({ backend, device: 'cpu', threads: 2 });
    try {
      const values = new Float32Array(40 * 8).map((_, i) => Math.sin(i));
      values[33 * 8 + 5] = NaN;
      await assert.rejects(pool.pruneRows(values, 40, 8, 3), (e: unknown) => {
        assert.ok(e instanceof NonFiniteRowError);
        assert.equal(e.row, 33);
        assert.equal(e.column, 5);
        return true;
      });
    } finally {
      await pool.close();
    }
  }
});

test('asking for CUDA with the js backend is a usage error', async () => {
  await assert.rejects(KenPool.open({ backend: 'js', device: 'cuda' }), { name: 'UsageError' });
});
