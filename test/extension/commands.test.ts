import { test, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { activate } from '../../src/extension/extension';
import { baseCandidates, datasetCandidates, outputFolder } from '../../src/extension/detect';
import type { PruneOutcome } from '../../src/extension/commands';
import { answers, control, fakeContext, logLines, progressReports, quickPicks, resetFake, shown, statusItems } from '../fake-vscode';
import { METHOD_NAMES } from '../../src/methods/registry';
import { DEMO, EXPECTED, ROOT, fixture, linkFile, tmp } from '../helpers';

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
  for (const f of ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json', 'vocab.txt']) linkFile(join(DEMO, 'finetuned', f), join(ft, f));
  linkFile(join(DEMO, 'pretrained', 'model.safetensors'), join(base, 'model.safetensors'));
  answers.quickPick.push(0); // the method: ken.method's (ken) comes first
  answers.inputBox.push('16');
  answers.quickPick.push(0); // the detected base
  const noEvalIndex = (await datasetCandidates(ft)).length; // "No evaluation" follows the candidates
  answers.quickPick.push(noEvalIndex);
  const result = (await vscode.commands.executeCommand('ken.prune', vscode.Uri.file(ft), { openPanel: false })) as PruneOutcome;
  assert.ok(result, JSON.stringify(shown));
  assert.equal(result.out, join(root, 'finetuned-ken-k16'));
  assert.equal(result.report.k, 16);
  assert.equal(result.report.keptParams, EXPECTED.ken['16']!.keptParams);
  assert.deepEqual(quickPicks[0]!.labels, [...METHOD_NAMES], 'the method picker offers the registry, ken.method first');
  assert.equal(result.report.method, 'ken');
});

test('the method picker: ken.method first; the chosen method and ken.seed reach the prune (its report records them)', async () => {
  control.config = { 'ken.method': 'random', 'ken.seed': 7 };
  const ft = fixture('finetuned', ['safetensors']);
  const base = fixture('pretrained', ['safetensors']);
  answers.quickPick.push(0); // random, the configured one, listed first
  answers.inputBox.push('8');
  answers.openDialog.push(base); // no detected base for the fixture: Browse…
  answers.quickPick.push(0); // Browse… (the only row)
  const out = join(tmp(), 'random');
  const r = (await vscode.commands.executeCommand('ken.prune', vscode.Uri.file(ft), { base, dataset: null, out, openPanel: false })) as PruneOutcome;
  assert.ok(r, JSON.stringify(shown));
  assert.equal(quickPicks[0]!.title, 'KEN: selection method');
  assert.deepEqual(quickPicks[0]!.labels, ['random', ...METHOD_NAMES.filter((m) => m !== 'random')]);
  assert.deepEqual([r.report.method, r.report.seed, r.report.k], ['random', 7, 8]);
  assert.match(progressReports[0]!.title, /KEN: pruning finetuned \(random, k=8\)/);
  assert.ok(logLines.some((l) => /method random, seed 7, k=8/.test(l)), logLines.join('\n'));
});

test('a scripted prune (k given) is not asked the method: options.method, else the setting', async () => {
  control.config = { 'ken.method': 'delta-magnitude' };
  const ft = fixture('finetuned', ['safetensors']);
  const base = fixture('pretrained', ['safetensors']);
  const a = (await vscode.commands.executeCommand('ken.prune', vscode.Uri.file(ft), { k: 8, base, dataset: null, out: join(tmp(), 'dm'), openPanel: false })) as PruneOutcome;
  assert.equal(quickPicks.length, 0);
  assert.equal(a.report.method, 'delta-magnitude');
  const b = (await vscode.commands.executeCommand('ken.prune', vscode.Uri.file(ft), { k: 8, base, dataset: null, out: join(tmp(), 'dare'), method: 'dare', seed: 3, openPanel: false })) as PruneOutcome;
  assert.deepEqual([b.report.method, b.report.seed, b.report.rescaled], ['dare', 3, true]);
  // an unknown method from a caller: one notification naming the methods, nothing written
  const out = join(tmp(), 'nope');
  const c = await vscode.commands.executeCommand('ken.prune', vscode.Uri.file(ft), { k: 8, base, dataset: null, out, method: 'lottery', openPanel: false });
  assert.equal(c, undefined);
  assert.match(shown.at(-1)!.message, /KEN: prune failed: unknown method 'lottery'; the methods are ken, delta-magnitude, magnitude, random, dare, wanda/);
  assert.equal(existsSync(out), false);
});

test('wanda asks for calibration lines unless ken.calibrationDataset names them; dismissing runs nothing', async () => {
  const ft = fixture('finetuned', ['safetensors']);
  const base = fixture('pretrained', ['safetensors']);
  answers.quickPick.push(METHOD_NAMES.indexOf('wanda'));
  answers.inputBox.push('8');
  answers.quickPick.push(undefined); // dismiss the calibration picker
  const r = await vscode.commands.executeCommand('ken.prune', vscode.Uri.file(ft), { base, dataset: null, out: join(tmp(), 'w'), openPanel: false });
  assert.equal(r, undefined);
  assert.equal(quickPicks.at(-1)!.title, 'KEN: calibration lines for wanda');
  assert.equal(progressReports.length, 0);
  // with the setting: no picker; the calibration file reaches the prune (a file that is not there fails in one line)
  resetFake();
  const missing = join(tmp(), 'calibration.jsonl');
  control.config = { 'ken.calibrationDataset': missing };
  const r2 = await vscode.commands.executeCommand('ken.prune', vscode.Uri.file(ft), { k: 8, base, dataset: null, out: join(tmp(), 'w2'), method: 'wanda', openPanel: false });
  assert.equal(r2, undefined);
  assert.equal(quickPicks.length, 0);
  assert.ok(logLines.some((l) => l.includes(`method wanda, calibration ${missing}`)), logLines.join('\n'));
  const err = shown.find((x) => x.level === 'error');
  assert.ok(err, 'a failure notification');
  assert.ok(!/\n/.test(err.message), err.message);
});

test('settings: ken.method, ken.seed, ken.sweepSeeds and ken.calibrationDataset are declared, the method enum is the registry\'s', () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { contributes: { configuration: { properties: Record<string, { enum?: string[]; default?: unknown; minimum?: number }> } } };
  const props = pkg.contributes.configuration.properties;
  assert.deepEqual(props['ken.method']!.enum, [...METHOD_NAMES]);
  assert.equal(props['ken.method']!.default, 'ken');
  assert.deepEqual([props['ken.seed']!.default, props['ken.seed']!.minimum], [0, 0]);
  assert.deepEqual([props['ken.sweepSeeds']!.default, props['ken.sweepSeeds']!.minimum], [3, 1]);
  assert.equal(props['ken.calibrationDataset']!.default, '');
});

test('the sweep\'s methods picker: ken checked; the methods, seeds and seed reach the sweep request', async () => {
  const { DEMO: demo } = await import('../helpers');
  control.config = { 'ken.seed': 4, 'ken.sweepSeeds': 2 };
  control.cancelAfterMs = 1; // the request is logged, then the job is cancelled: nothing is swept
  answers.quickPick.push([METHOD_NAMES.indexOf('ken'), METHOD_NAMES.indexOf('delta-magnitude'), METHOD_NAMES.indexOf('random')]);
  answers.inputBox.push('8,32');
  answers.inputBox.push('');
  const out = join(tmp(), 'sweep-methods');
  const r = await vscode.commands.executeCommand('ken.sweep', vscode.Uri.file(join(demo, 'finetuned')), { base: join(demo, 'pretrained'), dataset: join(demo, 'test.jsonl'), out, openPanel: false });
  assert.equal(r, undefined);
  const pick = quickPicks[0]!;
  assert.equal(pick.many, true);
  assert.deepEqual(pick.labels, [...METHOD_NAMES]);
  assert.deepEqual(pick.picked, ['ken'], 'ken is checked by default');
  assert.ok(logLines.some((l) => /k=8,32, methods ken, delta-magnitude, random \(seeded ones 2 runs from seed 4\)/.test(l)), logLines.join('\n'));
  assert.match(progressReports[0]!.title, /KEN: sweeping ken, delta-magnitude, random for finetuned/);
  assert.match(shown.at(-1)!.message, /sweep cancelled; nothing was written/);
  assert.equal(existsSync(out), false);
  // accepting the defaults sweeps KEN alone; nothing checked is KEN alone too
  for (const answer of ['picked', []] as const) {
    resetFake();
    control.cancelAfterMs = 1;
    answers.quickPick.push(answer as 'picked' | number[]);
    answers.inputBox.push('8', '');
    await vscode.commands.executeCommand('ken.sweep', vscode.Uri.file(join(demo, 'finetuned')), { base: join(demo, 'pretrained'), dataset: join(demo, 'test.jsonl'), out: join(tmp(), 's'), openPanel: false });
    assert.ok(logLines.some((l) => /k=8, methods ken -> /.test(l)), `${JSON.stringify(answer)}: ${logLines.join('\n')}`);
    assert.match(progressReports[0]!.title, /KEN: sweeping k for finetuned/);
  }
  // dismissed: nothing runs
  resetFake();
  answers.quickPick.push(undefined);
  const none = await vscode.commands.executeCommand('ken.sweep', vscode.Uri.file(join(demo, 'finetuned')), { base: join(demo, 'pretrained'), dataset: join(demo, 'test.jsonl'), openPanel: false });
  assert.equal(none, undefined);
  assert.equal(progressReports.length, 0);
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

test('KEN: Compare with Base on a pruned folder: the prune\'s kept counts, no pruning, a panel-ready folder; unpaired tensors warn once', async () => {
  const pruned = join(tmp(), 'pruned');
  const base = fixture('pretrained', ['safetensors']);
  const p = (await vscode.commands.executeCommand('ken.prune', vscode.Uri.file(fixture('finetuned', ['safetensors'])), { k: 32, base, dataset: null, out: pruned, openPanel: false })) as PruneOutcome;
  resetFake();
  const out = join(tmp(), 'cmp');
  const c = (await vscode.commands.executeCommand('ken.compareWithBase', vscode.Uri.file(pruned), { base, out, openPanel: false })) as PruneOutcome;
  assert.equal(c.out, out);
  assert.equal(c.report.k, 0);
  assert.equal(c.report.keptParams, p.report.keptParams);
  for (const t of p.report.tensors.filter((x) => x.status === 'pruned')) assert.equal(c.report.tensors.find((x) => x.name === t.name)?.kept, t.kept, t.name);
  assert.ok(existsSync(join(out, 'ken-subnetwork.safetensors')));
  assert.match(progressReports[0]!.title, /KEN: comparing pruned with pretrained/);
  // the classifier has no base, the base has its MLM head: one warning naming them
  assert.equal(shown.length, 1);
  assert.match(shown[0]!.message, /could not pair 7 tensors of pruned and pretrained \(classifier\.weight, classifier\.bias, cls\.predictions\.bias, …\)/);
});
