// The contract between the graph builder, the family files (src/models/<family>.ts) and the heads
// (src/models/heads.ts). See index.ts for the walk-through.
import { CheckpointError } from '../errors';
import type { GraphBuilder, Value } from './builder';

/** What a graph computes, as `ken eval --task` names it. */
export type Task = 'text-classification' | 'token-classification' | 'question-answering' | 'causal-lm';

export const TASKS: readonly Task[] = ['text-classification', 'token-classification', 'question-answering', 'causal-lm'];

/**
 * The graph outputs of each task (float32; batch and sequence are the input's):
 * - text-classification: `logits` [batch, num_labels] (single-label, multi-label or regression alike);
 * - token-classification: `logits` [batch, sequence, num_labels], special tokens included;
 * - question-answering: `start_logits`, `end_logits` [batch, sequence];
 * - causal-lm: `token_logprobs` [batch, sequence - 1], log p(ids[i+1] | ids[0..i]).
 */
export type TaskOutputs =
  | { task: 'text-classification'; logits: Value; numLabels: number }
  | { task: 'token-classification'; logits: Value; numLabels: number }
  | { task: 'question-answering'; startLogits: Value; endLogits: Value }
  | { task: 'causal-lm'; tokenLogprobs: Value };

/** config.json with typed getters whose errors name the key. */
export class ConfigReader {
  constructor(readonly raw: Readonly<Record<string, unknown>>, readonly file: string) {}

  has(key: string): boolean {
    return this.raw[key] !== undefined && this.raw[key] !== null;
  }

  int(key: string, fallback?: number): number {
    const v = this.raw[key] ?? fallback;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new CheckpointError(`${this.file}: ${key} must be a whole number${v === undefined ? ' (missing)' : ` (got ${JSON.stringify(v)})`}`);
    return v;
  }

  num(key: string, fallback?: number): number {
    const v = this.raw[key] ?? fallback;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new CheckpointError(`${this.file}: ${key} must be a number${v === undefined ? ' (missing)' : ` (got ${JSON.stringify(v)})`}`);
    return v;
  }

  str(key: string, fallback?: string): string {
    const v = this.raw[key] ?? fallback;
    if (typeof v !== 'string') throw new CheckpointError(`${this.file}: ${key} must be a string${v === undefined ? ' (missing)' : ` (got ${JSON.stringify(v)})`}`);
    return v;
  }

  bool(key: string, fallback: boolean): boolean {
    const v = this.raw[key] ?? fallback;
    if (typeof v !== 'boolean') throw new CheckpointError(`${this.file}: ${key} must be true or false (got ${JSON.stringify(v)})`);
    return v;
  }
}

/** The graph's inputs: int64 [batch, sequence]; token_type_ids only where the family declares them. */
export interface GraphInputs {
  inputIds: Value;
  attentionMask: Value;
  tokenTypeIds?: Value;
}

/** What a family's build() gets. */
export interface GraphContext {
  g: GraphBuilder;
  config: ConfigReader;
  task: Task;
  /** The config.json `architectures` class being built (e.g. BertForSequenceClassification), or undefined for a bare base model. */
  architecture: string | undefined;
  inputs: GraphInputs;
  /** The checkpoint's name for a base-model tensor or module: `${prefix}${name}` with the family prefix the checkpoint uses (bert., roberta., ...), or `name` in a bare base model. */
  base(name: string): string;
}

/** The inference half of a ModelFamily (src/models/types.ts `graph`). */
export interface FamilyGraph {
  /** config.json `architectures` classes this family builds, with the task each one is. */
  readonly architectures: Readonly<Record<string, Task>>;
  /** Whether the graph takes token_type_ids (BERT, ALBERT, ELECTRA: yes; RoBERTa, DistilBERT, decoders: no). */
  readonly tokenTypeIds: boolean | ((config: ConfigReader) => boolean);
  /** Tasks a checkpoint without a known architecture (a bare base model) can be built for. */
  readonly baseTasks?: readonly Task[];
  /**
   * Pre-training `architectures` classes of the family (a base checkpoint with its MLM/RTD head), with what
   * they were trained for ('masked LM'): they have no task head, and resolveTask says so.
   */
  readonly pretraining?: Readonly<Record<string, string>>;
  /** Builds the model and its head for `ctx.task`; the heads in src/models/heads.ts do the head part. */
  build(ctx: GraphContext): TaskOutputs;
}
