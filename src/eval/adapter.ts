// `ken eval` (and --eval, sweep, watch --eval) on a PEFT LoRA adapter folder: the model it defines is its
// base with the adapter merged (src/checkpoint/lora.ts). It is written once into a temporary folder (the
// merged safetensors, the base's side files with the adapter folder's winning, config.json), evaluated
// like any folder, and removed after (a forced stop removes it too).
//
// The head: a SEQ_CLS / TOKEN_CLS / QUESTION_ANS adapter (`task_type`) is that task's model whatever its
// base is (usually a pre-training checkpoint, BertForPreTraining); its classifier comes from the adapter's
// saved modules (modules_to_save). config.json's `architectures` is set to the family's class for that
// task when the base's does not already name one. Labels: id2label from the adapter folder's config.json,
// else the base's, when it counts the classifier's outputs; else none (the data's ids 0..n-1), and the
// note says which. writeAdapterConfig decides both, for this evaluation and for a pruned adapter's
// config.json (src/workflows/prune.ts), so the pruned model is evaluated with the same head and labels.
import { copyFile, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { constants } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { CheckpointError } from '../errors';
import { openModel } from '../checkpoint/folder';
import type { ModelFolder } from '../checkpoint/types';
import { ADAPTER_CONFIG, readLoraConfig } from '../checkpoint/lora';
import { trackTemporary } from '../formats/output';
import { writeVirtualFile } from '../formats/virtual';
import type { Task } from '../graph';
import { buildGraph, resolveTask } from '../models/build';
import { familyOf } from '../models/registry';
import { readConfig } from '../formats/hf-config';

/** PEFT's task_type -> the task a built graph runs. */
const PEFT_TASKS: Readonly<Record<string, Task>> = {
  SEQ_CLS: 'text-classification', TOKEN_CLS: 'token-classification', QUESTION_ANS: 'question-answering', CAUSAL_LM: 'causal-lm',
};

export interface MergedAdapter {
  /** The temporary folder holding the merged model. */
  folder: string;
  /** The adapter folder the user named. */
  adapter: string;
  /** What the report says: what was merged into what, and where the labels came from. */
  note: string;
  /** Removes the temporary folder. */
  dispose(): Promise<void>;
}

/** Whether `path` is a folder holding adapter_config.json. */
export async function isAdapterPath(path: string): Promise<boolean> {
  return stat(join(path, ADAPTER_CONFIG)).then((s) => s.isFile(), () => false);
}

function labelCount(config: Record<string, unknown> | undefined): number | undefined {
  const m = config?.['id2label'] ?? config?.['label2id'];
  return m && typeof m === 'object' ? Object.keys(m).length : undefined;
}

/** The architectures class of `family` for `task`, preferring the one named after the model_type (CamembertFor*, XLMRobertaFor*). */
function headClass(config: Record<string, unknown>, task: Task): string | undefined {
  const archs = familyOf(config)?.graph?.architectures ?? {};
  const all = Object.keys(archs).filter((a) => archs[a] === task);
  const type = String(config['model_type'] ?? '').replace(/[-_]/g, '').toLowerCase();
  return all.find((a) => a.toLowerCase().startsWith(type)) ?? all[0];
}

/** The folder a merged adapter's base was read from (its side files' folder), else what adapter_config.json names. */
function baseOf(merged: ModelFolder, dir: string, baseModel: string | undefined): string {
  return [...new Set(merged.auxFrom?.values() ?? [])].find((d) => d !== dir) ?? baseModel ?? '(its base)';
}

/** The keys of config.json the adapter decides: the head class, and the labels of a classifier. */
const LABEL_KEYS = ['id2label', 'label2id', 'num_labels'] as const;

/**
 * Writes the config.json of the model the merged LoRA adapter `merged` defines into `target`, a folder
 * holding its merged weights (and side files). The one owner of that decision, for `ken eval` on an adapter
 * (mergeAdapter) and for the pruned checkpoint of one (pruneToFolder), so "before" and "after" evaluate the
 * same model. The head: a SEQ_CLS / TOKEN_CLS / QUESTION_ANS adapter (`task_type`) is that task's model
 * whatever its base is; `architectures` is set to the family's class for that task when the base's does
 * not already name one. Labels: id2label from the adapter folder's config.json, else the base's, when it
 * counts the classifier's outputs; else none (num_labels only: the data's ids). Starts from the base's
 * config; a config.json already in `target` (a pruned copy) is kept but for those keys, and left byte for
 * byte as it was when they agree. Returns the notes: where the labels came from.
 */
export async function writeAdapterConfig(target: string, merged: ModelFolder): Promise<string[]> {
  const dir = merged.lora?.adapterDir;
  if (!dir || !merged.config) throw new CheckpointError(`${merged.path}: a LoRA adapter whose base has no config.json cannot be evaluated`);
  const lora = await readLoraConfig(dir);
  const file = join(target, 'config.json');
  const existingBytes = await readFile(file).catch(() => undefined);
  const existing = existingBytes ? (JSON.parse(existingBytes.toString('utf8')) as Record<string, unknown>) : undefined;
  const config: Record<string, unknown> = { ...merged.config };
  const base = baseOf(merged, dir, lora.baseModel);
  const task = lora.taskType ? PEFT_TASKS[lora.taskType] : undefined;
  const taskOf = (c: Record<string, unknown>): Task | undefined => {
    try {
      return resolveTask(c, join(base, 'config.json')).task;
    } catch {
      return undefined; // a pre-training checkpoint, or no architectures: the adapter's task_type decides
    }
  };
  if (task && taskOf(config) !== task) {
    const cls = headClass(config, task);
    if (!cls) throw new CheckpointError(`${join(dir, ADAPTER_CONFIG)}: task_type ${lora.taskType} needs a ${task} head, which the built ${String(config['model_type'])} graph does not have`);
    config['architectures'] = [cls];
  }
  const notes: string[] = [];
  const evaluated = task ?? taskOf(config);
  const labelled = evaluated === 'text-classification' || evaluated === 'token-classification';
  if (labelled) {
    // the classifier's outputs, from the graph built over the merged weights with the head chosen above
    await writeFile(file, JSON.stringify(config, null, 2) + '\n');
    const outputs = buildGraph(await openModel(target, 'evaluated'), { task: evaluated }).numLabels;
    const own = merged.auxFrom?.get('config.json') === dir ? await readConfig(dir) : undefined;
    const fromAdapter = own && labelCount(own) === outputs ? own : undefined;
    if (fromAdapter) {
      config['id2label'] = fromAdapter['id2label'];
      config['label2id'] = fromAdapter['label2id'];
      notes.push(`labels from ${join(dir, 'config.json')}`);
    } else if (labelCount(merged.config) === outputs) {
      notes.push(`labels from ${join(base, 'config.json')}`);
    } else {
      delete config['id2label'];
      delete config['label2id'];
      if (outputs !== undefined) config['num_labels'] = outputs;
      notes.push(`labels are the data's ids 0..${(outputs ?? 1) - 1} (no id2label of ${outputs} classes in the adapter's or the base's config.json)`);
    }
  }
  let final = config;
  if (existing) {
    final = { ...existing };
    if (config['architectures'] !== undefined) final['architectures'] = config['architectures'];
    if (labelled) {
      for (const k of LABEL_KEYS) {
        if (config[k] === undefined) delete final[k];
        else final[k] = config[k];
      }
    }
  }
  if (existingBytes && isDeepStrictEqual(final, existing)) await writeFile(file, existingBytes);
  else await writeFile(file, JSON.stringify(final, null, 2) + '\n');
  return notes;
}

/** Merges the adapter folder `dir` into its base, in a temporary folder. */
export async function mergeAdapter(dir: string, opts: { signal?: AbortSignal | undefined; base?: ModelFolder | undefined } = {}): Promise<MergedAdapter> {
  const { signal } = opts;
  const merged = await openModel(dir, 'evaluated', { adapterBase: opts.base });
  const virtual = merged.safetensors?.virtual;
  if (!merged.lora || !virtual || !merged.config) throw new CheckpointError(`${dir}: a LoRA adapter whose base has no config.json and safetensors weights cannot be evaluated`);
  const lora = await readLoraConfig(dir);
  const tmp = await mkdtemp(join(tmpdir(), 'ken-adapter-'));
  const untrack = trackTemporary(tmp);
  const dispose = async (): Promise<void> => {
    await rm(tmp, { recursive: true, force: true });
    untrack();
  };
  try {
    for (const [path, vf] of virtual.files) await writeVirtualFile(vf, join(tmp, basename(path)), signal);
    if (virtual.index !== undefined) await writeFile(join(tmp, 'model.safetensors.index.json'), virtual.index, { flag: 'wx' });
    for (const name of merged.auxFiles) {
      if (name === 'config.json') continue;
      await copyFile(join(merged.auxFrom?.get(name) ?? merged.dir, name), join(tmp, name), constants.COPYFILE_EXCL);
    }
    const notes = [`LoRA adapter ${dir} merged into ${baseOf(merged, dir, lora.baseModel)} (in a temporary folder, removed after)`];
    notes.push(...(await writeAdapterConfig(tmp, merged)));
    return { folder: tmp, adapter: dir, note: notes.join('; '), dispose };
  } catch (e) {
    await dispose();
    throw e;
  }
}
