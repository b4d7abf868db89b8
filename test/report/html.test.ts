import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { UsageError } from '../../src/errors';
import { pruneToFolder } from '../../src/workflows/prune';
import { STATIC_DATA_ID, isStaticReportData, type StaticReportData } from '../../src/shared/protocol';
import { findWebviewAssets, scriptJson, writeHtmlReport } from '../../src/report/html';
import { checkCsp } from '../../src/report/webview-html';
import { decodeStaticTile, reduceStaticTile } from '../../webview/logic/tiles';
import { VizDataSource } from '../../src/report/viz-data';
import { fixture, tmp } from '../helpers';

let out = '';

before(async () => {
  out = join(tmp('ken-html-'), 'pruned');
  await pruneToFolder({ finetuned: fixture('finetuned', ['safetensors']), base: fixture('pretrained', ['safetensors']), out, k: 32, backend: 'js', threads: 2 });
});

function embedded(html: string): StaticReportData {
  const m = new RegExp(`<script type="application/json" id="${STATIC_DATA_ID}"[^>]*>([\\s\\S]*?)</script>`).exec(html);
  assert.ok(m, 'the report data is embedded');
  return JSON.parse(m[1]!) as StaticReportData;
}

test('the HTML report of a pruned fixture is one self-contained file with the report figures', async () => {
  assert.ok(findWebviewAssets(), 'run the build first: dist/webview.js and dist/plotly.min.js');
  const path = join(tmp('ken-html-out-'), 'report.html');
  const r = await writeHtmlReport(out, path, { title: 'fixture k=32' });
  const html = readFileSync(path, 'utf8');
  console.log(`# HTML report: ${(r.bytes / 1e6).toFixed(2)} MB for ${r.tensors} tensors`);
  assert.equal(r.bytes, Buffer.byteLength(html));
  // nothing from the network: no remote script/link/img sources at all
  for (const m of html.matchAll(/<(script|link|img)\b[^>]*>/gi)) assert.doesNotMatch(m[0], /(src|href)\s*=\s*["']?(https?:)?\/\//i, m[0]);
  assert.deepEqual(checkCsp(html), []);
  // the views' code and styles are inlined
  assert.match(html, /window\.Plotly/);
  assert.match(html, /vsc-tabs-select/);
  assert.match(html, /--vscode-editor-background/);
  // the figures of ken-report.json, and a tile for every tensor
  const report = JSON.parse(readFileSync(join(out, 'ken-report.json'), 'utf8'));
  const data = embedded(html);
  assert.ok(isStaticReportData(data));
  assert.equal(data.init.report.keptParams, report.keptParams);
  assert.equal(data.init.report.totalParams, report.totalParams);
  assert.equal(data.init.report.k, 32);
  assert.equal(data.init.title, 'fixture k=32');
  assert.deepEqual(data.tiles.map((t) => t.tensor).sort(), report.tensors.map((t: { name: string }) => t.name).sort());
  for (const t of data.tiles) assert.ok(t.rows <= 256 && t.cols <= 256, `${t.tensor}: ${t.rows}x${t.cols}`);
  assert.equal(readdirSync(join(path, '..')).length, 1, 'no temporary file left');
});

test('a report whose sweep compares methods embeds it whole for the Methods view; a malformed sweep is a one-line error', async () => {
  const dir = join(tmp('ken-html-methods-'), 'pruned');
  cpSync(out, dir, { recursive: true });
  const report = JSON.parse(readFileSync(join(dir, 'ken-report.json'), 'utf8'));
  const pt = (method: string, k: number, value: number, seed?: number) => ({ k, keptParams: k * 10, keptRatio: k / 100, accuracy: value, macroF1: value, value, method, subnetworkBytes: k * 80, ...(seed === undefined ? {} : { seed }) });
  report.sweep = {
    finetunedAccuracy: 0.8, metric: 'accuracy', finetunedValue: 0.8, totalParams: report.totalParams, methods: ['ken', 'delta-magnitude', 'random'],
    points: [pt('ken', 8, 0.7), pt('delta-magnitude', 8, 0.6), pt('random', 8, 0.5, 0), pt('random', 8, 0.55, 1)],
    aggregates: [{ method: 'random', k: 8, runs: 2, mean: 0.525, spread: 0.035, min: 0.5, max: 0.55, keptParams: 80, subnetworkBytes: 640 }],
    recommendations: [{ method: 'ken', k: 8, keptParams: 80, subnetworkBytes: 640, value: 0.7 }],
    adapter: { path: 'lora', value: 0.78, metrics: { accuracy: 0.78 }, trainableParams: 40, bytes: 200 },
  };
  writeFileSync(join(dir, 'ken-report.json'), JSON.stringify(report));
  const path = join(tmp('ken-html-methods-out-'), 'report.html');
  await writeHtmlReport(dir, path);
  const data = embedded(readFileSync(path, 'utf8'));
  assert.ok(isStaticReportData(data));
  assert.deepEqual(data.init.report.sweep, report.sweep);
  report.sweep.points[0].method = 42;
  writeFileSync(join(dir, 'ken-report.json'), JSON.stringify(report));
  const bad = join(tmp('ken-html-methods-bad-'), 'report.html');
  await assert.rejects(writeHtmlReport(dir, bad), (e: Error) => /ken-report\.json: its sweep is malformed/.test(e.message) && !e.message.includes('\n'));
  assert.equal(existsSync(bad), false, 'nothing written');
});

test('embedded tiles decode to the host tiles (within quantisation) and reduce further', async () => {
  const path = join(tmp('ken-html-out-'), 'r.html');
  await writeHtmlReport(out, path, { tileSize: 64 });
  const data = embedded(readFileSync(path, 'utf8'));
  const name = 'bert.embeddings.word_embeddings.weight';
  const st = data.tiles.find((t) => t.tensor === name)!;
  const decoded = decodeStaticTile(st, gunzipSync(Buffer.from(st.data, 'base64')));
  const src = await VizDataSource.open(out);
  const host = await src.tile(name, { kind: 'values', maxRows: 64, maxCols: 64, reduce: 'absmax' });
  const hostNb = await src.tile(name, { kind: 'neighbours', maxRows: 64, maxCols: 64 });
  assert.deepEqual([decoded.rows, decoded.cols, decoded.rowStep, decoded.colStep], [host.rows, host.cols, host.rowStep, host.colStep]);
  const q = host.stats.absMax / 32767;
  for (let i = 0; i < host.values.length; i++) {
    const a = decoded.values[i]!;
    const b = host.values[i]!;
    if (Number.isNaN(b)) assert.ok(Number.isNaN(a));
    else assert.ok(Math.abs(a - b) <= q, `cell ${i}: ${a} vs ${b}`);
    assert.ok(Math.abs(decoded.keptFraction[i]! - host.keptFraction[i]!) <= 0.5 / 255 + 1e-7);
    const n = hostNb.values[i]!;
    if (Number.isNaN(n)) assert.ok(Number.isNaN(decoded.neighbours[i]!));
    else assert.ok(Math.abs(decoded.neighbours[i]! - n) <= 0.5 / 63 + 1e-6);
  }
  const smaller = reduceStaticTile(decoded, 'values', undefined, 16, 16);
  assert.ok(smaller.rows <= 16 && smaller.cols <= 16);
});

test('an existing file is not replaced unless asked; a missing output folder is a one-line error', async () => {
  const dir = tmp('ken-html-exists-');
  const path = join(dir, 'keep.html');
  writeFileSync(path, 'mine');
  await assert.rejects(writeHtmlReport(out, path), (e: unknown) => e instanceof UsageError && /already exists/.test(e.message));
  assert.equal(readFileSync(path, 'utf8'), 'mine');
  await writeHtmlReport(out, path, { overwrite: true, tileSize: 16 });
  assert.notEqual(readFileSync(path, 'utf8'), 'mine');
  await assert.rejects(writeHtmlReport(join(dir, 'nope'), join(dir, 'x.html')), /ken-report\.json/);
  await assert.rejects(writeHtmlReport(out, join(dir, 'no', 'such', 'x.html')), (e: unknown) => e instanceof UsageError && /does not exist/.test(e.message));
  assert.equal(existsSync(join(dir, 'x.html')), false);
});

test('JSON embedded in a script element cannot close it', () => {
  const s = scriptJson({ name: '</script><script>alert(1)</script>', c: '<!--' });
  assert.doesNotMatch(s, /<\/script|<!--/i);
  assert.deepEqual(JSON.parse(s), { name: '</script><script>alert(1)</script>', c: '<!--' });
});
