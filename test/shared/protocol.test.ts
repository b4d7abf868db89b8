import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  MAX_TILE_CELLS, PROTOCOL_VERSION, isHostMessage, isStaticReportData, isSweepRecord, isTile, isWebviewMessage, tileArrays,
  type HostMessage, type Tile, type WebviewMessage,
} from '../../src/shared/protocol';
import type { KenReport } from '../../src/shared/report';

const report: KenReport = {
  k: 32, backend: 'js', executionProvider: 'cpu', seconds: 1, totalParams: 100, keptParams: 10, keptRatio: 0.1,
  tensors: [{ name: 'a.weight', shape: [10, 10], dtype: 'F32', rows: 10, kept: 10, total: 100, status: 'pruned' }],
};

function tile(rows = 2, cols = 3): Tile {
  return {
    tensor: 'a.weight', kind: 'values', reduce: 'absmax', window: { row0: 0, row1: 10, col0: 0, col1: 10 }, rows, cols, rowStep: 5, colStep: 4,
    values: new Float32Array(rows * cols), keptFraction: new Float32Array(rows * cols), stats: { min: -1, max: 1, absMax: 1, kept: 10, total: 100 },
  };
}

const PNG = 'data:image/png;base64,iVBORw0KGgo=';

test('every webview message of the protocol passes isWebviewMessage', () => {
  const good: WebviewMessage[] = [
    { type: 'ready', protocolVersion: PROTOCOL_VERSION },
    { type: 'request-tile', requestId: 1, tensor: 'a.weight', kind: 'values', maxRows: 100, maxCols: 200 },
    { type: 'request-tile', requestId: 2, tensor: 'a.weight', kind: 'neighbours', window: { row0: 0, row1: 5, col0: 2, col1: 9 }, maxRows: 1, maxCols: 1, reduce: 'mean' },
    { type: 'export-json', requestId: 3, suggestedName: 'ken-report.json' },
    { type: 'export-png', requestId: 4, dataUrl: PNG, suggestedName: 'chart.png' },
    { type: 'log', level: 'error', message: 'boom' },
    { type: 'open-file', path: 'ken-report.json' },
  ];
  for (const m of good) assert.equal(isWebviewMessage(m), true, JSON.stringify(m));
});

test('isWebviewMessage refuses malformed or hostile input', () => {
  const bad: unknown[] = [
    null, 42, 'ready', [], {}, { type: 'nope' },
    { type: 'ready' },
    { type: 'request-tile', requestId: -1, tensor: 'a', kind: 'values', maxRows: 1, maxCols: 1 },
    { type: 'request-tile', requestId: 1.5, tensor: 'a', kind: 'values', maxRows: 1, maxCols: 1 },
    { type: 'request-tile', requestId: 1, tensor: 'a', kind: 'pixels', maxRows: 1, maxCols: 1 },
    { type: 'request-tile', requestId: 1, tensor: 'a', kind: 'values', maxRows: 0, maxCols: 1 },
    { type: 'request-tile', requestId: 1, tensor: 'a', kind: 'values', maxRows: 1, maxCols: 1, window: { row0: 5, row1: 5, col0: 0, col1: 1 } },
    { type: 'request-tile', requestId: 1, tensor: 'a', kind: 'values', maxRows: 1, maxCols: 1, reduce: 'median' },
    { type: 'request-tile', requestId: 1, tensor: 'x'.repeat(5000), kind: 'values', maxRows: 1, maxCols: 1 },
    { type: 'export-png', requestId: 1, dataUrl: 'data:text/html;base64,PGh0bWw+', suggestedName: 'a.png' },
    { type: 'export-png', requestId: 1, dataUrl: PNG, suggestedName: '../../etc/passwd' },
    { type: 'export-json', requestId: 1, suggestedName: 'dir/report.json' },
    { type: 'export-json', requestId: 1, suggestedName: '' },
    { type: 'log', level: 'debug', message: 'x' },
    { type: 'open-file', path: '' },
  ];
  for (const m of bad) assert.equal(isWebviewMessage(m), false, JSON.stringify(m));
});

test('every host message of the protocol passes isHostMessage', () => {
  const good: HostMessage[] = [
    { type: 'init', protocolVersion: 1, report, title: 't', source: 's', backend: 'js', executionProvider: 'cpu', tensors: [{ name: 'a.weight', rows: 10, cols: 10, status: 'pruned', kept: 10, total: 100, pattern: 'a.weight' }] },
    { type: 'init', protocolVersion: 1, report, title: 't', source: 's', backend: 'ort', executionProvider: 'CUDA', tensors: [], timeline: { points: [{ step: 1, keptRatio: 0.1, drift: [{ layer: null, meanAbsDelta: 0.1, movedFraction: 0.5 }], overlap: [{ tensor: 'a', jaccard: 1 }] }] }, theme: 'dark' },
    { type: 'tile', inReplyTo: 3, tile: tile() },
    { type: 'error', inReplyTo: 3, message: 'no tensor x' },
    { type: 'error', message: 'host trouble' },
    { type: 'done', inReplyTo: 4 },
    { type: 'report-updated', report, tensors: [], backend: 'js', executionProvider: 'cpu' },
    { type: 'timeline-point', point: { step: 2, keptRatio: 0.2, drift: [{ layer: 3, meanAbsDelta: 0, movedFraction: 0 }], overlap: [], accuracy: 0.9 } },
    { type: 'theme-changed', kind: 'high-contrast' },
  ];
  for (const m of good) assert.equal(isHostMessage(m), true, JSON.stringify(m).slice(0, 200));
});

test('isHostMessage refuses tiles whose arrays do not match their grid, and broken reports', () => {
  const t = tile();
  assert.equal(isTile({ ...t, values: new Float32Array(5) }), false);
  assert.equal(isTile({ ...t, values: Array.from(t.values) }), false, 'JSON number lists are not tiles');
  assert.equal(isTile({ ...t, rows: MAX_TILE_CELLS, cols: 2, values: new Float32Array(0) }), false);
  assert.equal(isTile({ ...t, rowStep: 0 }), false);
  assert.equal(isHostMessage({ type: 'tile', tile: t }), false, 'a tile answers a request');
  assert.equal(isHostMessage({ type: 'init', protocolVersion: 1, report: { ...report, tensors: 'x' }, title: 't', source: 's', backend: 'js', executionProvider: 'cpu', tensors: [] }), false);
  assert.equal(isHostMessage({ type: 'timeline-point', point: { step: 1, keptRatio: NaN, drift: [], overlap: [] } }), false);
  assert.equal(isHostMessage({ type: 'theme-changed', kind: 'purple' }), false);
});

const METHODS_SWEEP: NonNullable<KenReport['sweep']> = {
  finetunedAccuracy: 0.9, metric: 'accuracy', finetunedValue: 0.9, totalParams: 1000, methods: ['ken', 'delta-magnitude', 'random'],
  points: [
    { k: 8, keptParams: 80, keptRatio: 0.08, accuracy: 0.7, macroF1: 0.6, value: 0.7, method: 'ken', subnetworkBytes: 800 },
    { k: 8, keptParams: 80, keptRatio: 0.08, accuracy: 0.6, macroF1: 0.5, value: 0.6, method: 'delta-magnitude', subnetworkBytes: 800 },
    { k: 8, keptParams: 80, keptRatio: 0.08, accuracy: 0.5, macroF1: 0.4, value: 0.5, method: 'random', seed: 0, subnetworkBytes: 800 },
  ],
  aggregates: [{ method: 'random', k: 8, runs: 1, mean: 0.5, spread: 0, min: 0.5, max: 0.5, keptParams: 80, subnetworkBytes: 800 }],
  recommendations: [{ method: 'ken', k: 8, keptParams: 80, subnetworkBytes: 800, value: 0.7 }, { method: 'random', note: 'none within 1 point' }],
  adapter: { path: '/a/lora', value: 0.88, metrics: { accuracy: 0.88 }, trainableParams: 50, bytes: 400 },
};

test('a sweep over methods travels in init and report-updated; malformed sweeps are refused', () => {
  assert.equal(isSweepRecord(METHODS_SWEEP), true);
  // a regression task's sweep: accuracy NaN, written as null in JSON
  const nulls = JSON.parse(JSON.stringify({ ...METHODS_SWEEP, finetunedAccuracy: NaN, points: METHODS_SWEEP.points.map((p) => ({ ...p, accuracy: NaN })) }));
  assert.equal(isSweepRecord(nulls), true);
  const init = { type: 'init', protocolVersion: 1, report: { ...report, sweep: METHODS_SWEEP }, title: 't', source: 's', backend: 'js', executionProvider: 'cpu', tensors: [], sweep: METHODS_SWEEP };
  assert.equal(isHostMessage(init), true);
  assert.equal(isHostMessage({ type: 'report-updated', report: { ...report, sweep: METHODS_SWEEP }, tensors: [], backend: 'js', executionProvider: 'cpu', sweep: METHODS_SWEEP }), true);
  const broken: unknown[] = [
    { ...METHODS_SWEEP, points: 'x' },
    { ...METHODS_SWEEP, points: [{ ...METHODS_SWEEP.points[0], k: 0 }] },
    { ...METHODS_SWEEP, points: [{ ...METHODS_SWEEP.points[0], method: 7 }] },
    { ...METHODS_SWEEP, points: [{ ...METHODS_SWEEP.points[0], seed: -1 }] },
    { ...METHODS_SWEEP, methods: 'ken,random' },
    { ...METHODS_SWEEP, aggregates: [{ method: 'random', k: 8, runs: 0, mean: 0.5, spread: 0, min: 0.5, max: 0.5, keptParams: 80 }] },
    { ...METHODS_SWEEP, recommendations: [{ k: 8 }] },
    { ...METHODS_SWEEP, adapter: { path: '/a', value: 0.8, metrics: {}, trainableParams: -3, bytes: 1 } },
  ];
  for (const b of broken) {
    assert.equal(isSweepRecord(b), false, JSON.stringify(b).slice(0, 160));
    assert.equal(isHostMessage({ ...init, sweep: b }), false);
    assert.equal(isHostMessage({ ...init, sweep: undefined, report: { ...report, sweep: b } }), false, 'the report\'s own sweep is checked too');
  }
});

test('a tile whose arrays arrive as bare ArrayBuffers is accepted and read back as Float32Arrays', () => {
  const t = tile(1, 2);
  t.values.set([0.5, NaN]);
  const stripped = { ...t, values: t.values.buffer, keptFraction: t.keptFraction.buffer } as unknown;
  assert.equal(isTile(stripped), true);
  const { values, keptFraction } = tileArrays(stripped as Tile);
  assert.ok(values instanceof Float32Array && keptFraction instanceof Float32Array);
  assert.equal(values[0], 0.5);
  assert.ok(Number.isNaN(values[1]));
});

test('isStaticReportData checks the embedded report of the HTML file', () => {
  const init = { type: 'init', protocolVersion: 1, report, title: 't', source: 's', backend: 'js', executionProvider: 'cpu', tensors: [] };
  const st = { tensor: 'a.weight', window: { row0: 0, row1: 10, col0: 0, col1: 10 }, rows: 10, cols: 10, rowStep: 1, colStep: 1, reduce: 'absmax', stats: {}, data: '' };
  assert.equal(isStaticReportData({ format: 'ken-static-report', version: 1, init, tiles: [st] }), true);
  assert.equal(isStaticReportData({ format: 'other', version: 1, init, tiles: [] }), false);
  assert.equal(isStaticReportData({ format: 'ken-static-report', version: 1, init: { ...init, type: 'tile' }, tiles: [] }), false);
  assert.equal(isStaticReportData({ format: 'ken-static-report', version: 1, init, tiles: [{ ...st, rowStep: 0 }] }), false);
});
