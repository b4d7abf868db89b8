// A model as users have it: a Hugging Face folder (config.json + model.safetensors, or shards with
// model.safetensors.index.json, and/or model.onnx), or a single .safetensors / .onnx file.
import { readdir } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { CheckpointError } from '../errors';
import { filterSideFiles, isDirectory, isSideFile, readRegularFile, requireFolderFile } from '../formats/paths';
import { checked, parseJson } from '../formats/input';
import { shardIndexSchema } from '../formats/schemas';
import { CONFIG_FILE, readConfigFile } from '../formats/hf-config';
import { readSafetensorsHeader, type SafetensorsEntry, type SafetensorsHeader } from '../formats/safetensors';
import { readOnnxModel } from '../formats/onnx';
import { hasTorchCheckpoint, openTorchCheckpoint, readTorchFile } from '../formats/torch';
import { virtualSafetensors, type SafetensorsCheckpoint } from '../formats/virtual';
import { adapterAsBaseError, isAdapterFolder, openMergedAdapter, readLoraConfig } from './lora';
import type { ModelFolder, OpenOptions } from './types';
import { parseHubId, resolveHubId, resolveModelRef } from './hfcache';
import { SUBNETWORK_FILE } from '../formats/subnetwork';


/**
 * The one rule for which .onnx file is a folder's model (opening a model to prune it, sweep, and evaluation
 * all ask here, so what is patched is what is evaluated): model.onnx, else the folder's only .onnx file;
 * `several` when there are more and none is model.onnx. Top level only: `onnx/model.onnx` (the Hub's Optimum
 * layout) is not the folder's model, since a pruned folder is written with its ONNX beside its weights; name
 * that file to evaluate it.
 */
export function folderOnnx(names: readonly string[]): { name: string } | { several: string[] } | undefined {
  if (names.includes('model.onnx')) return { name: 'model.onnx' };
  const onnx = names.filter((n) => n.endsWith('.onnx'));
  if (onnx.length === 1) return { name: onnx[0]! };
  return onnx.length > 1 ? { several: onnx } : undefined;
}

export const LOOKED_FOR = 'model.safetensors, model.safetensors.index.json, *.safetensors or model.onnx';

async function openSafetensors(dir: string, names: string[], role: string): Promise<SafetensorsCheckpoint | undefined> {
  let files: string[];
  let indexFile: string | undefined;
  if (names.includes('model.safetensors.index.json')) {
    indexFile = await requireFolderFile(dir, 'model.safetensors.index.json', 'the shard index');
    const index = checked(shardIndexSchema, parseJson((await readRegularFile(indexFile)).toString('utf8'), indexFile), indexFile);
    files = [...new Set(Object.values(index.weight_map))];
    if (files.length === 0) throw new CheckpointError(`${indexFile}: its weight_map names no shard`);
    for (const f of files) {
      if (basename(f) !== f || f === '.' || f === '..') throw new CheckpointError(`${indexFile}: shard name ${JSON.stringify(f)} is not a file in the folder`);
      if (!f.endsWith('.safetensors')) throw new CheckpointError(`${indexFile}: shard ${JSON.stringify(f)} is not a .safetensors file`);
      if (f === SUBNETWORK_FILE) throw new CheckpointError(`${indexFile}: names ${SUBNETWORK_FILE} as a shard, the name of KEN's own output; rename that shard`);
      if (!names.includes(f)) throw new CheckpointError(`${indexFile}: shard ${f} is missing`);
    }
  } else if (names.includes('model.safetensors')) {
    files = ['model.safetensors'];
  } else {
    files = names.filter((n) => n.endsWith('.safetensors') && n !== SUBNETWORK_FILE);
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

/**
 * Opens a model folder or file, or a hub id (`org/name[@revision]`) found in the Hugging Face cache;
 * `role` ("fine-tuned", "base") only words the errors.
 */
export async function openModel(path: string, role: string, opts: OpenOptions = {}): Promise<ModelFolder> {
  const abs = resolve(path);
  const kind = await isDirectory(abs);
  if (kind === undefined) {
    const cached = parseHubId(path) ? await resolveHubId(path) : undefined;
    if (cached) {
      const folder = await openModel(cached, role, opts);
      (folder.notes ??= []).push(`${path} resolved in the Hugging Face cache: ${cached}`);
      return folder;
    }
    throw new CheckpointError(`${path}: no such file or folder (${role} model)${parseHubId(path) ? ', and not in the Hugging Face cache' : ''}`);
  }
  if (!kind) {
    const dir = dirname(abs);
    const shardOf = await indexListing(dir, basename(abs));
    if (shardOf) {
      const folder = await openModel(dir, role);
      (folder.notes ??= []).push(`${basename(abs)} is one shard of ${shardOf}: the whole folder ${dir} is used`);
      return folder;
    }
    if (abs.endsWith('.safetensors')) {
      const header = await readSafetensorsHeader(abs);
      return { path: abs, dir, safetensors: indexSafetensors([header], undefined), onnx: undefined, auxFiles: [], config: undefined, warnings: [] };
    }
    if (abs.endsWith('.onnx')) {
      return { path: abs, dir, safetensors: undefined, onnx: await readOnnxModel(abs), auxFiles: [], config: undefined, warnings: [] };
    }
    if (/\.(bin|pt|pth)$/.test(abs)) {
      if (basename(abs) === 'pytorch_model.bin') {
        const folder = await openModel(dir, role);
        (folder.notes ??= []).push(`${basename(abs)} is read with the rest of its folder ${dir}`);
        return folder;
      }
      const out = join(dir, basename(abs).replace(/\.(bin|pt|pth)$/, '.safetensors'));
      const vf = virtualSafetensors(out, await readTorchFile(abs), { format: 'pt' });
      const safetensors = indexSafetensors([vf.header], undefined);
      safetensors.virtual = { files: new Map([[out, vf]]), index: undefined, source: basename(abs) };
      return { path: abs, dir, safetensors, onnx: undefined, auxFiles: [], config: undefined };
    }
    if (/\.(ckpt|pkl)$/.test(abs)) throw pickleRefusal(abs);
    throw new CheckpointError(`${path}: not a .safetensors or .onnx file (${role} model)`);
  }
  const names = (await readdir(abs)).sort();
  if (isAdapterFolder(names)) return openAdapter(abs, names, role, opts);
  let safetensors = await openSafetensors(abs, names, role);
  if (!safetensors && hasTorchCheckpoint(names)) {
    const virtual = await openTorchCheckpoint(abs, names);
    safetensors = indexSafetensors([...virtual.files.values()].map((f) => f.header), virtual.index === undefined ? undefined : join(abs, 'model.safetensors.index.json'));
    safetensors.virtual = virtual;
  }
  const pick = folderOnnx(names);
  const onnxName = pick && 'name' in pick ? pick.name : undefined;
  const onnx = onnxName ? await readOnnxModel(await requireFolderFile(abs, onnxName, 'ONNX model')) : undefined;
  if (!safetensors && !onnx) {
    if (names.some((n) => /^pytorch_model.*\.bin$/.test(n) || n.endsWith('.pt') || n.endsWith('.pth'))) throw pickleRefusal(abs);
    throw new CheckpointError(`${path}: no model found (${role}); looked for ${LOOKED_FOR}`);
  }
  // Side files travel into the output and the subnetwork people share: a symlink out of the folder
  // (or a private-looking name) is left out with a warning; a FIFO or a device is refused.
  const external = new Set(onnx?.externalFiles ?? []);
  const candidates: string[] = [];
  for (const n of names) if (isSideFile(n) && !external.has(n) && (await isDirectory(join(abs, n))) === false) candidates.push(n);
  const { files: auxFiles, warnings } = await filterSideFiles(abs, candidates);
  let config: Record<string, unknown> | undefined;
  if (auxFiles.includes(CONFIG_FILE)) {
    // validated before use: bounded label counts, sizes and positions (src/formats/schemas.ts)
    config = await readConfigFile(join(abs, CONFIG_FILE));
  }
  return { path: abs, dir: abs, safetensors, onnx, auxFiles, config, warnings };
}

/** A LoRA adapter folder: merged into the base given, else into the base its adapter_config.json names. */
async function openAdapter(dir: string, names: string[], role: string, opts: OpenOptions): Promise<ModelFolder> {
  if (opts.refuseAdapter) throw adapterAsBaseError(dir);
  let base = opts.adapterBase;
  const notes: string[] = [];
  if (!base) {
    const declared = (await readLoraConfig(dir)).baseModel;
    const found = declared ? await resolveModelRef(declared, dir) : undefined;
    if (!declared || !found) {
      throw new CheckpointError(`${join(dir, 'adapter_config.json')}: base_model_name_or_path ${declared ? `${JSON.stringify(declared)} is neither a folder nor in the Hugging Face cache` : 'is missing'}; give the base with --base (${role} model)`);
    }
    base = await openModel(found, 'LoRA base', { refuseAdapter: true });
    notes.push(`LoRA base ${declared} resolved to ${found}`);
  }
  const { folder, info } = await openMergedAdapter(dir, names, base);
  folder.lora = info;
  folder.notes = [...notes, ...(base.notes ?? [])];
  return folder;
}

/** The index file of `dir` that lists `file` as a shard, if any. */
async function indexListing(dir: string, file: string): Promise<string | undefined> {
  for (const idx of ['model.safetensors.index.json', 'pytorch_model.bin.index.json']) {
    try {
      const index = JSON.parse((await readRegularFile(join(dir, idx))).toString('utf8')) as { weight_map?: Record<string, unknown> };
      if (index.weight_map && Object.values(index.weight_map).includes(file)) return idx;
    } catch {
      // no such index (or not JSON): not a shard of it
    }
  }
  return undefined;
}

function pickleRefusal(where: string): CheckpointError {
  return new CheckpointError(
    `${where}: holds only a pickled checkpoint KEN does not read (it reads pytorch_model.bin in torch.save's zip format, ` +
      `without unpickling); save it as safetensors (model.save_pretrained(dir, safe_serialization=True))`,
  );
}
