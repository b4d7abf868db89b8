// config.json has one owner: this file reads it (bounded, validated by `configSchema`) and says what it means
// for the classes (id2label, label2id, num_labels) and the problem type (problem_type, else by the label
// count, as Hugging Face decides). The task it names (`architectures`) is family knowledge: `resolveTask` in
// src/models/build.ts. The typed getters a family's graph reads are `ConfigReader` (src/graph/types.ts).
import { join } from 'node:path';
import { CheckpointError } from '../errors';
import { readJsonFile } from './input';
import { MAX_LABELS, configSchema, type ModelConfig } from './schemas';

/** A Hugging Face model folder's config file. */
export const CONFIG_FILE = 'config.json';

export type ProblemType = 'single_label_classification' | 'multi_label_classification' | 'regression';

/**
 * How a sequence classifier's logits are read, as Hugging Face decides it: config.json `problem_type`
 * when set, else regression for one label and single-label classification otherwise.
 */
export function problemType(raw: Readonly<Record<string, unknown>>, file = CONFIG_FILE): ProblemType {
  const p = raw['problem_type'];
  if (p === 'single_label_classification' || p === 'multi_label_classification' || p === 'regression') return p;
  if (p !== undefined && p !== null) throw new CheckpointError(`${file}: problem_type "${String(p)}" is not one of single_label_classification, multi_label_classification, regression`);
  const labels = numLabelsOf(raw);
  return labels === 1 ? 'regression' : 'single_label_classification';
}

function numLabelsOf(raw: Readonly<Record<string, unknown>>): number | undefined {
  const id2label = raw['id2label'];
  if (id2label && typeof id2label === 'object') return Object.keys(id2label).length;
  const n = raw['num_labels'];
  return typeof n === 'number' ? n : undefined;
}

/** How many classes config.json declares (id2label, label2id or num_labels), without building their names. */
export function declaredLabels(config: Record<string, unknown> | undefined): number | undefined {
  for (const key of ['id2label', 'label2id']) {
    const v = config?.[key];
    if (v && typeof v === 'object') return Object.keys(v).length;
  }
  const n = config?.['num_labels'];
  return typeof n === 'number' && Number.isInteger(n) && n > 0 ? n : undefined;
}

/** config.json's class names in id order, or undefined when it names none. */
export function configLabels(config: Record<string, unknown> | undefined, where: string): string[] | undefined {
  const id2label = config?.['id2label'];
  const label2id = config?.['label2id'];
  const pairs: [number, string][] = [];
  if (id2label && typeof id2label === 'object') {
    for (const [k, v] of Object.entries(id2label)) pairs.push([Number(k), String(v)]);
  } else if (label2id && typeof label2id === 'object') {
    for (const [k, v] of Object.entries(label2id)) pairs.push([Number(v), k]);
  } else {
    const n = config?.['num_labels'];
    if (typeof n !== 'number' || !Number.isInteger(n) || n <= 0) return undefined;
    if (n > MAX_LABELS) throw new CheckpointError(`${where}: num_labels ${n} is more than the ${MAX_LABELS} classes this tool evaluates`);
    return Array.from({ length: n }, (_, i) => `LABEL_${i}`);
  }
  if (pairs.length > MAX_LABELS) throw new CheckpointError(`${where}: ${pairs.length} labels, more than the ${MAX_LABELS} classes this tool evaluates`);
  const labels: string[] = [];
  for (const [id, name] of pairs) {
    if (!Number.isInteger(id) || id < 0 || id >= pairs.length || labels[id] !== undefined) {
      throw new CheckpointError(`${where}: id2label/label2id must number the classes 0..${pairs.length - 1} once each (found id ${JSON.stringify(id)})`);
    }
    labels[id] = name;
  }
  if (new Set(labels).size !== labels.length) throw new CheckpointError(`${where}: two classes share a name in id2label`);
  return labels;
}

/**
 * A folder's config.json, validated (bounded label counts, sizes, positions), or undefined when the folder has
 * none; a FIFO or device is refused, never opened for a blocking read. A bad one is a one-line CheckpointError.
 */
export async function readConfig(folder: string): Promise<ModelConfig | undefined> {
  return readJsonFile(join(folder, CONFIG_FILE), configSchema, { optional: true });
}

/** The config.json file itself (one the caller knows is there), read and validated as `readConfig` does. */
export async function readConfigFile(file: string): Promise<ModelConfig> {
  return (await readJsonFile(file, configSchema))!;
}

/**
 * A folder's config.json for a guess (which base model to offer): the validated config, or undefined when
 * it is missing or unreadable; never an error.
 */
export async function peekConfig(folder: string): Promise<ModelConfig | undefined> {
  return readConfig(folder).catch(() => undefined);
}

