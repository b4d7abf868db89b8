// A text classifier in an onnxruntime-node session (CUDA when installed, else CPU), opened from a
// model folder (its ONNX export, or the graph built from config.json over its safetensors), an .onnx
// file, ONNX bytes held in memory, or a folder's weights with tensors replaced from memory (a pruned
// model that was never written). Inputs are fed as the graph declares them: int64 or int32, and only those it has.
import { join } from 'node:path';
import { CheckpointError } from '../errors';
import { MAX_LABELS } from '../formats/schemas';
import { CONFIG_FILE, configLabels, declaredLabels, readConfig } from '../formats/hf-config';
import type { AdapterInfo } from '../runtime/webgpu';
import type { Device, DeviceChoice } from '../runtime/session';
import { openModelSession, type GraphChoice, type ModelInput } from './session';
import { loadTokenizer, type EncodedText, type ModelTokenizer } from './tokenize';

type Ort = typeof import('onnxruntime-node');
type Session = import('onnxruntime-node').InferenceSession;
type Tensor = import('onnxruntime-node').Tensor;

export interface ClassifierOptions {
  device?: DeviceChoice;
  /** Intra-op threads of the session (default: onnxruntime's, one per physical core). */
  threads?: number | undefined;
  /** The folder's ONNX export or the graph built from config.json (default auto: the export when there is one). */
  graph?: GraphChoice | undefined;
}

type InputRole = 'input_ids' | 'attention_mask' | 'token_type_ids' | 'position_ids';
const ROLES: readonly InputRole[] = ['input_ids', 'attention_mask', 'token_type_ids', 'position_ids'];

interface GraphInput {
  name: string;
  role: InputRole;
  type: 'int64' | 'int32';
}

export interface Classifier {
  /** The .onnx file, the folder (built graph), or "(in memory)". */
  readonly model: string;
  /** Which graph runs: the folder's ONNX export, or the one built from config.json. */
  readonly graph: 'built' | 'export';
  /** The Hugging Face folder its tokenizer and labels come from. */
  readonly folder: string;
  /** Class names in id order (config.json id2label, else LABEL_i). */
  readonly labels: readonly string[];
  readonly tokenizer: ModelTokenizer;
  readonly executionProvider: Device;
  /** The WebGPU adapter, when it runs on WebGPU. */
  readonly adapter?: AdapterInfo | undefined;
  /** Token ids must be below this (config.json's vocab_size, else the tokenizer's size). */
  readonly vocabSize: number;
  /** Throws a one-line CheckpointError naming tokenizer.json (and the data line) for an id outside the vocabulary. */
  checkTokenIds(samples: readonly EncodedText[], padId: number, dataPath?: string): void;
  /** Logits for a batch, row-major [batch.length, labels.length]; padded right with `padId`. */
  logits(batch: readonly EncodedText[], padId?: number): Promise<Float32Array>;
  close(): Promise<void>;
}


/**
 * A right-padded batch as the graph's inputs (only those it declares, int64 or int32): ids padded with
 * `padId`, attention mask, token type ids, positions 0..len-1.
 */
export function batchFeeds(ort: Ort, inputs: readonly GraphInput[], batch: readonly EncodedText[], padId: number): Record<string, Tensor> {
  const rows = batch.length;
  const len = batch.reduce((m, e) => Math.max(m, e.ids.length), 1);
  const values: Record<InputRole, Int32Array> = {
    input_ids: new Int32Array(rows * len).fill(padId),
    attention_mask: new Int32Array(rows * len),
    token_type_ids: new Int32Array(rows * len),
    position_ids: new Int32Array(rows * len),
  };
  batch.forEach((e, r) => {
    const at = r * len;
    values.input_ids.set(e.ids, at);
    values.attention_mask.fill(1, at, at + e.ids.length);
    values.token_type_ids.set(e.typeIds, at);
    for (let i = 0; i < len; i++) values.position_ids[at + i] = i;
  });
  const feeds: Record<string, Tensor> = {};
  for (const input of inputs) {
    const v = values[input.role];
    feeds[input.name] = new ort.Tensor(input.type, input.type === 'int32' ? v : BigInt64Array.from(v, (x) => BigInt(x)), [rows, len]);
  }
  return feeds;
}

export function graphInputs(session: Session, model: string): GraphInput[] {
  const inputs: GraphInput[] = [];
  for (const meta of session.inputMetadata) {
    const role = ROLES.find((r) => r === meta.name);
    if (!role) throw new CheckpointError(`${model}: graph input "${meta.name}" is not one a text classifier takes (${ROLES.join(', ')})`);
    const type = meta.isTensor ? meta.type : undefined;
    if (type !== 'int64' && type !== 'int32') throw new CheckpointError(`${model}: graph input "${meta.name}" is ${type ?? 'not a tensor'}; expected int64 or int32`);
    inputs.push({ name: meta.name, role, type });
  }
  if (!inputs.some((i) => i.role === 'input_ids')) throw new CheckpointError(`${model}: the graph has no input_ids input`);
  return inputs;
}

class OrtClassifier implements Classifier {
  constructor(
    readonly model: string,
    readonly graph: 'built' | 'export',
    readonly folder: string,
    readonly labels: readonly string[],
    readonly tokenizer: ModelTokenizer,
    readonly executionProvider: Device,
    private readonly ort: Ort,
    private readonly session: Session,
    private readonly inputs: GraphInput[],
    private readonly output: string,
    readonly adapter: AdapterInfo | undefined,
    /** Token ids must be below this: config.json's vocab_size, else the tokenizer's own size. */
    readonly vocabSize: number,
    private readonly vocabFromConfig: boolean,
  ) {}

  async logits(batch: readonly EncodedText[], padId = this.tokenizer.padId): Promise<Float32Array> {
    this.checkTokenIds(batch, padId);
    const rows = batch.length;
    const feeds = batchFeeds(this.ort, this.inputs, batch, padId);
    let out: Awaited<ReturnType<Session['run']>>;
    try {
      out = await this.session.run(feeds);
    } catch (e) {
      throw new CheckpointError(`${this.model}: onnxruntime could not run it (${(e instanceof Error ? e.message : String(e)).split('\n')[0]!.slice(0, 200)})`);
    }
    const logits = out[this.output];
    for (const t of Object.values(out)) if (t !== logits) t.dispose();
    if (!logits) throw new CheckpointError(`${this.model}: the graph gave no ${this.output}`);
    try {
      const dims = logits.dims;
      if (dims.length !== 2 || dims[0] !== rows || dims[1] !== this.labels.length) {
        throw new CheckpointError(`${this.model}: output ${this.output} has shape [${dims.join(', ')}]; expected [${rows}, ${this.labels.length}] for the ${this.labels.length} labels of ${join(this.folder, CONFIG_FILE)}`);
      }
      if (logits.type !== 'float32') throw new CheckpointError(`${this.model}: output ${this.output} is ${logits.type}; expected float32`);
      return Float32Array.from(logits.data as Float32Array);
    } finally {
      logits.dispose();
    }
  }

  checkTokenIds(samples: readonly EncodedText[], padId: number, dataPath?: string): void {
    const limit = this.vocabSize;
    const where = join(this.folder, 'tokenizer.json');
    const vocab = `the model's vocabulary of ${limit}${this.vocabFromConfig ? ' (vocab_size in config.json)' : ''}`;
    if (!Number.isInteger(padId) || padId < 0 || padId >= limit) throw new CheckpointError(`${where}: padding id ${padId} is outside ${vocab}`);
    for (const s of samples) {
      for (const id of s.ids) {
        if (id < 0 || id >= limit) {
          const line = s.line === undefined ? '' : ` for ${dataPath ? `${dataPath} ` : 'data '}line ${s.line}`;
          throw new CheckpointError(`${where}: gives token id ${id}${line}, outside ${vocab}`);
        }
      }
    }
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}

/**
 * Opens a classifier: `model` is a folder, an .onnx file, ONNX bytes, or a folder's weights with
 * replacements; `folder` is the Hugging Face folder with its tokenizer.json and config.json
 * (default: the model's folder; required for bytes).
 */
export async function openClassifier(model: ModelInput, folder?: string, opts: ClassifierOptions = {}): Promise<Classifier> {
  const opened = await openModelSession(model, folder, { graph: opts.graph, task: 'text-classification', device: opts.device, threads: opts.threads });
  const { session, executionProvider, ort, adapter } = opened;
  const modelName = opened.model;
  try {
    const config = await readConfig(opened.folder);
    const tokenizer = await loadTokenizer(opened.folder);
    const inputs = graphInputs(session, modelName);
    const output = session.outputNames.includes('logits') ? 'logits' : session.outputNames[0];
    if (output === undefined) throw new CheckpointError(`${modelName}: the graph has no outputs`);
    const meta = session.outputMetadata.find((m) => m.name === output);
    const width = meta?.isTensor ? meta.shape[meta.shape.length - 1] : undefined;
    // the graph's width is checked against config.json's count before any label name is built
    const declared = declaredLabels(config);
    if (typeof width === 'number' && declared !== undefined && width !== declared) {
      throw new CheckpointError(`${modelName}: gives ${width} logits but ${join(opened.folder, CONFIG_FILE)} names ${declared} labels`);
    }
    let labels = configLabels(config, join(opened.folder, CONFIG_FILE));
    if (!labels) labels = Array.from({ length: typeof width === 'number' && width > 0 && width <= MAX_LABELS ? width : 2 }, (_, i) => `LABEL_${i}`);
    if (typeof width === 'number' && width !== labels.length) {
      throw new CheckpointError(`${modelName}: gives ${width} logits but ${join(opened.folder, CONFIG_FILE)} names ${labels.length} labels`);
    }
    const vocabSize = typeof config?.['vocab_size'] === 'number' ? config['vocab_size'] : undefined;
    return new OrtClassifier(modelName, opened.graph, opened.folder, labels, tokenizer, executionProvider, ort, session, inputs, output, adapter, vocabSize ?? tokenizer.vocabSize, vocabSize !== undefined);
  } catch (e) {
    await session.release();
    throw e;
  }
}
