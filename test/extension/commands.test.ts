import { test, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { activate } from '../../src/extension/extension';
import { baseCandidates, datasetCandidates, outputFolder } from '../../src/extension/detect';
import type { PruneOutcome } from '../../src/extension/commands';
import { answers, control, fakeContext, logLines, progressReports, resetFake, shown, statusItems } from '../fake-vscode';
import { DEMO, EXPECTED, ROOT, fixture, tmp } from '../helpers';

const context = fakeContext(ROOT);
activate(context as unknown as vscode.ExtensionContext);
beforeEach(() => resetFake());

test('prune from the explorer with options: runs in the job worker, reports progress, logs, returns the report', async () => {
  const out = join(tmp(), 'pruned');
  const result = (await vscode.commands.executeCommand('ken.pruneWithKen', vscode.Uri.file(fixture('finetuned', ['safetensors'])), {
    k: 32, base: fixture('pretrained', ['safetensors']), dataset: null, out, openPanel: false,
  })) as PruneOutcome;
  assert.equal(result.out, out);
  assert.equal(result.report.keptParams, EXPECTED.ken['32']!.keptParams);
  assert.ok(existsSync(join(out, 'ken-report.json')));
  assert.equal(progressReports.length, 1);
  assert.match(progressReports[0]!.title, /KEN: pruning finetuned \(k=32\)/);
  const total = progressReports[0]!.increments.reduce((a, b) => a + b, 0);
  assert.ok(total > 99 && total <= 100.0001, `progress adds up to 100%, got ${total}`);
  assert.ok(logLines.some((l) => /KEN backend js, execution provider cpu/.test(l)));
  assert.ok(statusItems.some((s) => /KEN: CPU/.test(s.text)));
  assert.match(shown.at(-1)!.message, /KEN kept 21\.9% of the parameters \(cpu\)/);
});

test('the prompts: k, base (a detected sibling), no dataset; output beside the model', async () => {
  const root = tmp();
  const ft = join(root, 'finetuned');
  const base = join(root, 'pretrained');
  mkdirSync(ft);
  mkdirSync(base);
  for (const f of ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json', 'vocab.txt']) require('node:fs').symlinkSync(join(DEMO, 'finetuned', f), join(ft, f));
  require('node:fs').symlinkSync(join(DEMO, 'pretrained', 'model.safetensors'), join(base, 'model.safetensors'));
  answers.inputBox.push('16');
  answers.quickPick.push(0); // the detected base
  const noEvalIndex = (await datasetCandidates(ft)).length; // "No evaluation" follows the candidates
  answers.quickPick.push(noEvalIndex);
  const result = (await vscode.commands.executeCommand('ken.prune', vscode.Uri.file(ft), { openPanel: false })) as PruneOutcome;
  assert.ok(result, JSON.stringify(shown));
  assert.equal(result.out, join(root, 'finetuned-ken-k16'));
  assert.equal(result.report.k, 16);
  assert.equal(result.report.keptParams, EXPECTED.ken['16']!.keptParams);
});

test('cancel leaves no output; a failure is one notification with "Open log"', async () => {
  const parent = tmp();
  const out = join(parent, 'pruned');
  control.cancelAfterMs = 100;
  const r = await vscode.commands.executeCommand('ken.prune', vscode.Uri.file(fixture('finetuned', ['safetensors', 'onnx'])), {
    k: 32, base: fixture('pretrained', ['safetensors']), dataset: null, out, openPanel: false,
  });
  assert.equal(r, undefined);
  await new Promise((res) => setTimeout(res, 300));
  assert.deepEqual(readdirSync(parent), []);
  assert.match(shown.at(-1)!.message, /cancelled; nothing was written/);

  control.cancelAfterMs = undefined;
  const bad = await vscode.commands.executeCommand('ken.prune', vscode.Uri.file(fixture('finetuned', ['safetensors'])), {
    k: 32, base: join(ROOT, 'test', 'data', 'golden'), dataset: null, out: join(parent, 'x'), openPanel: false,
  });
  assert.equal(bad, undefined);
  const errors = shown.filter((s) => s.level === 'error');
  assert.equal(errors.length, 1);
  assert.match(errors[0]!.message, /KEN: prune failed: .*golden: no model found \(base\); looked for model\.safetensors/);
  assert.deepEqual(errors[0]!.actions, ['Open log']);
});

test('the core error reaches the user in one notification with an Open log action', async () => {
  const ft = fixture('finetuned', ['safetensors']);
  const out = join(ft, 'inside');
  const r = await vscode.commands.executeCommand('ken.prune', vscode.Uri.file(ft), {
    k: 8, base: fixture('pretrained', ['safetensors']), dataset: null, out, openPanel: false,
  });
  assert.equal(r, undefined);
  assert.equal(shown.length, 1);
  assert.equal(shown[0]!.level, 'error');
  assert.match(shown[0]!.message, /KEN: prune failed: .*lies inside the input/);
  assert.deepEqual(shown[0]!.actions, ['Open log']);
  assert.ok(!existsSync(out));
});

test('a folder without a model says what was looked for', async () => {
  const empty = tmp();
  const r = await vscode.commands.executeCommand('ken.prune', vscode.Uri.file(empty));
  assert.equal(r, undefined);
  assert.match(shown[0]!.message, /no model in .*Looked for model\.safetensors, model\.safetensors\.index\.json, \*\.safetensors or model\.onnx/);
});

test('nothing runs a model in an untrusted workspace', async () => {
  control.trusted = false;
  const r = await vscode.commands.executeCommand('ken.prune', vscode.Uri.file(fixture('finetuned', ['safetensors'])), { k: 8, base: fixture('pretrained', ['safetensors']), dataset: null, out: join(tmp(), 'o') });
  assert.equal(r, undefined);
  assert.equal(progressReports.length, 0);
  assert.match(shown[0]!.message, /only in a trusted workspace/);
});

test('restore from the subnetwork file', async () => {
  const out = join(tmp(), 'pruned');
  await vscode.commands.executeCommand('ken.prune', vscode.Uri.file(fixture('finetuned', ['safetensors'])), { k: 8, base: fixture('pretrained', ['safetensors']), dataset: null, out, openPanel: false });
  const restored = join(tmp(), 'restored');
  const r = await vscode.commands.executeCommand('ken.restore', vscode.Uri.file(join(out, 'ken-subnetwork.safetensors')), { base: fixture('pretrained', ['safetensors']), out: restored });
  assert.equal(r, restored);
  assert.ok(readFileSync(join(restored, 'model.safetensors')).equals(readFileSync(join(out, 'model.safetensors'))));
});

test('Enable CUDA offline fails with a clear message and leaves onnxruntime-node as it was', async () => {
  const bin = join(ROOT, 'node_modules', 'onnxruntime-node', 'bin', 'napi-v6', 'linux', 'x64');
  const before = existsSync(bin) ? readdirSync(bin).sort() : [];
  const ok = await vscode.commands.executeCommand('ken.enableCuda', { env: { GLOBAL_AGENT_HTTPS_PROXY: 'http://127.0.0.1:9', GLOBAL_AGENT_HTTP_PROXY: 'http://127.0.0.1:9' } });
  assert.equal(ok, false);
  const err = shown.find((s) => s.level === 'error')!;
  assert.match(err.message, /could not download the CUDA provider: this machine has no network access.*needs network, CUDA 12 and cuDNN 9/);
  assert.deepEqual(err.actions, ['Open log']);
  assert.deepEqual(existsSync(bin) ? readdirSync(bin).sort() : [], before);
});

test('base detection: config _name_or_path, a "pretrained" sibling first, recent choices', async () => {
  const root = tmp();
  const mk = (name: string, config: object): string => {
    const d = join(root, name);
    mkdirSync(d);
    require('node:fs').writeFileSync(join(d, 'config.json'), JSON.stringify(config));
    require('node:fs').writeFileSync(join(d, 'model.safetensors'), '');
    return d;
  };
  const ft = mk('my-finetuned', { model_type: 'bert', hidden_size: 128, _name_or_path: '../from-config' });
  mk('aaa-other', { model_type: 'bert', hidden_size: 128 });
  mk('bert-base', { model_type: 'bert', hidden_size: 128 });
  mk('wrong-size', { model_type: 'bert', hidden_size: 768 });
  mk('from-config', { model_type: 'bert', hidden_size: 128 });
  mk('my-finetuned-ken-k32', { model_type: 'bert', hidden_size: 128 });
  const c = await baseCandidates(ft, [join(root, 'aaa-other')]);
  assert.deepEqual(c.map((x) => [require('node:path').basename(x.path), x.reason]), [['from-config', 'config'], ['bert-base', 'sibling'], ['aaa-other', 'sibling']]);
  assert.equal(await outputFolder(ft, 32, '', undefined), join(root, 'my-finetuned-ken-k32-2'));
  assert.equal(await outputFolder(ft, 8, 'pruned/${model}-${k}', root), join(root, 'pruned', 'my-finetuned-8'));
});

test('evaluate and sweep run as jobs; the sweep writes a folder whose report holds the curve and opens it', async () => {
  const { DEMO: demo } = await import('../helpers');
  const data = join(demo, 'test.jsonl');
  const result = (await vscode.commands.executeCommand('ken.evaluate', vscode.Uri.file(join(demo, 'finetuned')), { dataset: data })) as { accuracy: number; samples: number };
  assert.equal(result.samples, 903);
  assert.ok(Math.abs(result.accuracy - EXPECTED.finetunedAccuracy) < 0.001);
  assert.ok(logLines.some((l) => /confusion \(rows: true class/.test(l)));
  const out = join(tmp(), 'sweep');
  const r = (await vscode.commands.executeCommand('ken.sweep', vscode.Uri.file(join(demo, 'finetuned')), {
    base: join(demo, 'pretrained'), dataset: data, ks: [32, 64], maxDrop: null, out, openPanel: false,
  })) as { out: string };
  assert.equal(r.out, out);
  const report = JSON.parse(readFileSync(join(out, 'ken-report.json'), 'utf8')) as { k: number; sweep: { points: { k: number }[] }; accuracy: { after: { accuracy: number } } };
  assert.equal(report.k, 64);
  assert.deepEqual(report.sweep.points.map((p) => p.k), [32, 64]);
  assert.ok(Math.abs(report.accuracy.after.accuracy - EXPECTED.ken['64']!.accuracy) < 0.003);
});
