// A model as users have it: a Hugging Face folder (config.json + model.safetensors, or shards with
// model.safetensors.index.json, and/or model.onnx), or a single .safetensors / .onnx file.
import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { CheckpointError } from '../errors';
import { filterSideFiles, readRegularFile, requireFolderFile } from './paths';
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
  /** Side files left out (a symlink out of the folder, a private-looking name), one line each. */
  warnings: string[];
}

const AUX = /^(config\.json|generation_config\.json|special_tokens_map\.json|added_tokens\.json|preprocessor_config\.json|tokenizer[\w.-]*\.json|tokenizer\.model|vocab[\w.-]*|merges\.txt|spiece\.model|sentencepiece[\w.-]*\.model)$/;

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
    indexFile = await requireFolderFile(dir, 'model.safetensors.index.json', 'the shard index');
    const text = (await readRegularFile(indexFile)).toString('utf8');
    let index: { weight_map?: Record<string, string> };
    try {
      index = JSON.parse(text) as typeof index;
    } catch {
      throw new CheckpointError(`${indexFile}: not a JSON index`);
    }
    if (!index.weight_map || typeof index.weight_map !== 'object') throw new CheckpointError(`${indexFile}: has no weight_map`);
    files = [...new Set(Object.values(index.weight_map))];
    for (const f of files) {
      if (typeof f !== 'string' || basename(f) !== f) throw new CheckpointError(`${indexFile}: shard name ${JSON.stringify(f)} is not a file in the folder`);
      if (!names.includes(f)) throw new CheckpointError(`${indexFile}: shard ${f} is missing`);
    }
  } else if (names.includes('model.safetensors')) {
    files = ['model.safetensors'];
  } else {
    files = names.filter((n) => n.endsWith('.safetensors') && n !== 'ken-subnetwork.safetensors');
    if (files.length > 1) {
      throw new CheckpointError(`${dir}: holds several .safetensors files (${files.slice(0, 4).join(', ')}) and no model.safetensors.index.json; name the ${role} file`);
    }
  }
  if (files.length === 0) return undefined;
  // a shard may be a symlink only inside the folder or into a Hugging Face cache's blobs/
  const paths = await Promise.all(files.map((f) => requireFolderFile(dir, f, 'weight file')));
  const headers = await Promise.all(paths.map((p) => readSafetensorsHeader(p)));
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
      return { path: abs, dir, safetensors: indexSafetensors([header], undefined), onnx: undefined, auxFiles: [], config: undefined, warnings: [] };
    }
    if (abs.endsWith('.onnx')) {
      return { path: abs, dir, safetensors: undefined, onnx: await readOnnxModel(abs), auxFiles: [], config: undefined, warnings: [] };
    }
    if (/\.(bin|pt|pth|ckpt|pkl)$/.test(abs)) throw pickleRefusal(abs);
    throw new CheckpointError(`${path}: not a .safetensors or .onnx file (${role} model)`);
  }
  const names = (await readdir(abs)).sort();
  const safetensors = await openSafetensors(abs, names, role);
  const onnxName = names.includes('model.onnx') ? 'model.onnx' : names.filter((n) => n.endsWith('.onnx')).length === 1 ? names.find((n) => n.endsWith('.onnx')) : undefined;
  const onnx = onnxName ? await readOnnxModel(await requireFolderFile(abs, onnxName, 'ONNX model')) : undefined;
  if (!safetensors && !onnx) {
    if (names.some((n) => /^pytorch_model.*\.bin$/.test(n) || n.endsWith('.pt') || n.endsWith('.pth'))) throw pickleRefusal(abs);
    throw new CheckpointError(`${path}: no model found (${role}); looked for ${LOOKED_FOR}`);
  }
  // Side files travel into the output and the subnetwork people share: a symlink out of the folder
  // (or a private-looking name) is left out with a warning; a FIFO or a device is refused.
  const { files: auxFiles, warnings } = await filterSideFiles(abs, names.filter((x) => AUX.test(x)));
  let config: Record<string, unknown> | undefined;
  if (auxFiles.includes('config.json')) {
    try {
      config = JSON.parse((await readRegularFile(join(abs, 'config.json'))).toString('utf8')) as Record<string, unknown>;
    } catch (e) {
      if (e instanceof CheckpointError) throw e;
      throw new CheckpointError(`${join(abs, 'config.json')}: not valid JSON`);
    }
  }
  return { path: abs, dir: abs, safetensors, onnx, auxFiles, config, warnings };
}

function pickleRefusal(where: string): CheckpointError {
  return new CheckpointError(
    `${where}: holds only a pickled PyTorch checkpoint, which KEN never unpickles; save it as safetensors first ` +
      `(model.save_pretrained(dir, safe_serialization=True))`,
  );
}
