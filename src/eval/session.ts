// Which graph evaluates a model, and its onnxruntime session: the folder's ONNX export when there is
// one (unless --graph built), else the inference graph built from config.json over the folder's own
// safetensors (src/graph). A model can also be ONNX bytes in memory, or the folder's safetensors with
// some tensors replaced from memory (a pruned model that was never written, a sweep's k).
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { CheckpointError, UsageError } from '../errors';
import { folderOnnx, openModel } from '../checkpoint/folder';
import { isDirectory } from '../formats/paths';
import { readOnnxModel } from '../formats/onnx';
import { type Task } from '../graph';
import { buildGraph, sessionExternalData, type BuiltGraph } from '../models/build';
import { openSession, type OpenedSession } from '../runtime/session';
import type { DeviceChoice } from '../runtime/session';

const EXPORT_HINT = 'export one, e.g. `optimum-cli export onnx --model <dir> --task text-classification <out-dir>` (or torch.onnx.export with inputs input_ids, attention_mask, token_type_ids and output logits)';

/** The ONNX model to evaluate at `path`: the file itself, or the folder's model by `folderOnnx`'s rule. */
export async function findOnnx(path: string): Promise<{ file: string; folder: string }> {
  const abs = resolve(path);
  const dir = await isDirectory(abs);
  if (dir === undefined) throw new CheckpointError(`${path}: no such file or folder`);
  if (!dir) {
    // the Hub's Optimum layout: onnx/model.onnx reads config.json and the tokenizer from the folder above
    if (abs.endsWith('.onnx')) return { file: abs, folder: basename(dirname(abs)) === 'onnx' && !existsSync(join(dirname(abs), 'config.json')) ? dirname(dirname(abs)) : dirname(abs) };
    throw new CheckpointError(`${path}: not an ONNX model; evaluation runs ONNX models: ${EXPORT_HINT}`);
  }
  const names = await readdir(abs);
  const pick = folderOnnx(names);
  if (pick && 'name' in pick) return { file: join(abs, pick.name), folder: abs };
  if (pick) throw new CheckpointError(`${path}: holds several .onnx files (${pick.several.slice(0, 4).join(', ')}) and no model.onnx; name the file to evaluate`);
  const sub = names.includes('onnx') && (await readdir(join(abs, 'onnx')).catch(() => [] as string[])).includes('model.onnx');
  const has = names.filter((n) => n.endsWith('.safetensors') || /^pytorch_model.*\.bin$/.test(n));
  if (sub) throw new CheckpointError(`${path}: no ONNX model to evaluate (onnx/model.onnx is in a subfolder, not the folder's model; name it to evaluate it: ${join(path, 'onnx', 'model.onnx')})`);
  throw new CheckpointError(`${path}: no ONNX model to evaluate (looked for model.onnx, *.onnx${has.length ? `; found ${has[0]}` : ''}); ${EXPORT_HINT.replace('<dir>', path)}`);
}

export type GraphChoice = 'auto' | 'built' | 'export';
export const GRAPH_CHOICES: readonly GraphChoice[] = ['auto', 'built', 'export'];

/** A folder's safetensors with some tensors replaced by bytes in memory (stored dtype and layout). */
export interface InMemoryWeights {
  folder: string;
  overrides: ReadonlyMap<string, Uint8Array>;
}

/** A model to evaluate: a folder or .onnx path, ONNX export bytes, or a folder's weights with replacements. */
export type ModelInput = string | Uint8Array | InMemoryWeights;

export interface SessionOptions {
  graph?: GraphChoice | undefined;
  task?: Task | 'auto' | undefined;
  device?: DeviceChoice | undefined;
  threads?: number | undefined;
}

export interface ModelSession extends OpenedSession {
  /** The .onnx file, the folder (built), or "<folder> (in memory)". */
  model: string;
  /** The Hugging Face folder its tokenizer and config come from. */
  folder: string;
  graph: 'built' | 'export';
  /** The built graph's description (task, family, outputs), when built. */
  built: BuiltGraph | undefined;
}

async function built(folder: string, opts: SessionOptions, overrides?: ReadonlyMap<string, Uint8Array>): Promise<ModelSession> {
  const m = await openModel(folder, 'evaluated');
  if (!m.safetensors) throw new CheckpointError(`${folder}: --graph built needs the weights as safetensors (found only ${m.onnx ? basename(m.onnx.path) : 'no weights'})`);
  const g = buildGraph(m, { task: opts.task, overrides });
  const opened = await openSession(g.model, opts.device ?? 'auto', { intraOpThreads: opts.threads, memPattern: false, ...sessionExternalData(g) });
  return { ...opened, model: overrides ? `${m.dir} (in memory)` : m.dir, folder: m.dir, graph: 'built', built: g };
}

/**
 * Opens the session that evaluates `model`. `folder` is the Hugging Face folder with its tokenizer and
 * config (default: the model's own; required for bytes).
 */
export async function openModelSession(model: ModelInput, folder: string | undefined, opts: SessionOptions = {}): Promise<ModelSession> {
  const choice = opts.graph ?? 'auto';
  if (model instanceof Uint8Array) {
    if (folder === undefined) throw new UsageError('a model given as bytes needs the folder holding its tokenizer.json and config.json');
    if (choice === 'built') throw new UsageError('--graph built evaluates safetensors weights, not ONNX bytes');
    const opened = await openSession(model, opts.device ?? 'auto', { intraOpThreads: opts.threads });
    return { ...opened, model: `${basename(folder)} (in memory)`, folder: resolve(folder), graph: 'export', built: undefined };
  }
  if (typeof model !== 'string') {
    if (choice === 'export') throw new UsageError('--graph export evaluates an ONNX export; these weights are in memory');
    return built(resolve(model.folder), opts, model.overrides);
  }
  const abs = resolve(model);
  const dir = await isDirectory(abs);
  if (dir === undefined) throw new CheckpointError(`${abs}: no such file or folder`);
  if (!dir && !abs.endsWith('.onnx')) {
    if (abs.endsWith('.safetensors') && choice !== 'export') return built(dirname(abs), opts);
    throw new CheckpointError(`${model}: not a model folder, .onnx or .safetensors file`);
  }
  if (choice === 'built') {
    if (!dir) throw new UsageError(`--graph built evaluates a folder's safetensors weights; ${model} is an ONNX file`);
    return built(abs, opts);
  }
  if (choice === 'export') {
    const found = await findOnnx(abs);
    await readOnnxModel(found.file); // regular files inside the folder, before onnxruntime opens them natively
    const opened = await openSession(found.file, opts.device ?? 'auto', { intraOpThreads: opts.threads });
    return { ...opened, model: found.file, folder: folder ? resolve(folder) : found.folder, graph: 'export', built: undefined };
  }
  // auto: an export beside the weights wins; else the built graph
  let found: { file: string; folder: string } | undefined;
  try {
    found = await findOnnx(abs);
  } catch (e) {
    if (!dir || !(e instanceof CheckpointError) || !/no ONNX model to evaluate/.test(e.message)) throw e;
  }
  if (found) {
    // onnxruntime opens the model and its external data natively: check first that they are regular
    // files inside the folder (a FIFO would block it beyond any signal)
    await readOnnxModel(found.file);
    const opened = await openSession(found.file, opts.device ?? 'auto', { intraOpThreads: opts.threads });
    return { ...opened, model: found.file, folder: folder ? resolve(folder) : found.folder, graph: 'export', built: undefined };
  }
  return built(abs, opts);
}
