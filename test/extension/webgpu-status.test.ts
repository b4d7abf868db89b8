// The extension on WebGPU: the setting, the log line naming the adapter, the status bar and the panel.
import { test, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { activate } from '../../src/extension/extension';
import type { PruneOutcome } from '../../src/extension/commands';
import { ProviderStatus } from '../../src/extension/status';
import { probeWebGpu, vulkanDriverManifests } from '../../src/runtime/webgpu';
import { VizDataSource } from '../../src/report/viz-data';
import { isHostMessage } from '../../src/shared/protocol';
import { control, fakeContext, logLines, resetFake, shown, statusItems } from '../fake-vscode';
import { ROOT, fixture, tmp } from '../helpers';

const context = fakeContext(ROOT);
activate(context as unknown as vscode.ExtensionContext);
beforeEach(() => resetFake());

const hasVulkanDriver = vulkanDriverManifests().length > 0;

test('ken.executionProvider webgpu: the log, the status bar, the message and the panel name the adapter', { skip: hasVulkanDriver ? false : 'no Vulkan driver installed (.ci/vulkan.sh installs Mesa lavapipe)' }, async () => {
  const probe = await probeWebGpu();
  assert.ok(probe.ok, probe.ok ? '' : probe.reason);
  control.config['ken.executionProvider'] = 'webgpu';
  control.config['ken.backend'] = 'ort';
  try {
    const out = join(tmp(), 'pruned');
    const result = (await vscode.commands.executeCommand('ken.pruneWithKen', vscode.Uri.file(fixture('finetuned', ['safetensors'])), {
      k: 32, base: fixture('pretrained', ['safetensors']), dataset: null, out, openPanel: false,
    })) as PruneOutcome;
    assert.equal(result.report.executionProvider, 'webgpu');
    const label = result.report.adapter!;
    assert.ok(label.includes(probe.adapter.name), label);
    assert.ok(logLines.some((l) => l.includes(`KEN backend ort, execution provider webgpu (${label})`)), logLines.join('\n'));
    assert.ok(statusItems.some((s) => /KEN: WebGPU$/.test(s.text) && String((s.tooltip as { value?: string } | undefined)?.value).includes(`on WebGPU (${label})`)));
    assert.match(shown.at(-1)!.message, new RegExp(`\\(webgpu \\(${label.replace(/[()]/g, '\\$&')}\\)\\)`));
    const viz = await VizDataSource.open(out);
    assert.equal(viz.initMessage().executionProvider, `webgpu (${label})`);
    assert.ok(isHostMessage(viz.initMessage()), 'the panel accepts a report with an adapter');
  } finally {
    delete control.config['ken.executionProvider'];
    delete control.config['ken.backend'];
  }
});

test('the status bar says what auto will use: a software adapter is not used', async () => {
  const probe = await probeWebGpu();
  const status = new ProviderStatus(Promise.resolve(probe));
  try {
    await new Promise((r) => setTimeout(r, 0));
    if (probe.ok && probe.adapter.software) {
      assert.equal(status.text, '$(server-process) KEN: CPU');
      assert.match(status.tooltip, /WebGPU adapter: .*software \(used only when `ken\.executionProvider` is `webgpu`\)/);
    } else if (probe.ok) {
      assert.equal(status.text, '$(zap) KEN: WebGPU');
    } else {
      assert.equal(status.text, '$(server-process) KEN: CPU');
      assert.match(status.tooltip, /WebGPU: /);
    }
    control.config['ken.executionProvider'] = 'webgpu';
    status.refresh();
    assert.equal(status.text, '$(zap) KEN: WebGPU');
    assert.match(status.tooltip, probe.ok ? /Next run: WebGPU \(/ : /Next run: WebGPU \(no adapter\)/);
  } finally {
    delete control.config['ken.executionProvider'];
    status.dispose();
  }
});
