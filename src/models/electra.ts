// ELECTRA (model_type electra): electra.* encoder; heads classifier.dense / classifier.out_proj, classifier,
// qa_outputs; pre-training heads discriminator_predictions.*, generator_predictions.*, generator_lm_head.*.
import type { ModelFamily } from './types';
import type { FamilyGraph } from '../graph/types';
import { activation, linear } from '../graph/nn';
import { bertEmbeddings, bertEncoder, encoderTokenHeads, noHead } from './bert';
import { firstToken, sequenceClassification } from './heads';


// ---- inference graph (modeling_electra.py, eager attention) ----

const electraGraph: FamilyGraph = {
  architectures: {
    ElectraForSequenceClassification: 'text-classification',
    ElectraForTokenClassification: 'token-classification',
    ElectraForQuestionAnswering: 'question-answering',
  },
  pretraining: { ElectraForPreTraining: 'replaced-token detection', ElectraForMaskedLM: 'masked LM, the generator' },
  tokenTypeIds: true,
  build(ctx) {
    const { g } = ctx;
    // embeddings are embedding_size wide; embeddings_project maps them to hidden_size when they differ
    let x = bertEmbeddings(ctx);
    const project = ctx.base('embeddings_project');
    if (g.has(`${project}.weight`)) x = linear(g, x, project);
    const hidden = bertEncoder(ctx, x);
    if (ctx.task === 'text-classification') {
      // ElectraClassificationHead: out_proj(gelu(dense(<s>))), the exact GELU whatever hidden_act says
      const h = activation(g, linear(g, firstToken(ctx, hidden), 'classifier.dense'), 'gelu');
      return sequenceClassification(ctx, h, 'classifier.out_proj');
    }
    const out = encoderTokenHeads(ctx, hidden);
    if (out) return out;
    throw noHead(ctx, 'ELECTRA');
  },
};

export const electra: ModelFamily = {
  id: 'electra',
  modelTypes: ['electra'],
  prefixes: ['electra.'],
  taskHeads: /^(classifier|qa_outputs)\./,
  pretrainingHeads: /^(discriminator_predictions|generator_predictions|generator_lm_head)\./,
  layers: /^(electra\.)?encoder\.layer\.\d+\./,
  graph: electraGraph,
};
