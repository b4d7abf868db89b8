// Tensor names as the families write them: task heads, numbered layers, stored layouts, whole-model prefixes,
// and the rule that finds a base tensor for a fine-tuned one by name. Family knowledge: the KEN planner and the
// LoRA merge both ask here.
import { FAMILIES, familyOf } from './registry';
import type { HfConfig, ModelFamily, StoredLayout } from './types';

// Without a config.json (a lone .safetensors or .onnx file) the family is unknown: these cover every
// registered family's task heads, numbered layers and whole-model prefixes.
const HEAD = /^(classifier|score|qa_outputs|pre_classifier|classification_head)\./;
const IN_LAYER = /(^|\.)(layer|layers|h|block|blocks)\.\d+\.|(^|\.)albert_layer_groups\.\d+\.albert_layers\.\d+\./;
const ALL_PREFIXES = [...new Set(FAMILIES.flatMap((f) => f.prefixes))].sort((a, b) => b.length - a.length);

/** Whether a fine-tuned tensor is a task head (its family's, or any family's when unknown). */
export function isHead(name: string, family?: ModelFamily): boolean {
  return (family?.taskHeads ?? HEAD).test(name);
}

/** Whether a tensor lies inside the numbered transformer blocks (what `--scope attention` keeps). */
export function inNumberedLayer(name: string, family?: ModelFamily): boolean {
  return (family?.layers ?? IN_LAYER).test(name);
}

/** How PyTorch stores a weight of this name: `conv1d` ([in, out], GPT-2) or `rows` (Linear, [out, in]). */
export function storedLayout(name: string, family?: ModelFamily): StoredLayout {
  const re = family ? family.conv1d : FAMILIES.find((f) => f.conv1d?.test(name))?.conv1d;
  return re?.test(name) ? 'conv1d' : 'rows';
}

/** The family of a fine-tuned model: its config.json, else its base's. */
export function familyFor(...configs: (HfConfig | undefined)[]): ModelFamily | undefined {
  for (const c of configs) {
    const f = familyOf(c);
    if (f) return f;
  }
  return undefined;
}

function normalize(name: string): string {
  return name.replace(/\.gamma$/, '.weight').replace(/\.beta$/, '.bias');
}

/**
 * Finds a base tensor by role: the same name, or the same name with one whole-model prefix (`bert.`,
 * `model.`, `transformer.`, ...) present on one side only, or (last) with one of the family's whole-model
 * prefixes swapped for another (Llama's QA model under `transformer.`, its base under `model.`); old `gamma`/`beta` LayerNorm names read as
 * `weight`/`bias`. Never a tensor under another module: `classifier.bias` does not match
 * `mask_predictions.classifier.bias`.
 */
export class NameIndex<V extends { name: string }> {
  private full = new Map<string, V>();
  /** `swapPrefixes`: allow the last rule (only when `prefixes` are one family's, never every family's). */
  constructor(views: readonly V[], private readonly prefixes: readonly string[], private readonly swapPrefixes = false) {
    for (const v of views) this.full.set(normalize(v.name), v);
  }
  find(name: string): V | undefined {
    const n = normalize(name);
    const exact = this.full.get(n);
    if (exact) return exact;
    for (const p of this.prefixes) {
      if (n.startsWith(p) && this.full.has(n.slice(p.length))) return this.full.get(n.slice(p.length));
    }
    for (const p of this.prefixes) {
      const v = this.full.get(p + n);
      if (v) return v;
    }
    // one family's two names for its base model (LlamaForQuestionAnswering's transformer.* against a
    // LlamaForCausalLM base's model.*): the whole-model prefix swapped, the rest of the name the same
    for (const p of this.swapPrefixes ? this.prefixes : []) {
      if (!n.startsWith(p)) continue;
      for (const q of this.prefixes) {
        const v = q !== p ? this.full.get(q + n.slice(p.length)) : undefined;
        if (v) return v;
      }
    }
    return undefined;
  }
}

/** The whole-model prefixes the name rule allows for a family (every family's when unknown). */
export function prefixesFor(family: ModelFamily | undefined): readonly string[] {
  return family ? [...family.prefixes].sort((a, b) => b.length - a.length) : ALL_PREFIXES;
}
