// A model as users have it, opened (src/checkpoint/folder.ts `openModel`): what the planner, the graph builder,
// evaluation and the workflows read from it. Types only, so every file of this folder can name them.
import type { OnnxModel } from '../formats/onnx';
import type { SafetensorsCheckpoint } from '../formats/virtual';

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
  /** Set when the folder is a LoRA adapter merged into its base. */
  lora?: LoraInfo;
  /** Side files that come from another folder (a LoRA adapter's base): name -> folder. */
  auxFrom?: Map<string, string>;
  /** What opening the model decided that the user should read ("a shard given alone means its folder"). */
  notes?: string[];
  /** Side files left out (a symlink out of the folder, a private-looking name), one line each. */
  warnings?: string[];
}

export interface OpenOptions {
  /** For a LoRA adapter folder: the base to merge it into (else its adapter_config.json's base_model_name_or_path). */
  adapterBase?: ModelFolder | undefined;
  /** Refuse a LoRA adapter (a base model is never an adapter). */
  refuseAdapter?: boolean;
}

/** A LoRA adapter merged into its base (PEFT's adapter_config.json, as read). */
export interface LoraInfo {
  r: number;
  alpha: number;
  rslora: boolean;
  /** The target module names (last component: q_proj, c_attn, embed_tokens) and modules_to_save. */
  modules: string[];
  modulesToSave: string[];
  adapterBytes: number;
  /** Parameters the adapter file holds: what its training changed (LoRA A and B matrices, modules_to_save). */
  trainableParams: number;
  adapterDir: string;
}
