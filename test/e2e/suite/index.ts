// In-host end-to-end tests: run by VS Code itself (extensionTestsPath) inside the real extension
// host, against the real `vscode` API, with the extension loaded from the repository or installed
// from the .vsix. test/e2e/run.mjs builds this file, starts the server and passes the config.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { PruneOutcome } from '../../../src/extension/commands';
import type { KenApi } from '../../../src/extension/extension';
import type { KenReport } from '../../../src/shared/report';
import { Suite, poll, type E2eConfig } from './harness';

const KEN_COMMANDS = ['ken.prune', 'ken.pruneWithKen', 'ken.restore', 'ken.enableCuda', 'ken.showLog'];

export async function run(): Promise<void> {
  const configFile = process.env['KEN_E2E_CONFIG'];
  if (!configFile) throw new Error('KEN_E2E_CONFIG is not set (run through test/e2e/run.mjs)');
  const cfg = JSON.parse(readFileSync(configFile, 'utf8')) as E2eConfig;
  const suite = new Suite(cfg.resultsFile);
  let api: KenApi | undefined;
  let outcome: PruneOutcome | undefined;

  suite.test('the extension activates and registers the KEN commands', async () => {
    const ext = vscode.extensions.getExtension<KenApi>(cfg.extensionId);
    assert.ok(ext, `extension ${cfg.extensionId} is loaded`);
    suite.facts['extensionPath'] = ext.extensionPath;
    api = await ext.activate();
    const all = await vscode.commands.getCommands(true);
    const missing = KEN_COMMANDS.filter((c) => !all.includes(c));
    assert.deepEqual(missing, [], `commands not registered: ${missing.join(', ')}`);
    suite.facts['panelAvailable'] = all.includes('ken.openVisualization');
  });

  suite.test('the status bar shows the execution provider', async () => {
    assert.ok(api, 'activated');
    assert.match(api.services.status.text, /KEN: (CPU|CUDA|WebGPU)\b/);
  });

  suite.test(`ken.prune with options (k=${cfg.k}, no prompts) writes ken-report.json matching the CLI`, async () => {
    outcome = (await vscode.commands.executeCommand('ken.prune', vscode.Uri.file(cfg.finetuned), {
      k: cfg.k, base: cfg.pretrained, dataset: null, out: cfg.pruneOut, openPanel: false,
    })) as PruneOutcome | undefined;
    assert.ok(outcome, 'ken.prune returned an outcome (see the KEN log for the failure)');
    assert.equal(outcome.out, cfg.pruneOut);
    const report = JSON.parse(readFileSync(join(cfg.pruneOut, 'ken-report.json'), 'utf8')) as KenReport;
    assert.equal(report.keptParams, cfg.cli.keptParams, 'keptParams as `ken prune --json`');
    assert.equal(report.totalParams, cfg.cli.totalParams);
    assert.equal(report.keptRatio, cfg.cli.keptRatio);
    assert.deepEqual(
      report.tensors.map((t) => [t.name, t.kept, t.total]),
      cfg.cli.tensors.map((t) => [t.name, t.kept, t.total]),
      'per-tensor kept counts as the CLI',
    );
    assert.equal(outcome.report.keptParams, report.keptParams, 'the returned report is the one written');
    suite.facts['executionProvider'] = report.executionProvider;
  }, 180_000);

  suite.test('after a prune the status bar shows the provider that ran', async () => {
    assert.ok(api && outcome, 'activated and pruned');
    const want = `KEN: ${outcome.report.executionProvider.toUpperCase()}`;
    await poll(`status "${want}"`, () => (api!.services.status.text.includes(want) ? true : undefined), 5000);
  });

  suite.test('ken.restore rebuilds the pruned checkpoint bit for bit from the subnetwork and the base', async () => {
    assert.ok(outcome, 'pruned');
    const restored = (await vscode.commands.executeCommand('ken.restore', vscode.Uri.file(join(cfg.pruneOut, 'ken-subnetwork.safetensors')), {
      base: cfg.pretrained, out: cfg.restoreOut,
    })) as string | undefined;
    assert.equal(restored, cfg.restoreOut, 'ken.restore returned the output folder (see the KEN log for the failure)');
    const pruned = readdirSync(cfg.pruneOut).filter((f) => !f.startsWith('ken-')).sort();
    assert.deepEqual(readdirSync(cfg.restoreOut).sort(), pruned, 'the files of the pruned folder');
    assert.ok(pruned.includes('model.safetensors') && pruned.includes('config.json'), 'the weights and the config');
    for (const f of pruned) {
      assert.ok(readFileSync(join(cfg.restoreOut, f)).equals(readFileSync(join(cfg.pruneOut, f))), `${f} is identical to the pruned file`);
    }
  }, 180_000);

  suite.test('a folder without a model: no output, and a message saying what was looked for', async () => {
    const listing = (): string[][] => [readdirSync(cfg.workspace).sort(), readdirSync(cfg.noModel).sort()];
    const before = listing();
    const result = await vscode.commands.executeCommand('ken.prune', vscode.Uri.file(cfg.noModel));
    assert.equal(result, undefined);
    assert.deepEqual(listing(), before, 'nothing written');
    // The API cannot read notifications: show the notification centre, and run.mjs reads it in the page.
    await vscode.commands.executeCommand('notifications.showList');
    suite.facts['expectNotification'] = 'Looked for model.safetensors';
  });

  await suite.run();
}
