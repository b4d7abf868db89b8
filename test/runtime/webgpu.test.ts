// The WebGPU probe's own check graph (src/runtime/webgpu.ts): run here on the CPU provider, it gives the sums the
// probe script checks the adapter's against, so a probe failure means the adapter, not the graph.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openSession } from '../../src/runtime/session';
import { webGpuCheckGraph } from '../../src/runtime/webgpu';

test('the probe check graph sums exp(-(g - a)^2 / 2) over the values of each row, per grid point', async () => {
  const { session, ort } = await openSession(webGpuCheckGraph(), 'cpu');
  const a = [0, 0.5, -1.25, 2, 40, 40];
  const g = [0, 1, -2];
  const r = await session.run({ A: new ort.Tensor('float32', Float32Array.from(a), [1, 1, 3, 2]), G: new ort.Tensor('float32', Float32Array.from(g), [1, 3, 1, 1]) });
  const S = r['S']!;
  assert.deepEqual(S.dims, [1, 3]);
  g.forEach((gi, i) => {
    const want = a.reduce((s, v) => s + Math.exp(-0.5 * (gi - v) ** 2), 0);
    assert.ok(Math.abs((S.data as Float32Array)[i]! - want) <= 1e-6 * want, `S[${i}] = ${(S.data as Float32Array)[i]}, want ${want}`);
  });
  await session.release();
});
