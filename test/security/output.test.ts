// SECURITY.md, "What the tool writes": never inside an input (real paths), the name taken at the
// start, nothing left behind after a failure, killed runs' leftovers cleaned by the next run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OutputReservation, discardAllSync, processAlive, trackTemporary } from '../../src/formats/output';
import { ken, normals, synthModel, synthPair, tmp } from '../helpers';

/** The pid of a process that has exited (so it is not alive). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  const pid = Number(r.stdout);
  assert.equal(processAlive(pid), false);
  return pid;
}

test('--out through a symlink into an input is refused by real path, for the fine-tuned model and the base', async () => {
  const root = tmp();
  const pair = await synthPair(root);
  symlinkSync(pair.ft, join(root, 'ftlink'));
  symlinkSync(pair.base, join(root, 'baselink'));
  for (const out of [join(root, 'ftlink', 'out'), join(root, 'baselink', 'deeper', 'out')]) {
    const r = await ken(['prune', pair.ft, '--base', pair.base, '-k', '4', '--out', out]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /lies inside the input .*\(it resolves to .*\); choose a folder outside it/);
  }
  // an input named through a symlink, the output named directly inside it
  const r = await ken(['prune', join(root, 'ftlink'), '--base', pair.base, '-k', '4', '--out', join(pair.ft, 'out')]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /lies inside the input/);
  assert.deepEqual(readdirSync(pair.ft).sort(), ['config.json', 'model.safetensors']);
  assert.equal(existsSync(join(pair.base, 'deeper')), false);
});

test('a dangling symlink as --out is refused at once, before any work', async () => {
  const root = tmp();
  const pair = await synthPair(root);
  symlinkSync(join(root, 'nowhere'), join(root, 'out'));
  const r = await ken(['prune', pair.ft, '--base', pair.base, '-k', '4', '--out', join(root, 'out')]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /out: already exists as a symlink \(to .*nowhere\); choose a new output folder/);
  const r2 = await ken(['prune', pair.ft, '--base', pair.base, '-k', '4', '--out', join(root, 'out', 'inner')]);
  assert.equal(r2.code, 2);
  assert.match(r2.stderr, /dangling symlink/);
  assert.deepEqual(readdirSync(root).sort(), ['base', 'ft', 'out']);
});

test('two runs into one --out: the second refuses at once, the first completes', async () => {
  const root = tmp();
  const pair = await synthPair(root);
  const out = join(root, 'out');
  const first = ken(['prune', pair.ft, '--base', pair.base, '-k', '4', '--out', out, '--backend', 'js', '--threads', '1']);
  // wait until the first run holds the name (poll: the machine may be busy)
  const deadline = Date.now() + 10_000;
  while (!existsSync(join(root, '.out.ken-lock')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2));
  assert.ok(existsSync(join(root, '.out.ken-lock')), 'the first run took the name');
  const second = await ken(['prune', pair.ft, '--base', pair.base, '-k', '4', '--out', out]);
  assert.equal(second.code, 2);
  assert.match(second.stderr, new RegExp(`out: another ken run \\(pid ${process.pid}\\) is writing it; wait for it or choose another --out`));
  const r = await first;
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(readdirSync(root).sort(), ['base', 'ft', 'out']);
});

test('a killed run\'s temporary folder and lock are removed by the next run into the same parent, saying so', async () => {
  const root = tmp();
  const pair = await synthPair(root);
  const pid = deadPid();
  const stale = join(root, `.out.ken-tmp-${pid}-0badf00d`);
  mkdirSync(join(stale, 'sub'), { recursive: true });
  writeFileSync(join(stale, 'sub', 'model.safetensors'), 'partial');
  writeFileSync(join(root, '.out.ken-lock'), `pid ${pid}\nout ${join(root, 'out')}\n`);
  // a live run's temporary folder (ours) is left alone
  const live = join(root, `.other.ken-tmp-${process.pid}-12345678`);
  mkdirSync(live);
  const r = await ken(['prune', pair.ft, '--base', pair.base, '-k', '4', '--out', join(root, 'out')]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, new RegExp(`warning: removed .*\\.out\\.ken-tmp-${pid}-0badf00d, left by a ken run that was killed`));
  assert.deepEqual(readdirSync(root).sort(), [`.other.ken-tmp-${process.pid}-12345678`, 'base', 'ft', 'out']);
});

test('after a failure nothing is left: no temporary folder, no lock, no parent folder created for --out', async () => {
  const root = tmp();
  const pair = await synthPair(root);
  // a base with a NaN fails during KEN, after the output was reserved
  const values = normals(16 * 16, 5, 0.02);
  values[3 * 16 + 5] = NaN;
  await synthModel(join(root, 'nanbase'), [{ name: 'bert.encoder.layer.0.attention.self.query.weight', shape: [16, 16], values }]);
  const r = await ken(['prune', pair.ft, '--base', join(root, 'nanbase'), '-k', '4', '--out', join(root, 'a', 'b', 'out')]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^ken prune: base tensor bert\.encoder\.layer\.0\.attention\.self\.query\.weight: row 3 holds NaN or infinity \(column 5\); pruning .* would copy it into the output\n$/);
  assert.deepEqual(readdirSync(root).sort(), ['base', 'ft', 'nanbase']);
});

test('a cancelled run leaves nothing, and an existing parent is kept', async () => {
  const root = tmp();
  const pair = await synthPair(root);
  mkdirSync(join(root, 'keep'));
  const controller = new AbortController();
  const run = ken(['prune', pair.ft, '--base', pair.base, '-k', '4', '--out', join(root, 'keep', 'new', 'out')], controller.signal);
  const deadline = Date.now() + 10_000;
  while (!existsSync(join(root, 'keep', 'new', '.out.ken-lock')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2));
  controller.abort();
  const r = await run;
  assert.equal(r.code, 130);
  assert.match(r.stderr, /cancelled; nothing was written/);
  assert.deepEqual(readdirSync(root).sort(), ['base', 'ft', 'keep']);
  assert.deepEqual(readdirSync(join(root, 'keep')), []);
});

test('OutputReservation.take refuses an existing output and a path through a file', async () => {
  const root = tmp();
  mkdirSync(join(root, 'exists'));
  writeFileSync(join(root, 'file'), 'x');
  await assert.rejects(OutputReservation.take(join(root, 'exists'), { inputs: [] }), /already exists; choose a new output folder/);
  await assert.rejects(OutputReservation.take(join(root, 'file', 'out'), { inputs: [] }), /is not a folder/);
  const r = await OutputReservation.take(join(root, 'new'), { inputs: [] });
  assert.ok(existsSync(r.tmp));
  await r.commit();
  assert.deepEqual(readdirSync(root).sort(), ['exists', 'file', 'new']);
});

test('a forced stop removes the open reservations and the registered temporaries (a viz scratch folder, an HTML report being written)', async () => {
  const root = tmp();
  const r = await OutputReservation.take(join(root, 'a', 'out'), { inputs: [] });
  const scratch = join(root, 'scratch');
  mkdirSync(join(scratch, 'x'), { recursive: true });
  const kept = join(root, 'kept');
  mkdirSync(kept);
  trackTemporary(scratch);
  const untrack = trackTemporary(kept);
  untrack();
  const removed = discardAllSync();
  assert.deepEqual(removed.sort(), [r.tmp, scratch].sort());
  assert.deepEqual(readdirSync(root).sort(), ['kept'], 'temporary folder, lock, created parent and scratch folder are gone');
  assert.deepEqual(discardAllSync(), []);
});

test('ken graph never replaces a file: not the weights, not an existing export', async () => {
  const root = tmp();
  const pair = await synthPair(root);
  const weights = join(pair.ft, 'model.safetensors');
  const before = readFileSync(weights);
  const r = await ken(['graph', pair.ft, '--out', weights]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--out must name a \.onnx file/);
  writeFileSync(join(pair.ft, 'model.onnx'), 'my export');
  const r2 = await ken(['graph', pair.ft, '--out', join(pair.ft, 'model.onnx')]);
  assert.equal(r2.code, 2);
  assert.match(r2.stderr, /model\.onnx: already exists; remove it or choose another name/);
  assert.deepEqual(readFileSync(weights), before);
  assert.equal(readFileSync(join(pair.ft, 'model.onnx'), 'utf8'), 'my export');
});

test('a FIFO named like a lock or a temporary folder beside the output does not block the leftover scan', { timeout: 15_000 }, async () => {
  const root = tmp();
  const pair = await synthPair(root);
  spawnSync('mkfifo', [join(root, '.other.ken-lock')]);
  const r = await ken(['prune', pair.ft, '--base', pair.base, '-k', '4', '--out', join(root, 'out')]);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(existsSync(join(root, '.other.ken-lock')), 'not ours: left alone');
});
