import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeHeader, readSafetensorsHeader, writeSafetensors } from '../../src/formats/safetensors';
import { ken, synthPair, tmp } from '../helpers';

function raw(header: string | object, data: Uint8Array = new Uint8Array(0), declaredLength?: number): Buffer {
  const json = Buffer.from(typeof header === 'string' ? header : JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(declaredLength ?? json.length));
  return Buffer.concat([len, json, data]);
}

test('a written file reads back: offsets, shapes, dtypes, metadata, 8-byte aligned data', async () => {
  const p = join(tmp(), 'a.safetensors');
  await writeSafetensors(p, [
    { name: 'a', dtype: 'F32', shape: [2, 3], data: new Uint8Array(24).fill(1) },
    { name: 'b', dtype: 'F16', shape: [5], data: new Uint8Array(10).fill(2) },
  ], { format: 'pt' });
  const h = await readSafetensorsHeader(p);
  assert.equal(h.dataStart % 8, 0);
  assert.deepEqual(h.metadata, { format: 'pt' });
  assert.deepEqual(h.tensors.map((t) => [t.name, t.dtype, t.shape, t.end - t.begin]), [['a', 'F32', [2, 3], 24], ['b', 'F16', [5], 10]]);
  assert.equal(h.tensors[1]!.begin, h.dataStart + 24);
  assert.equal(encodeHeader([], []).length % 8, 0);
});

test('malformed files are refused with one line naming the file and what is wrong', async () => {
  const dir = tmp();
  const cases: [string, Buffer, RegExp][] = [
    ['short.safetensors', Buffer.from([1, 2, 3]), /short\.safetensors: not a safetensors file \(only 3 bytes\)/],
    ['huge-header.safetensors', raw('{}', undefined, 1e12), /huge-header\.safetensors: not a safetensors file \(header length/],
    ['not-json.safetensors', raw('{"a": [1, 2'), /not-json\.safetensors: the safetensors header is not JSON/],
    ['array.safetensors', raw('[1,2]'), /array\.safetensors: the safetensors header is not a JSON object/],
    ['outside.safetensors', raw({ w: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, new Uint8Array(8)), /outside\.safetensors: tensor w lies outside the file/],
    ['size.safetensors', raw({ w: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, new Uint8Array(8)), /size\.safetensors: tensor w has 8 bytes but F32\[3\] needs 12/],
    ['overlap.safetensors', raw({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, new Uint8Array(12)), /overlap\.safetensors: tensors a \(bytes 0\.\.8\) and b \(bytes 4\.\.12\) overlap/],
    ['fields.safetensors', raw({ w: { dtype: 'F32', shape: [2] } }), /fields\.safetensors: tensor w lacks dtype, shape or data_offsets/],
    ['meta.safetensors', raw({ __metadata__: { a: 1 } }), /meta\.safetensors: __metadata__ must map strings to strings/],
  ];
  for (const [name, bytes, message] of cases) {
    const p = join(dir, name);
    writeFileSync(p, bytes);
    await assert.rejects(readSafetensorsHeader(p), (e: Error) => {
      assert.equal(e.name, 'CheckpointError');
      assert.match(e.message, message);
      assert.ok(!e.message.includes('\n'));
      return true;
    });
  }
});

test('the CLI reports a malformed fine-tuned file with exit 1', async () => {
  const root = tmp();
  const pair = await synthPair(root);
  const bad = join(root, 'bad');
  mkdirSync(bad);
  writeFileSync(join(bad, 'model.safetensors'), raw('{"oops'));
  const r = await ken(['prune', bad, '--base', pair.base, '-k', '4', '--out', join(root, 'out')]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /model\.safetensors: the safetensors header is not JSON/);
});
