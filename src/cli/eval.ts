// `ken eval`: a classifier's accuracy, macro-F1, per-class figures and confusion matrix on a labelled data set.
import { DEFAULT_BATCH_SIZE, encodeDataset, evaluate, loadDataset, openClassifier } from '../eval';
import type { EvalResult } from '../report/report';
import { choice, fmt, intOption, onePositional, required, str } from './args';
import type { Command } from './main';
import { evalSummary } from '../report/text';
import { progressBar } from './progress';

export const evalCommand: Command = {
  summary: 'measure a classifier\'s accuracy on a labelled data set (JSONL, CSV, TSV)',
  usage: 'ken eval <model-dir> --data <file> [--text-field text] [--text-pair-field NAME] [--label-field label] [--batch-size N] [--skip-bad-lines] [--device auto|cuda|cpu] [--threads N] [--json]',
  options: {
    data: { type: 'string', short: 'd' },
    'text-field': { type: 'string' },
    'text-pair-field': { type: 'string' },
    'label-field': { type: 'string' },
    'batch-size': { type: 'string' },
    'skip-bad-lines': { type: 'boolean' },
    device: { type: 'string' },
    threads: { type: 'string' },
    json: { type: 'boolean' },
  },
  async run({ values, positionals }, io) {
    const model = onePositional(positionals, 'model folder or .onnx file');
    const dataPath = required(values, 'data', 'the labelled data set: .jsonl, .csv or .tsv');
    const batchSize = intOption(values, 'batch-size', '--batch-size', DEFAULT_BATCH_SIZE);
    const device = choice(values, 'device', ['auto', 'cuda', 'cpu'] as const, 'auto');
    const threads = str(values, 'threads') === undefined ? undefined : intOption(values, 'threads', '--threads');
    const classifier = await openClassifier(model, undefined, { device, threads });
    try {
      const data = await loadDataset(dataPath, {
        labels: classifier.labels,
        textField: str(values, 'text-field') ?? 'text',
        textPairField: str(values, 'text-pair-field'),
        labelField: str(values, 'label-field') ?? 'label',
        skipBadLines: values['skip-bad-lines'] === true,
        signal: io.signal,
      });
      const encoded = await encodeDataset(classifier.tokenizer, data, { signal: io.signal });
      const bar = progressBar('eval', 'samples', io.progress);
      let result: EvalResult;
      try {
        result = await evaluate(classifier, encoded, { batchSize, signal: io.signal, onProgress: (p) => bar.update(p.done, p.total) });
      } finally {
        bar.stop();
      }
      if (values['json']) {
        io.out(JSON.stringify(result, null, 2) + '\n');
        return;
      }
      if (data.skipped) io.err(`skipped ${data.skipped} bad lines; first: ${data.skippedReasons.join('; ')}\n`);
      const cut = encoded.truncated ? `\n${fmt(encoded.truncated)} of ${fmt(encoded.samples.length)} samples were cut to the model's ${encoded.maxLength} tokens\n` : '';
      io.out(evalSummary(result) + cut);
    } finally {
      await classifier.close();
    }
  },
};
