// One labelled data set, read and tokenized once, evaluated against several models of the same
// folder (the fine-tuned model, its pruned versions, a sweep's in-memory models). Single-label
// classification keeps its tokenization; the other tasks (multi-label, regression, token
// classification, question answering, causal LM) are evaluated by ken eval's task runner each time.
import type { DeviceChoice } from '../runtime/session';
import type { EvalResult } from '../shared/report';
import { stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { CONFIG_FILE, problemType, readConfig } from '../formats/hf-config';
import { openClassifier } from './classifier';
import { autoTask, evaluateTask, toEvalResult } from './tasks';
import type { GraphChoice, ModelInput } from './session';
import { loadDataset, type Dataset } from './dataset';
import { evaluate, type EvalProgress } from './evaluate';
import type { EncodedDataset } from './tokenize';
import { encodeDataset } from './tokenize-pool';
import { isAdapterPath, mergeAdapter, type MergedAdapter } from './adapter';
import type { ModelFolder } from '../checkpoint/types';

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
  /** The folder's ONNX export or the graph built from config.json (default auto). */
  graph?: GraphChoice | undefined;
  /** The split of a data set folder. */
  split?: string | undefined;
}

export class EvalBench {
  /** Set when the folder is a LoRA adapter: the merged model's temporary folder, which stands in for it. */
  private merged: MergedAdapter | undefined;

  private constructor(readonly folder: string, readonly spec: EvalSpec, readonly dataset: Dataset | undefined, readonly encoded: EncodedDataset | undefined) {}

  /** What the bench wants the user to know (a LoRA adapter merged for evaluation, and where its labels came from). */
  get note(): string | undefined {
    return this.merged?.note;
  }

  /** Removes the merged adapter's temporary folder, if any. */
  async close(): Promise<void> {
    await this.merged?.dispose();
    this.merged = undefined;
  }

  /** A model of the adapter folder, as the merged folder that stands in for it. */
  private stand(model: ModelInput): ModelInput {
    const m = this.merged;
    if (!m) return model;
    if (typeof model === 'string') return resolve(model) === m.adapter ? m.folder : model;
    if (model instanceof Uint8Array) return model;
    return resolve(model.folder) === m.adapter ? { ...model, folder: m.folder } : model;
  }

  /** Whether the folder's task is single-label classification (else ken eval's task runner scores it). */
  private static async singleLabel(folder: string): Promise<boolean> {
    const config = await readConfig(folder);
    const file = join(folder, CONFIG_FILE);
    // no known architecture: an export decides its task from its outputs (ken eval); opening the model says the rest
    return autoTask(config, file, []) === 'text-classification' && problemType(config ?? {}, file) === 'single_label_classification';
  }

  /**
   * Reads and tokenizes the data set with the tokenizer and labels of the fine-tuned `folder` (its
   * ONNX export, or the graph built from its config.json and safetensors).
   */
  static async open(folder: string, spec: EvalSpec, signal?: AbortSignal, opts: { adapterBase?: ModelFolder | undefined } = {}): Promise<EvalBench> {
    if (await isAdapterPath(folder)) {
      // a LoRA adapter: evaluated as the merged model, written once into a temporary folder
      const merged = await mergeAdapter(resolve(folder), { signal, base: opts.adapterBase });
      try {
        const bench = await EvalBench.open(merged.folder, spec, signal);
        bench.merged = merged;
        return bench;
      } catch (e) {
        await merged.dispose();
        throw e;
      }
    }
    const dir = (await stat(folder).then((st) => st.isDirectory(), () => false)) ? folder : dirname(folder);
    if (!(await EvalBench.singleLabel(dir))) return new EvalBench(resolve(dir), spec, undefined, undefined);
    const probe = await openClassifier(folder, undefined, { device: 'cpu', threads: 1, graph: spec.graph });
    try {
      const dataset = await loadDataset(spec.data, {
        labels: probe.labels,
        textField: spec.textField ?? 'text',
        textPairField: spec.textPairField,
        labelField: spec.labelField ?? 'label',
        skipBadLines: spec.skipBadLines ?? false,
        split: spec.split,
        signal,
      });
      return new EvalBench(probe.folder, spec, dataset, await encodeDataset(probe.tokenizer, dataset, { signal }));
    } finally {
      await probe.close();
    }
  }

  /** Evaluates one model of this folder (an .onnx path, a folder, ONNX bytes, or its weights with replacements) on the data set. */
  async evaluate(given: ModelInput, opts: { signal?: AbortSignal | undefined; onProgress?: ((p: EvalProgress) => void) | undefined } = {}): Promise<EvalResult> {
    const model = this.stand(given);
    const named = typeof given === 'string' && this.merged && model !== given ? given : undefined;
    const result = await this.run(model, opts);
    if (named) result.model = resolve(named);
    return result;
  }

  private async run(model: ModelInput, opts: { signal?: AbortSignal | undefined; onProgress?: ((p: EvalProgress) => void) | undefined }): Promise<EvalResult> {
    if (!this.encoded) {
      const r = await evaluateTask(model, {
        data: this.spec.data, graph: this.spec.graph, batchSize: this.spec.batchSize, device: this.spec.device ?? 'auto', threads: this.spec.threads,
        skipBadLines: this.spec.skipBadLines, split: this.spec.split, signal: opts.signal, onProgress: opts.onProgress,
        fields: { text: this.spec.textField, textPair: this.spec.textPairField, label: this.spec.labelField },
      }, this.folder);
      return toEvalResult(r);
    }
    const classifier = await openClassifier(model, this.folder, { device: this.spec.device ?? 'auto', threads: this.spec.threads, graph: this.spec.graph });
    try {
      return await evaluate(classifier, this.encoded, { batchSize: this.spec.batchSize, signal: opts.signal, onProgress: opts.onProgress });
    } finally {
      await classifier.close();
    }
  }
}
