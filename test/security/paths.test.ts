// SECURITY.md, "What the tool reads": only regular files, never through a symlink out of a model
// folder (except a Hugging Face cache snapshot's blobs/), real paths for "inside an input".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readOnnxModel } from '../../src/formats/onnx';
import { checkFolderFile, futureRealPath, hfCacheBlobs, isInside, openRegular, sideFileRefusal } from '../../src/formats/paths';
import { readSafetensorsHeader } from '../../src/formats/safetensors';
import { DEMO, fixture, ken, linkFile, normals, synthPair, tmp } from '../helpers';
import { linearModel, type InitSpec } from '../onnx-builder';

function mkfifo(path: string): void {
  execFileSync('mkfifo', [path]);
}

test('isInside compares whole path components', () => {
  assert.equal(isInside('/a/b/c', '/a/b'), true);
  assert.equal(isInside('/a/b', '/a/b'), true);
  assert.equal(isInside('/a/bc', '/a/b'), false);
  assert.equal(isInside('/a', '/a/b'), false);
  assert.equal(isInside('/a/b/..c', '/a/b'), true); // a name that starts with two dots is still inside
});

test('the Hugging Face cache layout: a snapshot (or a folder in it) maps to its repository blobs/', () => {
  assert.equal(hfCacheBlobs('/h/hub/models--org--name/snapshots/abc123'), '/h/hub/models--org--name/blobs');
  assert.equal(hfCacheBlobs('/h/hub/models--org--name/snapshots/abc123/onnx'), '/h/hub/models--org--name/blobs');
  assert.equal(hfCacheBlobs('/h/hub/models--org--name/blobs'), undefined);
  assert.equal(hfCacheBlobs('/h/snapshots/abc123'), undefined);
  assert.equal(hfCacheBlobs('/h/plain/folder'), undefined);
});

test('openRegular refuses a FIFO at once (it does not wait for a writer) and a folder', { timeout: 10_000 }, async () => {
  const d = tmp();
  mkfifo(join(d, 'config.json'));
  await assert.rejects(openRegular(join(d, 'config.json')), /config\.json: is a FIFO \(named pipe\), not a regular file/);
  await assert.rejects(openRegular(d), /is a folder|not a regular file/);
  await assert.rejects(openRegular(join(d, 'missing')), /missing: no such file/);
  await assert.rejects(readSafetensorsHeader(join(d, 'config.json')), /FIFO/);
});

test('checkFolderFile: inside the folder yes, a symlink out no, into the cache blobs/ yes, another repository\'s blobs no', async () => {
  const root = tmp();
  const folder = join(root, 'model');
  mkdirSync(folder);
  writeFileSync(join(folder, 'a.txt'), 'a');
  mkdirSync(join(folder, 'sub'));
  writeFileSync(join(folder, 'sub', 'b.txt'), 'b');
  symlinkSync('sub/b.txt', join(folder, 'inner-link.txt'));
  writeFileSync(join(root, 'secret.txt'), 'secret');
  symlinkSync(join(root, 'secret.txt'), join(folder, 'vocab.txt'));
  symlinkSync(join(root, 'nowhere'), join(folder, 'dangling.txt'));
  assert.deepEqual(await checkFolderFile(folder, 'a.txt'), { ok: true, path: join(folder, 'a.txt'), real: join(folder, 'a.txt'), symlink: false });
  const inner = await checkFolderFile(folder, 'inner-link.txt');
  assert.equal(inner.ok, true);
  const out = await checkFolderFile(folder, 'vocab.txt');
  assert.equal(out.ok, false);
  assert.match(!out.ok ? out.reason : '', /is a symlink to .*secret\.txt, outside the model folder/);
  const dangling = await checkFolderFile(folder, 'dangling.txt');
  assert.match(!dangling.ok ? dangling.reason : '', /dangling symlink/);

  const hub = join(root, 'hub');
  const snap = join(hub, 'models--org--bert', 'snapshots', 'rev1');
  mkdirSync(snap, { recursive: true });
  mkdirSync(join(hub, 'models--org--bert', 'blobs'));
  mkdirSync(join(hub, 'models--org--other', 'blobs'), { recursive: true });
  writeFileSync(join(hub, 'models--org--bert', 'blobs', 'f00d'), 'weights');
  writeFileSync(join(hub, 'models--org--other', 'blobs', 'beef'), 'other');
  symlinkSync('../../blobs/f00d', join(snap, 'model.safetensors'));
  symlinkSync('../../../models--org--other/blobs/beef', join(snap, 'vocab.txt'));
  assert.equal((await checkFolderFile(snap, 'model.safetensors')).ok, true);
  assert.equal((await checkFolderFile(snap, 'vocab.txt')).ok, false);
});

test('futureRealPath resolves the existing part through symlinks and refuses a dangling one', async () => {
  const root = tmp();
  mkdirSync(join(root, 'real'));
  symlinkSync(join(root, 'real'), join(root, 'link'));
  symlinkSync(join(root, 'gone'), join(root, 'dangling'));
  assert.equal(await futureRealPath(join(root, 'link', 'a', 'b')), join(root, 'real', 'a', 'b'));
  await assert.rejects(futureRealPath(join(root, 'dangling', 'x')), /dangling symlink/);
});

// The reproducer of issue 15: a vocab.txt symlinked to a file outside the folder was copied into the
// output and embedded in ken-subnetwork.safetensors, the file people publish.
test('a side file symlinked out of the model folder is left out with a warning: not in the output, not in the subnetwork', async () => {
  const root = tmp();
  const pair = await synthPair(root);
  writeFileSync(join(root, 'id_rsa'), 'PRIVATE KEY MATERIAL 0123456789');
  symlinkSync(join(root, 'id_rsa'), join(pair.ft, 'vocab.txt'));
  symlinkSync(join(root, 'id_rsa'), join(pair.ft, 'tokenizer_config.json'));
  writeFileSync(join(pair.ft, 'tokenizer.json'), '{}');
  const out = join(root, 'out');
  const r = await ken(['prune', pair.ft, '--base', pair.base, '-k', '4', '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /warning: .*vocab\.txt: not copied \(it is a symlink to .*id_rsa, outside the model folder\)/);
  assert.match(r.stderr, /warning: .*tokenizer_config\.json: not copied/);
  assert.deepEqual(readdirSync(out).sort(), ['config.json', 'ken-report.json', 'ken-subnetwork.safetensors', 'model.safetensors', 'tokenizer.json']);
  const sub = readFileSync(join(out, 'ken-subnetwork.safetensors'));
  assert.equal(sub.includes('PRIVATE KEY MATERIAL'), false);
  assert.equal(sub.includes('vocab.txt'), false);
  const report = JSON.parse(readFileSync(join(out, 'ken-report.json'), 'utf8')) as { warnings?: string[] };
  assert.equal(report.warnings?.length, 2);
});

test('a weight shard symlinked out of the folder is refused; into the Hugging Face cache blobs/ it is read', async () => {
  const root = tmp();
  const pair = await synthPair(root);
  const elsewhere = join(root, 'elsewhere.safetensors');
  linkFile(join(pair.ft, 'model.safetensors'), elsewhere);
  const ft2 = join(root, 'ft2');
  mkdirSync(ft2);
  linkFile(join(pair.ft, 'config.json'), join(ft2, 'config.json'));
  symlinkSync(elsewhere, join(ft2, 'model.safetensors'));
  const r = await ken(['prune', ft2, '--base', pair.base, '-k', '4', '--out', join(root, 'out')]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^ken prune: .*ft2\/model\.safetensors: weight file is a symlink to .*elsewhere\.safetensors, outside the model folder/);
  assert.equal(r.stderr.trim().split('\n').length, 1);
  assert.equal(existsSync(join(root, 'out')), false);

  // models--org--ft/snapshots/<rev>/file -> ../../blobs/<hash>, side files included
  const repo = join(root, 'hub', 'models--org--ft');
  const snap = join(repo, 'snapshots', '0123abcd');
  mkdirSync(join(repo, 'blobs'), { recursive: true });
  mkdirSync(snap, { recursive: true });
  for (const [f, hash] of [['model.safetensors', 'aa11'], ['config.json', 'bb22']] as const) {
    linkFile(join(pair.ft, f), join(repo, 'blobs', hash));
    symlinkSync(`../../blobs/${hash}`, join(snap, f));
  }
  const out = join(root, 'out-hub');
  const ok = await ken(['prune', snap, '--base', pair.base, '-k', '4', '--out', out]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(ok.stderr, '');
  assert.deepEqual(readdirSync(out).sort(), ['config.json', 'ken-report.json', 'ken-subnetwork.safetensors', 'model.safetensors']);
});

test('a FIFO named config.json, or as a shard, is refused at once with one line', { timeout: 15_000 }, async () => {
  const root = tmp();
  const pair = await synthPair(root);
  const ft = join(root, 'fifo-config');
  mkdirSync(ft);
  linkFile(join(pair.ft, 'model.safetensors'), join(ft, 'model.safetensors'));
  mkfifo(join(ft, 'config.json'));
  const r = await ken(['prune', ft, '--base', pair.base, '-k', '4', '--out', join(root, 'o1')]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /config\.json: is a FIFO \(named pipe\), not a regular file/);
  const ft2 = join(root, 'fifo-shard');
  mkdirSync(ft2);
  mkfifo(join(ft2, 'model.safetensors'));
  const r2 = await ken(['prune', ft2, '--base', pair.base, '-k', '4', '--out', join(root, 'o2')]);
  assert.equal(r2.code, 1);
  assert.match(r2.stderr, /model\.safetensors: weight file is a FIFO/);
  assert.equal(existsSync(join(root, 'o1')) || existsSync(join(root, 'o2')), false);
  // ken eval reads config.json and tokenizer.json itself: the same refusal
  for (const formats of [['onnx'], ['safetensors']] as const) {
    const ev = fixture('finetuned', [...formats]);
    rmSync(join(ev, 'config.json'));
    mkfifo(join(ev, 'config.json'));
    const r3 = await ken(['eval', ev, '--data', join(DEMO, 'test.jsonl')]);
    assert.equal(r3.code, 1, formats[0]);
    assert.match(r3.stderr, /^ken eval: .*finetuned\/config\.json: is a FIFO \(named pipe\), not a regular file; KEN reads only regular files\n$/, formats[0]);
  }
});

test('ONNX external data: a FIFO is refused at once (by ken eval too, before onnxruntime opens it); into the cache blobs/ it is read', { timeout: 15_000 }, async () => {
  const root = tmp();
  const w: InitSpec = { name: 'onnx::MatMul_9', dims: [4, 2], values: normals(8, 1), dtype: 'F32', storage: 'external', location: 'weights.bin', offset: 0 };
  const b: InitSpec = { name: 'bias', dims: [2], values: normals(2, 2), dtype: 'F32', storage: 'raw' };
  const dir = join(root, 'fifo');
  mkdirSync(dir);
  writeFileSync(join(dir, 'model.onnx'), linearModel(w, b));
  mkfifo(join(dir, 'weights.bin'));
  await assert.rejects(readOnnxModel(join(dir, 'model.onnx')), /model\.onnx: initializer onnx::MatMul_9: external data .*weights\.bin is a FIFO \(named pipe\), not a regular file/);
  const r = await ken(['eval', join(dir, 'model.onnx'), '--data', join(root, 'none.jsonl')]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /weights\.bin is a FIFO/);

  const repo = join(root, 'hub', 'models--org--onnx');
  const snap = join(repo, 'snapshots', 'r1');
  mkdirSync(join(repo, 'blobs'), { recursive: true });
  mkdirSync(snap, { recursive: true });
  writeFileSync(join(repo, 'blobs', 'c0ffee'), Buffer.from(new Float32Array(normals(8, 1)).buffer));
  writeFileSync(join(snap, 'model.onnx'), linearModel(w, b));
  symlinkSync('../../blobs/c0ffee', join(snap, 'weights.bin'));
  const m = await readOnnxModel(join(snap, 'model.onnx'));
  assert.deepEqual(m.externalFiles, ['weights.bin']);
});

test('side files with private-looking names are never copied (for callers that copy every file of a folder)', async () => {
  const d = tmp();
  for (const n of ['.env', '.netrc', 'id_rsa', 'id_ed25519.pub', 'server.pem', 'api.key', 'credentials.json', 'secrets.yaml', 'vocab.txt', 'tokenizer.json', 'README.md', 'keys.json']) writeFileSync(join(d, n), 'x');
  const refused: string[] = [];
  for (const n of readdirSync(d).sort()) if (await sideFileRefusal(d, n)) refused.push(n);
  assert.deepEqual(refused, ['.env', '.netrc', 'api.key', 'credentials.json', 'id_ed25519.pub', 'id_rsa', 'secrets.yaml', 'server.pem']);
});

test('a side file swapped for a symlink out of the folder after the folder was checked is refused, not copied', async () => {
  const root = tmp();
  const folder = join(root, 'model');
  mkdirSync(folder);
  writeFileSync(join(folder, 'vocab.txt'), 'tokens');
  writeFileSync(join(root, 'secret.txt'), 'PRIVATE');
  const { copyFolderFile } = await import('../../src/formats/paths');
  await copyFolderFile(folder, 'vocab.txt', join(root, 'copy1.txt'));
  assert.equal(readFileSync(join(root, 'copy1.txt'), 'utf8'), 'tokens');
  // swapped after openModel's check: copyFolderFile checks again, on what it opens
  rmSync(join(folder, 'vocab.txt'));
  symlinkSync(join(root, 'secret.txt'), join(folder, 'vocab.txt'));
  await assert.rejects(copyFolderFile(folder, 'vocab.txt', join(root, 'copy2.txt')), /vocab\.txt: is a symlink to .*secret\.txt, outside the model folder/);
  assert.equal(existsSync(join(root, 'copy2.txt')), false);
});

test('a model file named directly is read where its symlink leads', async () => {
  const root = tmp();
  const pair = await synthPair(root);
  mkdirSync(join(root, 'links'));
  symlinkSync(join(pair.ft, 'model.safetensors'), join(root, 'links', 'ft.safetensors'));
  const r = await ken(['prune', join(root, 'links', 'ft.safetensors'), '--base', pair.base, '-k', '4', '--out', join(root, 'out')]);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(existsSync(join(root, 'out', 'ft.safetensors')));
});
