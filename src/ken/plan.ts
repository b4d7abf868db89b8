// Which fine-tuned tensors KEN prunes, against which base tensors. A logical tensor is one weight in
// KEN layout (the PyTorch layout: rows are its first axis, output units for Linear, input units for GPT-2 Conv1D); it may be stored in the fine-tuned folder's
// safetensors, its ONNX model, or both (an ONNX MatMul weight transposed, under a generated name).
import { basename } from 'node:path';
import { CheckpointError, UsageError } from '../errors';
import type { ModelFolder } from '../checkpoint/types';
import { kenShape, onnxViews, readKenLayout, safetensorsViews, type TensorView } from '../checkpoint/tensors';
import { elementSize, isFloatDType, toFloat32, type FloatDType } from '../formats/dtype';
import { transposeBytes } from '../formats/layout';
import { NameIndex, familyFor, inNumberedLayer, isHead, prefixesFor } from '../models/names';
import type { HfConfig, ModelFamily } from '../models/types';
import type { TensorStatus } from '../shared/report';

export type Scope = 'all' | 'attention';

export interface LogicalTensor {
  /** The checkpoint name (safetensors key, or the base's name for an ONNX weight found by content). */
  name: string;
  /** Shape in KEN layout. */
  shape: number[];
  dtype: string;
  /** Fine-tuned copies to write (safetensors first). */
  views: TensorView[];
  base: TensorView | undefined;
  status: TensorStatus;
  /** Why it is not pruned, or how its base was found. */
  note: string | undefined;
  /** Known to hold its base tensor's bytes (a module a LoRA adapter does not touch): KEN keeps nothing, the result is the base. */
  identicalToBase?: boolean;
}

export interface PlanOptions {
  scope: Scope;
  include?: RegExp | undefined;
  exclude?: RegExp | undefined;
  includeHead?: boolean;
  signal?: AbortSignal | undefined;
  /** A base tensor of another shape leaves the tensor unpaired ('no-base', with a note) instead of failing. */
  unpairedShapes?: boolean;
}

export interface Plan {
  tensors: LogicalTensor[];
  /** ONNX initializers that are not weights KEN can use (int constants, ...), reported for completeness. */
  unmapped: string[];
  /** Base tensors no fine-tuned tensor uses (an MLM head, ...). */
  baseOnly: string[];
  /** Choices the plan made that a user should read (the layout inferred for an ONNX-only model). */
  notes: string[];
  /** The model family (config.json model_type), when known. */
  family: string | undefined;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

/** Relative distance ||a - b|| / ||a|| over a fixed sample of positions (all when small). */
function relDistance(a: Float32Array, b: Float32Array, sample: Int32Array | undefined): number {
  let num = 0;
  let den = 0;
  if (sample) {
    for (let s = 0; s < sample.length; s++) {
      const i = sample[s]!;
      const d = a[i]! - b[i]!;
      num += d * d;
      den += a[i]! * a[i]!;
    }
  } else {
    for (let i = 0; i < a.length; i++) {
      const d = a[i]! - b[i]!;
      num += d * d;
      den += a[i]! * a[i]!;
    }
  }
  return Math.sqrt(num / Math.max(den, 1e-30));
}

function samplePositions(count: number, want: number): Int32Array | undefined {
  if (count <= want) return undefined;
  const out = new Int32Array(want);
  let x = 0x9e3779b9;
  for (let i = 0; i < want; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = (x >>> 0) % count;
  }
  return out;
}

/** How much closer the best base candidate must be than the runner-up to be taken. */
const CLEAR_MARGIN = 0.6;

/**
 * Builds the logical tensors of a fine-tuned model and finds each one's base tensor:
 * by name, else (ONNX weights under generated names) by content.
 */
export async function planPrune(ft: ModelFolder, base: ModelFolder, opts: PlanOptions): Promise<Plan> {
  const family = familyFor(ft.config, base.config);
  const prefixes = prefixesFor(family);
  const notes: string[] = [];
  const stViews = safetensorsViews(ft);
  const oxViews = onnxViews(ft, family);
  let tensors: LogicalTensor[] = stViews.map((v) => ({
    name: v.name, shape: kenShape(v), dtype: v.dtype, views: [v], base: undefined, status: 'pruned', note: undefined,
  }));
  tensors = await tieCopies(tensors, family, ft.config ?? base.config ?? {}, prefixes);
  const byName = new Map(tensors.map((t) => [t.name, t]));
  const unmapped: string[] = [];

  // ONNX initializers: the same name, else equal content (as stored or transposed), else their own tensor.
  const orphanOnnx: TensorView[] = [];
  for (const v of oxViews) {
    if (!isFloatDType(v.dtype)) {
      unmapped.push(v.name);
      continue;
    }
    const t = byName.get(v.name);
    if (t) {
      // The safetensors tensor fixes the layout: the initializer is its copy, as stored or transposed.
      if (v.shape.length === 2 && v.shape[0] === v.shape[1] && sameShape(v.shape, t.shape)) {
        const [sb, ob] = [await t.views[0]!.read(), await v.read()];
        if (v.dtype === t.dtype && bytesEqual(sb, ob)) v.transposed = false;
        else if (v.dtype === t.dtype && bytesEqual(transposeBytes(sb, t.shape[0]!, t.shape[1]!, elementSize(t.dtype as FloatDType)), ob)) v.transposed = true;
      } else if (!sameShape(kenShape(v), t.shape)) {
        if (v.shape.length === 2 && sameShape(v.shape, t.shape)) v.transposed = false;
        else if (v.shape.length === 2 && sameShape([...v.shape].reverse(), t.shape)) v.transposed = true;
        else throw new CheckpointError(`${basename(v.file)}: initializer ${v.name} has shape ${JSON.stringify(v.shape)} but model.safetensors has ${JSON.stringify(t.shape)}`);
      }
      t.views.push(v);
    } else orphanOnnx.push(v);
  }
  if (orphanOnnx.length > 0 && stViews.length > 0) {
    const candidates = tensors.filter((t) => t.views.length === 1);
    const hashes = new Map<string, LogicalTensor[]>();
    const key = (b: Uint8Array): string => `${b.byteLength}:${Buffer.from(b.buffer, b.byteOffset, Math.min(b.byteLength, 64)).toString('hex')}`;
    for (const t of candidates) {
      if (!orphanOnnx.some((v) => v.dtype === t.dtype && (sameShape(v.shape, t.shape) || sameShape([...v.shape].reverse(), t.shape)))) continue;
      const b = await t.views[0]!.read();
      const list = hashes.get(key(b)) ?? [];
      list.push(t);
      hashes.set(key(b), list);
      if (t.shape.length === 2) {
        const tb = transposeBytes(b, t.shape[0]!, t.shape[1]!, elementSize(t.dtype as FloatDType));
        const tl = hashes.get(`T${key(tb)}`) ?? [];
        tl.push(t);
        hashes.set(`T${key(tb)}`, tl);
      }
    }
    const still: TensorView[] = [];
    for (const v of orphanOnnx) {
      const b = await v.read();
      let found: LogicalTensor | undefined;
      for (const [prefix, transposed] of [['', false], ['T', true]] as const) {
        for (const t of hashes.get(prefix + key(b)) ?? []) {
          if (found || t.views.length > 1) continue;
          const tb = await t.views[0]!.read();
          const cmp = transposed ? transposeBytes(tb, t.shape[0]!, t.shape[1]!, elementSize(t.dtype as FloatDType)) : tb;
          if (bytesEqual(cmp, b)) {
            found = t;
            v.transposed = transposed;
          }
        }
      }
      if (found) found.views.push(v);
      else still.push(v);
    }
    orphanOnnx.splice(0, orphanOnnx.length, ...still);
  }
  for (const v of orphanOnnx) {
    tensors.push({ name: v.name, shape: kenShape(v), dtype: v.dtype, views: [v], base: undefined, status: 'pruned', note: undefined });
  }
  if (stViews.length === 0 && family?.conv1d && oxViews.some((v) => family.conv1d!.test(v.name))) {
    notes.push(`ONNX only: ${family.id} Conv1D weights taken as PyTorch stores them ([in, out], the MatMul orientation of the graph); KEN rows are their input units`);
  }

  // Base tensors: safetensors when the base has them (names mean something), else its ONNX initializers.
  const baseViews = base.safetensors ? safetensorsViews(base) : onnxViews(base, family).filter((v) => isFloatDType(v.dtype));
  const index = new NameIndex(baseViews, prefixes, family !== undefined);
  const claimed = new Set<TensorView>();
  const needContent: LogicalTensor[] = [];
  for (const t of tensors) {
    const candidateNames = t.views.map((v) => v.name);
    let b: TensorView | undefined;
    for (const n of [t.name, ...candidateNames]) {
      b = index.find(n);
      if (b) break;
    }
    if (b) {
      if (!sameShape(kenShape(b), t.shape) && opts.unpairedShapes) {
        t.note = `shape ${JSON.stringify(t.shape)} here but ${JSON.stringify(kenShape(b))} in the base`;
        claimed.add(b);
        continue;
      }
      if (!sameShape(kenShape(b), t.shape)) {
        throw new CheckpointError(`tensor ${t.name}: fine-tuned shape ${JSON.stringify(t.shape)} but base ${basename(b.file)} has ${JSON.stringify(kenShape(b))}`);
      }
      if (!isFloatDType(b.dtype) && isFloatDType(t.dtype)) throw new CheckpointError(`tensor ${t.name}: base ${basename(b.file)} stores it as ${b.dtype}, not a float type`);
      t.base = b;
      claimed.add(b);
    } else if (t.views.every((v) => v.format === 'onnx')) {
      needContent.push(t);
    }
  }
  if (needContent.length > 0) await matchByContent(needContent, baseViews.filter((v) => !claimed.has(v) && isFloatDType(v.dtype)), claimed, opts.signal);

  for (const t of tensors) {
    if (!isFloatDType(t.dtype)) {
      t.status = 'excluded';
      t.note = `${t.dtype} is not a floating-point type`;
    } else if (isHead(t.name, family) && !opts.includeHead) {
      t.status = 'head';
      t.note = 'task head: kept as fine-tuned (use --include-head to prune it)';
    } else if (opts.scope === 'attention' && !inNumberedLayer(t.name, family)) {
      t.status = 'excluded';
      t.note = 'outside the numbered encoder/decoder layers (--scope attention)';
    } else if (opts.include && !opts.include.test(t.name)) {
      t.status = 'excluded';
      t.note = 'not matched by --include';
    } else if (opts.exclude && opts.exclude.test(t.name)) {
      t.status = 'excluded';
      t.note = 'matched by --exclude';
    } else if (!t.base) {
      t.status = 'no-base';
      t.note = t.note ?? 'no tensor of this name in the base model';
    } else {
      t.status = 'pruned';
      if (ft.safetensors?.virtual?.unchanged?.get(t.name) === t.base.name && t.views.length === 1) {
        t.identicalToBase = true;
        t.note = 'the base tensor itself (not adapted): nothing differs, nothing kept';
      }
    }
  }
  const baseOnly = baseViews.filter((v) => !claimed.has(v)).map((v) => v.name);
  return { tensors, unmapped, baseOnly, notes, family: family?.id };
}

/** Every spelling of a tie group's names in this file (with and without one whole-model prefix). */
function tieNames(name: string, prefixes: readonly string[]): string[] {
  return [name, ...prefixes.map((p) => (name.startsWith(p) ? name.slice(p.length) : p + name))];
}

/**
 * Ties: the members of a known tie group (T5's shared / encoder.embed_tokens / decoder.embed_tokens, a
 * tied LM head) that the file stores as byte-identical copies become one logical tensor with one view per
 * copy: pruned once, written identically. Copies that differ are left as separate tensors.
 */
async function tieCopies(tensors: LogicalTensor[], family: ModelFamily | undefined, config: HfConfig, prefixes: readonly string[]): Promise<LogicalTensor[]> {
  const groups = family?.tieGroups?.(config) ?? [];
  if (groups.length === 0) return tensors;
  const byName = new Map(tensors.map((t) => [t.name, t]));
  const drop = new Set<LogicalTensor>();
  for (const group of groups) {
    const members = group.map((g) => tieNames(g, prefixes).map((n) => byName.get(n)).find((t) => t !== undefined)).filter((t): t is LogicalTensor => t !== undefined);
    if (members.length < 2) continue;
    const head = members[0]!;
    const headBytes = await head.views[0]!.read();
    const tied: string[] = [];
    for (const m of members.slice(1)) {
      if (m.dtype !== head.dtype || !sameShape(m.shape, head.shape) || !bytesEqual(await m.views[0]!.read(), headBytes)) continue;
      head.views.push(...m.views);
      drop.add(m);
      tied.push(m.name);
    }
    if (tied.length > 0) head.note = `tied: ${tied.join(', ')} ${tied.length === 1 ? 'is a copy' : 'are copies'} of ${head.name} (pruned once, written identically)`;
  }
  return tensors.filter((t) => !drop.has(t));
}

/** ONNX weights under generated names: the base tensor of the same (KEN) shape that is clearly closest. */
async function matchByContent(todo: LogicalTensor[], pool: TensorView[], claimed: Set<TensorView>, signal?: AbortSignal): Promise<void> {
  const cache = new Map<TensorView, Float32Array>();
  const kenValues = async (v: TensorView): Promise<Float32Array> => {
    let f = cache.get(v);
    if (!f) {
      f = toFloat32(await readKenLayout(v), v.dtype as FloatDType);
      cache.set(v, f);
    }
    return f;
  };
  for (const t of todo) {
    if (signal?.aborted) return;
    const view = t.views[0]!;
    const cands = pool.filter((b) => !claimed.has(b) && sameShape(kenShape(b), t.shape));
    if (cands.length === 0) {
      t.note = 'no base tensor of the same shape';
      continue;
    }
    const a = await kenValues(view);
    const sample = samplePositions(a.length, 8192);
    const scored: { b: TensorView; d: number }[] = [];
    for (const b of cands) scored.push({ b, d: relDistance(a, await kenValues(b), sample) });
    scored.sort((x, y) => x.d - y.d);
    const best = scored[0]!;
    const second = scored[1];
    if (second && !(best.d < CLEAR_MARGIN * second.d)) {
      throw new CheckpointError(
        `${basename(view.file)}: cannot tell which base tensor initializer ${view.name} comes from: ` +
          `${best.b.name} (distance ${best.d.toFixed(3)}) and ${second.b.name} (${second.d.toFixed(3)}) are about as close; ` +
          `put the fine-tuned model.safetensors beside model.onnx to match by content`,
      );
    }
    if (!(best.d < 1)) {
      t.note = `no base tensor is close (nearest ${best.b.name}, distance ${best.d.toFixed(3)})`;
      continue;
    }
    t.base = best.b;
    t.name = best.b.name;
    t.note = `${view.name} matched to base ${best.b.name} by content (distance ${best.d.toFixed(3)})`;
    claimed.add(best.b);
  }
}

export function parseRegex(flag: string, src: string | undefined): RegExp | undefined {
  if (src === undefined) return undefined;
  try {
    return new RegExp(src);
  } catch (e) {
    throw new UsageError(`${flag}: not a valid regular expression (${e instanceof Error ? e.message : String(e)})`);
  }
}
