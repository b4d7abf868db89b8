// SECURITY.md, "Every run can be stopped": the `ken` process (dist/cli.js) stops within STOP_BOUND_MS of
// a Ctrl-C in every phase of prune, eval, sweep, restore and watch, even when a step is stuck in the
// kernel (a FIFO that never delivers), leaves nothing behind after one or two Ctrl-C's, and a SIGKILL's
// leftovers are removed by the next run. Also: a reader that goes away (EPIPE), a write that fails.
//
// Landing a signal in a given phase does not depend on timing: the test waits (polling) for that
// phase's mark (the output lock, a file in the temporary folder, a FIFO opened for reading), freezes
// the child with SIGSTOP, sends SIGINT, and lets it go on with SIGCONT: the signal is delivered there.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, constants, existsSync, openSync, readdirSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { DEMO, ROOT, fixture, ken, synthPair, tmp } from '../helpers';

const CLI = join(ROOT, 'dist', 'cli.js');
/** The promise is 2 s (the CLI forces the stop at 1.5 s); the bound leaves a little for a loaded machine. */
const STOP_BOUND_MS = 2500;
const DATA = join(DEMO, 'test.jsonl');

interface Child {
  proc: ChildProcess;
  stderr: () => string;
  stdout: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
}

function start(args: string[], opts: { shell?: string } = {}): Child {
  const proc = opts.shell
    ? spawn('bash', ['-c', opts.shell], { stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  let out = '';
  proc.stderr!.on('data', (b: Buffer) => (err += b.toString()));
  proc.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
    proc.on('exit', (code, signal) => resolve({ code, signal, at: Date.now() })),
  );
  return { proc, stderr: () => err, stdout: () => out, exit };
}

/** Polls until `ready()` (the machine may be busy: no fixed sleeps). */
async function until(ready: () => boolean, what: string, child?: Child, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ready()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${child ? `; stderr: ${child.stderr()}` : ''}`);
    if (child && child.proc.exitCode !== null) throw new Error(`the child exited (${child.proc.exitCode}) before ${what}: ${child.stderr()}`);
    await new Promise((r) => setTimeout(r, 3));
  }
}

/** Delivers SIGINT to the child exactly where it is now (frozen in between); returns when it was sent. */
function interruptHere(child: Child): number {
  const pid = child.proc.pid!;
  process.kill(pid, 'SIGSTOP');
  process.kill(pid, 'SIGINT');
  const at = Date.now();
  process.kill(pid, 'SIGCONT');
  return at;
}

/** A FIFO; `readerOpen()` tells once the child has opened it for reading (it is then blocked on it). */
function fifo(dir: string, name: string): { path: string; readerOpen: () => boolean; writeAll: (data: Buffer) => void; close: () => void } {
  const path = join(dir, name);
  spawnSync('mkfifo', [path]);
  let fd: number | undefined;
  return {
    path,
    readerOpen: () => {
      if (fd !== undefined) return true;
      try {
        fd = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK); // ENXIO until a reader has it open
        return true;
      } catch {
        return false;
      }
    },
    writeAll: (data) => {
      let off = 0;
      while (off < data.length) {
        try {
          off += writeSync(fd!, data, off, Math.min(65536, data.length - off));
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
        }
      }
    },
    close: () => {
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
    },
  };
}

function leftovers(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).filter((n) => n.includes('.ken-tmp-') || n.endsWith('.ken-lock')) : [];
}

/** The child's exit, or a failure (and SIGKILL) when it has not exited within `ms`. */
async function exitWithin(child: Child, ms: number, where: string): Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      child.proc.kill('SIGKILL');
      reject(new Error(`${where}: still running ${ms} ms later; stderr: ${child.stderr()}`));
    }, ms);
  });
  try {
    return await Promise.race([child.exit, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Waits for the child to stop after a Ctrl-C sent at `sentAt`: within the bound, with status 130
 * (exit code 130, or ended by SIGINT's default action, which a shell shows as 130).
 */
async function assertInterrupted(child: Child, sentAt: number, where: string): Promise<void> {
  const r = await exitWithin(child, 20_000, where);
  if (process.env['KEN_TEST_TIMINGS']) process.stderr.write(`${where}: stopped ${r.at - sentAt} ms after Ctrl-C\n`);
  assert.ok(r.at - sentAt <= STOP_BOUND_MS, `${where}: stopped ${r.at - sentAt} ms after Ctrl-C (bound ${STOP_BOUND_MS} ms)`);
  assert.ok(r.code === 130 || (r.code === null && r.signal === 'SIGINT'), `${where}: ended with ${r.code ?? r.signal}; stderr: ${child.stderr()}`);
}

const ftOnnx = (): string => fixture('finetuned', ['onnx']);
const baseSt = (): string => fixture('pretrained', ['safetensors']);

test('prune: a Ctrl-C in each phase (evaluation before, KEN, evaluation after) exits 130 within the bound and leaves nothing', { timeout: 180_000 }, async () => {
  const ft = ftOnnx();
  const base = baseSt();
  const marks: [string, (tmpDir: string) => boolean][] = [
    ['evaluation of the fine-tuned model', () => true],
    ['KEN (the weights copied)', (t) => existsSync(join(t, 'model.onnx'))],
    ['evaluation of the pruned model (the subnetwork written)', (t) => existsSync(join(t, 'ken-subnetwork.safetensors'))],
  ];
  for (const [phase, reached] of marks) {
    const root = tmp();
    const child = start(['prune', ft, '--base', base, '-k', '32', '--out', join(root, 'out'), '--eval', DATA, '--threads', '1']);
    const tmpDir = (): string | undefined => readdirSync(root).filter((n) => n.includes('.ken-tmp-')).map((n) => join(root, n))[0];
    await until(() => { const t = tmpDir(); return t !== undefined && reached(t); }, phase, child);
    const sent = interruptHere(child);
    await assertInterrupted(child, sent, phase);
    assert.match(child.stderr(), /ken prune: cancelled; nothing was written|ken: interrupted/);
    assert.deepEqual(readdirSync(root), [], phase);
  }
});

test('a step stuck in the kernel (a FIFO data file that never delivers) is stopped by the forced path, output removed', { timeout: 60_000 }, async () => {
  const root = tmp();
  const data = fifo(root, 'data.jsonl');
  const child = start(['prune', ftOnnx(), '--base', baseSt(), '-k', '32', '--out', join(root, 'a', 'out'), '--eval', data.path]);
  await until(data.readerOpen, 'the child blocked reading the FIFO', child);
  assert.equal(leftovers(join(root, 'a')).length, 2, 'the output is reserved: lock and temporary folder');
  const sent = interruptHere(child);
  await assertInterrupted(child, sent, 'blocked read');
  data.close();
  assert.match(child.stderr(), /^ken: interrupted; removed .*\.out\.ken-tmp-\d+-[0-9a-f]+\n$/);
  assert.deepEqual(readdirSync(root), ['data.jsonl'], 'no temporary folder, no lock, no parent folder created for --out');
});

test('two quick Ctrl-C\'s stop at once, say so, and leave nothing', { timeout: 60_000 }, async () => {
  const root = tmp();
  const data = fifo(root, 'data.jsonl');
  const child = start(['prune', ftOnnx(), '--base', baseSt(), '-k', '32', '--out', join(root, 'out'), '--eval', data.path]);
  await until(data.readerOpen, 'the child blocked reading the FIFO', child);
  // Ctrl-C, then Ctrl-C again until it is gone (two signals sent before the child runs would merge into one)
  const sent = interruptHere(child);
  const again = setInterval(() => child.proc.exitCode === null && child.proc.signalCode === null && child.proc.kill('SIGINT'), 20);
  const r = await exitWithin(child, 20_000, 'two Ctrl-C').finally(() => clearInterval(again));
  data.close();
  assert.ok(r.code === 130 || r.signal === 'SIGINT', `ended with ${r.code ?? r.signal}`);
  assert.ok(r.at - sent < 1500, `second Ctrl-C: stopped after ${r.at - sent} ms`);
  assert.match(child.stderr(), /ken: interrupted; removed .*\.out\.ken-tmp-/);
  assert.deepEqual(readdirSync(root), ['data.jsonl']);
});

test('SIGKILL leaves a temporary folder and a lock; the next run into the same parent removes them', { timeout: 60_000 }, async () => {
  const root = tmp();
  const data = fifo(root, 'data.jsonl');
  const child = start(['prune', ftOnnx(), '--base', baseSt(), '-k', '32', '--out', join(root, 'out'), '--eval', data.path]);
  await until(data.readerOpen, 'the child blocked reading the FIFO', child);
  child.proc.kill('SIGKILL');
  await exitWithin(child, 20_000, 'SIGKILL');
  data.close();
  assert.equal(leftovers(root).length, 2);
  const pair = await synthPair(join(root, 'pair'));
  const r = await ken(['prune', pair.ft, '--base', pair.base, '-k', '4', '--out', join(root, 'other')]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /warning: removed .*\.out\.ken-tmp-\d+-[0-9a-f]+, left by a ken run that was killed/);
  assert.deepEqual(leftovers(root), []);
  // and the killed run's name is free again
  const again = await ken(['prune', pair.ft, '--base', pair.base, '-k', '4', '--out', join(root, 'out')]);
  assert.equal(again.code, 0, again.stderr);
});

test('eval and sweep: a Ctrl-C while reading, tokenizing or evaluating stops within the bound; sweep --out leaves nothing', { timeout: 120_000 }, async () => {
  const content = require('node:fs').readFileSync(DATA) as Buffer;
  for (const cmd of ['eval', 'sweep'] as const) {
    for (const phase of ['reading the data', 'after the data was read'] as const) {
      const root = tmp();
      const data = fifo(root, 'data.jsonl');
      const args = cmd === 'eval'
        ? ['eval', ftOnnx(), '--data', data.path]
        : ['sweep', ftOnnx(), '--base', baseSt(), '--data', data.path, '-k', '8,16,32', '--out', join(root, 'out')];
      const child = start(args);
      await until(data.readerOpen, `${cmd}: the child reading the FIFO`, child);
      if (phase === 'after the data was read') {
        data.writeAll(content);
        data.close();
      }
      const sent = interruptHere(child);
      await assertInterrupted(child, sent, `${cmd}, ${phase}`);
      data.close();
      assert.deepEqual(readdirSync(root), ['data.jsonl'], `${cmd}, ${phase}`);
    }
  }
});

test('restore: a Ctrl-C while checking the base or writing stops within the bound and leaves nothing', { timeout: 60_000 }, async () => {
  const root = tmp();
  const pruned = join(root, 'pruned');
  const base = baseSt();
  const r0 = await ken(['prune', ftOnnx(), '--base', base, '-k', '32', '--out', pruned]);
  assert.equal(r0.code, 0, r0.stderr);
  const work = join(root, 'work');
  require('node:fs').mkdirSync(work);
  const child = start(['restore', join(pruned, 'ken-subnetwork.safetensors'), '--base', base, '--out', join(work, 'out')]);
  await until(() => leftovers(work).length > 0, 'restore reserved its output', child);
  const sent = interruptHere(child);
  await assertInterrupted(child, sent, 'restore');
  assert.deepEqual(readdirSync(work), []);
});

test('watch: a Ctrl-C stops it within the bound', { timeout: 60_000 }, async () => {
  const root = tmp();
  const run = join(root, 'run');
  require('node:fs').mkdirSync(run);
  const child = start(['watch', run, '--base', baseSt(), '-k', '8', '--poll-ms', '200']);
  await until(() => /watching/.test(child.stderr()), 'watch started', child);
  const sent = interruptHere(child);
  const r = await exitWithin(child, 20_000, 'watch');
  assert.ok(r.at - sent <= STOP_BOUND_MS, `watch: stopped ${r.at - sent} ms after Ctrl-C`);
  assert.ok(r.code === 0 || r.code === 130 || r.signal === 'SIGINT', `watch ended with ${r.code ?? r.signal}: ${child.stderr()}`);
});

test('`ken restore ... | head -c 10`: no stack when the reader goes away, the output is complete', { timeout: 60_000 }, async () => {
  const root = tmp();
  const pair = await synthPair(root);
  const pruned = join(root, 'pruned');
  assert.equal((await ken(['prune', pair.ft, '--base', pair.base, '-k', '4', '--out', pruned])).code, 0);
  for (let i = 0; i < 3; i++) {
    const out = join(root, `restored${i}`);
    const child = start([], {
      shell: `set -o pipefail; '${process.execPath}' '${CLI}' restore '${join(pruned, 'ken-subnetwork.safetensors')}' --base '${pair.base}' --out '${out}' | head -c 10; echo " rc=\${PIPESTATUS[0]}"`,
    });
    const r = await exitWithin(child, 30_000, 'restore | head');
    assert.equal(r.code, 0);
    assert.doesNotMatch(child.stderr(), /Unhandled|Error|EPIPE|at /, child.stderr());
    assert.match(child.stdout(), /^restored \d rc=0\n$/);
    assert.ok(existsSync(join(out, 'model.safetensors')));
  }
});

test('a write that fails (file size limit: EFBIG, as a full disk gives ENOSPC) is one line naming the file; nothing is kept', { timeout: 60_000 }, async () => {
  const root = tmp();
  const out = join(root, 'out');
  // ulimit -f counts 1024-byte blocks: 64 kB, far less than the 6.5 MB weights
  const child = start([], { shell: `ulimit -f 64; exec '${process.execPath}' '${CLI}' prune '${ftOnnx()}' --base '${baseSt()}' -k 32 --out '${out}'` });
  const r = await exitWithin(child, 30_000, 'EFBIG');
  assert.equal(r.code, 1);
  assert.match(child.stderr(), /^ken prune: .*\/out\/model\.onnx: cannot write \(file too large for the file system or the file size limit, EFBIG\); nothing was kept\n$/);
  assert.deepEqual(readdirSync(root), []);
});
