import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { activate } from '../../src/extension/extension';
import { PROTOCOL_VERSION, type HostMessage, type InitMessage, type TileMessage } from '../../src/shared/protocol';
import { checkCsp } from '../../src/report/webview-html';
import type { KenReport } from '../../src/shared/report';
import { answers, fakeContext, logLines, panels, resetFake } from '../fake-vscode';
import { ROOT, fixture, ken, tmp } from '../helpers';

const api = activate(fakeContext(ROOT) as unknown as vscode.ExtensionContext);

async function prunedFolder(): Promise<string> {
  const out = join(tmp(), 'pruned');
  const r = await ken(['prune', fixture('finetuned', ['safetensors']), '--base', fixture('pretrained', ['safetensors']), '-k', '32', '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  return out;
}

const until = async (cond: () => boolean, ms = 5000): Promise<void> => {
  for (let t = 0; t < ms && !cond(); t += 20) await new Promise((r) => setTimeout(r, 20));
  assert.ok(cond(), 'timed out');
};

test('the panel: strict CSP, resources from dist/ only, init after ready, tiles on request, one panel per folder', async () => {
  resetFake();
  const out = await prunedFolder();
  const folder = await vscode.commands.executeCommand('ken.openVisualization', vscode.Uri.file(out));
  assert.equal(folder, out);
  const panel = panels.at(-1)!;
  assert.equal(panel.viewType, 'kenViz');
  assert.deepEqual((panel.webview.options['localResourceRoots'] as vscode.Uri[]).map((u) => u.fsPath), [join(ROOT, 'dist')]);
  assert.equal(panel.webview.options['enableScripts'], true);
  assert.deepEqual(checkCsp(panel.webview.html), []);
  assert.doesNotMatch(panel.webview.html, /unsafe-eval|https?:\/\//);
  assert.equal(panel.posted.length, 0, 'nothing is posted before the webview is ready');

  panel.send({ type: 'ready', protocolVersion: PROTOCOL_VERSION });
  await until(() => panel.posted.length > 0);
  const init = panel.posted[0] as InitMessage;
  assert.equal(init.type, 'init');
  const report = JSON.parse(readFileSync(join(out, 'ken-report.json'), 'utf8')) as KenReport;
  assert.equal(init.report.keptRatio, report.keptRatio);
  assert.equal(init.executionProvider, 'cpu');
  assert.ok(init.tensors.length > 0);

  const name = 'bert.encoder.layer.0.intermediate.dense.weight';
  panel.send({ type: 'request-tile', requestId: 7, tensor: name, kind: 'values', maxRows: 64, maxCols: 64 });
  await until(() => panel.posted.some((m) => (m as HostMessage).type === 'tile'));
  const tile = panel.posted.find((m) => (m as HostMessage).type === 'tile') as TileMessage;
  assert.equal(tile.inReplyTo, 7);
  assert.ok(tile.tile.values instanceof Float32Array);

  panel.send({ type: 'no-such-message', evil: true });
  await until(() => logLines.some((l) => /ignored a malformed message/.test(l)));

  await vscode.commands.executeCommand('ken.openVisualization', vscode.Uri.file(out));
  assert.equal(panels.filter((p) => !p.disposed).length, 1, 'the same folder reuses its panel');
  panel.dispose();
  assert.equal(api.panels.panelFor(out), undefined);
});

test('export JSON asks where and writes the report; a restored panel reopens its folder', async () => {
  resetFake();
  const out = await prunedFolder();
  await vscode.commands.executeCommand('ken.openVisualization', vscode.Uri.file(out));
  const panel = panels.at(-1)!;
  panel.send({ type: 'ready', protocolVersion: PROTOCOL_VERSION });
  const target = join(tmp(), 'saved.json');
  answers.openDialog.push(target);
  panel.send({ type: 'export-json', requestId: 3, suggestedName: 'ken-report.json' });
  await until(() => panel.posted.some((m) => (m as HostMessage).type === 'done'));
  assert.equal((JSON.parse(readFileSync(target, 'utf8')) as KenReport).k, 32);
  panel.dispose();

  const restored = new (await import('../fake-vscode')).FakeWebviewPanel('kenViz', 'KEN', {});
  await api.panels.deserializeWebviewPanel(restored as unknown as vscode.WebviewPanel, { source: out, tab: 'ratios' });
  assert.ok(!restored.disposed);
  assert.deepEqual(checkCsp(restored.webview.html), []);
  const gone = new (await import('../fake-vscode')).FakeWebviewPanel('kenViz', 'KEN', {});
  await api.panels.deserializeWebviewPanel(gone as unknown as vscode.WebviewPanel, { source: join(out, 'nope') });
  assert.ok(gone.disposed, 'a panel whose folder is gone is closed, not left blank');
  assert.ok(existsSync(out));
});

test('opening a folder without a report says what to do', async () => {
  resetFake();
  const r = await vscode.commands.executeCommand('ken.openVisualization', vscode.Uri.file(tmp()));
  assert.equal(r, undefined);
  const { shown } = await import('../fake-vscode');
  assert.match(shown[0]!.message, /holds no ken-report\.json; prune a model first/);
});

test('a watcher update becomes a timeline point the webview accepts, and the watch panel opens on the first one', async () => {
  resetFake();
  const { timelinePoint } = await import('../../src/extension/panel');
  const { isHostMessage } = await import('../../src/shared/protocol');
  const record = await prunedFolder();
  const update = {
    step: 10, path: '/runs/x/checkpoint-10', skipped: [], seconds: 0.5, keptParams: 5, totalParams: 10, keptRatio: 0.5, meanJaccard: 0.9,
    layers: [{ layer: null, meanAbsDelta: 0.01, fractionMoved: 1, keptRatio: 0.5 }, { layer: 0, meanAbsDelta: 0.02, fractionMoved: 0.5, keptRatio: 0.4 }],
    jaccard: { 'encoder.layer.0.w': 0.9 }, record,
  };
  const point = timelinePoint(update);
  assert.ok(isHostMessage({ type: 'timeline-point', point }), JSON.stringify(point));
  await api.panels.watchUpdate('/runs/x', update);
  const panel = panels.at(-1)!;
  panel.send({ type: 'ready', protocolVersion: PROTOCOL_VERSION });
  await until(() => panel.posted.length > 0);
  const init = panel.posted[0] as InitMessage;
  assert.ok(isHostMessage(init));
  assert.deepEqual(init.timeline?.points.map((p) => p.step), [10]);
  await api.panels.watchUpdate('/runs/x', { ...update, step: 20 });
  await until(() => panel.posted.some((m) => (m as HostMessage).type === 'timeline-point'));
  assert.equal(panels.filter((p) => !p.disposed && p.viewType === 'kenViz').length, 1, 'later checkpoints reuse the run\'s panel');
});

test('a prune opens its panel at once, shows progress there, and fills it when the report exists', async () => {
  resetFake();
  const before = panels.length;
  const out = join(tmp(), 'pruned');
  const running = vscode.commands.executeCommand('ken.prune', vscode.Uri.file(fixture('finetuned', ['safetensors'])), {
    k: 16, base: fixture('pretrained', ['safetensors']), dataset: null, out,
  });
  await until(() => panels.length > before);
  const panel = panels.at(-1)!;
  panel.send({ type: 'ready', protocolVersion: PROTOCOL_VERSION });
  await until(() => panel.posted.some((m) => (m as HostMessage).type === 'pending'));
  await running;
  await until(() => panel.posted.some((m) => (m as HostMessage).type === 'init'));
  const kinds = panel.posted.map((m) => (m as HostMessage).type);
  assert.ok(kinds.indexOf('pending') < kinds.indexOf('init'));
  assert.equal(panels.length, before + 1, 'the same panel is filled, no second one');
  const init = panel.posted.find((m) => (m as HostMessage).type === 'init') as InitMessage;
  assert.equal(init.report.k, 16);
});

test('a failed prune closes the panel it opened', async () => {
  resetFake();
  const before = panels.length;
  const ft = fixture('finetuned', ['safetensors']);
  await vscode.commands.executeCommand('ken.prune', vscode.Uri.file(ft), { k: 16, base: join(ROOT, 'test', 'data', 'golden'), dataset: null, out: join(tmp(), 'x') });
  assert.equal(panels.length, before + 1);
  assert.ok(panels.at(-1)!.disposed);
});
