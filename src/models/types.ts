// What the tool knows about one model family (one file per family in this folder, registered in
// registry.ts). The core asks the registry and never branches on model_type elsewhere.
//
// Two kinds of knowledge live in a family file, each filled by the part of the tool that needs it:
// - pruning: whole-model prefixes, task heads, pre-training heads, numbered layers, stored layouts, ties;
// - inference: the graph for each task head (added by src/graph; see FamilyGraph there).

import type { FamilyGraph } from '../graph/types';

/** A parsed config.json. */
export type HfConfig = Readonly<Record<string, unknown>>;

/** How KEN rows lie in a stored weight: `rows` = first axis (torch Linear, [out, in]); `conv1d` = GPT-2's Conv1D, stored [in, out]. */
export type StoredLayout = 'rows' | 'conv1d';

export interface ModelFamily {
  /** Short id, also the file name (bert, gpt2, llama, ...). */
  readonly id: string;
  /** config.json `model_type` values served by this file. */
  readonly modelTypes: readonly string[];
  /** Whole-model prefixes a task model puts before the base model's names (`bert.`), longest first. */
  readonly prefixes: readonly string[];
  /** Fine-tuning task heads (kept fine-tuned unless --include-head), matched on the full tensor name. */
  readonly taskHeads: RegExp;
  /** Pre-training heads found in base checkpoints (MLM, RTD, ...): never the base of a task head. */
  readonly pretrainingHeads: RegExp;
  /** Tensors inside the numbered transformer blocks (what `--scope attention` keeps). */
  readonly layers: RegExp;
  /** Weights stored transposed relative to torch Linear (GPT-2 Conv1D). Defaults to none. */
  readonly conv1d?: RegExp;
  /** Names that hold copies of one weight (T5's shared / encoder.embed_tokens / decoder.embed_tokens, tied LM heads). */
  readonly tieGroups?: (config: HfConfig) => readonly (readonly string[])[];
  /** The inference graph built from config.json (src/graph); absent where only an ONNX export evaluates. */
  readonly graph?: FamilyGraph;
}
