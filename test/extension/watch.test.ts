import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { activate } from '../../src/extension/extension';
import { TrainerCodeLens } from '../../src/extension/watch';
import type { WatchUpdate } from '../../src/workflows/watch';
import { encodeHeader } from '../../src/formats/safetensors';
import { fromFloat32 } from '../../src/formats/dtype';
import { fakeContext, statusItems } from '../fake-vscode';
import { ROOT, normals, synthModel, tmp } from '../helpers';

const api = activate(fakeContext(ROOT) as unknown as vscode.ExtensionContext);

test('watching a run: the status bar shows the latest step and kept ratio; stop ends the watch', async () => {
  const root = tmp();
  const base = await synthModel(join(root, 'base'), [{ name: 'encoder.layer.0.w', shape: [8, 16], values: normals(128, 1, 0.02) }]);
  const runDir = join(root, 'run'); // does not exist yet: the watcher waits for it
  const updates: WatchUpdate[] = [];
  api.watcher.onDidUpdate((e) => updates.push(e.update));
  const watching = vscode.commands.executeCommand('ken.watch', vscode.Uri.file(runDir), { base, k: 4 }) as Promise<{ updates: number; reason: string }>;
  await new Promise((r) => setTimeout(r, 300));
  mkdirSync(join(runDir, 'checkpoint-10'), { recursive: true });
  const values = normals(128, 1, 0.02).map((v, i) => v + normals(128, 9, 0.003)[i]!);
  const data = fromFloat32(values, 'F32');
  const header = encodeHeader([{ name: 'encoder.layer.0.w', dtype: 'F32', shape: [8, 16] }], [data.byteLength]);
  writeFileSync(join(runDir, 'checkpoint-10', 'model.safetensors'), Buffer.concat([header, Buffer.from(data)]));
  writeFileSync(join(runDir, 'checkpoint-10', 'trainer_state.json'), '{"global_step": 10}');
  for (let i = 0; i < 100 && updates.length === 0; i++) await new Promise((r) => setTimeout(r, 100));
  assert.equal(updates.length, 1);
  assert.equal(updates[0]!.step, 10);
  const item = statusItems.find((s) => s.text.includes('KEN step'))!;
  assert.match(item.text, /KEN step 10 · kept \d+\.\d%/);
  assert.equal(item.visible, true);
  await vscode.commands.executeCommand('ken.stopWatch');
  const result = await watching;
  assert.deepEqual(result, { updates: 1, reason: 'stopped' });
  assert.equal(item.visible, false);
});

test('the CodeLens offers "KEN: watch this run" with the output folder resolved', () => {
  const text = 'args = TrainingArguments(\n  output_dir="runs/x",\n)\n';
  const doc = { uri: vscode.Uri.file('/work/project/train.py'), getText: () => text } as unknown as vscode.TextDocument;
  const lenses = new TrainerCodeLens().provideCodeLenses(doc);
  assert.equal(lenses.length, 1);
  assert.equal(lenses[0]!.command!.title, 'KEN: watch this run');
  assert.equal((lenses[0]!.command!.arguments![0] as vscode.Uri).fsPath, '/work/project/runs/x');
});
