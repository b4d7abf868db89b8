import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KEN_VIZ_MIME, isNotebookVizData, isRendererToHost, type NotebookMatrix, type TimelinePoint } from '../../src/shared/protocol';
import { divergingScale, parseColor } from '../../webview/logic/colors';
import { latestLine, matrixPixels, scaleColor, timelineGeometry } from '../../webview/logic/notebook';
import { ROOT } from '../helpers';

function point(step: number, keptRatio: number, accuracy?: number): TimelinePoint {
  const p: TimelinePoint = { step, keptRatio, drift: [{ layer: 0, meanAbsDelta: 0.001, movedFraction: 1 }, { layer: null, meanAbsDelta: 9, movedFraction: 1 }], overlap: [] };
  if (accuracy !== undefined) p.accuracy = accuracy;
  return p;
}

test('timeline geometry: steps left to right in order, the higher kept ratio higher up, a flat line mid-box', () => {
  const g = timelineGeometry([point(30, 0.2), point(10, 0.4), point(20, 0.3)], 120, 60, 10);
  assert.deepEqual(g.steps, [10, 20, 30]);
  assert.deepEqual(g.x, [10, 60, 110]);
  assert.deepEqual(g.y.map((y) => +y.toFixed(6)), [10, 30, 50]);
  assert.deepEqual([g.yMin, g.yMax], [0.2, 0.4]);
  const flat = timelineGeometry([point(5, 0.5)], 120, 60, 10);
  assert.deepEqual([flat.x[0], flat.y[0]], [60, 30]);
  // a kept ratio that moves by 0.00002 is drawn flat: the axis spans at least one point
  const near = timelineGeometry([point(10, 0.657), point(20, 0.65702), point(30, 0.657)], 120, 60, 10);
  assert.ok(Math.abs(near.yMax - near.yMin - 0.01) < 1e-12);
  assert.ok(Math.max(...near.y) - Math.min(...near.y) < 0.1);
});

test('the matrix: pruned cells transparent, values centred on zero in the diverging scale', () => {
  const scale = divergingScale(parseColor('#1e1e1e')!, parseColor('#d4d4d4')!);
  const m: NotebookMatrix = { tensor: 't', step: 1, rows: 1, cols: 3, tensorRows: 1, tensorCols: 3, values: [null, -2, 2], absMax: 2 };
  const px = matrixPixels(m, scale);
  assert.deepEqual([...px.slice(0, 4)], [0, 0, 0, 0]);
  const low = scaleColor(scale, 0);
  const high = scaleColor(scale, 1);
  assert.deepEqual([...px.slice(4, 8)], [Math.round(low.r), Math.round(low.g), Math.round(low.b), 255]);
  assert.deepEqual([...px.slice(8, 12)], [Math.round(high.r), Math.round(high.g), Math.round(high.b), 255]);
  assert.ok(high.r > high.b && low.b > low.r); // reds above zero, blues below
});

test('the line under the chart names the latest checkpoint (drift over numbered layers)', () => {
  assert.equal(latestLine([]), '');
  assert.equal(latestLine([point(10, 0.3), point(20, 0.25, 0.8123)]), '2 checkpoints · latest step 20 · kept 25.0% · drift 1.00e-3 · accuracy 81.23%');
});

test('output data and renderer messages are checked before use', () => {
  assert.ok(isNotebookVizData({ run: 'runs/x' }));
  assert.ok(isNotebookVizData({ run: '/abs', points: [point(1, 0.5)] }));
  assert.ok(!isNotebookVizData({ run: '' }));
  assert.ok(!isNotebookVizData({ run: 'x', points: [{ step: 'a' }] }));
  assert.ok(isRendererToHost({ type: 'subscribe', run: 'x' }));
  assert.ok(!isRendererToHost({ type: 'run-code', run: 'x' }));
});

test('package.json contributes the renderer (contributes.notebookRenderer, the key VS Code reads) for the MIME type, with messaging, from the built module', () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { contributes: { notebookRenderer: { id: string; entrypoint: string; mimeTypes: string[]; requiresMessaging: string }[] } };
  const r = pkg.contributes.notebookRenderer.find((x) => x.id === 'ken-viz-notebook')!;
  assert.deepEqual(r.mimeTypes, [KEN_VIZ_MIME]);
  assert.equal(r.requiresMessaging, 'optional');
  assert.equal(r.entrypoint, './dist/notebook-renderer.js');
});

test('the renderer bundle: an ES module exporting activate, no eval, no remote URL (only the SVG namespace name)', () => {
  const js = readFileSync(join(ROOT, 'dist', 'notebook-renderer.js'), 'utf8');
  assert.match(js, /export\s*\{[^}]*\bactivate\b[^}]*\}/);
  assert.doesNotMatch(js, /\beval\s*\(|new\s+Function\b|\bimport\s*\(|importScripts|setTimeout\s*\(\s*["'`]/);
  const urls = [...new Set(js.match(/(?:https?:)?\/\/[a-z0-9.-]+\.[a-z]{2,}[^\s"'`)]*/gi) ?? [])];
  assert.deepEqual(urls, ['http://www.w3.org/2000/svg']);
});
