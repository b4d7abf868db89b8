// `ken restore`: rebuilds the pruned checkpoint folder from a KEN subnetwork file and the base model.
// Every file is written back bit for bit: skeleton bytes from the subnetwork, holes filled with the
// base values where KEN reset them and the kept fine-tuned values where it kept them.
import { createHash } from 'node:crypto';
import { mkdir, open } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { CheckpointError, throwIfAborted } from '../errors';
import { openModel } from '../checkpoint/folder';
import { type ModelFolder } from '../checkpoint/types';
import { OutputReservation, checkOutputPath, writing } from '../formats/output';
import { readEntry, readMask, readSubnetwork, type Hole, type Subnetwork, type SubnetworkTensor } from '../formats/subnetwork';
import { elementSize, isFloatDType, type FloatDType } from '../formats/dtype';
import { convertBytes, transposeBytes } from '../formats/layout';
import { kenLayoutOf, kenShape, onnxViews, safetensorsViews, type TensorView } from '../checkpoint/tensors';
import { restorableProblem } from '../ken/verify';

export interface RestoreRequest {
  subnetwork: string;
  base: string;
  out: string;
  signal?: AbortSignal | undefined;
  onProgress?: ((done: number, total: number, file: string) => void) | undefined;
  /** Stale temporary folders removed beside the output: one line each. */
  onWarning?: ((message: string) => void) | undefined;
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

/** The pruned tensor in KEN layout: the base values (read once, fingerprint checked), the kept fine-tuned values scattered into them. */
async function rebuildTensor(sub: Subnetwork, base: ModelFolder, views: ReadonlyMap<string, TensorView>, t: SubnetworkTensor): Promise<Uint8Array> {
  if (t.layout === 'whole') return readEntry(sub, `whole:${t.name}`);
  const view = findBase(base, views, t);
  const shape = kenShape(view);
  if (shape.join(',') !== t.shape.join(',')) throw new CheckpointError(`base tensor ${view.name} has shape ${JSON.stringify(shape)}, the subnetwork expects ${JSON.stringify(t.shape)}`);
  if (!isFloatDType(t.dtype) || !isFloatDType(view.dtype)) throw new CheckpointError(`tensor ${t.name}: unsupported dtype`);
  const stored = await view.read();
  checkFingerprint(view, t, stored);
  const rebuilt = convertBytes(kenLayoutOf(view, stored), view.dtype, t.dtype);
  const mask = await readMask(sub, t);
  const values = await readEntry(sub, `values:${t.name}`);
  const elem = elementSize(t.dtype);
  if (mask.length * elem !== rebuilt.byteLength) throw new CheckpointError(`${sub.path}: ${t.name}'s positions cover ${mask.length} values, the base tensor has ${rebuilt.byteLength / elem}`);
  const aligned = values.byteOffset % elem === 0 ? values : values.slice();
  const src = elem === 4 ? new Uint32Array(aligned.buffer, aligned.byteOffset, aligned.byteLength / 4) : new Uint16Array(aligned.buffer, aligned.byteOffset, aligned.byteLength / 2);
  const dst = elem === 4 ? new Uint32Array(rebuilt.buffer, rebuilt.byteOffset, mask.length) : new Uint16Array(rebuilt.buffer, rebuilt.byteOffset, mask.length);
  let p = 0; // counts every marked position, so a mismatch in either direction is caught
  for (let i = 0; i < mask.length; i++) {
    if (mask[i]) {
      if (p < src.length) dst[i] = src[p]!;
      p++;
    }
  }
  if (p !== src.length) throw new CheckpointError(`${sub.path}: ${t.name} has ${src.length} kept values but its positions mark ${p}`);
  return rebuilt;
}

function checkFingerprint(view: TensorView, t: SubnetworkTensor, stored: Uint8Array): void {
  const sha = createHash('sha256').update(stored).digest('hex');
  if (sha !== t.base!.sha256) {
    throw new CheckpointError(
      `base tensor ${view.name} differs from the one the subnetwork was pruned against (sha256 ${sha.slice(0, 12)}… vs ${t.base!.sha256.slice(0, 12)}…, needed for ${t.name}); restore needs that exact base`,
    );
  }
}

function holeBytes(kenBytes: Uint8Array, t: SubnetworkTensor, hole: Hole): Uint8Array {
  let bytes = kenBytes;
  if (hole.dtype !== t.dtype) bytes = convertBytes(bytes, t.dtype as FloatDType, hole.dtype as FloatDType);
  if (hole.transposed) bytes = transposeBytes(bytes, t.shape[0]!, t.shape[1]!, elementSize(hole.dtype as FloatDType));
  if (bytes.byteLength !== hole.length) throw new CheckpointError(`tensor ${t.name}: rebuilt ${bytes.byteLength} bytes for a ${hole.length}-byte place`);
  return bytes;
}

/** `ken restore`: rebuilds the pruned checkpoint from a subnetwork file and its base model, into a new folder. */
export async function restoreSubnetwork(req: RestoreRequest): Promise<RestoreResult> {
  const started = performance.now();
  // readSubnetwork checks the metadata (schema, entries, paths, hole maps) before anything is used
  const sub = await readSubnetwork(req.subnetwork);
  if (sub.meta.files.length === 0) {
    throw new CheckpointError(`${req.subnetwork}: holds no checkpoint files to rebuild (a comparison or a watched checkpoint's record, not a ken prune output)`);
  }
  const byName = new Map(sub.meta.tensors.map((t) => [t.name, t]));
  // sizes and hole maps first: a crafted file must not make restore write more than it declares
  const problem = restorableProblem(sub);
  if (problem) throw new CheckpointError(`${req.subnetwork}: cannot be restored (${problem})`);
  const reservation = await OutputReservation.take(req.out, { inputs: [req.base], onNotice: req.onWarning });
  const files: RestoreResult['files'] = [];
  try {
    const base = await openModel(req.base, 'base');
    await checkOutputPath(reservation.out, [base.dir]); // again with the base as opened
    // Every base tensor the subnetwork needs must exist with its shape and a float dtype before anything is
    // written; its bytes are read once, while its file is rebuilt, and their fingerprint checked then: a
    // changed base stops the restore and the staging folder goes, so nothing is written to --out.
    const views = baseViews(base);
    for (const t of sub.meta.tensors) {
      if (t.layout === 'whole') continue;
      throwIfAborted(req.signal);
      const view = findBase(base, views, t);
      const shape = kenShape(view);
      if (shape.join(',') !== t.shape.join(',')) throw new CheckpointError(`base tensor ${view.name} has shape ${JSON.stringify(shape)}, the subnetwork expects ${JSON.stringify(t.shape)} for ${t.name}`);
      if (!isFloatDType(view.dtype)) throw new CheckpointError(`base tensor ${view.name} is ${view.dtype}; ${t.name} needs a float tensor`);
    }
    const total = sub.meta.files.length;
    let done = 0;
    for (const f of sub.meta.files) {
      throwIfAborted(req.signal);
      const dest = join(reservation.tmp, f.path);
      const shown = join(reservation.out, f.path);
      await writing(shown, () => mkdir(dirname(dest), { recursive: true }));
      const skeleton = await readEntry(sub, `file:${f.path}`);
      const fh = await writing(shown, () => open(dest, 'wx'));
      const hash = createHash('sha256');
      try {
        let pos = 0;
        let sk = 0;
        const put = async (b: Uint8Array): Promise<void> => {
          throwIfAborted(req.signal);
          await writing(shown, () => fh.write(b, 0, b.byteLength, pos));
          hash.update(b);
          pos += b.byteLength;
        };
        // holes are sorted, disjoint and inside the file (checked by readSubnetwork); a tensor that fills
        // several holes in a row (ties) is rebuilt once, and the next one is read and rebuilt while this
        // one is hashed and written
        const holes = [...f.holes].sort((a, b) => a.offset - b.offset || a.length - b.length).filter((h) => h.length > 0);
        const rebuild = (name: string): { name: string; bytes: Promise<Uint8Array> } => {
          const bytes = rebuildTensor(sub, base, views, byName.get(name)!);
          bytes.catch(() => undefined); // awaited below; an early failure must not go unhandled meanwhile
          return { name, bytes };
        };
        let cur: { name: string; bytes: Promise<Uint8Array> } | undefined;
        let ahead: { name: string; bytes: Promise<Uint8Array> } | undefined;
        for (let i = 0; i < holes.length; i++) {
          const h = holes[i]!;
          throwIfAborted(req.signal);
          if (h.offset > pos) {
            const len = h.offset - pos;
            await put(skeleton.subarray(sk, sk + len));
            sk += len;
          }
          if (cur?.name !== h.tensor) cur = ahead?.name === h.tensor ? ahead : rebuild(h.tensor);
          const following = holes[i + 1]?.tensor;
          if (following !== undefined && following !== cur.name && ahead?.name !== following) ahead = rebuild(following);
          await put(holeBytes(await cur.bytes, byName.get(h.tensor)!, h));
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
    await writing(reservation.out, () => reservation.commit());
  } finally {
    await reservation.release();
  }
  return { files, seconds: (performance.now() - started) / 1000 };
}

