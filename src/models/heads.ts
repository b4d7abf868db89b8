// Task heads of the built inference graphs, shared by every family (see src/graph/index.ts).
// A family computes its hidden states (and, for sequence classification, its pooled vector the way
// its *ForSequenceClassification does); these turn them into the outputs `ken eval` reads.
import { CheckpointError } from '../errors';
import type { Value } from '../graph/builder';
import { linear, tokenAt } from '../graph/nn';
import type { GraphContext, TaskOutputs } from '../graph/types';

function labelsOf(ctx: GraphContext, prefix: string): number {
  const shape = ctx.g.shape(`${prefix}.weight`);
  const n = shape[0];
  if (shape.length !== 2 || n === undefined) throw new CheckpointError(`${ctx.config.file}: ${prefix}.weight has shape [${shape.join(', ')}]; expected [num_labels, hidden]`);
  return n;
}

/** A Linear classifier (`prefix`, default `classifier`) on the pooled vector [batch, hidden]: sequence classification logits. */
export function sequenceClassification(ctx: GraphContext, pooled: Value, prefix = 'classifier'): TaskOutputs {
  return { task: 'text-classification', logits: linear(ctx.g, pooled, prefix), numLabels: labelsOf(ctx, prefix) };
}

/** The first token's hidden state ([CLS], <s>): [batch, hidden]. */
export function firstToken(ctx: GraphContext, hidden: Value): Value {
  return tokenAt(ctx.g, hidden, 0);
}

/**
 * The hidden state at each line's last non-padding token, as Hugging Face's decoder classifiers pool:
 * the rightmost position whose id is not config.json's pad_token_id (within the attention mask); with
 * no pad_token_id, the last position the attention mask covers.
 */
export function lastNonPadToken(ctx: GraphContext, hidden: Value): Value {
  const { g } = ctx;
  const ids = ctx.inputs.inputIds;
  const mask = ctx.inputs.attentionMask;
  const pad = ctx.config.raw['pad_token_id'];
  let keep = g.op('Cast', [mask], { to: 7 });
  if (typeof pad === 'number') {
    const notPad = g.op('Cast', [g.op('Not', [g.op('Equal', [ids, g.i64([pad], [])])])], { to: 7 });
    keep = g.op('Mul', [keep, notPad]);
  }
  const n = g.op('Gather', [g.op('Shape', [ids]), g.i64([1], [])], { axis: 0 });
  const pos = g.op('Range', [g.i64([0], []), n, g.i64([1], [])]);
  const last = g.op('ArgMax', [g.op('Mul', [keep, pos])], { axis: 1, keepdims: 1 }, { hint: 'last_token' }); // [batch, 1]
  const idx = g.op('Unsqueeze', [last, g.i64([2])]); // [batch, 1, 1]
  const hiddenSize = g.op('Gather', [g.op('Shape', [hidden]), g.i64([2], [])], { axis: 0 });
  const target = g.op('Concat', [g.i64([1, 1]), g.op('Unsqueeze', [hiddenSize, g.i64([0])])], { axis: 0 });
  const expanded = g.op('Expand', [idx, target]); // [batch, 1, hidden]
  const picked = g.op('GatherElements', [hidden, expanded], { axis: 1 }); // [batch, 1, hidden]
  return g.op('Squeeze', [picked, g.i64([1])], undefined, { hint: 'pooled' });
}

/** A Linear classifier on every token: [batch, sequence, num_labels]. */
export function tokenClassification(ctx: GraphContext, hidden: Value, prefix = 'classifier'): TaskOutputs {
  return { task: 'token-classification', logits: linear(ctx.g, hidden, prefix), numLabels: labelsOf(ctx, prefix) };
}

/** `qa_outputs` (Linear hidden -> 2) split into start and end logits [batch, sequence]. */
export function questionAnswering(ctx: GraphContext, hidden: Value, prefix = 'qa_outputs'): TaskOutputs {
  const { g } = ctx;
  const n = labelsOf(ctx, prefix);
  if (n !== 2) throw new CheckpointError(`${ctx.config.file}: ${prefix}.weight gives ${n} outputs; question answering needs 2 (start, end)`);
  const logits = linear(g, hidden, prefix);
  const [start, end] = g.opN('Split', [logits, g.i64([1, 1])], 2, { axis: -1 }, { hint: 'qa_split' });
  return {
    task: 'question-answering',
    startLogits: g.op('Squeeze', [start!, g.i64([-1])], undefined, { hint: 'start_logits' }),
    endLogits: g.op('Squeeze', [end!, g.i64([-1])], undefined, { hint: 'end_logits' }),
  };
}

/**
 * Per-token log-probabilities from LM logits [batch, sequence, vocab]:
 * token_logprobs[b, i] = log_softmax(logits[b, i])[ids[b, i + 1]], shape [batch, sequence - 1].
 */
export function causalLm(ctx: GraphContext, logits: Value): TaskOutputs {
  const { g } = ctx;
  const ids = ctx.inputs.inputIds;
  const big = 2 ** 62;
  const head = g.op('Slice', [logits, g.i64([0]), g.i64([-1]), g.i64([1])], undefined, { hint: 'lm_logits_head' });
  const logp = g.op('LogSoftmax', [head], { axis: -1 }, { hint: 'lm_logprobs' });
  const next = g.op('Slice', [ids, g.i64([1]), g.i64([big]), g.i64([1])], undefined, { hint: 'next_ids' });
  const picked = g.op('GatherElements', [logp, g.op('Unsqueeze', [next, g.i64([-1])])], { axis: 2 });
  const out = g.op('Squeeze', [picked, g.i64([-1])], undefined, { hint: 'token_logprobs' });
  return { task: 'causal-lm', tokenLogprobs: g.computeType === 'float32' ? out : g.op('Cast', [out], { to: 1 }) };
}
