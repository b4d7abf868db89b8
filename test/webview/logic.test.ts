import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TensorInfo } from '../../src/shared/protocol';
import { layerOf, layerPattern, type EvalResult, type KenReport } from '../../src/shared/report';
import { divergingScale, flatten, luminance, mix, neighbourScale, parseColor, robustAbsMax, toCss } from '../../webview/logic/colors';
import { backendBadge, fmtBytes, fmtValue, pct, points, shortName, tensorLabel } from '../../webview/logic/format';
import { Requests } from '../../webview/logic/requests';
import { defaultPattern, gridFor, layerRatios, normaliseConfusion, patternGroups, patternOptions, tensorAt, timelineSeries } from '../../webview/logic/shape';
import { metricCards, metricsOf, metricSweepSeries, scoreRows } from '../../webview/logic/metrics';
import { filterRows, naturalCompare, nextSort, sortRows, tensorRows } from '../../webview/logic/table';
import { chartTheme, merge, withTheme } from '../../webview/logic/theme-layout';

function info(name: string, rows: number, cols: number, status: TensorInfo['status'] = 'pruned'): TensorInfo {
  const t: TensorInfo = { name, rows, cols, status, kept: Math.round(rows * cols * 0.1), total: rows * cols, pattern: layerPattern(name) };
  const l = layerOf(name);
  if (l !== undefined) t.layer = l;
  return t;
}

const TENSORS: TensorInfo[] = [
  info('bert.embeddings.word_embeddings.weight', 30522, 768),
  ...[0, 1, 2, 10, 11].flatMap((l) => [
    info(`bert.encoder.layer.${l}.attention.self.query.weight`, 768, 768),
    info(`bert.encoder.layer.${l}.attention.self.query.bias`, 1, 768),
    info(`bert.encoder.layer.${l}.output.dense.weight`, 768, 3072),
  ]),
  info('classifier.weight', 2, 768, 'head'),
];

test('colours: CSS parsing, mixing, scales centred on a grey that is not the background', () => {
  assert.deepEqual(parseColor('#1f1f1f'), { r: 31, g: 31, b: 31, a: 1 });
  assert.deepEqual(parseColor('#fff8'), { r: 255, g: 255, b: 255, a: 0x88 / 255 });
  assert.deepEqual(parseColor('rgba(10, 20, 30, 0.5)'), { r: 10, g: 20, b: 30, a: 0.5 });
  assert.equal(parseColor('var(--x)'), undefined);
  assert.equal(toCss(mix(parseColor('#000000')!, parseColor('#ffffff')!, 0.5)), 'rgb(128,128,128)');
  assert.equal(toCss(flatten(parseColor('#ffffff80')!, parseColor('#000000')!)), 'rgb(128,128,128)');
  for (const bg of ['#1f1f1f', '#ffffff']) {
    const b = parseColor(bg)!;
    const f = parseColor(bg === '#ffffff' ? '#3b3b3b' : '#cccccc')!;
    const s = divergingScale(b, f);
    assert.equal(s[0]![0], 0);
    assert.equal(s.at(-1)![0], 1);
    const mid = s.find(([p]) => p === 0.5)![1];
    assert.ok(Math.abs(luminance(parseColor(mid)!) - luminance(b)) > 0.05, `mid ${mid} differs from background ${bg}`);
    assert.equal(neighbourScale(b, f)[0]![1], mid, 'an isolated kept value reads like a kept zero');
  }
});

test('robust colour range: a few outliers do not flatten everything else', () => {
  const v = new Float32Array(10000).map((_, i) => ((i % 200) - 100) / 1000);
  v[5] = 50;
  v[6] = NaN;
  const r = robustAbsMax(v, 0.99);
  assert.ok(r < 0.11 && r > 0.09, String(r));
  assert.equal(robustAbsMax(Float32Array.of(NaN, NaN)), 1);
  assert.equal(robustAbsMax(Float32Array.of(0, 0)), 1);
});

test('formatting', () => {
  assert.equal(pct(0.01234, 2), '1.23%');
  assert.equal(points(-0.0123), '-1.23 pt');
  assert.equal(points(0.01, 1), '+1.0 pt');
  assert.equal(fmtBytes(438_000_000), '438.0 MB');
  assert.equal(fmtValue(0.000012345), '1.234e-5');
  assert.equal(fmtValue(-0.0234567), '-0.02346');
  assert.equal(backendBadge('ort', 'CUDAExecutionProvider'), 'ort · CUDA');
  assert.equal(backendBadge('js', 'cpu'), 'js · cpu');
  assert.equal(shortName('bert.encoder.layer.3.attention.self.query.weight', 2), '…query.weight');
  assert.equal(tensorLabel('bert.encoder.layer.3.attention.self.query.weight', 3), 'L3 self.query.weight');
  assert.equal(tensorLabel('classifier.weight', undefined), 'classifier.weight');
});

test('patterns group the same matrix across any number of layers, in layer order', () => {
  const groups = patternGroups(TENSORS);
  const q = groups.find((g) => g.pattern === 'bert.encoder.layer.*.attention.self.query.weight')!;
  assert.deepEqual(q.layers, [0, 1, 2, 10, 11]);
  assert.equal(tensorAt(q, 10)!.name, 'bert.encoder.layer.10.attention.self.query.weight');
  assert.equal(tensorAt(q, 99)!.name, 'bert.encoder.layer.0.attention.self.query.weight');
  assert.equal(defaultPattern(groups), 'bert.encoder.layer.*.attention.self.query.weight');
  assert.equal(defaultPattern(patternGroups(TENSORS.filter((t) => !t.name.includes('query')))), 'bert.embeddings.word_embeddings.weight');
  assert.equal(patternOptions(groups).at(-1)!.pattern, 'classifier.weight', 'tensors kept whole come last');
  assert.deepEqual(gridFor(12, 4), { rows: 6, cols: 2 }, 'wide matrices: fewer columns');
  assert.deepEqual(gridFor(12, 0.25), { rows: 2, cols: 9 }, 'tall matrices: more columns');
  assert.deepEqual(gridFor(24, 1), { rows: 4, cols: 6 });
  assert.deepEqual(gridFor(1, 1), { rows: 1, cols: 1 });
  const g = gridFor(48, 0.25);
  assert.ok(g.rows * g.cols >= 48);
});

const REPORT: KenReport = {
  k: 32, backend: 'js', executionProvider: 'cpu', seconds: 1, totalParams: 0, keptParams: 0, keptRatio: 0,
  tensors: [
    { name: 'bert.encoder.layer.10.x.weight', shape: [4, 4], dtype: 'F32', rows: 4, kept: 4, total: 16, status: 'pruned' },
    { name: 'bert.encoder.layer.2.x.weight', shape: [4, 8], dtype: 'F32', rows: 4, kept: 8, total: 32, status: 'pruned' },
    { name: 'bert.encoder.layer.2.y.weight', shape: [4, 4], dtype: 'F32', rows: 4, kept: 16, total: 16, status: 'kept-all' },
    { name: 'classifier.weight', shape: [2, 4], dtype: 'F32', rows: 2, kept: 8, total: 8, status: 'head' },
    { name: 'bert.embeddings.a.weight', shape: [8, 4], dtype: 'F32', rows: 8, kept: 2, total: 32, status: 'pruned' },
  ],
};

test('table: natural sorting by any column, stable, filter by name parts or status', () => {
  const rows = tensorRows(REPORT);
  assert.deepEqual(sortRows(rows, 'name', 'asc').map((r) => r.name), [
    'bert.embeddings.a.weight', 'bert.encoder.layer.2.x.weight', 'bert.encoder.layer.2.y.weight', 'bert.encoder.layer.10.x.weight', 'classifier.weight',
  ]);
  assert.deepEqual(sortRows(rows, 'ratio', 'desc').map((r) => r.ratio), [1, 1, 0.25, 0.25, 0.0625]);
  assert.deepEqual(sortRows(rows, 'ratio', 'desc').slice(0, 2).map((r) => r.name), ['bert.encoder.layer.2.y.weight', 'classifier.weight'], 'ties by name');
  assert.deepEqual(sortRows(rows, 'total', 'asc').map((r) => r.total), [8, 16, 16, 32, 32]);
  assert.deepEqual(sortRows(rows, 'status', 'asc').map((r) => r.status), ['head', 'kept-all', 'pruned', 'pruned', 'pruned']);
  assert.ok(naturalCompare('layer.2', 'layer.10') < 0);
  assert.deepEqual(nextSort({ key: 'name', dir: 'asc' }, 'name'), { key: 'name', dir: 'desc' });
  assert.deepEqual(nextSort({ key: 'name', dir: 'asc' }, 'kept'), { key: 'kept', dir: 'desc' });
  assert.deepEqual(filterRows(rows, 'layer.2 weight').map((r) => r.name), ['bert.encoder.layer.2.x.weight', 'bert.encoder.layer.2.y.weight']);
  assert.deepEqual(filterRows(rows, 'head').map((r) => r.name), ['classifier.weight']);
  assert.equal(filterRows(rows, '  ').length, 5);
});

test('per-layer ratios count pruned tensors only, layers in numeric order', () => {
  const infos = REPORT.tensors.map((t) => ({ ...info(t.name, t.shape[0]!, t.shape[1]!, t.status), kept: t.kept, total: t.total }));
  assert.deepEqual(layerRatios(infos).map((r) => [r.label, r.kept, r.total]), [['other', 2, 32], ['layer 2', 8, 32], ['layer 10', 4, 16]]);
});

function evalResult(acc: number): EvalResult {
  return {
    accuracy: acc, macroF1: acc, labels: ['a', 'b'], confusion: [[8, 2], [0, 0]], samples: 10, executionProvider: 'cpu', seconds: 1,
    perClass: { a: { precision: 1, recall: 0.8, f1: 0.89, support: 10 }, b: { precision: 0, recall: 0, f1: 0, support: 0 } },
  };
}

test('metrics shaping: per-class rows before/after, confusion normalised by true class, sweep by kept ratio in its metric', () => {
  const rows = scoreRows(metricsOf(evalResult(0.8)), metricsOf(evalResult(0.7)));
  assert.deepEqual(rows.map((r) => [r.label, r.support, r.before?.recall, r.after?.recall]), [['a', 10, 0.8, 0.8], ['b', 0, 0, 0]]);
  assert.deepEqual(normaliseConfusion([[8, 2], [0, 0]]), [[0.8, 0.2], [0, 0]]);
  const points = [
    { k: 64, keptParams: 2, keptRatio: 0.2, accuracy: 0.88, macroF1: 0.8, value: 0.7 },
    { k: 8, keptParams: 1, keptRatio: 0.05, accuracy: 0.6, macroF1: 0.5, value: 0.3 },
  ];
  const old = metricSweepSeries({ finetunedAccuracy: 0.9, points });
  assert.deepEqual([old.metric, old.finetuned, old.k, old.value], ['accuracy', 0.9, [8, 64], [0.3, 0.7]]);
  const s = metricSweepSeries({ finetunedAccuracy: 0.9, points, metric: 'mcc', finetunedValue: 0.75 });
  assert.deepEqual([s.metric, s.finetuned], ['mcc', 0.75]);
});

test('metric cards: the figures a task has, before and after; lower-is-better for perplexity; reports without metrics', () => {
  const cards = metricCards(metricsOf(evalResult(0.8)), metricsOf(evalResult(0.7)));
  assert.deepEqual(cards.map((c) => [c.name, c.before, c.after]), [['accuracy', 0.8, 0.7], ['macro_f1', 0.8, 0.7]]);
  const lm = metricCards({ kind: 'causal_lm', perplexity: 10, mean_nll: 2.3, n_predicted_tokens: 50 }, { kind: 'causal_lm', perplexity: 12, mean_nll: 2.48, n_predicted_tokens: 50 });
  assert.deepEqual(lm.map((c) => [c.name, c.higherIsBetter]), [['perplexity', false], ['mean_nll', false], ['n_predicted_tokens', true]]);
  const ner = { kind: 'token_classification' as const, overall_precision: 0.5, overall_recall: 0.25, overall_f1: 1 / 3, overall_accuracy: 0.9, per_type: { PER: { precision: 0.5, recall: 0.25, f1: 1 / 3, number: 4 } } };
  assert.deepEqual(scoreRows(undefined, ner), [{ label: 'PER', support: 4, after: { precision: 0.5, recall: 0.25, f1: 1 / 3, support: 4 } }]);
  assert.equal(metricCards(undefined, ner)[0]!.before, undefined);
});

test('timeline series: ordered by step, per-layer drift with gaps, Jaccard mean and minimum', () => {
  const s = timelineSeries([
    { step: 200, keptRatio: 0.2, drift: [{ layer: 0, meanAbsDelta: 0.1, movedFraction: 0.5 }, { layer: null, meanAbsDelta: 0.3, movedFraction: 0.1 }], overlap: [{ tensor: 'a', jaccard: 0.5 }, { tensor: 'b', jaccard: 0.9 }], accuracy: 0.8 },
    { step: 100, keptRatio: 0.1, drift: [{ layer: 10, meanAbsDelta: 0.2, movedFraction: 0.6 }], overlap: [] },
  ]);
  assert.deepEqual(s.step, [100, 200]);
  assert.deepEqual(s.accuracy, [null, 0.8]);
  assert.deepEqual([...s.drift.keys()], ['layer 0', 'layer 10', 'other']);
  assert.deepEqual(s.drift.get('layer 0')!.meanAbsDelta, [null, 0.1]);
  assert.deepEqual(s.jaccardMean, [null, 0.7]);
  assert.deepEqual(s.jaccardMin, [null, 0.5]);
});

test('requests: answers match their request by inReplyTo; errors reject; unrelated messages pass through', async () => {
  const r = new Requests();
  const a = r.open();
  const b = r.open();
  assert.notEqual(a.requestId, b.requestId);
  assert.equal(r.settle({ type: 'done', inReplyTo: b.requestId, message: 'ok' }), true);
  assert.equal(r.settle({ type: 'error', inReplyTo: a.requestId, message: 'tensor x is missing' }), true);
  assert.deepEqual(await b.answer, { type: 'done', inReplyTo: b.requestId, message: 'ok' });
  await assert.rejects(a.answer, /tensor x is missing/);
  assert.equal(r.settle({ type: 'error', message: 'general' }), false);
  assert.equal(r.settle({ type: 'done', inReplyTo: 999 }), false);
  const c = r.open();
  r.cancelAll('report changed');
  await assert.rejects(c.answer, /report changed/);
  assert.equal(r.size, 0);
});

test('chart theme from the VS Code variables, applied to every axis of a layout', () => {
  const t = chartTheme({ '--vscode-editor-background': '#ffffff', '--vscode-foreground': '#3b3b3b', '--vscode-charts-blue': '#1a85ff', '--vscode-charts-orange': '#d18616', '--vscode-charts-green': '#388a34', '--vscode-font-size': '13px' });
  assert.equal(t.dark, false);
  assert.equal(t.paper, 'rgb(255,255,255)');
  assert.deepEqual(t.colorway.slice(0, 3), ['#1a85ff', '#d18616', '#388a34']);
  const dark = chartTheme({ '--vscode-editor-background': '#1f1f1f' });
  assert.equal(dark.dark, true);
  const l = withTheme({ xaxis3: { title: { text: 'x' } }, yaxis: { range: [0, 1] } }, t);
  assert.equal((l['xaxis3'] as { gridcolor: string }).gridcolor, t.grid);
  assert.deepEqual((l['yaxis'] as { range: number[] }).range, [0, 1]);
  assert.equal((l['font'] as { color: string }).color, t.text);
  assert.equal('yaxis2' in l, false);
  assert.deepEqual(merge({ a: { b: 1, c: 2 } }, { a: { c: 3 } }), { a: { b: 1, c: 3 } });
});
