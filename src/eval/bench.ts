// One labelled data set, read and tokenized once, evaluated against several models of the same
// folder (the fine-tuned model, its pruned versions, a sweep's in-memory models).
import type { DeviceChoice } from '../ken/worker-protocol';
import type { EvalResult } from '../report/report';
import { openClassifier } from './classifier';
import { loadDataset, type Dataset } from './dataset';
import { evaluate, type EvalProgress } from './evaluate';
import type { EncodedDataset } from './tokenize';
import { encodeDataset } from './tokenize-pool';

export interface EvalSpec {
  /** The labelled data set: .jsonl, .csv or .tsv. */
  data: string;
  textField?: string | undefined;
  textPairField?: string | undefined;
  labelField?: string | undefined;
  batchSize?: number | undefined;
  skipBadLines?: boolean | undefined;
  device?: DeviceChoice | undefined;
  threads?: number | undefined;
}

export class EvalBench {
  private constructor(readonly folder: string, readonly spec: EvalSpec, readonly dataset: Dataset, readonly encoded: EncodedDataset) {}

  /**
   * Reads and tokenizes the data set with the tokenizer and labels of the fine-tuned `folder`, whose
   * ONNX model must exist (a folder without one gets the error that says how to export it).
   */
  static async open(folder: string, spec: EvalSpec, signal?: AbortSignal): Promise<EvalBench> {
    const probe = await openClassifier(folder, undefined, { device: 'cpu', threads: 1 });
    try {
      const dataset = await loadDataset(spec.data, {
        labels: probe.labels,
        textField: spec.textField ?? 'text',
        textPairField: spec.textPairField,
        labelField: spec.labelField ?? 'label',
        skipBadLines: spec.skipBadLines ?? false,
        signal,
      });
      return new EvalBench(probe.folder, spec, dataset, await encodeDataset(probe.tokenizer, dataset, { signal }));
    } finally {
      await probe.close();
    }
  }

  /** Evaluates one model (an .onnx path, a folder, or ONNX bytes) of this folder on the data set. */
  async evaluate(model: string | Uint8Array, opts: { signal?: AbortSignal | undefined; onProgress?: ((p: EvalProgress) => void) | undefined } = {}): Promise<EvalResult> {
    const classifier = await openClassifier(model, this.folder, { device: this.spec.device ?? 'auto', threads: this.spec.threads });
    try {
      return await evaluate(classifier, this.encoded, { batchSize: this.spec.batchSize, signal: opts.signal, onProgress: opts.onProgress });
    } finally {
      await classifier.close();
    }
  }
}
