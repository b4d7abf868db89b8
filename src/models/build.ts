// Building a family's inference graph: the family by config.json `model_type`, the task by `--task` or
// `architectures`, the inputs and outputs every evaluator reads. src/graph/ is the generic builder; this file
// is where it meets the family registry (src/graph/index.ts explains how to add a family).
import { join } from 'node:path';
import { CheckpointError, UsageError } from '../errors';
import type { SafetensorsCheckpoint } from '../formats/virtual';
import { GraphBuilder, type ComputeType, type Value } from '../graph/builder';
import { ONNX_TYPE } from '../formats/onnx-write';
import { ConfigReader, type GraphContext, type GraphInputs, type Task, type TaskOutputs } from '../graph/types';
import { CheckpointWeights, type MemoryFile } from '../graph/weights';
import { familyOf, supportedModelTypes } from './registry';
import type { ModelFamily } from './types';

export const EXPORT_WORKS = 'an ONNX export beside the weights (model.onnx) evaluates any other model';

export interface BuildRequest {
  /** 'auto' (default): from config.json `architectures`. */
  task?: Task | 'auto' | undefined;
  /** Tensors replaced by bytes in memory (stored dtype and layout), e.g. the pruned ones. */
  overrides?: ReadonlyMap<string, Uint8Array> | undefined;
  computeType?: ComputeType | undefined;
  /** External-data locations relative to this folder (where the graph file will be written); default the weights' folder. */
  relativeTo?: string | undefined;
  /**
   * Also output, for every weight the graph reads only as a MatMul's right operand (Linear, Conv1D), the
   * sum over real tokens of its input's squares per input feature (float32 [features]); see `weightInputs`.
   */
  measureWeightInputs?: boolean | undefined;
}

/** A measured weight input (BuildRequest.measureWeightInputs). */
export interface WeightInput {
  /** The checkpoint tensor. */
  weight: string;
  /** The graph output: float32 [features], the sum of squares of each input feature over the batch's real tokens. */
  output: string;
  /** The stored axis the input features run along: 1 for a Linear ([out, in]), 0 for a Conv1D ([in, out]). */
  storedAxis: 0 | 1;
  features: number;
}

export interface BuiltGraph {
  /** The ONNX ModelProto. */
  model: Uint8Array;
  /** The folder its external-data locations are relative to (the checkpoint's). */
  weightsFolder: string;
  /** Buffers the session reads the replaced tensors from. */
  memoryFiles: MemoryFile[];
  task: Task;
  family: string;
  /** The `architectures` class built, if config.json names a known one. */
  architecture: string | undefined;
  inputs: string[];
  outputs: string[];
  /** Labels of classification heads (from the classifier's weight). */
  numLabels: number | undefined;
  /** The measured weight inputs (empty unless asked for). */
  weightInputs: WeightInput[];
}

/** Every model_type with a built graph, sorted. */
export function builtModelTypes(): string[] {
  return supportedModelTypes().filter((t) => familyOf({ model_type: t })?.graph !== undefined);
}

/** The family of a folder's config.json, or the one-line error that names the model_type and what is supported. */
export function graphFamily(config: Readonly<Record<string, unknown>> | undefined, file: string): ModelFamily & { graph: NonNullable<ModelFamily['graph']> } {
  if (!config) throw new CheckpointError(`${file}: missing; the built graph needs config.json (${EXPORT_WORKS})`);
  const type = config['model_type'];
  const family = familyOf(config);
  if (!family?.graph) {
    throw new CheckpointError(`${file}: model_type ${typeof type === 'string' ? `"${type}"` : '(none)'} has no built inference graph (built: ${builtModelTypes().join(', ')}); ${EXPORT_WORKS}`);
  }
  return family as ModelFamily & { graph: NonNullable<ModelFamily['graph']> };
}

/** The task and architecture class a folder is built for: `requested`, or what config.json `architectures` says. */
export function resolveTask(config: Readonly<Record<string, unknown>>, file: string, requested: Task | 'auto' = 'auto'): { task: Task; architecture: string | undefined } {
  const family = graphFamily(config, file);
  const archs = Array.isArray(config['architectures']) ? (config['architectures'] as unknown[]).filter((a): a is string => typeof a === 'string') : [];
  const known = archs.find((a) => family.graph.architectures[a] !== undefined);
  const heads = Object.keys(family.graph.architectures);
  if (known) {
    const task = family.graph.architectures[known]!;
    if (requested !== 'auto' && requested !== task) {
      const other = heads.filter((h) => family.graph.architectures[h] === requested);
      throw new UsageError(`${file}: architectures ${known} is a ${task} model; --task ${requested} needs ${other.length ? other.join(' or ') : `a head the built ${family.id} graph does not have`}`);
    }
    return { task, architecture: known };
  }
  const base = family.graph.baseTasks ?? [];
  if (requested !== 'auto' && base.includes(requested)) return { task: requested, architecture: undefined };
  const pretraining = archs.find((a) => family.graph.pretraining?.[a] !== undefined);
  if (pretraining) {
    // a base checkpoint with its pre-training head (BertForMaskedLM, ElectraForPreTraining): nothing to score it on
    throw new CheckpointError(`${file}: architectures ${pretraining} is a pre-training checkpoint (${family.graph.pretraining![pretraining]}), which has no task head to evaluate; ` +
      `the built ${family.id} graph evaluates ${heads.join(', ')}${base.length ? ` and a base model as ${base.join(', ')}` : ''}: evaluate the model fine-tuned from it`);
  }
  if (requested === 'auto' && base.length === 1) return { task: base[0]!, architecture: undefined };
  const named = archs.length ? `architectures ${archs.join(', ')}` : 'no architectures';
  throw new CheckpointError(`${file}: ${named} has no built head for model_type "${String(config['model_type'])}" (built: ${heads.join(', ')}${base.length ? `; a base model as ${base.join(', ')}` : ''}); ${EXPORT_WORKS}`);
}

function declareInputs(g: GraphBuilder, tokenTypes: boolean): GraphInputs {
  const dims = ['batch', 'sequence'];
  const inputIds = g.input('input_ids', 'int64', dims);
  const attentionMask = g.input('attention_mask', 'int64', dims);
  const inputs: GraphInputs = { inputIds, attentionMask };
  if (tokenTypes) inputs.tokenTypeIds = g.input('token_type_ids', 'int64', dims);
  return inputs;
}

function declareOutputs(g: GraphBuilder, out: TaskOutputs): { names: string[]; numLabels: number | undefined } {
  switch (out.task) {
    case 'text-classification':
      g.output(out.logits, 'logits', 'float32', ['batch', out.numLabels]);
      return { names: ['logits'], numLabels: out.numLabels };
    case 'token-classification':
      g.output(out.logits, 'logits', 'float32', ['batch', 'sequence', out.numLabels]);
      return { names: ['logits'], numLabels: out.numLabels };
    case 'question-answering':
      g.output(out.startLogits, 'start_logits', 'float32', ['batch', 'sequence']);
      g.output(out.endLogits, 'end_logits', 'float32', ['batch', 'sequence']);
      return { names: ['start_logits', 'end_logits'], numLabels: undefined };
    case 'causal-lm':
      g.output(out.tokenLogprobs, 'token_logprobs', 'float32', ['batch', 'predicted']);
      return { names: ['token_logprobs'], numLabels: undefined };
  }
}

/** The whole-model prefix the checkpoint's names carry (`bert.` in a task model), or '' for a bare base model. */
function modelPrefix(weights: CheckpointWeights, prefixes: readonly string[]): string {
  const names = [...weights.names()];
  return prefixes.find((p) => names.some((n) => n.startsWith(p))) ?? '';
}

/** What a graph is built from: a model folder's config.json and safetensors (a `ModelFolder` is one). */
export interface GraphSource {
  /** What the user named, for messages. */
  path: string;
  /** The folder holding config.json and the weights. */
  dir: string;
  config: Record<string, unknown> | undefined;
  safetensors: SafetensorsCheckpoint | undefined;
}

/**
 * Builds the inference graph of a model folder (config.json + safetensors): the family by `model_type`, the
 * task by `req.task` or `architectures`; the ONNX bytes plus what the session needs (`sessionExternalData`).
 */
export function buildGraph(folder: GraphSource, req: BuildRequest = {}): BuiltGraph {
  const file = join(folder.dir, 'config.json');
  const family = graphFamily(folder.config, file);
  const config = new ConfigReader(folder.config!, file);
  if (!folder.safetensors) throw new CheckpointError(`${folder.path}: no safetensors weights to build a graph on (${EXPORT_WORKS})`);
  const { task, architecture } = resolveTask(folder.config!, file, req.task ?? 'auto');
  const weights = new CheckpointWeights(folder.safetensors, req.overrides, req.relativeTo);
  // protobuf messages stop at 2 GiB: the replaced tensors travel inside the graph's bytes
  if (weights.replacedBytes > 1.9 * 2 ** 30) throw new CheckpointError(`${folder.path}: ${(weights.replacedBytes / 2 ** 30).toFixed(1)} GiB of replaced weights do not fit in one in-memory graph (2 GiB); evaluate the written pruned folder instead (ken prune --eval)`);
  const g = new GraphBuilder(weights, req.computeType ?? 'float32', `${family.id}_${task}`);
  const tokenTypes = typeof family.graph.tokenTypeIds === 'function' ? family.graph.tokenTypeIds(config) : family.graph.tokenTypeIds;
  const inputs = declareInputs(g, tokenTypes);
  const prefix = modelPrefix(weights, family.prefixes);
  const ctx: GraphContext = { g, config, task, architecture, inputs, base: (name) => prefix + name };
  const out = family.graph.build(ctx);
  if (out.task !== task) throw new Error(`graph: ${family.id} built ${out.task} for ${task}`);
  const { names, numLabels } = declareOutputs(g, out);
  const weightInputs = req.measureWeightInputs ? measureWeightInputs(g, inputs.attentionMask) : [];
  return {
    model: g.toBytes(), weightsFolder: weights.folder, memoryFiles: weights.memoryFiles(), task, family: family.id, architecture,
    inputs: ['input_ids', 'attention_mask', ...(tokenTypes ? ['token_type_ids'] : [])], outputs: [...names, ...weightInputs.map((w) => w.output)], numLabels,
    weightInputs,
  };
}

/**
 * One output per weight read only as a MatMul's right operand: the sum over rows of its inputs' squares
 * (all its MatMuls together, as hooks on a torch module would see every call). An input laid out as the
 * padded batch ([batch, sequence, features], what the attention mask covers) counts its real tokens only;
 * any other layout (the encoders' packed tokens, one pooled row per line, relative-position tables) has
 * no padding and counts every row. Which layout an input has is only known at run time, so the graph
 * compares its leading dimensions with the mask's.
 */
function measureWeightInputs(g: GraphBuilder, mask: Value): WeightInput[] {
  const out: WeightInput[] = [];
  const perInput = new Map<Value, Value>();
  const maskFlat = g.op('Cast', [g.op('Reshape', [mask, g.i64([-1])])], { to: ONNX_TYPE.float32 }, { hint: 'measure_mask' });
  const sumsq = (x: Value, features: number): Value => {
    const known = perInput.get(x);
    if (known) return known;
    let rows = g.op('Reshape', [x, g.i64([-1, features])], undefined, { hint: 'measure_rows' });
    if (g.computeType !== 'float32') rows = g.op('Cast', [rows], { to: ONNX_TYPE.float32 });
    const count = g.op('Slice', [g.op('Shape', [rows]), g.i64([0]), g.i64([1])]); // [rows]
    // [batch, sequence, features]: the padded layout, whose rows are weighted by the mask
    const shape = g.op('Shape', [x]);
    const lead = g.op('Equal', [g.op('Slice', [shape, g.i64([0]), g.i64([2])]), g.op('Shape', [mask])]);
    const rank3 = g.op('Equal', [g.op('Size', [shape]), g.i64([3], [])]);
    const padded = g.op('And', [rank3, g.op('Cast', [g.op('ReduceMin', [g.op('Cast', [lead], { to: ONNX_TYPE.int64 })], { keepdims: 0 })], { to: ONNX_TYPE.bool })], undefined, { hint: 'measure_padded' });
    const ones = g.op('ConstantOfShape', [count], { value: { name: '', elemType: 'float32', dims: [1], raw: new Uint8Array(new Float32Array([1]).buffer) } });
    const masked = g.op('Slice', [g.op('Concat', [maskFlat, ones], { axis: 0 }), g.i64([0]), count]);
    const weights = g.op('Where', [padded, masked, ones], undefined, { hint: 'measure_weights' });
    const squares = g.op('Mul', [rows, rows]);
    const s = g.op('ReduceSum', [g.op('Mul', [squares, g.op('Unsqueeze', [weights, g.i64([1])])]), g.i64([0])], { keepdims: 0 }, { hint: 'measure_sumsq' });
    perInput.set(x, s);
    return s;
  };
  for (const [weight, m] of g.matmulInputs()) {
    const features = g.shape(weight)[m.storedAxis]!;
    let total: Value | undefined;
    for (const x of m.inputs) {
      const s = sumsq(x, features);
      total = total === undefined ? s : g.op('Add', [total, s]);
    }
    const output = `weight_input_sumsq/${weight}`;
    g.output(total!, output, 'float32', [features]);
    out.push({ weight, output, storedAxis: m.storedAxis, features });
  }
  return out;
}

/** The onnxruntime session options a built graph needs: where its external data lives, and the in-memory buffers. */
export function sessionExternalData(built: Pick<BuiltGraph, 'weightsFolder' | 'memoryFiles'>): { externalFolder: string; externalData: MemoryFile[] } {
  return { externalFolder: built.weightsFolder, externalData: built.memoryFiles };
}
