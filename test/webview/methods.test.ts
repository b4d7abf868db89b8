import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SweepPoint, SweepRecord } from '../../src/shared/report';
import { adapterName, allXs, formatBytes, hoverText, logAxis, methodsSeries, methodTraces, showMethodsView, sweepMethods, type TraceStyle } from '../../webview/logic/methods';

function pt(method: string | undefined, k: number, value: number, extra: Partial<SweepPoint> = {}): SweepPoint {
  const p: SweepPoint = { k, keptParams: k * 100, keptRatio: k / 1000, accuracy: value, macroF1: value - 0.1, value, subnetworkBytes: k * 1000, ...extra };
  if (method !== undefined) p.method = method;
  return p;
}

const STYLE: TraceStyle = { colors: ['#a', '#b', '#c'], muted: '#m', accent: '#x', fmt: (v) => v.toFixed(3) };

/** A 3-method sweep: ken, delta-magnitude, random over seeds 0..2, at k = 8 and 32. */
function threeMethods(withAggregates: boolean): SweepRecord {
  const rnd: [number, number, number][] = [[8, 0, 0.5], [8, 1, 0.6], [8, 2, 0.7], [32, 0, 0.8], [32, 1, 0.8], [32, 2, 0.8]];
  const s: SweepRecord = {
    finetunedAccuracy: 0.9, metric: 'accuracy', finetunedValue: 0.9, totalParams: 100000,
    methods: ['ken', 'delta-magnitude', 'random'],
    points: [
      pt('delta-magnitude', 32, 0.85), pt('ken', 32, 0.88), pt('ken', 8, 0.7), pt('delta-magnitude', 8, 0.6),
      ...rnd.map(([k, seed, v]) => pt('random', k, v, { seed })),
    ],
  };
  if (withAggregates) {
    s.aggregates = [
      { method: 'random', k: 8, runs: 3, mean: 0.6, spread: 0.1, min: 0.5, max: 0.7, keptParams: 800, subnetworkBytes: 8000 },
      { method: 'random', k: 32, runs: 3, mean: 0.8, spread: 0, min: 0.8, max: 0.8, keptParams: 3200, subnetworkBytes: 32000 },
    ];
  }
  return s;
}

test('methods view shown only for a comparison: several methods or an adapter', () => {
  assert.equal(showMethodsView(undefined), false);
  assert.equal(showMethodsView({ finetunedAccuracy: 0.9, points: [pt(undefined, 8, 0.5), pt(undefined, 16, 0.6)] }), false, 'a KEN-only sweep keeps the Metrics chart');
  assert.equal(showMethodsView({ finetunedAccuracy: 0.9, points: [pt('ken', 8, 0.5)], methods: ['ken'] }), false);
  assert.equal(showMethodsView(threeMethods(true)), true);
  assert.equal(showMethodsView({ finetunedAccuracy: 0.9, points: [pt('ken', 8, 0.5)], methods: ['ken'], adapter: { path: 'a', value: 0.8, metrics: {}, trainableParams: 10, bytes: 40 } }), true);
  // methods named in the record but no points yet for the second still count
  assert.equal(showMethodsView({ finetunedAccuracy: 0.9, points: [pt('ken', 8, 0.5)], methods: ['ken', 'magnitude'] }), true);
});

test('methods come in the order asked, then any other method the points name; points without a method are KEN\'s', () => {
  assert.deepEqual(sweepMethods(threeMethods(false)), ['ken', 'delta-magnitude', 'random']);
  assert.deepEqual(sweepMethods({ finetunedAccuracy: 1, methods: ['random'], points: [pt(undefined, 8, 1), pt('random', 8, 1, { seed: 0 }), pt('dare', 8, 1, { seed: 0 })] }), ['random', 'ken', 'dare']);
});

test('series: one line per method by k; a seeded method is the aggregates\' mean with its spread and every seed\'s points', () => {
  const s = methodsSeries(threeMethods(true));
  assert.equal(s.metric, 'accuracy');
  assert.equal(s.finetuned, 0.9);
  assert.equal(s.totalParams, 100000);
  assert.equal(s.hasBytes, true);
  assert.deepEqual(s.lines.map((l) => [l.method, l.seeded, l.points.map((p) => [p.k, p.value])]), [
    ['ken', false, [[8, 0.7], [32, 0.88]]],
    ['delta-magnitude', false, [[8, 0.6], [32, 0.85]]],
    ['random', true, [[8, 0.6], [32, 0.8]]],
  ]);
  const r = s.lines[2]!;
  assert.deepEqual(r.spread, [{ k: 8, runs: 3, mean: 0.6, spread: 0.1, min: 0.5, max: 0.7 }, { k: 32, runs: 3, mean: 0.8, spread: 0, min: 0.8, max: 0.8 }]);
  assert.deepEqual(r.runs!.map((p) => [p.k, p.seed, p.value]), [[8, 0, 0.5], [8, 1, 0.6], [8, 2, 0.7], [32, 0, 0.8], [32, 1, 0.8], [32, 2, 0.8]]);
  assert.deepEqual(r.points.map((p) => [p.keptParams, p.bytes]), [[800, 8000], [3200, 32000]]);
});

test('series without aggregates: the mean and the sample standard deviation of the seeds\' points', () => {
  const s = methodsSeries(threeMethods(false));
  const r = s.lines[2]!;
  assert.equal(r.seeded, true);
  assert.ok(Math.abs(r.spread![0]!.mean - 0.6) < 1e-12);
  assert.ok(Math.abs(r.spread![0]!.spread - 0.1) < 1e-12, 'sample (n-1) standard deviation of 0.5, 0.6, 0.7');
  assert.deepEqual([r.spread![0]!.min, r.spread![0]!.max, r.spread![0]!.runs], [0.5, 0.7, 3]);
  assert.ok(r.spread![1]!.spread < 1e-12, 'equal values: no spread');
  // one seed: no spread, not NaN
  const one = methodsSeries({ finetunedAccuracy: 1, points: [pt('dare', 8, 0.4, { seed: 5 }), pt('ken', 8, 0.5)] });
  assert.deepEqual(one.lines.find((l) => l.method === 'dare')!.spread, [{ k: 8, runs: 1, mean: 0.4, spread: 0, min: 0.4, max: 0.4 }]);
  // a metric other than accuracy, and an old point without `value`
  const mcc = methodsSeries({ finetunedAccuracy: 0.9, metric: 'mcc', finetunedValue: 0.7, points: [{ k: 8, keptParams: 1, keptRatio: 0.1, accuracy: 0.33, macroF1: 0.2, method: 'ken' }, pt('magnitude', 8, 0.5)] });
  assert.equal(mcc.finetuned, 0.7);
  assert.equal(mcc.lines[0]!.points[0]!.value, 0.33);
  assert.equal(mcc.hasBytes, false, 'a point without bytes: no bytes axis');
});

test('traces: a line per method (the seeded one with error bars), faint seed points, the adapter point, the report\'s ring', () => {
  const rec = threeMethods(true);
  rec.adapter = { path: '/models/lora-r8/', value: 0.87, metrics: { accuracy: 0.87 }, trainableParams: 5000, bytes: 20000 };
  const s = methodsSeries(rec);
  const t = methodTraces(s, 'params', STYLE, { method: 'ken', k: 32 });
  assert.deepEqual(t.map((x) => [x.meta.role, x.meta.method ?? '']), [
    ['method', 'ken'], ['method', 'delta-magnitude'], ['method', 'random'], ['seeds', 'random'], ['adapter', ''], ['current', ''],
  ]);
  assert.equal(t.filter((x) => x.meta.role === 'method').length, 3);
  assert.deepEqual(t[0]!['x'], [800, 3200]);
  assert.deepEqual(t[0]!['y'], [0.7, 0.88]);
  assert.equal(t[0]!['error_y'], undefined);
  assert.deepEqual((t[2]!['error_y'] as { array: number[] }).array, [0.1, 0]);
  assert.equal((t[3]!['marker'] as { opacity: number }).opacity < 1, true);
  assert.deepEqual(t[3]!['y'], [0.5, 0.6, 0.7, 0.8, 0.8, 0.8]);
  assert.deepEqual([t[4]!['x'], t[4]!['y'], t[4]!.name], [[5000], [0.87], 'adapter lora-r8']);
  assert.deepEqual([t[5]!['x'], t[5]!['y']], [[3200], [0.88]]);
  // colours follow the method, its seeds share it
  assert.deepEqual(t.slice(0, 4).map((x) => (x['marker'] as { color: string }).color), ['#a', '#b', '#c', '#c']);
  // the bytes axis: the subnetwork's bytes, the adapter's files
  const b = methodTraces(s, 'bytes', STYLE);
  assert.deepEqual(b[1]!['x'], [8000, 32000]);
  assert.deepEqual(b.find((x) => x.meta.role === 'adapter')!['x'], [20000]);
  assert.equal(b.some((x) => x.meta.role === 'current'), false);
  // a seeded report rings its own seed's run
  const seeded = methodTraces(s, 'params', STYLE, { method: 'random', k: 8, seed: 2 });
  assert.deepEqual(seeded.find((x) => x.meta.role === 'current')!['y'], [0.7]);
});

test('hover: method, seed, k, kept parameters and share, bytes, the metric (mean ± spread for seeded lines)', () => {
  const s = methodsSeries(threeMethods(true));
  const t = methodTraces(s, 'params', STYLE);
  const text = t[2]!['text'] as string[];
  assert.equal(text[0], '<b>random</b><br>k=8<br>kept 800 parameters (0.80%)<br>subnetwork 8.0 kB<br>accuracy 0.600 mean ± 0.100 over 3 seeds (min 0.500, max 0.700)');
  assert.equal((t[3]!['text'] as string[])[1], '<b>random</b> (seed 1)<br>k=8<br>kept 800 parameters (0.80%)<br>subnetwork 8.0 kB<br>accuracy 0.600');
  assert.equal(hoverText({ method: 'ken', k: 4, keptParams: 1234567, keptRatio: Number.NaN, bytes: undefined, value: 0.5 }, 'mcc', (v) => String(v)), '<b>ken</b><br>k=4<br>kept 1,234,567 parameters<br>mcc 0.5');
});

test('axis helpers: log scale over a wide span, bytes formatting, adapter names', () => {
  assert.equal(logAxis([100, 200, 1900]), false);
  assert.equal(logAxis([100, 200, 2100]), true);
  assert.equal(logAxis([Number.NaN, 5]), false);
  const s = methodsSeries(threeMethods(true));
  assert.deepEqual(allXs(s, 'params').sort((a, b) => a - b).slice(0, 3), [800, 800, 800]);
  assert.deepEqual([formatBytes(512), formatBytes(2048), formatBytes(3e6), formatBytes(2.5e9)], ['512 B', '2.0 kB', '3.0 MB', '2.50 GB'], 'SI units, as the header and the axis');
  assert.equal(adapterName('/a/b/lora-adapter/'), 'lora-adapter');
  assert.equal(adapterName('C:\\x\\peft'), 'peft');
});
