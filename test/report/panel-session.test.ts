import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { pruneToFolder } from '../../src/workflows/prune';
import { PROTOCOL_VERSION, isHostMessage, type HostMessage } from '../../src/shared/protocol';
import { PanelSession, decodePngDataUrl, insideFolder } from '../../src/report/panel-session';
import { VizDataSource } from '../../src/report/viz-data';
import { synthPair, tmp } from '../helpers';

let out = '';
before(async () => {
  const root = tmp('ken-panel-');
  const pair = await synthPair(root);
  out = join(root, 'out');
  await pruneToFolder({ finetuned: pair.ft, base: pair.base, out, k: 4, backend: 'js', threads: 1 });
});

const PNG = 'data:image/png;base64,' + Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2]).toString('base64');

async function session(extra: Partial<ConstructorParameters<typeof PanelSession>[0]> = {}): Promise<{ s: PanelSession; posted: HostMessage[]; invalid: unknown[] }> {
  const posted: HostMessage[] = [];
  const invalid: unknown[] = [];
  const data = await VizDataSource.open(out);
  const s = new PanelSession({ post: (m) => posted.push(m), data, onInvalid: (r) => invalid.push(r), ...extra });
  return { s, posted, invalid };
}

test('nothing is posted before ready; ready brings init first, then what was queued', async () => {
  const { s, posted } = await session({ extras: () => ({ title: 'My run' }) });
  s.send({ type: 'error', message: 'early' });
  s.timelinePoint({ step: 1, keptRatio: 0.5, drift: [], overlap: [] });
  assert.equal(posted.length, 0);
  await s.receive({ type: 'ready', protocolVersion: PROTOCOL_VERSION });
  assert.deepEqual(posted.map((m) => m.type), ['init', 'error']);
  const init = posted[0]!;
  assert.ok(init.type === 'init' && init.title === 'My run' && init.timeline?.points.length === 1, 'the timeline so far travels in init');
  assert.ok(posted.every(isHostMessage));
  // a reloaded webview says ready again and gets init again
  await s.receive({ type: 'ready', protocolVersion: PROTOCOL_VERSION });
  assert.equal(posted.filter((m) => m.type === 'init').length, 2);
});

test('tile requests are answered with inReplyTo; bad ones with an error, invalid posts are dropped', async () => {
  const { s, posted, invalid } = await session();
  await s.receive({ type: 'ready', protocolVersion: PROTOCOL_VERSION });
  await s.receive({ type: 'request-tile', requestId: 5, tensor: 'bert.encoder.layer.0.attention.self.query.weight', kind: 'values', maxRows: 8, maxCols: 8 });
  await s.receive({ type: 'request-tile', requestId: 6, tensor: 'nope', kind: 'values', maxRows: 8, maxCols: 8 });
  await s.receive({ type: 'request-tile', requestId: 7, tensor: 'x', kind: 'values', maxRows: 0, maxCols: 8 });
  await s.receive('<script>');
  const tile = posted.find((m) => m.type === 'tile');
  assert.ok(tile && tile.type === 'tile' && tile.inReplyTo === 5 && tile.tile.rows === 8);
  const err = posted.find((m) => m.type === 'error');
  assert.ok(err && err.type === 'error' && err.inReplyTo === 6 && /nope/.test(err.message));
  assert.equal(invalid.length, 2);
});

test('exports reach the host callbacks and are acknowledged; failures come back as errors', async () => {
  const saved: string[] = [];
  const { s, posted } = await session({
    onExportJson: async (m, json) => {
      saved.push(`${m.suggestedName}:${JSON.parse(json).k}`);
      return 'saved';
    },
    onExportPng: async (_m, png) => {
      saved.push(`png:${png.length}`);
      throw new Error('disk full');
    },
  });
  await s.receive({ type: 'ready', protocolVersion: PROTOCOL_VERSION });
  await s.receive({ type: 'export-json', requestId: 1, suggestedName: 'ken-report.json' });
  await s.receive({ type: 'export-png', requestId: 2, dataUrl: PNG, suggestedName: 'a.png' });
  assert.deepEqual(saved, ['ken-report.json:4', 'png:10']);
  assert.deepEqual(posted.slice(1), [{ type: 'done', inReplyTo: 1, message: 'saved' }, { type: 'error', inReplyTo: 2, message: 'disk full' }]);
});

test('open-file only for paths inside the output folder', async () => {
  const opened: string[] = [];
  const { s, invalid } = await session({ onOpenFile: (p) => opened.push(p) });
  await s.receive({ type: 'open-file', path: 'ken-report.json' });
  await s.receive({ type: 'open-file', path: '../../etc/passwd' });
  await s.receive({ type: 'open-file', path: '/etc/passwd' });
  assert.deepEqual(opened, [join(out, 'ken-report.json')]);
  assert.equal(invalid.length, 2);
  assert.equal(insideFolder('/a/b', '/a/b'), undefined);
  assert.equal(insideFolder('/a/b', '/a/bc/x'), undefined);
  assert.equal(insideFolder('/a/b', 'c/../d'), '/a/b/d');
});

test('live timeline points and report updates go out once ready; dispose stops it all', async () => {
  const { s, posted } = await session();
  await s.receive({ type: 'ready', protocolVersion: PROTOCOL_VERSION });
  s.timelinePoint({ step: 10, keptRatio: 0.3, drift: [{ layer: 0, meanAbsDelta: 0.01, movedFraction: 0.5 }], overlap: [{ tensor: 'a', jaccard: 0.9 }] });
  s.reportUpdated(await VizDataSource.open(out));
  s.theme('light');
  assert.deepEqual(posted.map((m) => m.type), ['init', 'timeline-point', 'report-updated', 'theme-changed']);
  assert.ok(posted.every(isHostMessage));
  s.dispose();
  s.timelinePoint({ step: 11, keptRatio: 0.3, drift: [], overlap: [] });
  assert.equal(posted.length, 4);
});

test('a PNG data URL that is no PNG is refused', () => {
  assert.equal(decodePngDataUrl(PNG).length, 10);
  assert.throws(() => decodePngDataUrl('data:image/png;base64,' + Buffer.from('GIF89a..').toString('base64')), /not a PNG/);
});
