// The workspace the end-to-end run opens: the debdesc-bert-mini pair and its test set, plus a
// synthetic pair holding one 768x3072 matrix (the panel's matrix view is timed on that size).
import { copyFileSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Copies the fixture into `ws`: models/finetuned (ONNX + safetensors), models/pretrained, data/test.jsonl. */
export function makeWorkspace(root, ws) {
  const demo = join(root, 'demo', 'debdesc-bert-mini');
  const extra = join(root, 'test', 'data', 'debdesc-bert-mini');
  const ft = join(ws, 'models', 'finetuned');
  const pre = join(ws, 'models', 'pretrained');
  const data = join(ws, 'data');
  for (const d of [ft, pre, data]) mkdirSync(d, { recursive: true });
  for (const f of readdirSync(join(demo, 'finetuned'))) copyFileSync(join(demo, 'finetuned', f), join(ft, f));
  copyFileSync(join(extra, 'finetuned', 'model.safetensors'), join(ft, 'model.safetensors'));
  for (const f of readdirSync(join(demo, 'pretrained'))) copyFileSync(join(demo, 'pretrained', f), join(pre, f));
  copyFileSync(join(demo, 'test.jsonl'), join(data, 'test.jsonl'));
  return { finetuned: ft, pretrained: pre, data, testSet: join(data, 'test.jsonl') };
}

/** Deterministic N(0, scale) values (xorshift32 + Box-Muller). */
function normals(count, seed, scale) {
  const out = new Float32Array(count);
  let s = seed >>> 0 || 1;
  const uni = () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return (s + 0.5) / 4294967296;
  };
  for (let i = 0; i < count; i++) out[i] = Math.sqrt(-2 * Math.log(uni())) * Math.cos(2 * Math.PI * uni()) * scale;
  return out;
}

/** A safetensors file of F32 tensors: 8-byte little-endian header length, JSON header, data. */
function writeF32Safetensors(path, tensors) {
  const header = { __metadata__: { format: 'pt' } };
  let offset = 0;
  for (const t of tensors) {
    header[t.name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + t.values.byteLength] };
    offset += t.values.byteLength;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  writeFileSync(path, Buffer.concat([len, Buffer.from(json), ...tensors.map((t) => Buffer.from(t.values.buffer, t.values.byteOffset, t.values.byteLength))]));
}

/** A base/fine-tuned pair with one [768, 3072] weight (fine-tuned = base + small noise). */
export function makeLargePair(dir) {
  const name = 'bert.encoder.layer.0.output.dense.weight';
  const shape = [768, 3072];
  const n = shape[0] * shape[1];
  const base = normals(n, 11, 0.02);
  const noise = normals(n, 29, 0.004);
  const ft = base.map((v, i) => v + noise[i]);
  const config = JSON.stringify({ model_type: 'bert', hidden_size: 768, intermediate_size: 3072, num_hidden_layers: 1 });
  const out = {};
  // names found nowhere else in the workspace, so the explorer rows are unambiguous
  for (const [which, values] of [['finetuned', ft], ['pretrained', base]]) {
    const d = join(dir, `${which}-768x3072`);
    mkdirSync(d, { recursive: true });
    writeF32Safetensors(join(d, 'model.safetensors'), [{ name, shape, values }]);
    writeFileSync(join(d, 'config.json'), config);
    out[which] = d;
  }
  return out;
}
