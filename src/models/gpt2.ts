// GPT-2 (model_type gpt2): transformer.* (wte, wpe, h.N, ln_f); the hub's base checkpoints store the same
// names without the prefix. Conv1D weights are stored [in, out]. Heads: score (sequence classification),
// classifier (token classification), qa_outputs; lm_head is tied to wte.
import type { HfConfig, ModelFamily } from './types';

export const gpt2: ModelFamily = {
  id: 'gpt2',
  modelTypes: ['gpt2'],
  prefixes: ['transformer.'],
  taskHeads: /^(score|classifier|qa_outputs)\./,
  pretrainingHeads: /^$/,
  layers: /^(transformer\.)?h\.\d+\./,
  conv1d: /(^|\.)(attn\.c_attn|attn\.c_proj|mlp\.c_fc|mlp\.c_proj|attn\.q_attn)\.weight$/,
  tieGroups: (config: HfConfig) => (config['tie_word_embeddings'] === false ? [] : [['transformer.wte.weight', 'lm_head.weight']]),
};
