// SECURITY.md, "Every run can be stopped", in VS Code: a cancelled job whose step is stuck in the
// kernel (a FIFO data file) is reported cancelled within the bound and its temporary output removed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, constants, existsSync, openSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { runJob, JobError } from '../../src/extension/jobs';
import { ROOT, fixture, tmp } from '../helpers';

test('a cancelled prune job stuck reading a FIFO is cancelled within 2.5 s and leaves nothing', { timeout: 60_000 }, async () => {
  const root = tmp();
  const data = join(root, 'data.jsonl');
  spawnSync('mkfifo', [data]);
  const source = new vscode.CancellationTokenSource();
  const log = vscode.window.createOutputChannel('KEN', { log: true }) as unknown as vscode.LogOutputChannel;
  const job = runJob(ROOT, 'prune', {
    finetuned: fixture('finetuned', ['onnx']), base: fixture('pretrained', ['safetensors']), out: join(root, 'o', 'out'), k: 32,
    eval: { data }, backend: 'js', threads: 1,
  }, source.token as unknown as vscode.CancellationToken, { log });
  // wait (polling) until the worker holds the output and blocks reading the FIFO
  let writer: number | undefined;
  const deadline = Date.now() + 30_000;
  while (writer === undefined && Date.now() < deadline) {
    try {
      writer = openSync(data, constants.O_WRONLY | constants.O_NONBLOCK);
    } catch {
      await new Promise((r) => setTimeout(r, 3));
    }
  }
  assert.ok(writer !== undefined, 'the job reads the FIFO');
  assert.ok(existsSync(join(root, 'o')) && readdirSync(join(root, 'o')).some((n) => n.includes('.ken-tmp-')), 'the output is reserved');
  const cancelledAt = Date.now();
  source.cancel();
  await assert.rejects(job, (e: unknown) => e instanceof JobError && e.kind === 'CancelledError');
  assert.ok(Date.now() - cancelledAt <= 2500, `cancelled after ${Date.now() - cancelledAt} ms`);
  // EOF for the stuck read (its only writer closes), so the thread pool is free when this process exits
  closeSync(writer!);
  assert.deepEqual(readdirSync(root), ['data.jsonl'], 'no temporary folder, lock, or parent created for the output');
});
