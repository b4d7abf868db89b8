// RoBERTa, XLM-RoBERTa and CamemBERT (model_type roberta, xlm-roberta, camembert; CamembertFor* hold a `roberta` module and are built as RobertaFor*): roberta.* encoder; heads classifier.dense /
// classifier.out_proj, classifier (token classification), qa_outputs; pre-training head lm_head.*.
import type { ModelFamily } from './types';
import type { Value } from '../graph/builder';
import type { FamilyGraph, GraphContext } from '../graph/types';
import { linear } from '../graph/nn';
import { bertEmbeddings, bertEncoder, encoderTokenHeads, noHead } from './bert';
import { firstToken, sequenceClassification } from './heads';


// ---- inference graph (modeling_roberta.py / modeling_xlm_roberta.py, eager attention) ----

/**
 * RoBERTa's position ids: padding_idx + the running count of non-padding tokens, and padding_idx
 * itself at padding (create_position_ids_from_input_ids), padding_idx = config.json pad_token_id.
 */
function robertaPositions(ctx: GraphContext): Value {
  const { g } = ctx;
  const pad = ctx.config.int('pad_token_id', 1);
  const ids = ctx.inputs.inputIds;
  const notPad = g.op('Cast', [g.op('Not', [g.op('Equal', [ids, g.i64([pad], [])])])], { to: 7 });
  const count = g.op('Mul', [g.op('CumSum', [notPad, g.i64([1], [])]), notPad]);
  return g.op('Add', [count, g.i64([pad], [])], undefined, { hint: 'position_ids' });
}

const robertaGraph: FamilyGraph = {
  architectures: {
    RobertaForSequenceClassification: 'text-classification',
    RobertaForTokenClassification: 'token-classification',
    RobertaForQuestionAnswering: 'question-answering',
    XLMRobertaForSequenceClassification: 'text-classification',
    XLMRobertaForTokenClassification: 'token-classification',
    XLMRobertaForQuestionAnswering: 'question-answering',
    CamembertForSequenceClassification: 'text-classification',
    CamembertForTokenClassification: 'token-classification',
    CamembertForQuestionAnswering: 'question-answering',
  },
  pretraining: { RobertaForMaskedLM: 'masked LM', XLMRobertaForMaskedLM: 'masked LM', CamembertForMaskedLM: 'masked LM' },
  // token_type_ids are never fed: Hugging Face uses its all-zero buffer (RoBERTa's tokenizers give none)
  tokenTypeIds: false,
  build(ctx) {
    const hidden = bertEncoder(ctx, bertEmbeddings(ctx, { positionIds: robertaPositions(ctx) }));
    if (ctx.task === 'text-classification') {
      // RobertaClassificationHead: out_proj(tanh(dense(<s>)))
      const x = ctx.g.op('Tanh', [linear(ctx.g, firstToken(ctx, hidden), 'classifier.dense')]);
      return sequenceClassification(ctx, x, 'classifier.out_proj');
    }
    const out = encoderTokenHeads(ctx, hidden);
    if (out) return out;
    throw noHead(ctx, 'RoBERTa');
  },
};

export const roberta: ModelFamily = {
  id: 'roberta',
  modelTypes: ['roberta', 'xlm-roberta', 'camembert'],
  prefixes: ['roberta.'],
  taskHeads: /^(classifier|qa_outputs)\./,
  pretrainingHeads: /^lm_head\./,
  layers: /^(roberta\.)?encoder\.layer\.\d+\./,
  graph: robertaGraph,
};
