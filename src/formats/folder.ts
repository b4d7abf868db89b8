// A model as users have it: a Hugging Face folder (config.json + model.safetensors, or shards with
// model.safetensors.index.json, and/or model.onnx), or a single .safetensors / .onnx file.
import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { CheckpointError } from '../errors';
import { readJsonFile } from './input';
import { configSchema, shardIndexSchema } from './schemas';
import { readSafetensorsHeader, type SafetensorsEntry, type SafetensorsHeader } from './safetensors';
import { readOnnxModel, type OnnxModel } from './onnx';

export interface SafetensorsCheckpoint {
  /** Weight files, in the order their tensors are listed. */
  files: SafetensorsHeader[];
  /** model.safetensors.index.json when sharded (copied as it is). */
  indexFile: string | undefined;
  tensors: Map<string, { entry: SafetensorsEntry; file: SafetensorsHeader }>;
}

export interface ModelFolder {
  /** What the user named, resolved. */
  path: string;
  /** The folder holding the weights. */
  dir: string;
  safetensors: SafetensorsCheckpoint | undefined;
  onnx: OnnxModel | undefined;
  /** config, tokenizer and similar small files that travel with a pruned checkpoint. */
  auxFiles: string[];
  /** Parsed config.json, when there is one. */
  config: Record<string, unknown> | undefined;
}

const AUX = /^(config\.json|generation_config\.json|special_tokens_map\.json|added_tokens\.json|preprocessor_config\.json|tokenizer[\w.-]*\.json|tokenizer\.model|vocab[\w.-]*|merges\.txt|spiece\.model|sentencepiece[\w.-]*\.model)$/;

/** KEN's own output file, never a weight shard of a model. */
const SUBNETWORK_NAME = 'ken-subnetwork.safetensors';

export const LOOKED_FOR = 'model.safetensors, model.safetensors.index.json, *.safetensors or model.onnx';

async function isDir(p: string): Promise<boolean | undefined> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return undefined;
  }
}

async function openSafetensors(dir: string, names: string[], role: string): Promise<SafetensorsCheckpoint | undefined> {
  let files: string[];
  let indexFile: string | undefined;
  if (names.includes('model.safetensors.index.json')) {
    indexFile = join(dir, 'model.safetensors.index.json');
    const index = (await readJsonFile(indexFile, shardIndexSchema))!;
    files = [...new Set(Object.values(index.weight_map))];
    if (files.length === 0) throw new CheckpointError(`${indexFile}: its weight_map names no shard`);
    for (const f of files) {
      if (basename(f) !== f || f === '.' || f === '..') throw new CheckpointError(`${indexFile}: shard name ${JSON.stringify(f)} is not a file in the folder`);
      if (!f.endsWith('.safetensors')) throw new CheckpointError(`${indexFile}: shard ${JSON.stringify(f)} is not a .safetensors file`);
      if (f === SUBNETWORK_NAME) throw new CheckpointError(`${indexFile}: names ${SUBNETWORK_NAME} as a shard, the name of KEN's own output; rename that shard`);
      if (!names.includes(f)) throw new CheckpointError(`${indexFile}: shard ${f} is missing`);
    }
  } else if (names.includes('model.safetensors')) {
    files = ['model.safetensors'];
  } else {
    files = names.filter((n) => n.endsWith('.safetensors') && n !== SUBNETWORK_NAME);
    if (files.length > 1) {
      throw new CheckpointError(`${dir}: holds several .safetensors files (${files.slice(0, 4).join(', ')}) and no model.safetensors.index.json; name the ${role} file`);
    }
  }
  if (files.length === 0) return undefined;
  const headers = await Promise.all(files.map((f) => readSafetensorsHeader(join(dir, f))));
  return indexSafetensors(headers, indexFile);
}

function indexSafetensors(headers: SafetensorsHeader[], indexFile: string | undefined): SafetensorsCheckpoint {
  const tensors = new Map<string, { entry: SafetensorsEntry; file: SafetensorsHeader }>();
  for (const file of headers) {
    for (const entry of file.tensors) {
      if (tensors.has(entry.name)) throw new CheckpointError(`${basename(file.path)}: tensor ${entry.name} appears in two shards`);
      tensors.set(entry.name, { entry, file });
    }
  }
  return { files: headers, indexFile, tensors };
}

/** Opens a model folder or file; `role` ("fine-tuned", "base") only words the errors. */
export async function openModel(path: string, role: string): Promise<ModelFolder> {
  const abs = resolve(path);
  const kind = await isDir(abs);
  if (kind === undefined) throw new CheckpointError(`${path}: no such file or folder (${role} model)`);
  if (!kind) {
    const dir = dirname(abs);
    if (abs.endsWith('.safetensors')) {
      const header = await readSafetensorsHeader(abs);
      return { path: abs, dir, safetensors: indexSafetensors([header], undefined), onnx: undefined, auxFiles: [], config: undefined };
    }
    if (abs.endsWith('.onnx')) {
      return { path: abs, dir, safetensors: undefined, onnx: await readOnnxModel(abs), auxFiles: [], config: undefined };
    }
    if (/\.(bin|pt|pth|ckpt|pkl)$/.test(abs)) throw pickleRefusal(abs);
    throw new CheckpointError(`${path}: not a .safetensors or .onnx file (${role} model)`);
  }
  const names = (await readdir(abs)).sort();
  const safetensors = await openSafetensors(abs, names, role);
  const onnxName = names.includes('model.onnx') ? 'model.onnx' : names.filter((n) => n.endsWith('.onnx')).length === 1 ? names.find((n) => n.endsWith('.onnx')) : undefined;
  const onnx = onnxName ? await readOnnxModel(join(abs, onnxName)) : undefined;
  if (!safetensors && !onnx) {
    if (names.some((n) => /^pytorch_model.*\.bin$/.test(n) || n.endsWith('.pt') || n.endsWith('.pth'))) throw pickleRefusal(abs);
    throw new CheckpointError(`${path}: no model found (${role}); looked for ${LOOKED_FOR}`);
  }
  let config: Record<string, unknown> | undefined;
  if (names.includes('config.json')) config = await readJsonFile(join(abs, 'config.json'), configSchema);
  const auxFiles = names.filter((n) => AUX.test(n));
  return { path: abs, dir: abs, safetensors, onnx, auxFiles, config };
}

function pickleRefusal(where: string): CheckpointError {
  return new CheckpointError(
    `${where}: holds only a pickled PyTorch checkpoint, which KEN never unpickles; save it as safetensors first ` +
      `(model.save_pretrained(dir, safe_serialization=True))`,
  );
}
