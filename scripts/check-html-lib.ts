// What scripts/check-html.mjs needs from the core, bundled by it on the fly (not part of the extension).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeSafetensors } from '../src/formats/safetensors';
import { pruneToFolder } from '../src/workflows/prune';

export { writeHtmlReport } from '../src/report/html';
export { STATIC_THEME_CSS } from '../src/report/html-theme';
export { VizDataSource } from '../src/report/viz-data';
export { PanelSession } from '../src/report/panel-session';
export { webviewHtml, checkCsp } from '../src/report/webview-html';
export { pruneToFolder };

/** Deterministic N(0, scale) values. */
function normals(count: number, seed: number, scale: number): Float32Array {
  const out = new Float32Array(count);
  let s = seed >>> 0 || 1;
  const uni = (): number => {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    return (s + 0.5) / 4294967296;
  };
  for (let i = 0; i < count; i++) out[i] = Math.sqrt(-2 * Math.log(uni())) * Math.cos(2 * Math.PI * uni()) * scale;
  return out;
}

async function model(dir: string, tensors: { name: string; shape: number[]; values: Float32Array }[]): Promise<string> {
  mkdirSync(dir, { recursive: true });
  await writeSafetensors(join(dir, 'model.safetensors'), tensors.map((t) => ({ name: t.name, dtype: 'F32', shape: t.shape, data: new Uint8Array(t.values.buffer) })), { format: 'pt' });
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ model_type: 'bert' }));
  return dir;
}

/** A BERT-base-sized pair of `layers` layers: 768x3072 and 3072x768 dense weights, base + noise. */
export async function bigPair(root: string, layers = 2): Promise<{ ft: string; base: string }> {
  const shapes: [string, number[]][] = [];
  for (let l = 0; l < layers; l++) {
    shapes.push([`bert.encoder.layer.${l}.attention.self.query.weight`, [768, 768]]);
    shapes.push([`bert.encoder.layer.${l}.intermediate.dense.weight`, [3072, 768]]);
    shapes.push([`bert.encoder.layer.${l}.output.dense.weight`, [768, 3072]]);
    shapes.push([`bert.encoder.layer.${l}.output.dense.bias`, [768]]);
  }
  const ft = [];
  const base = [];
  let i = 0;
  for (const [name, shape] of shapes) {
    const n = shape.reduce((a, b) => a * b, 1);
    const b = normals(n, 100 + i, 0.02);
    const noise = normals(n, 900 + i, 0.005);
    ft.push({ name, shape, values: b.map((v, j) => v + noise[j]!) });
    base.push({ name, shape, values: b });
    i++;
  }
  return { ft: await model(join(root, 'ft'), ft), base: await model(join(root, 'base'), base) };
}
