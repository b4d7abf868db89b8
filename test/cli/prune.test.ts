import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readSafetensorsHeader, writeSafetensors } from '../../src/formats/safetensors';
import { fromFloat32, toFloat32 } from '../../src/formats/dtype';
import { RowPruner } from '../../src/ken/row';
import type { KenReport } from '../../src/shared/report';
import { EXPECTED, fixture, ken, normals, synthModel, synthPair, tmp } from '../helpers';

function sha(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

function readReport(dir: string): KenReport {
  return JSON.parse(readFileSync(join(dir, 'ken-report.json'), 'utf8')) as KenReport;
}

async function tensorBytes(file: string, name: string): Promise<Uint8Array> {
  const h = await readSafetensorsHeader(file);
  const e = h.tensors.find((t) => t.name === name)!;
  return new Uint8Array(readFileSync(file).subarray(e.begin, e.end));
}

test('the fixture pair gives the reference kept-parameter counts at every listed k', async () => {
  const ft = fixture('finetuned', ['safetensors']);
  const base = fixture('pretrained', ['safetensors']);
  for (const [k, want] of Object.entries(EXPECTED.ken)) {
    const out = join(tmp(), 'out');
    const r = await ken(['prune', ft, '--base', base, '-k', k, '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    const report = readReport(out);
    assert.equal(report.k, Number(k));
    assert.equal(report.totalParams, want.totalParams);
    assert.equal(report.keptParams, want.keptParams, `k=${k}`);
    assert.equal(report.keptRatio, want.keptParams / want.totalParams);
    assert.match(r.stdout, new RegExp(`kept ${want.keptParams.toLocaleString('en-US')} of`));
  }
});

test('the report has the contract shape and the output mirrors the input folder', async () => {
  const ft = fixture('finetuned', ['safetensors']);
  const base = fixture('pretrained', ['safetensors']);
  const out = join(tmp(), 'out');
  const r = await ken(['prune', ft, '--base', base, '-k', '16', '--out', out, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const printed = JSON.parse(r.stdout) as KenReport;
  const report = readReport(out);
  assert.deepEqual(printed, report);
  for (const key of ['k', 'backend', 'executionProvider', 'seconds', 'totalParams', 'keptParams', 'keptRatio', 'tensors', 'bytes']) assert.ok(key in report, key);
  assert.equal(report.backend, 'js');
  assert.equal(report.executionProvider, 'cpu');
  assert.deepEqual(readdirSync(out).sort(), ['config.json', 'ken-report.json', 'ken-subnetwork.safetensors', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json', 'vocab.txt']);
  const header = await readSafetensorsHeader(join(out, 'model.safetensors'));
  const inHeader = await readSafetensorsHeader(join(ft, 'model.safetensors'));
  assert.deepEqual(header.tensors, inHeader.tensors);
  assert.deepEqual(header.metadata, inHeader.metadata);
  for (const t of report.tensors) {
    for (const key of ['name', 'shape', 'dtype', 'rows', 'kept', 'total', 'status']) assert.ok(key in t, `${t.name}.${key}`);
    assert.ok(['pruned', 'no-base', 'head', 'excluded', 'kept-all'].includes(t.status));
    assert.ok(t.kept <= t.total);
  }
  const head = report.tensors.filter((t) => t.status === 'head').map((t) => t.name).sort();
  assert.deepEqual(head, ['classifier.bias', 'classifier.weight']);
  assert.equal(report.keptParams, report.tensors.reduce((s, t) => s + t.kept, 0));
  assert.equal(report.totalParams, report.tensors.reduce((s, t) => s + t.total, 0));
  // every value is either the fine-tuned or the base value, and the head is untouched
  assert.deepEqual(await tensorBytes(join(out, 'model.safetensors'), 'classifier.weight'), await tensorBytes(join(ft, 'model.safetensors'), 'classifier.weight'));
  const name = 'bert.encoder.layer.1.output.dense.weight';
  const o = toFloat32(await tensorBytes(join(out, 'model.safetensors'), name), 'F32');
  const f = toFloat32(await tensorBytes(join(ft, 'model.safetensors'), name), 'F32');
  const b = toFloat32(await tensorBytes(join(base, 'model.safetensors'), name), 'F32');
  let keptHere = 0;
  for (let i = 0; i < o.length; i++) {
    assert.ok(Object.is(o[i], f[i]) || Object.is(o[i], b[i]));
    if (Object.is(o[i], f[i])) keptHere++;
  }
  assert.equal(keptHere >= report.tensors.find((t) => t.name === name)!.kept, true);
});

test('pruning matches KEN row by row on the decoded values, for F16 and BF16 checkpoints written back in their dtype', async () => {
  for (const dtype of ['F16', 'BF16'] as const) {
    const root = tmp();
    const pair = await synthPair(root, { dtype });
    const out = join(root, 'out');
    const r = await ken(['prune', pair.ft, '--base', pair.base, '-k', '4', '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    const name = 'bert.encoder.layer.0.attention.self.query.weight';
    const header = await readSafetensorsHeader(join(out, 'model.safetensors'));
    assert.equal(header.tensors.find((t) => t.name === name)!.dtype, dtype);
    const ftBytes = await tensorBytes(join(pair.ft, 'model.safetensors'), name);
    const baseBytes = await tensorBytes(join(pair.base, 'model.safetensors'), name);
    const outBytes = await tensorBytes(join(out, 'model.safetensors'), name);
    const ftVals = toFloat32(ftBytes, dtype);
    const pruner = new RowPruner();
    const mask = new Uint8Array(16 * 16);
    for (let r0 = 0; r0 < 16; r0++) pruner.prune(ftVals.subarray(r0 * 16, r0 * 16 + 16), 4, mask, r0 * 16);
    const o16 = new Uint16Array(outBytes.buffer, outBytes.byteOffset, 256);
    const f16 = new Uint16Array(ftBytes.buffer, ftBytes.byteOffset, 256);
    const b16 = new Uint16Array(baseBytes.buffer, baseBytes.byteOffset, 256);
    for (let i = 0; i < 256; i++) assert.equal(o16[i], mask[i] ? f16[i] : b16[i], `${dtype} element ${i}`);
  }
});

test('a fine-tuned tensor the base lacks is kept as fine-tuned and reported; base-only tensors are ignored', async () => {
  const root = tmp();
  const pair = await synthPair(root);
  const out = join(root, 'out');
  const r = await ken(['prune', pair.ft, '--base', pair.base, '-k', '4', '--out', out, '--include-head']);
  assert.equal(r.code, 0, r.stderr);
  const report = readReport(out);
  const cls = report.tensors.find((t) => t.name === 'classifier.weight')!;
  assert.equal(cls.status, 'no-base');
  assert.equal(cls.kept, cls.total);
  assert.ok(!report.tensors.some((t) => t.name.startsWith('cls.')));
});

test('--scope attention, --include and --exclude choose the tensors', async () => {
  const root = tmp();
  const pair = await synthPair(root);
  const run = async (...extra: string[]): Promise<Record<string, string>> => {
    const out = join(tmp(), 'out');
    const r = await ken(['prune', pair.ft, '--base', pair.base, '-k', '4', '--out', out, ...extra]);
    assert.equal(r.code, 0, r.stderr);
    return Object.fromEntries(readReport(out).tensors.map((t) => [t.name, t.status]));
  };
  const att = await run('--scope', 'attention');
  assert.equal(att['bert.embeddings.word_embeddings.weight'], 'excluded');
  assert.equal(att['bert.encoder.layer.0.attention.self.query.weight'], 'pruned');
  const inc = await run('--include', 'layer\\.1\\.');
  assert.equal(inc['bert.encoder.layer.0.attention.self.query.weight'], 'excluded');
  assert.equal(inc['bert.encoder.layer.1.attention.self.query.weight'], 'pruned');
  const exc = await run('--exclude', 'bias$');
  assert.equal(exc['bert.encoder.layer.0.attention.self.query.bias'], 'excluded');
  assert.equal(exc['bert.encoder.layer.0.attention.self.query.weight'], 'pruned');
});

test('sharded checkpoints and single .safetensors files keep their layout', async () => {
  const root = tmp();
  const mk = async (dir: string, seed: number): Promise<void> => {
    mkdirSync(dir, { recursive: true });
    const a = normals(64, seed, 0.02);
    const b = normals(64, seed + 1, 0.02);
    await writeSafetensors(join(dir, 'model-00001-of-00002.safetensors'), [{ name: 'encoder.layer.0.w', dtype: 'F32', shape: [8, 8], data: fromFloat32(a, 'F32') }]);
    await writeSafetensors(join(dir, 'model-00002-of-00002.safetensors'), [{ name: 'encoder.layer.1.w', dtype: 'F32', shape: [8, 8], data: fromFloat32(b, 'F32') }]);
    writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: { 'encoder.layer.0.w': 'model-00001-of-00002.safetensors', 'encoder.layer.1.w': 'model-00002-of-00002.safetensors' } }));
  };
  await mk(join(root, 'base'), 1);
  await mk(join(root, 'ft'), 5);
  const out = join(root, 'out');
  const r = await ken(['prune', join(root, 'ft'), '--base', join(root, 'base'), '-k', '3', '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(existsSync(join(out, 'model-00001-of-00002.safetensors')));
  assert.ok(existsSync(join(out, 'model-00002-of-00002.safetensors')));
  assert.equal(readFileSync(join(out, 'model.safetensors.index.json'), 'utf8'), readFileSync(join(root, 'ft', 'model.safetensors.index.json'), 'utf8'));
  assert.equal(readReport(out).tensors.filter((t) => t.status === 'pruned').length, 2);

  const single = join(root, 'single');
  await synthModel(single, [{ name: 'w', shape: [4, 6], values: normals(24, 3) }]);
  await synthModel(join(root, 'single-base'), [{ name: 'w', shape: [4, 6], values: normals(24, 4) }]);
  const out2 = join(root, 'out2');
  const r2 = await ken(['prune', join(single, 'model.safetensors'), '--base', join(root, 'single-base', 'model.safetensors'), '-k', '2', '--out', out2]);
  assert.equal(r2.code, 0, r2.stderr);
  assert.ok(existsSync(join(out2, 'model.safetensors')));
});

test('bad input: one line naming what is wrong, exit 1, nothing written, inputs untouched', async () => {
  const root = tmp();
  const pair = await synthPair(root);
  const before = sha(join(pair.ft, 'model.safetensors'));
  const empty = join(root, 'empty');
  mkdirSync(empty);
  const pickle = join(root, 'pickle');
  mkdirSync(pickle);
  writeFileSync(join(pickle, 'pytorch_model.bin'), 'not really');
  const shapeBad = join(root, 'shape-bad');
  await synthModel(shapeBad, [{ name: 'bert.encoder.layer.0.attention.self.query.weight', shape: [8, 32], values: normals(256, 9) }]);
  const nanFt = join(root, 'nan');
  const vals = normals(256, 11, 0.02);
  vals[5 * 16 + 3] = NaN;
  await synthModel(nanFt, [{ name: 'bert.encoder.layer.0.attention.self.query.weight', shape: [16, 16], values: vals }]);
  const cases: [string[], RegExp][] = [
    [[empty, '--base', pair.base], /no model found \(fine-tuned\); looked for model\.safetensors/],
    [[join(root, 'missing'), '--base', pair.base], /missing: no such file or folder/],
    [[pickle, '--base', pair.base], /legacy \(pre-1\.6, non-zip\) PyTorch file/],
    [[pair.ft, '--base', shapeBad], /tensor bert\.encoder\.layer\.0\.attention\.self\.query\.weight: fine-tuned shape \[16,16\] but base/],
    [[nanFt, '--base', pair.base], /tensor bert\.encoder\.layer\.0\.attention\.self\.query\.weight: row 5 holds NaN or infinity \(column 3\)/],
  ];
  for (const [args, message] of cases) {
    const out = join(tmp(), 'out');
    const r = await ken(['prune', ...args, '-k', '4', '--out', out]);
    assert.equal(r.code, 1, `${args[0]}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.ok(!/\bat .*\.js:\d+/.test(r.stderr), 'no stack trace');
    assert.ok(!existsSync(out));
    assert.deepEqual(readdirSync(join(out, '..')), []);
  }
  assert.equal(sha(join(pair.ft, 'model.safetensors')), before);
});

test('usage errors exit 2: bad k, missing flags, existing output, output inside an input', async () => {
  const root = tmp();
  const pair = await synthPair(root);
  const existing = join(root, 'existing');
  mkdirSync(existing);
  writeFileSync(join(existing, 'keep.txt'), 'mine');
  const cases: [string[], RegExp][] = [
    [['prune', pair.ft, '--base', pair.base, '-k', '0', '--out', join(root, 'o1')], /-k must be a whole number >= 1/],
    [['prune', pair.ft, '--base', pair.base, '-k', '-3', '--out', join(root, 'o1')], /-k/],
    [['prune', pair.ft, '--base', pair.base, '-k', '2.5', '--out', join(root, 'o1')], /-k must be a whole number/],
    [['prune', pair.ft, '--base', pair.base, '-k', 'ten', '--out', join(root, 'o1')], /-k must be a whole number/],
    [['prune', pair.ft, '--base', pair.base, '--out', join(root, 'o1')], /-k is required/],
    [['prune', pair.ft, '-k', '4', '--out', join(root, 'o1')], /--base is required/],
    [['prune', pair.ft, '--base', pair.base, '-k', '4'], /--out is required/],
    [['prune', '--base', pair.base, '-k', '4', '--out', join(root, 'o1')], /name the fine-tuned model/],
    [['prune', pair.ft, '--base', pair.base, '-k', '4', '--out', existing], /already exists/],
    [['prune', pair.ft, '--base', pair.base, '-k', '4', '--out', join(pair.ft, 'pruned')], /lies inside the input/],
    [['prune', pair.ft, '--base', pair.base, '-k', '4', '--out', join(root, 'o1'), '--backend', 'gpu'], /--backend must be one of auto, js, ort/],
    [['prune', pair.ft, '--base', pair.base, '-k', '4', '--out', join(root, 'o1'), '--include', '(['], /--include: not a valid regular expression/],
    [['prune', pair.ft, '--base', pair.base, '-k', '4', '--out', join(root, 'o1'), '--frobnicate'], /Unknown option '--frobnicate'/],
    [['frobnicate'], /unknown command 'frobnicate'/],
  ];
  for (const [args, message] of cases) {
    const r = await ken(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
  }
  assert.deepEqual(readdirSync(existing), ['keep.txt']);
  assert.ok(!existsSync(join(root, 'o1')));
});

test('cancelling (Ctrl-C) leaves no output and no temporary folder', async () => {
  const ft = fixture('finetuned', ['safetensors', 'onnx']);
  const base = fixture('pretrained', ['safetensors']);
  const parent = tmp();
  const out = join(parent, 'out');
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 150);
  const r = await ken(['prune', ft, '--base', base, '-k', '32', '--out', out], controller.signal);
  assert.equal(r.code, 130, r.stderr);
  assert.match(r.stderr, /cancelled; nothing was written/);
  assert.deepEqual(readdirSync(parent), []);
});
