// SECURITY.md, "Never a partial or unrestorable output": overlapping tensors refused (empty ones
// included), what prune writes is restorable, restore checks its maps before writing a byte.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pruneSummary } from '../../src/cli/prune';
import { formatBytes } from '../../src/cli/args';
import { readSafetensorsHeader } from '../../src/formats/safetensors';
import { readSubnetwork, type SubnetworkMeta } from '../../src/formats/subnetwork';
import { restorableProblem } from '../../src/ken/verify';
import type { KenReport } from '../../src/shared/report';
import { ken, synthPair, tmp } from '../helpers';

function raw(header: object, data: Uint8Array): Buffer {
  const json = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([len, json, data]);
}

/** A copy of a safetensors file with its "ken" metadata changed by `edit` (tensor bytes untouched). */
function editMeta(src: string, dest: string, edit: (m: SubnetworkMeta) => void): void {
  const buf = readFileSync(src);
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8')) as Record<string, { data_offsets?: number[] } | Record<string, string>>;
  const md = header['__metadata__'] as Record<string, string>;
  const meta = JSON.parse(md['ken']!) as SubnetworkMeta;
  edit(meta);
  md['ken'] = JSON.stringify(meta);
  writeFileSync(dest, raw(header, buf.subarray(8 + n)));
}

// The reproducer of issue 15: a zero-length tensor inside another tensor's bytes, beside a 1-value
// tensor aliasing those bytes, passed the overlap check; prune exited 0 and its own subnetwork then
// failed to restore ("has 65184 bytes, expected 65180").
test('an empty tensor inside another tensor\'s bytes is an overlap, and so is the tensor aliasing them', async () => {
  const d = tmp();
  const file = join(d, 'alias.safetensors');
  writeFileSync(file, raw({
    a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
    z: { dtype: 'F32', shape: [0], data_offsets: [4, 4] },
    b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] },
  }, new Uint8Array(8)));
  await assert.rejects(readSafetensorsHeader(file), /alias\.safetensors: tensors a \(bytes 0\.\.8\) and z \(bytes 4\.\.4\) overlap/);
  const onlyEmpty = join(d, 'empty-inside.safetensors');
  writeFileSync(onlyEmpty, raw({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, z: { dtype: 'F32', shape: [0], data_offsets: [4, 4] } }, new Uint8Array(8)));
  await assert.rejects(readSafetensorsHeader(onlyEmpty), /tensors a .* and z .* overlap/);
  // empty tensors at the edges of others, or between them, are fine
  const edges = join(d, 'edges.safetensors');
  writeFileSync(edges, raw({
    e0: { dtype: 'F32', shape: [0], data_offsets: [0, 0] },
    a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] },
    e1: { dtype: 'F32', shape: [0], data_offsets: [4, 4] },
    b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] },
    e2: { dtype: 'F32', shape: [0, 3], data_offsets: [8, 8] },
  }, new Uint8Array(8)));
  assert.equal((await readSafetensorsHeader(edges)).tensors.length, 5);

  // through the CLI: one line, exit 1, nothing written
  const pair = await synthPair(d);
  const ft = join(d, 'ft-alias');
  mkdirSync(ft);
  writeFileSync(join(ft, 'model.safetensors'), readFileSync(file));
  const r = await ken(['prune', ft, '--base', pair.base, '-k', '4', '--out', join(d, 'out')]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^ken prune: model\.safetensors: tensors a .* overlap\n$/);
  assert.equal(existsSync(join(d, 'out')), false);
});

test('restorableProblem: overlapping or duplicated holes, wrong skeleton sizes, unknown tensors, odd paths', async () => {
  const root = tmp();
  const pair = await synthPair(root);
  const out = join(root, 'out');
  const r = await ken(['prune', pair.ft, '--base', pair.base, '-k', '4', '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  const subFile = join(out, 'ken-subnetwork.safetensors');
  assert.equal(restorableProblem(await readSubnetwork(subFile)), undefined, 'what prune wrote is restorable');
  const cases: [string, (m: SubnetworkMeta) => void, RegExp][] = [
    ['duplicated hole', (m) => m.files[0]!.holes.push({ ...m.files[0]!.holes[0]! }), /places of tensors overlap|overlaps another/],
    ['hole past the end', (m) => { m.files[0]!.size = m.files[0]!.holes[0]!.offset + 1; }, /past the file's|skeleton bytes/],
    ['skeleton size', (m) => { m.files[0]!.size += 4; }, /skeleton bytes, expected|skeleton bytes and \d+ hole bytes do not make/],
    ['unknown tensor', (m) => { m.files[0]!.holes[0]!.tensor = 'nope'; }, /needs tensor nope, which it does not hold/],
    ['hole length', (m) => { m.files[0]!.holes[0]!.length += 4; }, /place holds .* bytes, not|overlap|skeleton|does not hold tensor/],
    ['kept count', (m) => { m.tensors.find((t) => t.layout !== 'whole')!.kept += 1; }, /kept values recorded|bytes for \d+ kept values/],
    ['dot path', (m) => { m.files[0]!.path = 'a/..'; }, /is not a plain relative path|is not a relative path to a file inside/],
    ['file twice', (m) => m.files.push({ ...m.files[0]! }), /listed twice/],
  ];
  for (const [label, edit, want] of cases) {
    const bad = join(root, `${label.replace(/ /g, '-')}.safetensors`);
    editMeta(subFile, bad, edit);
    // refused by readSubnetwork's metadata validation, or else by restorableProblem's checks
    let problem: string;
    try {
      problem = restorableProblem(await readSubnetwork(bad)) ?? '';
    } catch (e) {
      problem = e instanceof Error ? e.message : String(e);
    }
    assert.match(problem, want, label);
  }
});

test('restore checks the maps before writing anything: 1,000 duplicated holes write nothing', async () => {
  const root = tmp();
  const pair = await synthPair(root);
  const out = join(root, 'out');
  assert.equal((await ken(['prune', pair.ft, '--base', pair.base, '-k', '4', '--out', out])).code, 0);
  const bad = join(root, 'dup.safetensors');
  editMeta(join(out, 'ken-subnetwork.safetensors'), bad, (m) => {
    const f = m.files.find((x) => x.holes.length > 0)!;
    for (let i = 0; i < 1000; i++) f.holes.push({ ...f.holes[0]! });
  });
  const r = await ken(['restore', bad, '--base', pair.base, '--out', join(root, 'restored')]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^ken restore: .*dup\.safetensors: (cannot be restored \(file model\.safetensors: the places of tensors overlap at byte \d+ \(.*\)\)|file model\.safetensors: hole at byte \d+ \(.*\) overlaps another)\n$/);
  assert.equal(existsSync(join(root, 'restored')), false);
});

test('the summary never prints a negative saving', () => {
  assert.equal(formatBytes(-163120345), '-163.1 MB');
  const report = {
    k: 4, backend: 'js', executionProvider: 'cpu', seconds: 0.1, totalParams: 10, keptParams: 5, keptRatio: 0.5, tensors: [],
    bytes: { checkpoint: 1000, subnetwork: 163121345 },
  } as KenReport;
  const text = pruneSummary(report, '/tmp/o');
  assert.match(text, /subnetwork 163\.1 MB = 16312134\.5% of the 1\.0 kB checkpoint \(no saving: 163\.1 MB larger, as it also holds the files' other bytes\)/);
  assert.doesNotMatch(text, /saves -|-\d/);
  assert.match(pruneSummary({ ...report, bytes: { checkpoint: 4000, subnetwork: 1000 } }, '/tmp/o'), /\(saves 3\.0 kB\)/);
});

test('disk: a prune writes at most twice its input (the copy and a subnetwork no larger than it) plus metadata, even when KEN keeps everything', async () => {
  const root = tmp();
  const pair = await synthPair(root);
  const size = (dir: string): number => readdirSync(dir).reduce((s, n) => s + statSync(join(dir, n)).size, 0);
  for (const k of ['2', '1000']) {
    const out = join(root, `out${k}`);
    const r = await ken(['prune', pair.ft, '--base', pair.base, '-k', k, '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(readFileSync(join(out, 'ken-report.json'), 'utf8')) as KenReport;
    const written = size(out) - statSync(join(out, 'ken-report.json')).size;
    assert.ok(written <= 2 * size(pair.ft) + 16_384, `k=${k}: wrote ${written} bytes for ${size(pair.ft)} of input`);
    assert.ok(report.bytes!.subnetwork <= size(pair.ft) + 16_384, `k=${k}: subnetwork ${report.bytes!.subnetwork}`);
  }
  assert.deepEqual(readdirSync(root).sort(), ['base', 'ft', 'out1000', 'out2']);
});
