// Browser check of the KEN webview (not part of `npm test`): needs Chromium (apt-get install chromium)
// and the devDependency playwright-core. Run after `node scripts/build.mjs`:
//
//   node scripts/check-html.mjs [--keep]
//
// 1. Prunes the debdesc-bert-mini fixture (k=32) and a synthetic pair with 768x3072 matrices, writes
//    the self-contained HTML report of each, opens them from file:// under their CSP, clicks through
//    every view in both themes, and fails on console errors, page errors or CSP violations.
// 2. Emulates the VS Code panel: the page from webviewHtml() served from a fake webview origin, a fake
//    acquireVsCodeApi wired to a real PanelSession + VizDataSource in this process, so tiles come from
//    the host as they would in VS Code; measures the matrix switch for 768x3072 and streams timeline points.
// 3. The Methods view: the fixture's output with a made-up 3-method sweep (test/e2e/lib/methods-sweep.mjs)
//    in both themes (3 method lines drawn, the bytes axis), and at 480 px wide (a narrow editor group):
//    the header's title keeps the width, the buttons and the "Report updated" note do not cover it.
// Screenshots go to test-output/. Timings are printed, never asserted.
import { build } from 'esbuild';
import { copyFileSync, linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { syntheticMethodsSweep } from '../test/e2e/lib/methods-sweep.mjs';

const root = new URL('..', import.meta.url).pathname;
const keep = process.argv.includes('--keep');
const out = join(root, 'test-output');
mkdirSync(out, { recursive: true });
const work = mkdtempSync(join(tmpdir(), 'ken-check-html-'));

const { chromium } = await import('playwright-core');

await build({
  entryPoints: { 'check-html-lib': 'scripts/check-html-lib.ts' }, outdir: 'dist/check', bundle: true, platform: 'node', format: 'cjs',
  target: 'node20', external: ['onnxruntime-node', 'vscode'], absWorkingDir: root, logLevel: 'warning',
});
const lib = createRequire(import.meta.url)(join(root, 'dist/check/check-html-lib.js'));

const problems = [];
const timings = {};

// hard links (copies across file systems), not symlinks: ken refuses a model file that is a symlink out of its folder
function place(src, dest) {
  try {
    linkSync(src, dest);
  } catch {
    copyFileSync(src, dest);
  }
}

function fixture(which) {
  const d = join(work, 'fixture', which);
  mkdirSync(d, { recursive: true });
  const demo = join(root, 'test/data/demo-v1/debdesc-bert-mini', which);
  const files = which === 'finetuned' ? ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'vocab.txt'] : ['config.json'];
  for (const f of files) place(join(demo, f), join(d, f));
  place(join(demo, 'model.safetensors'), join(d, 'model.safetensors'));
  return d;
}

// Made-up evaluation figures so that the Metrics view has something to draw in this check.
function fakeEval(acc, labels, seed) {
  let s = seed;
  const rnd = () => ((s = (s * 16807) % 2147483647) / 2147483647);
  const perClass = {};
  const confusion = labels.map((_, i) => labels.map((__, j) => (i === j ? 40 + Math.floor(rnd() * 20) : Math.floor(rnd() * 4))));
  labels.forEach((l, i) => {
    const tp = confusion[i][i];
    const support = confusion[i].reduce((a, b) => a + b, 0);
    const predicted = confusion.reduce((a, row) => a + row[i], 0);
    const precision = tp / predicted;
    const recall = tp / support;
    perClass[l] = { precision, recall, f1: (2 * precision * recall) / (precision + recall), support };
  });
  const samples = confusion.flat().reduce((a, b) => a + b, 0);
  const correct = labels.reduce((a, _, i) => a + confusion[i][i], 0);
  const accuracy = acc ?? correct / samples;
  const macroF1 = Object.values(perClass).reduce((a, c) => a + c.f1, 0) / labels.length;
  const weighted = Object.values(perClass).reduce((a, c) => a + c.f1 * c.support, 0) / samples;
  const metrics = { kind: 'single_label', accuracy, macro_f1: macroF1, weighted_f1: weighted, mcc: accuracy - 0.05, per_class: perClass, confusion };
  return { accuracy, macroF1, perClass, confusion, labels, samples, executionProvider: 'cpu', seconds: 1.2, data: 'test.jsonl', metrics };
}

console.log('pruning the fixture (k=32) and a synthetic 768x3072 pair...');
const fixtureOut = join(work, 'fixture-out');
await lib.pruneToFolder({ finetuned: fixture('finetuned'), base: fixture('pretrained'), k: 32, out: fixtureOut, backend: 'js', threads: 2 });
const big = await lib.bigPair(join(work, 'big'), 3);
const bigOut = join(work, 'big-out');
let t = performance.now();
await lib.pruneToFolder({ finetuned: big.ft, base: big.base, k: 32, out: bigOut, backend: 'js', threads: 2 });
console.log(`  synthetic prune: ${((performance.now() - t) / 1000).toFixed(1)} s`);

const labels = ['admin', 'games', 'graphics', 'net', 'science', 'sound', 'text', 'web'];
const accuracy = { before: fakeEval(undefined, labels, 7), after: fakeEval(undefined, labels, 11) };
const sweep = { finetunedAccuracy: accuracy.before.accuracy, points: [4, 8, 16, 32, 64, 128].map((k, i) => ({ k, keptParams: k * 1000, keptRatio: k / 512, accuracy: Math.min(accuracy.before.accuracy, 0.3 + i * 0.12), macroF1: Math.min(accuracy.before.macroF1, 0.25 + i * 0.12) })) };

const fixtureHtml = join(out, 'ken-report-fixture.html');
const bigHtml = join(out, 'ken-report-768x3072.html');
t = performance.now();
const r1 = await lib.writeHtmlReport(fixtureOut, fixtureHtml, { assetsDir: join(root, 'dist'), overwrite: true, accuracy, sweep, title: 'KEN report: debdesc-bert-mini, k=32 (accuracy figures made up for this check)' });
console.log(`  fixture report: ${(r1.bytes / 1e6).toFixed(2)} MB, ${r1.tensors} tensors, ${((performance.now() - t) / 1000).toFixed(1)} s`);
t = performance.now();
const r2 = await lib.writeHtmlReport(bigOut, bigHtml, { assetsDir: join(root, 'dist'), overwrite: true });
console.log(`  768x3072 report: ${(r2.bytes / 1e6).toFixed(2)} MB, ${r2.tensors} tensors, ${((performance.now() - t) / 1000).toFixed(1)} s`);
const methodsHtml = join(out, 'ken-report-methods.html');
const fixtureReport = JSON.parse(readFileSync(join(fixtureOut, 'ken-report.json'), 'utf8'));
await lib.writeHtmlReport(fixtureOut, methodsHtml, {
  assetsDir: join(root, 'dist'), overwrite: true, accuracy, sweep: syntheticMethodsSweep(fixtureReport, { ks: [8, 16, 32, 64], seeds: 3 }),
  title: 'KEN report: debdesc-bert-mini, 3 methods (figures made up for this check)',
});
for (const [name, p] of [['fixture', fixtureHtml], ['768x3072', bigHtml], ['methods', methodsHtml]]) {
  const v = lib.checkCsp(readFileSync(p, 'utf8'));
  if (v.length) problems.push(`${name} report CSP check: ${v.join('; ')}`);
}

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});

async function newPage(label) {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`${label}: console error: ${m.text().slice(0, 300)}`);
    else if (m.type() === 'warning') console.log(`  [${label}] console warning: ${m.text().slice(0, 200)}`);
  });
  page.on('pageerror', (e) => problems.push(`${label}: page error: ${e.message}`));
  page.on('requestfailed', (r) => problems.push(`${label}: request failed: ${r.url().slice(0, 120)}`));
  await page.addInitScript(() => {
    window.__kenEvents = [];
    document.addEventListener('securitypolicyviolation', (e) => console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`));
    document.addEventListener('ken:rendered', (e) => window.__kenEvents.push(e.detail));
  });
  return page;
}

/** Waits for the next ken:rendered event of `view` after `count` events. */
async function rendered(page, view, after, timeout = 20000) {
  await page.waitForFunction(([v, n]) => window.__kenEvents.slice(n).some((e) => e.view === v), [view, after], { timeout });
  return page.evaluate(([v, n]) => window.__kenEvents.slice(n).find((e) => e.view === v), [view, after]);
}

async function clickTab(page, label, view) {
  const n = await page.evaluate(() => window.__kenEvents.length);
  await page.click(`vscode-tab-header:has-text("${label}")`);
  return rendered(page, view, n);
}

const VIEWS = [['Matrix', 'matrix'], ['Neighbours', 'neighbours'], ['Layers', 'layers'], ['Kept ratios', 'ratios'], ['Metrics', 'accuracy']];

async function staticReport(label, file, views = VIEWS) {
  const page = await newPage(label);
  await page.goto(`file://${file}`);
  await rendered(page, 'matrix', 0, 30000);
  const first = await page.evaluate(() => performance.getEntriesByName('ken-first-view')[0]?.startTime);
  timings[`${label}: load to first view (ms)`] = Math.round(first);
  for (const theme of ['dark', 'light']) {
    if (theme === 'light') {
      const n = await page.evaluate(() => window.__kenEvents.length);
      await page.click('vscode-button:has-text("Light / Dark")');
      await page.waitForTimeout(400);
      void n;
    }
    for (const [tab, view] of views) {
      if (!(theme === 'dark' && view === 'matrix')) await clickTab(page, tab, view);
      await page.waitForTimeout(250);
      await page.screenshot({ path: join(out, `${label}-${theme}-${view}.png`) });
    }
    await clickTab(page, 'Matrix', 'matrix');
  }
  // zoom: drag a box on the matrix and wait for the finer tile
  const box = await page.locator('.ken-view:visible .ken-plot-matrix .nsewdrag').first().boundingBox();
  if (box) {
    const n = await page.evaluate(() => window.__kenEvents.length);
    await page.mouse.move(box.x + box.width * 0.1, box.y + box.height * 0.1);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.3, box.y + box.height * 0.35, { steps: 5 });
    await page.mouse.up();
    const ev = await rendered(page, 'matrix', n);
    timings[`${label}: zoom redraw (ms)`] = Math.round(ev.ms);
    await page.waitForTimeout(200);
    await page.screenshot({ path: join(out, `${label}-light-matrix-zoomed.png`) });
  } else problems.push(`${label}: no matrix plot area to zoom`);
  // matrix switch (from the embedded tiles)
  const sw = await switchLayer(page);
  if (sw !== undefined) timings[`${label}: matrix switch (ms)`] = Math.round(sw);
  await page.close();
}

/** Picks the next layer in the Matrix view; ms from the change to the drawn heatmap. */
async function switchLayer(page) {
  return page.evaluate(async () => {
    const sel = [...document.querySelectorAll('vscode-single-select[aria-label="layer"]')].find((e) => e.offsetParent !== null);
    if (!sel) return undefined;
    const opts = [...sel.querySelectorAll('vscode-option')].map((o) => o.getAttribute('value'));
    const next = opts[(opts.indexOf(sel.value) + 1) % opts.length];
    const n = window.__kenEvents.length;
    const t0 = performance.now();
    sel.value = next;
    sel.dispatchEvent(new Event('change'));
    for (;;) {
      const e = window.__kenEvents.slice(n).find((x) => x.view === 'matrix');
      if (e) return e.at - t0;
      await new Promise((r) => setTimeout(r, 5));
    }
  });
}

// ------------------------------------------------------------------------------------------
// The Methods view, wide and in a narrow editor group

const METHOD_VIEWS = [...VIEWS, ['Methods', 'methods']];

/** At a narrow width, with a note showing as after "Report updated": nothing overlaps the title block, the summary stays a few lines. */
async function narrowHeader(page, label, width) {
  await page.evaluate(() => { document.querySelector('.ken-note').textContent = 'Report updated'; });
  await page.waitForTimeout(100);
  const g = await page.evaluate(() => {
    const box = (sel) => { const r = document.querySelector(sel).getBoundingClientRect(); return { x: r.x, y: r.y, w: r.width, h: r.height }; };
    const line = parseFloat(getComputedStyle(document.querySelector('.ken-summary')).lineHeight) || 16;
    return { header: box('.ken-header'), title: box('.ken-title-block'), summary: box('.ken-summary'), actions: box('.ken-actions'), note: box('.ken-note'), line };
  });
  const overlap = (a, b) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
  if (g.title.w < g.header.w * 0.8) problems.push(`${label}: the title block is ${Math.round(g.title.w)} px of a ${Math.round(g.header.w)} px header`);
  if (g.summary.h > g.line * 3.5) problems.push(`${label}: the summary wraps into ${Math.round(g.summary.h / g.line)} lines`);
  if (overlap(g.title, g.actions)) problems.push(`${label}: the buttons overlap the title block`);
  if (overlap(g.title, g.note)) problems.push(`${label}: the note overlaps the title block`);
  timings[`${label}: header (title / summary / actions / note heights, px)`] = [g.title.h, g.summary.h, g.actions.h, g.note.h].map(Math.round);
  await page.screenshot({ path: join(out, `${label}-header.png`), clip: { x: 0, y: 0, width, height: Math.ceil(g.header.y + g.header.h + 40) } });
}

async function methodsView(label, width) {
  const page = await newPage(label);
  await page.setViewportSize({ width, height: 900 });
  await page.goto(`file://${methodsHtml}`);
  await rendered(page, 'matrix', 0, 30000);
  if (width < 700) await narrowHeader(page, label, width);
  const ev = await clickTab(page, 'Methods', 'methods');
  await page.waitForTimeout(300);
  const drawn = await page.evaluate(() => {
    const plot = document.querySelector('[data-testid="methods-plot"]');
    return { lines: Number(plot?.dataset.methodLines), traces: plot ? plot.querySelectorAll('.scatterlayer .trace').length : 0, width: plot?.getBoundingClientRect().width ?? 0 };
  });
  if (ev.methodLines !== 3 || drawn.lines !== 3) problems.push(`${label}: the Methods view drew ${ev.methodLines} method lines, not 3`);
  // ken, delta-magnitude, random's mean, random's seeds, the adapter, this report's ring
  if (drawn.traces !== 6) problems.push(`${label}: the Methods plot has ${drawn.traces} traces, not 6`);
  if (drawn.width < width - 40) problems.push(`${label}: the Methods plot is ${Math.round(drawn.width)} px wide in a ${width} px page`);
  await page.screenshot({ path: join(out, `${label}-methods-params.png`) });
  // the bytes axis
  const n = await page.evaluate(() => window.__kenEvents.length);
  await page.evaluate(() => {
    const sel = document.querySelector('[data-testid="methods-axis"]');
    sel.value = 'bytes';
    sel.dispatchEvent(new Event('change'));
  });
  const bytes = await rendered(page, 'methods', n);
  if (bytes.axis !== 'bytes' || bytes.methodLines !== 3) problems.push(`${label}: the bytes axis drew ${bytes.methodLines} lines on ${bytes.axis}`);
  const title = await page.evaluate(() => document.querySelector('[data-testid="methods-plot"] .g-xtitle')?.textContent ?? '');
  if (!/bytes/.test(title)) problems.push(`${label}: the x axis says "${title}" after switching to bytes`);
  await page.waitForTimeout(200);
  await page.screenshot({ path: join(out, `${label}-methods-bytes.png`) });
  await page.close();
}

// ------------------------------------------------------------------------------------------
// The emulated VS Code panel

async function panel() {
  const label = 'panel';
  const data = await lib.VizDataSource.open(bigOut);
  const page = await newPage(label);
  const nonce = randomBytes(18).toString('base64');
  // as in VS Code: resources from this host, and webview.cspSource a wildcard that covers it
  const res = 'https://file+.vscode-resource.vscode-cdn.net';
  const cspSource = 'https://*.vscode-cdn.net';
  const html = lib.webviewHtml({
    cspSource, nonce, title: 'KEN', styleUris: [`${res}/dist/webview.css`], scriptUris: [`${res}/dist/plotly.min.js`, `${res}/dist/webview.js`],
  });
  const v = lib.checkCsp(html, [cspSource]);
  if (v.length) problems.push(`panel html CSP check: ${v.join('; ')}`);
  await page.route('https://ken-panel.test/**', (r) => r.fulfill({ status: 200, contentType: 'text/html', body: html }));
  await page.route(`${res}/**`, (r) => {
    const p = new URL(r.request().url()).pathname;
    const type = p.endsWith('.css') ? 'text/css' : 'text/javascript';
    r.fulfill({ status: 200, contentType: type, body: readFileSync(join(root, decodeURIComponent(p))) });
  });
  const toPage = async (m) => {
    // Playwright passes JSON: typed arrays travel as base64 and are rebuilt in the page.
    const enc = JSON.stringify(m, (k, val) => (val instanceof Float32Array ? { __f32: Buffer.from(val.buffer, val.byteOffset, val.byteLength).toString('base64') } : val));
    await page.evaluate((s) => {
      const msg = JSON.parse(s, (k, val) => {
        if (val && typeof val === 'object' && typeof val.__f32 === 'string') {
          const bin = atob(val.__f32);
          const b = new Uint8Array(bin.length);
          for (let i = 0; i < bin.length; i++) b[i] = bin.charCodeAt(i);
          return new Float32Array(b.buffer);
        }
        return val;
      });
      window.postMessage(msg, '*');
    }, enc);
  };
  const exported = [];
  const session = new lib.PanelSession({
    post: (m) => void toPage(m),
    data,
    extras: () => ({ title: 'big-out', source: bigOut, timeline: { points: [] } }),
    onExportPng: async (m, png) => { exported.push([m.suggestedName, png.length]); return `saved ${m.suggestedName}`; },
    onExportJson: async (m, json) => { exported.push([m.suggestedName, json.length]); return `saved ${m.suggestedName}`; },
    onOpenFile: (path) => { exported.push([`open ${path}`, 0]); },
    onLog: (m) => problems.push(`${label}: webview log ${m.level}: ${m.message}`),
    onInvalid: (raw) => problems.push(`${label}: invalid message ${JSON.stringify(raw).slice(0, 200)}`),
  });
  await page.exposeFunction('__kenToHost', (m) => session.receive(m));
  await page.addInitScript(() => {
    let state;
    window.acquireVsCodeApi = () => ({ postMessage: (m) => window.__kenToHost(m), getState: () => state, setState: (s) => { state = s; } });
  });
  await page.goto('https://ken-panel.test/index.html');
  await rendered(page, 'matrix', 0, 30000);
  timings['panel: load to first view (ms)'] = Math.round(await page.evaluate(() => performance.getEntriesByName('ken-first-view')[0]?.startTime));
  await page.waitForTimeout(300);
  await page.screenshot({ path: join(out, 'panel-dark-matrix-768x3072.png') });
  // pick the 768x3072 output.dense matrix, then switch layers (each switch decodes a new tensor on the host)
  await page.evaluate(() => {
    const sel = document.querySelector('vscode-single-select[aria-label="matrix"]');
    const o = [...sel.querySelectorAll('vscode-option')].map((x) => x.getAttribute('value')).find((x) => x.endsWith('output.dense.weight'));
    sel.value = o;
    sel.dispatchEvent(new Event('change'));
  });
  await rendered(page, 'matrix', 1);
  const switches = [];
  for (let i = 0; i < 6; i++) {
    const total = await switchLayer(page);
    const ev = await page.evaluate(() => window.__kenEvents.filter((e) => e.view === 'matrix').at(-1));
    switches.push(`${Math.round(total)} (tile ${Math.round(ev.fetchMs)} + draw ${Math.round(ev.drawMs)}, ${ev.cells} cells)`);
  }
  // layers 1 and 2 are new to the host the first time (decoded from the subnetwork); then all are cached
  timings['panel: 768x3072 matrix switch, ms: layer 1, 2 (cold), 0, 1, 2, 0 (cached)'] = switches;
  timings['panel: note'] = 'tile ms include this emulation shipping typed arrays as base64 JSON through Playwright';
  await page.waitForTimeout(200);
  await page.screenshot({ path: join(out, 'panel-dark-matrix-output-dense.png') });
  // host-side figure: request to response for a cold 768x3072 tensor
  data.clearCache();
  t = performance.now();
  await data.tile('bert.encoder.layer.1.output.dense.weight', { kind: 'values', maxRows: 600, maxCols: 1100 });
  timings['host: cold 768x3072 tile (ms)'] = Math.round(performance.now() - t);
  for (const [tab, view] of VIEWS) {
    await clickTab(page, tab, view);
    await page.waitForTimeout(200);
    await page.screenshot({ path: join(out, `panel-dark-${view}.png`) });
  }
  // live watcher: points arrive while the Timeline tab is open
  await clickTab(page, 'Timeline', 'timeline');
  for (let step = 100; step <= 600; step += 100) {
    const n = await page.evaluate(() => window.__kenEvents.length);
    session.timelinePoint({
      step, keptRatio: 0.0104 + step * 1e-6, accuracy: 0.5 + step / 2000,
      drift: [0, 1].map((l) => ({ layer: l, meanAbsDelta: 1e-3 / Math.sqrt(step / 100) * (1 + l), movedFraction: 0.9 - step / 2000 - l * 0.05 })),
      overlap: data.tensors.filter((x) => x.status === 'pruned').map((x, i) => ({ tensor: x.name, jaccard: step === 100 ? 1 : Math.min(1, 0.6 + step / 1500 + i * 0.01) })),
      label: `checkpoint-${step}`,
    });
    await rendered(page, 'timeline', n);
  }
  await page.waitForTimeout(200);
  await page.screenshot({ path: join(out, 'panel-dark-timeline.png') });
  // a theme change as VS Code does it: new body class and variables
  const lightVars = [...lib.STATIC_THEME_CSS.split('body.vscode-light')[1].matchAll(/(--vscode-[\w-]+):\s*([^;]+);/g)].map((m) => [m[1], m[2]]);
  await page.evaluate((vars) => {
    document.body.className = 'vscode-light';
    for (const [k, v] of vars) document.body.style.setProperty(k, v);
  }, lightVars);
  await page.waitForTimeout(600);
  await page.screenshot({ path: join(out, 'panel-light-timeline.png') });
  // the watch panel in a narrow editor group: four buttons and a note beside the title
  await page.setViewportSize({ width: 480, height: 900 });
  await page.waitForTimeout(300);
  await narrowHeader(page, 'panel-480px', 480);
  await page.screenshot({ path: join(out, 'panel-480px-timeline.png') });
  await page.setViewportSize({ width: 1400, height: 900 });
  // exports go through the host
  await clickTab(page, 'Matrix', 'matrix');
  await page.click('vscode-button:has-text("Export PNG")');
  await page.click('vscode-button:has-text("Export JSON")');
  await page.click('vscode-button:has-text("Open JSON")');
  await page.waitForFunction(() => document.querySelector('.ken-note')?.textContent?.startsWith('saved'), null, { timeout: 10000 }).catch(() => undefined);
  await page.waitForTimeout(500);
  if (!exported.some(([n]) => n.endsWith('.png'))) problems.push('panel: Export PNG did not reach the host');
  if (!exported.some(([n]) => n === 'ken-report.json')) problems.push('panel: Export JSON did not reach the host');
  if (!exported.some(([n]) => n === `open ${join(bigOut, 'ken-report.json')}`)) problems.push('panel: Open JSON did not reach the host');
  timings['panel: exports'] = exported.map(([n, b]) => `${n} ${b} B`);
  await page.close();
}

try {
  await staticReport('report-fixture', fixtureHtml);
  await staticReport('report-768x3072', bigHtml);
  await staticReport('report-methods', methodsHtml, METHOD_VIEWS);
  await methodsView('methods-1400px', 1400);
  await methodsView('methods-480px', 480);
  await panel();
} catch (e) {
  problems.push(`check aborted: ${e.stack ?? e}`);
} finally {
  await browser.close();
  if (!keep) rmSync(work, { recursive: true, force: true });
}

console.log('timings:');
for (const [k, v] of Object.entries(timings)) console.log(`  ${k}: ${Array.isArray(v) ? v.join(', ') : v}`);
console.log(`screenshots and reports in ${out}`);
if (problems.length) {
  console.log(`${problems.length} problem(s):`);
  for (const p of problems) console.log(`  - ${p}`);
  process.exit(1);
}
console.log('no console errors, page errors or CSP violations');
