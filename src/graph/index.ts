/**
 * Inference graphs built from config.json: any Hugging Face folder (config.json + model.safetensors or
 * shards) evaluates as it is, with no ONNX export.
 *
 * How it fits together
 * - `GraphBuilder` (builder.ts) writes an ONNX ModelProto with protobufjs: `g.input`, `g.op(type, inputs,
 *   attrs)`, small constants (`g.i64`, `g.scalar`, `g.floats`), and `g.weight(name)`, which adds the
 *   checkpoint tensor `name` as an external-data initializer pointing at its byte range in its own
 *   safetensors file (every shard; nothing is copied) and casts F16/BF16 to the compute type in-graph.
 *   Tensors that changed (a pruned model, a sweep's k) come from memory: `CheckpointWeights` (weights.ts)
 *   takes `overrides` (name -> stored bytes), written into the graph's bytes as raw data (onnxruntime
 *   1.30 takes in-memory external data only when every external file is in memory, which would copy
 *   the untouched weights too).
 * - nn.ts holds the layers families share (linear, layerNorm, residualLayerNorm, activation per `hidden_act`,
 *   embedding, positions, additiveMask, selfAttention, tokenAt), and the token packing of the encoders:
 *   `tokenLayout` from the attention mask, `packTokens` after the embeddings (the token-wise layers then
 *   never compute padding), `unpackTokens` for attention and at the end. Add a layer there when two
 *   families need it.
 * - A family file (src/models/<family>.ts) adds its graph as the `graph` field of its ModelFamily, a
 *   `FamilyGraph` (types.ts):
 *     architectures  config.json `architectures` class -> Task (BertForSequenceClassification -> 'text-classification')
 *     tokenTypeIds   whether the graph takes a token_type_ids input
 *     baseTasks      tasks a bare base checkpoint (no known architecture) can run, e.g. ['causal-lm'] for GPT-2
 *     build(ctx)     computes the hidden states from ctx.inputs with ctx.g, then returns a head's TaskOutputs
 *   `ctx.base(name)` maps a base-model tensor name to the checkpoint's (`bert.` + name, or name itself);
 *   `ctx.config` reads config.json with errors that name the key.
 * - Heads (src/models/heads.ts) plug in at the end of build(): `sequenceClassification(ctx, pooled, prefix)`
 *   on the family's pooled vector (firstToken, lastNonPadToken, or the family's own pooler/dense head),
 *   `tokenClassification(ctx, hidden)`, `questionAnswering(ctx, hidden)`, `causalLm(ctx, vocabLogits)`.
 *   Their outputs are fixed per task (types.ts `TaskOutputs`): `logits`, `start_logits`/`end_logits`,
 *   `token_logprobs`; the evaluator reads those names, whatever the family.
 * - `buildGraph` (src/models/build.ts) picks the family by `model_type`, the task by `--task` or `architectures`,
 *   declares the inputs (int64 input_ids, attention_mask [, token_type_ids], [batch, sequence]) and
 *   returns the model bytes with what the session needs (`sessionExternalData`).
 */
export { GraphBuilder, type ComputeType, type Value } from './builder';
export { ConfigReader, TASKS, type FamilyGraph, type GraphContext, type Task, type TaskOutputs } from './types';
export { CheckpointWeights, type MemoryFile, type WeightSource } from './weights';
