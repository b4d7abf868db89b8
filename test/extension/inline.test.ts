import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { inlineSummary, ownerLines } from '../../src/extension/inline-status';
import { InlineRunStatus } from '../../src/extension/inline';
import { NotebookVizBridge, pickMatrixTensor } from '../../src/extension/notebook';
import { KEN_RENDERER_ID, isHostToRenderer, type RunSnapshotMessage } from '../../src/shared/protocol';
import type { WatchUpdate } from '../../src/workflows/watch';
import { EventEmitter, FakeTextDocument, FakeTextEditor, Uri, editorEvents, rendererMessaging, window as fakeWindow } from '../fake-vscode';
import { ken, synthPair, tmp } from '../helpers';

function update(step: number, keptRatio: number, extra: Partial<WatchUpdate> = {}): WatchUpdate {
  return {
    step, keptRatio, keptParams: Math.round(keptRatio * 1000), totalParams: 1000, path: `/ws/runs/r/checkpoint-${step}`, skipped: [], seconds: 0.1,
    layers: [{ layer: null, meanAbsDelta: 1, fractionMoved: 1, keptRatio }, { layer: 0, meanAbsDelta: 0.002, fractionMoved: 0.9, keptRatio }, { layer: 1, meanAbsDelta: 0.004, fractionMoved: 0.8, keptRatio }],
    jaccard: {}, meanJaccard: null, ...extra,
  };
}

const SCRIPT = [
  'from transformers import Trainer, TrainingArguments',
  'args = TrainingArguments(',
  '    output_dir="runs/r",  # checkpoints',
  '    save_steps=10,',
  ')',
  'trainer = Trainer(model=build(), args=args, train_dataset=ds)',
  'other = TrainingArguments(output_dir="runs/other")',
  'Trainer(model=m, args=other)',
  '# trainer2 = Trainer(model=m, args=args)',
  'trainer.train()',
].join('\n');

test('the Trainer( line that takes the run\'s TrainingArguments owns it; relative output_dir against each root', () => {
  assert.deepEqual(ownerLines(SCRIPT, ['/ws'], '/ws/runs/r'), [5]);
  assert.deepEqual(ownerLines(SCRIPT, ['/elsewhere', '/ws'], '/ws/runs/r/'), [5]);
  assert.deepEqual(ownerLines(SCRIPT, ['/ws'], '/ws/runs/other'), [7]);
  assert.deepEqual(ownerLines(SCRIPT, ['/ws'], '/ws/runs/none'), []);
  assert.deepEqual(ownerLines(SCRIPT, ['/other'], '/ws/runs/r'), []);
  // no Trainer linked: the TrainingArguments line; a Trainer with its own output_dir owns it too
  assert.deepEqual(ownerLines('a = TrainingArguments(output_dir="/abs/run")\n', ['/ws'], '/abs/run'), [0]);
  assert.deepEqual(ownerLines('t = Seq2SeqTrainer(model=m, output_dir="out")\n', ['/ws'], '/ws/out'), [0]);
});

test('the inline summary: step, kept ratio, mean drift over the numbered layers, accuracy when evaluated', () => {
  assert.equal(inlineSummary(update(300, 0.219)), 'KEN step 300 · kept 21.9% · drift 3.00e-3');
  assert.equal(inlineSummary(update(30, 0.5, { accuracy: 0.69876 })), 'KEN step 30 · kept 50.0% · drift 3.00e-3 · accuracy 69.88%');
});

test('while a run is watched, the owning line of every visible Python editor ends with the latest figures; stopping clears them', () => {
  const updates = new EventEmitter<{ runDir: string; update: WatchUpdate }>();
  const stops = new EventEmitter<{ runDir: string; reason: string }>();
  const script = new FakeTextEditor(new FakeTextDocument(Uri.file('/ws/train.py'), SCRIPT));
  const text = new FakeTextEditor(new FakeTextDocument(Uri.file('/ws/notes.txt'), SCRIPT, 'plaintext'));
  fakeWindow.visibleTextEditors = [script, text];
  const inline = new InlineRunStatus({ onDidUpdate: updates.event, onDidStop: stops.event });
  try {
    const shown = (): { line: number; after: string | undefined }[] => [...script.decorations.values()][0] ?? [];
    updates.fire({ runDir: '/ws/runs/r', update: update(10, 0.3) });
    updates.fire({ runDir: '/ws/runs/r', update: update(20, 0.25) });
    assert.deepEqual(shown(), [{ line: 5, after: 'KEN step 20 · kept 25.0% · drift 3.00e-3' }]);
    assert.equal(text.decorations.size, 0);
    // an editor that becomes visible later gets it too
    const late = new FakeTextEditor(new FakeTextDocument(Uri.file('/ws/train.py'), SCRIPT));
    fakeWindow.visibleTextEditors = [late];
    editorEvents.visibleEditors.fire([late]);
    assert.deepEqual([...late.decorations.values()][0], [{ line: 5, after: 'KEN step 20 · kept 25.0% · drift 3.00e-3' }]);
    stops.fire({ runDir: '/ws/runs/r', reason: 'stopped' });
    assert.deepEqual([...late.decorations.values()][0], []);
  } finally {
    inline.dispose();
    fakeWindow.visibleTextEditors = [];
  }
});

test('a notebook cell that constructs the Trainer: output_dir relative to the notebook\'s folder', () => {
  const updates = new EventEmitter<{ runDir: string; update: WatchUpdate }>();
  const stops = new EventEmitter<{ runDir: string; reason: string }>();
  const cellDoc = new FakeTextDocument(Uri.file('/ws/nb/train.ipynb#cell1'), SCRIPT);
  Object.defineProperty(cellDoc, 'uri', { value: Object.assign(Object.create(Uri.prototype), { scheme: 'vscode-notebook-cell', fsPath: '/ws/nb/train.ipynb' }) });
  const cell = new FakeTextEditor(cellDoc);
  const ws = vscode.workspace as unknown as { notebookDocuments: unknown[] };
  ws.notebookDocuments = [{ uri: Uri.file('/ws/nb/train.ipynb'), getCells: () => [{ document: cellDoc }] }];
  fakeWindow.visibleTextEditors = [cell];
  const inline = new InlineRunStatus({ onDidUpdate: updates.event, onDidStop: stops.event });
  try {
    updates.fire({ runDir: '/ws/nb/runs/r', update: update(30, 0.2, { accuracy: 0.5 }) });
    assert.deepEqual([...cell.decorations.values()][0], [{ line: 5, after: 'KEN step 30 · kept 20.0% · drift 3.00e-3 · accuracy 50.00%' }]);
  } finally {
    inline.dispose();
    fakeWindow.visibleTextEditors = [];
    ws.notebookDocuments = [];
  }
});

test('the notebook renderer\'s host: a subscribed output gets the run\'s timeline and latest matrix, live', async () => {
  const root = tmp();
  const pair = await synthPair(root);
  const record = join(root, 'rec');
  assert.equal((await ken(['prune', pair.ft, '--base', pair.base, '-k', '4', '--out', record])).code, 0);
  const updates = new EventEmitter<{ runDir: string; update: WatchUpdate }>();
  const stops = new EventEmitter<{ runDir: string; reason: string }>();
  const logs: string[] = [];
  let active: { runDir: string } | undefined = { runDir: '/ws/nb/runs/r' };
  const watcher = { onDidUpdate: updates.event, onDidStop: stops.event, get active() { return active as never; } };
  const before = rendererMessaging.length;
  const bridge = new NotebookVizBridge({ log: { warn: (m: string) => logs.push(m) } as never }, watcher);
  try {
    const m = rendererMessaging[before]!;
    assert.equal(m.id, KEN_RENDERER_ID);
    const editor = { notebook: { uri: Uri.file('/ws/nb/viz.ipynb') } };
    m.deliver(editor, { type: 'subscribe', run: 'runs/r' });
    for (let waited = 0; m.posted.length === 0 && waited < 5000; waited += 10) await new Promise((r) => setTimeout(r, 10));
    const first = m.posted.at(-1)!.message as RunSnapshotMessage;
    assert.ok(isHostToRenderer(first));
    assert.deepEqual([first.run, first.runDir, first.watching, first.points.length], ['runs/r', '/ws/nb/runs/r', true, 0]);
    assert.match(first.note!, /watching this run/);
    for (const [i, step] of [10, 20, 30].entries()) updates.fire({ runDir: '/ws/nb/runs/r', update: update(step, 0.3 - i * 0.05, { record }) });
    // each checkpoint's matrix is decoded on the host before it is posted
    for (let waited = 0; (m.posted.at(-1)!.message as RunSnapshotMessage).matrix?.step !== 30 && waited < 10_000; waited += 20) await new Promise((r) => setTimeout(r, 20));
    const last = m.posted.at(-1)!.message as RunSnapshotMessage;
    assert.ok(isHostToRenderer(last));
    assert.equal(m.posted.at(-1)!.editor, editor);
    assert.deepEqual(last.points.map((p) => p.step), [10, 20, 30]);
    assert.equal(last.matrix?.tensor, 'bert.encoder.layer.0.attention.self.query.weight');
    assert.equal(last.matrix?.step, 30);
    assert.ok(last.matrix!.values.some((v) => v === null) && last.matrix!.values.some((v) => v !== null));
    // another run's checkpoints are not sent to this output; an unknown message is logged, not answered
    const count = m.posted.length;
    updates.fire({ runDir: '/ws/other', update: update(40, 0.1) });
    m.deliver(editor, { type: 'eval', code: '1' });
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(m.posted.length, count);
    assert.match(logs.join('\n'), /unknown shape/);
    active = undefined;
    stops.fire({ runDir: '/ws/nb/runs/r', reason: 'stopped' });
    assert.equal((m.posted.at(-1)!.message as RunSnapshotMessage).watching, false);
  } finally {
    bridge.dispose();
  }
});

test('the notebook matrix is the largest pruned matrix inside a numbered layer', () => {
  assert.equal(pickMatrixTensor([
    { name: 'emb', rows: 1000, cols: 16, status: 'pruned' },
    { name: 'l0.q', rows: 16, cols: 16, status: 'pruned', layer: 0 },
    { name: 'l0.ffn', rows: 64, cols: 16, status: 'pruned', layer: 0 },
    { name: 'l0.bias', rows: 1, cols: 64, status: 'pruned', layer: 0 },
    { name: 'l1.big', rows: 640, cols: 16, status: 'head', layer: 1 },
  ]), 'l0.ffn');
  assert.equal(pickMatrixTensor([{ name: 'emb', rows: 10, cols: 16, status: 'pruned' }]), 'emb');
  assert.equal(pickMatrixTensor([]), undefined);
});
