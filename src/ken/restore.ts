// `ken restore`: rebuilds the pruned checkpoint folder from a KEN subnetwork file and the base model.
// Every file is written back bit for bit: skeleton bytes from the subnetwork, holes filled with the
// base values where KEN reset them and the kept fine-tuned values where it kept them.
import { createHash } from 'node:crypto';
import { mkdir, open } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { CheckpointError, throwIfAborted } from '../errors';
import { openModel, type ModelFolder } from '../formats/folder';
import { readEntry, readMask, readSubnetwork, type Hole, type Subnetwork, type SubnetworkTensor } from '../formats/subnetwork';
import { elementSize, isFloatDType, type FloatDType } from './dtype';
import { convertBytes, mergeKept, transposeBytes } from './layout';
import { kenShape, onnxViews, readKenLayout, safetensorsViews, type TensorView } from './plan';
import { checkOutput, Staging } from './prune';

export interface RestoreRequest {
  subnetwork: string;
  base: string;
  out: string;
  signal?: AbortSignal | undefined;
  onProgress?: ((done: number, total: number, file: string) => void) | undefined;
}

export interface RestoreResult {
  files: { path: string; size: number; sha256: string }[];
  seconds: number;
}

/** The base model's tensors by format and name, looked up once (a subnetwork may name thousands). */
function baseViews(base: ModelFolder): Map<string, TensorView> {
  const views = new Map<string, TensorView>();
  for (const v of [...safetensorsViews(base), ...onnxViews(base)]) views.set(`${v.format}:${v.name}`, v);
  return views;
}

function findBase(base: ModelFolder, views: ReadonlyMap<string, TensorView>, t: SubnetworkTensor): TensorView {
  const want = t.base!;
  const v = views.get(`${want.format}:${want.name}`);
  if (!v) {
    throw new CheckpointError(`base ${base.path} has no ${want.format} tensor ${want.name} (needed for ${t.name}); restore needs the base the subnetwork was pruned against`);
  }
  return v;
}

/** The pruned tensor in KEN layout: base values, with the kept fine-tuned values put back. */
async function rebuildTensor(sub: Subnetwork, base: ModelFolder, views: ReadonlyMap<string, TensorView>, t: SubnetworkTensor): Promise<Uint8Array> {
  if (t.layout === 'whole') return readEntry(sub, `whole:${t.name}`);
  // fingerprints, shapes and dtypes were checked before anything was written
  const view = findBase(base, views, t);
  const shape = kenShape(view);
  if (shape.join(',') !== t.shape.join(',')) throw new CheckpointError(`base tensor ${view.name} has shape ${JSON.stringify(shape)}, the subnetwork expects ${JSON.stringify(t.shape)}`);
  if (!isFloatDType(t.dtype) || !isFloatDType(view.dtype)) throw new CheckpointError(`tensor ${t.name}: unsupported dtype`);
  const baseBytes = convertBytes(await readKenLayout(view), view.dtype, t.dtype);
  const mask = await readMask(sub, t);
  const values = await readEntry(sub, `values:${t.name}`);
  const elem = elementSize(t.dtype);
  // scatter the kept values into a full-size buffer, then merge
  const ft = new Uint8Array(baseBytes.byteLength);
  const src = elem === 4 ? new Uint32Array(values.slice().buffer) : new Uint16Array(values.slice().buffer);
  const dst = elem === 4 ? new Uint32Array(ft.buffer) : new Uint16Array(ft.buffer);
  let p = 0;
  for (let i = 0; i < mask.length; i++) if (mask[i]) dst[i] = src[p++]!;
  if (p !== src.length) throw new CheckpointError(`${sub.path}: ${t.name} has ${src.length} kept values but its positions mark ${p}`);
  return mergeKept(ft, baseBytes, mask, elem);
}

function holeBytes(kenBytes: Uint8Array, t: SubnetworkTensor, hole: Hole): Uint8Array {
  let bytes = kenBytes;
  if (hole.dtype !== t.dtype) bytes = convertBytes(bytes, t.dtype as FloatDType, hole.dtype as FloatDType);
  if (hole.transposed) bytes = transposeBytes(bytes, t.shape[0]!, t.shape[1]!, elementSize(hole.dtype as FloatDType));
  if (bytes.byteLength !== hole.length) throw new CheckpointError(`tensor ${t.name}: rebuilt ${bytes.byteLength} bytes for a ${hole.length}-byte place`);
  return bytes;
}

export async function restoreSubnetwork(req: RestoreRequest): Promise<RestoreResult> {
  const started = performance.now();
  // readSubnetwork checks the metadata (schema, entries, paths, hole maps) before anything is used
  const sub = await readSubnetwork(req.subnetwork);
  const base = await openModel(req.base, 'base');
  const out = await checkOutput(req.out, [base]);
  const byName = new Map(sub.meta.tensors.map((t) => [t.name, t]));
  const views = baseViews(base);
  // Check every fingerprint before writing anything.
  for (const t of sub.meta.tensors) {
    if (t.layout === 'whole') continue;
    throwIfAborted(req.signal);
    const view = findBase(base, views, t);
    const shape = kenShape(view);
    if (shape.join(',') !== t.shape.join(',')) throw new CheckpointError(`base tensor ${view.name} has shape ${JSON.stringify(shape)}, the subnetwork expects ${JSON.stringify(t.shape)} for ${t.name}`);
    if (!isFloatDType(view.dtype)) throw new CheckpointError(`base tensor ${view.name} is ${view.dtype}; ${t.name} needs a float tensor`);
    const sha = createHash('sha256').update(await view.read()).digest('hex');
    if (sha !== t.base!.sha256) {
      throw new CheckpointError(
        `base tensor ${view.name} differs from the one the subnetwork was pruned against (sha256 ${sha.slice(0, 12)}… vs ${t.base!.sha256.slice(0, 12)}…, needed for ${t.name}); restore needs that exact base`,
      );
    }
  }
  const staging = new Staging(out);
  const files: RestoreResult['files'] = [];
  try {
    await staging.create();
    const total = sub.meta.files.length;
    let done = 0;
    for (const f of sub.meta.files) {
      throwIfAborted(req.signal);
      const dest = join(staging.dir, f.path);
      await mkdir(dirname(dest), { recursive: true });
      const skeleton = await readEntry(sub, `file:${f.path}`);
      const fh = await open(dest, 'wx');
      const hash = createHash('sha256');
      try {
        let pos = 0;
        let sk = 0;
        const put = async (b: Uint8Array): Promise<void> => {
          await fh.write(b, 0, b.byteLength, pos);
          hash.update(b);
          pos += b.byteLength;
        };
        // holes are sorted, disjoint and inside the file (checked by readSubnetwork); a tensor that fills
        // several holes in a row is rebuilt once
        let last: { name: string; bytes: Uint8Array } | undefined;
        for (const h of [...f.holes].sort((a, b) => a.offset - b.offset || a.length - b.length)) {
          if (h.length === 0) continue;
          throwIfAborted(req.signal);
          if (h.offset > pos) {
            const len = h.offset - pos;
            await put(skeleton.subarray(sk, sk + len));
            sk += len;
          }
          const t = byName.get(h.tensor)!;
          if (last?.name !== t.name) last = { name: t.name, bytes: await rebuildTensor(sub, base, views, t) };
          await put(holeBytes(last.bytes, t, h));
        }
        if (sk < skeleton.byteLength) await put(skeleton.subarray(sk));
        if (pos !== f.size) throw new CheckpointError(`${req.subnetwork}: rebuilt ${f.path} has ${pos} bytes, expected ${f.size}`);
      } finally {
        await fh.close();
      }
      const sha256 = hash.digest('hex');
      if (sha256 !== f.sha256) throw new CheckpointError(`${req.subnetwork}: rebuilt ${f.path} does not match its recorded sha256`);
      files.push({ path: f.path, size: f.size, sha256 });
      req.onProgress?.(++done, total, f.path);
    }
    throwIfAborted(req.signal);
    await staging.commit();
  } finally {
    await staging.discard();
  }
  return { files, seconds: (performance.now() - started) / 1000 };
}

