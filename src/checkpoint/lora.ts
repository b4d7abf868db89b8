// PEFT LoRA adapters (adapter_config.json + adapter_model.safetensors): the model they define is the base
// with, per target module, W + scaling * B @ A (PEFT's merge: lora/layer.py get_delta_weight and merge),
// where scaling = lora_alpha / r (lora_alpha / sqrt(r) with use_rslora; rank_pattern / alpha_pattern per
// module), the product transposed for fan_in_fan_out (GPT-2 Conv1D) and for embedding LoRA
// (lora_embedding_A [r, num_embeddings], lora_embedding_B [embedding_dim, r]), a lora_B bias added to the
// base bias, and modules_to_save stored whole. The merged model is presented as the base's safetensors
// files (virtual.ts), so KEN prunes it against the base and writes a full checkpoint in the base's layout.
//
// Arithmetic, as PEFT does it on the CPU (checked bit for bit against torch in scripts/gen-arch-fixtures.py):
// A and B in float32 (PeftModel upcasts F16/BF16 adapter weights to float32 by default,
// autocast_adapter_dtype=True); B @ A summed over r in order with one fused multiply-add per step, as
// torch's float32 matmul does on the CPU (OpenBLAS; equal for r < 8 there, larger ranks are summed by its
// kernels in another order and may differ in the last bit); times float32(scaling); then
// `weight += delta`: the base weight plus the float32 delta added in float32 and rounded once to the
// base's dtype (F16/BF16). A lora_B bias adds lora_B.bias * scaling to the base bias the same way.
import { stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { CheckpointError, UsageError } from '../errors';
import { fromFloat32, isFloatDType, toFloat32, type FloatDType } from '../formats/dtype';
import { safetensorsViews, type TensorView } from './tensors';
import { NameIndex, prefixesFor } from '../models/names';
import { familyOf } from '../models/registry';
import { isSideFile } from '../formats/paths';
import type { LoraInfo, ModelFolder } from './types';
import { readSafetensorsHeader, readRange, dtypeSize } from '../formats/safetensors';
import { readTorchFile } from '../formats/torch';
import { virtualSafetensors, type VirtualTensor } from '../formats/virtual';
import { readRegularFile } from '../formats/paths';

export const ADAPTER_CONFIG = 'adapter_config.json';

export interface LoraConfig {
  r: number;
  alpha: number;
  rslora: boolean;
  fanInFanOut: boolean;
  rankPattern: Record<string, number>;
  alphaPattern: Record<string, number>;
  baseModel: string | undefined;
  taskType: string | undefined;
}

export function isAdapterFolder(names: readonly string[]): boolean {
  return names.includes(ADAPTER_CONFIG);
}

export async function readLoraConfig(dir: string): Promise<LoraConfig> {
  const path = join(dir, ADAPTER_CONFIG);
  let c: Record<string, unknown>;
  try {
    c = JSON.parse((await readRegularFile(path)).toString('utf8')) as Record<string, unknown>;
  } catch (e) {
    if (e instanceof CheckpointError) throw e;
    throw new CheckpointError(`${path}: not valid JSON`);
  }
  const type = c['peft_type'];
  if (type !== undefined && type !== 'LORA') throw new CheckpointError(`${path}: peft_type ${JSON.stringify(type)} is not LoRA; KEN merges LoRA adapters only`);
  if (c['use_dora'] === true) throw new CheckpointError(`${path}: a DoRA adapter (use_dora), which KEN does not merge`);
  const r = c['r'];
  const alpha = c['lora_alpha'] ?? 8;
  if (typeof r !== 'number' || !(r > 0) || typeof alpha !== 'number') throw new CheckpointError(`${path}: r and lora_alpha must be numbers`);
  const numbers = (v: unknown): Record<string, number> =>
    v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).filter((e): e is [string, number] => typeof e[1] === 'number')) : {};
  return {
    r, alpha, rslora: c['use_rslora'] === true, fanInFanOut: c['fan_in_fan_out'] === true,
    rankPattern: numbers(c['rank_pattern']), alphaPattern: numbers(c['alpha_pattern']),
    baseModel: typeof c['base_model_name_or_path'] === 'string' ? c['base_model_name_or_path'] : undefined,
    taskType: typeof c['task_type'] === 'string' ? c['task_type'] : undefined,
  };
}

/** PEFT's pattern lookup: the first key that matches the module name as `(.*\.)?KEY$`. */
function patternValue(patterns: Record<string, number>, module: string): number | undefined {
  for (const [key, value] of Object.entries(patterns)) {
    try {
      if (new RegExp(`^(.*\\.)?(${key})$`).test(module)) return value;
    } catch {
      if (module === key || module.endsWith(`.${key}`)) return value;
    }
  }
  return undefined;
}

/**
 * fmaf(a, b, c): float32 a * b + c rounded once, as the CPU's fused multiply-add gives it. a * b of two
 * float32 is exact in a double; the double sum is rounded once more, which can only go wrong when it lands
 * exactly halfway between two float32 while the exact sum does not: then its error term decides the side.
 */
export function fmaf(a: number, b: number, c: number): number {
  const p = a * b;
  const s = p + c;
  const f = Math.fround(s);
  if (f === s) return f;
  const other = 2 * s - f; // the float32 on s's other side, when s is a midpoint
  if (Math.fround(other) !== other) return f;
  const bb = s - p;
  const err = (p - (s - bb)) + (c - bb); // s + err === p + c exactly
  if (err === 0) return f; // a true tie: round half to even, as fround does
  return Math.fround(s + (err > 0 ? 1 : -1) * Math.abs(s) * 2 ** -52);
}

/** delta = transpose(B @ A, transpose) * scaling, in float32 as torch computes PEFT's get_delta_weight on the CPU. */
export function loraDelta(A: Float32Array, B: Float32Array, r: number, inF: number, outF: number, scaling: number, transpose: boolean): Float32Array {
  const acc = new Float32Array(outF * inF);
  for (let k = 0; k < r; k++) {
    for (let i = 0; i < outF; i++) {
      const b = B[i * r + k]!;
      const row = i * inF;
      const arow = k * inF;
      for (let j = 0; j < inF; j++) acc[row + j] = fmaf(b, A[arow + j]!, acc[row + j]!);
    }
  }
  const s = Math.fround(scaling);
  const out = new Float32Array(outF * inF);
  if (!transpose) {
    for (let i = 0; i < out.length; i++) out[i] = acc[i]! * s;
  } else {
    for (let i = 0; i < outF; i++) for (let j = 0; j < inF; j++) out[j * outF + i] = acc[i * inF + j]! * s;
  }
  return out;
}

/** W + delta in the base's dtype (PEFT: `weight.data += delta`, a float32 delta: summed in float32, rounded once to the weight's dtype). */
export function addDelta(base: Uint8Array, dtype: FloatDType, delta: Float32Array): Uint8Array {
  const w = toFloat32(base, dtype);
  const out = new Float32Array(w.length);
  for (let i = 0; i < w.length; i++) out[i] = w[i]! + delta[i]!;
  return new Uint8Array(fromFloat32(out, dtype));
}

interface AdapterTensor {
  dtype: string;
  shape: number[];
  read(): Promise<Float32Array>;
}

const MODEL_PREFIX = 'base_model.model.';

/**
 * The fine-tuned model an adapter folder defines, merged into `base`: a ModelFolder whose safetensors
 * files are the base's, with merged and saved modules in place (new modules_to_save tensors appended to
 * the last file). Side files are the base's, overridden by the adapter folder's (adapter_config.json stays out).
 */
export async function openMergedAdapter(dir: string, names: readonly string[], base: ModelFolder): Promise<{ folder: ModelFolder; info: LoraInfo }> {
  const cfg = await readLoraConfig(dir);
  const st = base.safetensors;
  if (!st) throw new CheckpointError(`${base.path}: the LoRA base must hold safetensors or pytorch_model.bin weights`);
  const file = names.includes('adapter_model.safetensors') ? 'adapter_model.safetensors' : names.includes('adapter_model.bin') ? 'adapter_model.bin' : undefined;
  if (!file) throw new CheckpointError(`${dir}: no adapter_model.safetensors or adapter_model.bin beside adapter_config.json`);
  const adapterPath = join(dir, file);
  const tensors = new Map<string, AdapterTensor>();
  if (file.endsWith('.bin')) {
    // torch.save's zip format, read by the restricted pickle reader
    for (const t of await readTorchFile(adapterPath)) {
      if (!isFloatDType(t.dtype)) throw new CheckpointError(`${file}: tensor ${t.name} is ${t.dtype}, not a float type`);
      tensors.set(t.name, { dtype: t.dtype, shape: t.shape, read: async () => toFloat32(await t.read(), t.dtype as FloatDType) });
    }
  } else {
    for (const e of (await readSafetensorsHeader(adapterPath)).tensors) {
      if (!isFloatDType(e.dtype)) throw new CheckpointError(`${file}: tensor ${e.name} is ${e.dtype}, not a float type`);
      tensors.set(e.name, { dtype: e.dtype, shape: e.shape, read: async () => toFloat32(await readRange(adapterPath, e.begin, e.end - e.begin), e.dtype as FloatDType) });
    }
  }

  const family = familyOf(base.config);
  const baseViews = safetensorsViews(base);
  const index = new NameIndex(baseViews, prefixesFor(family), family !== undefined);
  const replaced = new Map<TensorView, () => Promise<Uint8Array>>();
  const added: VirtualTensor[] = [];
  const modules = new Set<string>();
  const modulesToSave = new Set<string>();
  const baseOf = (name: string, why: string): TensorView => {
    const v = index.find(name);
    if (!v) throw new CheckpointError(`${file}: ${why} ${name}, which the base ${base.path} does not have`);
    if (!isFloatDType(v.dtype)) throw new CheckpointError(`${file}: base tensor ${v.name} is ${v.dtype}, not a float type`);
    return v;
  };
  const scalingOf = (module: string, r: number): { scaling: number; alpha: number } => {
    const alpha = patternValue(cfg.alphaPattern, module) ?? cfg.alpha;
    return { scaling: cfg.rslora ? alpha / Math.sqrt(r) : alpha / r, alpha };
  };
  let rank = cfg.r;
  let alphaSeen = cfg.alpha;

  for (const [key, t] of tensors) {
    if (!key.startsWith(MODEL_PREFIX)) throw new CheckpointError(`${file}: tensor ${key} is not under ${MODEL_PREFIX} (not a PEFT LoRA adapter file)`);
    const name = key.slice(MODEL_PREFIX.length);
    const m = /^(.*)\.(lora_A|lora_B|lora_embedding_A|lora_embedding_B)(\.weight|\.bias)?$/.exec(name);
    if (!m) {
      // modules_to_save: stored whole under the model's own name
      modulesToSave.add(name.replace(/\.(weight|bias)$/, ''));
      const v = index.find(name);
      if (v) {
        if (v.shape.join() !== t.shape.join()) throw new CheckpointError(`${file}: ${key} has shape ${JSON.stringify(t.shape)} but the base's ${v.name} has ${JSON.stringify(v.shape)}`);
        replaced.set(v, async () => fromFloat32(await t.read(), v.dtype as FloatDType));
      } else {
        added.push({ name, dtype: t.dtype, shape: t.shape, byteLength: t.shape.reduce((a, b) => a * b, 1) * dtypeSize(t.dtype)!, read: async () => fromFloat32(await t.read(), t.dtype as FloatDType) });
      }
      continue;
    }
    const [, module, part, suffix] = m as unknown as [string, string, string, string | undefined];
    if (part === 'lora_B' && suffix === '.bias') {
      // lora_bias: PEFT merges bias += lora_B.bias * scaling
      const bias = baseOf(`${module}.bias`, 'lora_B has a bias for');
      const bt = tensors.get(key)!;
      const aKey = `${MODEL_PREFIX}${module}.lora_A.weight`;
      const r = tensors.get(aKey)?.shape[0] ?? cfg.r;
      const s = Math.fround(scalingOf(module, patternValue(cfg.rankPattern, module) ?? r).scaling);
      replaced.set(bias, async () => addDelta(await bias.read(), bias.dtype as FloatDType, (await bt.read()).map((x) => x * s)));
      continue;
    }
    if (part !== 'lora_A' && part !== 'lora_embedding_A') continue; // handled with its A
    const embedding = part === 'lora_embedding_A';
    const bKey = embedding ? `${MODEL_PREFIX}${module}.lora_embedding_B` : `${MODEL_PREFIX}${module}.lora_B.weight`;
    const B = tensors.get(bKey);
    if (!B) throw new CheckpointError(`${file}: ${key} has no ${bKey}`);
    const A = t;
    const r = A.shape[0]!;
    if (A.shape.length !== 2 || B.shape.length !== 2 || B.shape[1] !== r) throw new CheckpointError(`${file}: ${key} ${JSON.stringify(A.shape)} and ${bKey} ${JSON.stringify(B.shape)} are not a rank-${r} pair`);
    const inF = A.shape[1]!;
    const outF = B.shape[0]!;
    const w = baseOf(`${module}.weight`, 'adapts');
    // Linear: W [out, in]; fan_in_fan_out (Conv1D) and embeddings: W [in, out]
    const transpose = embedding || cfg.fanInFanOut;
    const want = transpose ? [inF, outF] : [outF, inF];
    if (w.shape.join() !== want.join()) throw new CheckpointError(`${file}: ${module} gives a ${JSON.stringify(want)} update but the base's ${w.name} is ${JSON.stringify(w.shape)}${cfg.fanInFanOut ? '' : ' (fan_in_fan_out?)'}`);
    const { scaling, alpha } = scalingOf(module, patternValue(cfg.rankPattern, module) ?? r);
    rank = r;
    alphaSeen = alpha;
    modules.add(module.split('.').pop()!);
    replaced.set(w, async () => addDelta(await w.read(), w.dtype as FloatDType, loraDelta(await A.read(), await B.read(), r, inF, outF, scaling, transpose)));
  }
  if (modules.size === 0 && modulesToSave.size === 0) throw new CheckpointError(`${adapterPath}: holds no LoRA tensors`);

  // The base's files, with the merged tensors in place
  const files = new Map<string, ReturnType<typeof virtualSafetensors>>();
  const byFile = new Map<string, TensorView[]>();
  for (const v of baseViews) byFile.set(v.file, [...(byFile.get(v.file) ?? []), v]);
  const shardNames = st.files.map((f) => f.path);
  shardNames.forEach((path, i) => {
    const views = byFile.get(path) ?? [];
    const list: VirtualTensor[] = views.map((v) => {
      const e = st.tensors.get(v.name)!.entry;
      return { name: v.name, dtype: v.dtype, shape: v.shape, byteLength: e.end - e.begin, read: replaced.get(v) ?? v.read };
    });
    if (i === shardNames.length - 1) list.push(...added);
    const out = join(dir, basename(path));
    files.set(out, virtualSafetensors(out, list, { format: 'pt' }));
  });
  let index_: string | undefined;
  if (st.indexFile) {
    const idx = JSON.parse((await readRegularFile(st.indexFile)).toString('utf8')) as { metadata?: Record<string, unknown>; weight_map: Record<string, string> };
    const last = basename(shardNames[shardNames.length - 1]!);
    for (const a of added) idx.weight_map[a.name] = last;
    if (idx.metadata && typeof idx.metadata['total_size'] === 'number') idx.metadata['total_size'] += added.reduce((s, a) => s + a.byteLength, 0);
    index_ = JSON.stringify(idx, null, 2) + '\n';
  }
  const headers = [...files.values()].map((f) => f.header);
  const tensorsMap = new Map<string, { entry: (typeof headers)[number]['tensors'][number]; file: (typeof headers)[number] }>();
  for (const h of headers) for (const e of h.tensors) tensorsMap.set(e.name, { entry: e, file: h });

  // side files: the base's, the adapter folder's of the same name win; adapter_config.json stays out
  const auxFrom = new Map<string, string>();
  for (const a of base.auxFiles) auxFrom.set(a, base.dir);
  for (const n of names) {
    if (n === ADAPTER_CONFIG || !isSideFile(n)) continue;
    if ((await stat(join(dir, n))).isFile()) auxFrom.set(n, dir);
  }
  const folder: ModelFolder = {
    path: dir, dir, onnx: undefined, config: base.config, auxFiles: [...auxFrom.keys()].sort(), auxFrom,
    safetensors: {
      files: headers, indexFile: st.indexFile ? join(dir, basename(st.indexFile)) : undefined, tensors: tensorsMap,
      virtual: { files, index: index_, source: `LoRA adapter ${basename(dir)} merged into ${base.path}`, unchanged: new Map(baseViews.filter((v) => !replaced.has(v)).map((v) => [v.name, v.name])) },
    },
  };
  const adapterBytes = (await stat(adapterPath)).size;
  const trainableParams = [...tensors.values()].reduce((sum, t) => sum + t.shape.reduce((a, b) => a * b, 1), 0);
  return { folder, info: { r: rank, alpha: alphaSeen, rslora: cfg.rslora, modules: [...modules].sort(), modulesToSave: [...modulesToSave].sort(), adapterBytes, trainableParams, adapterDir: dir } };
}

export function adapterAsBaseError(path: string): UsageError {
  return new UsageError(`${path}: is a LoRA adapter (adapter_config.json), never the base of a model; give the pre-trained model it adapts`);
}
