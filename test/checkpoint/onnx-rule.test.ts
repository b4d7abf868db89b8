// One rule for which .onnx file is a folder's model (checkpoint/folder.ts `folderOnnx`), asked by openModel (prune,
// sweep) and by evaluation's findOnnx: model.onnx, else the only .onnx file; onnx/model.onnx is not the folder's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { folderOnnx } from '../../src/checkpoint/folder';
import { findOnnx } from '../../src/eval/session';
import { tmp } from '../helpers';

test('folderOnnx: model.onnx first, else the only .onnx file, else several or none', () => {
  assert.deepEqual(folderOnnx(['config.json', 'a.onnx', 'model.onnx']), { name: 'model.onnx' });
  assert.deepEqual(folderOnnx(['config.json', 'exported.onnx', 'model.safetensors']), { name: 'exported.onnx' });
  assert.deepEqual(folderOnnx(['a.onnx', 'b.onnx']), { several: ['a.onnx', 'b.onnx'] });
  assert.equal(folderOnnx(['config.json', 'onnx', 'model.safetensors']), undefined);
});

function folder(files: string[]): string {
  const d = tmp('ken-onnx-rule-');
  for (const f of files) {
    mkdirSync(join(d, f, '..'), { recursive: true });
    writeFileSync(join(d, f), '');
  }
  return d;
}

test('findOnnx takes the file the rule names, and the file the user names', async () => {
  const d = folder(['config.json', 'exported.onnx']);
  assert.deepEqual(await findOnnx(d), { file: join(d, 'exported.onnx'), folder: d });
  const h = folder(['config.json', 'onnx/model.onnx']);
  // named, onnx/model.onnx reads config.json and the tokenizer from the folder above it (the Hub's layout)
  assert.deepEqual(await findOnnx(join(h, 'onnx', 'model.onnx')), { file: join(h, 'onnx', 'model.onnx'), folder: h });
});

test('a folder whose only ONNX is onnx/model.onnx has no ONNX model (evaluation builds its graph, as prune would); the line names the file', async () => {
  const h = folder(['config.json', 'model.safetensors', 'onnx/model.onnx']);
  await assert.rejects(findOnnx(h), (e: Error) => {
    assert.equal(e.message, `${h}: no ONNX model to evaluate (onnx/model.onnx is in a subfolder, not the folder's model; name it to evaluate it: ${join(h, 'onnx', 'model.onnx')})`);
    return true;
  });
  const two = folder(['a.onnx', 'b.onnx']);
  await assert.rejects(findOnnx(two), /holds several \.onnx files \(a\.onnx, b\.onnx\) and no model\.onnx; name the file to evaluate/);
});
