// ken-report.json: what a prune did, tensor by tensor. The CLI writes it, the extension and the
// HTML report read it; the webview receives it through the protocol.
import type { ClassMetrics, TaskMetrics } from './metrics';

/** The report's file in a KEN output folder. */
export const REPORT_FILE = 'ken-report.json';

export type TensorStatus = 'pruned' | 'no-base' | 'head' | 'excluded' | 'kept-all';

export interface TensorReport {
  /** Checkpoint name (the safetensors key, or the base's name for an ONNX weight matched by content). */
  name: string;
  /** Shape in KEN layout: the PyTorch layout, rows = its first axis (GPT-2 Conv1D: input units). */
  shape: number[];
  dtype: string;
  rows: number;
  /** Fine-tuned values kept. */
  kept: number;
  total: number;
  status: TensorStatus;
  /** Names of this tensor in the fine-tuned files (an ONNX initializer may be `onnx::MatMul_606`). */
  stored?: { format: 'safetensors' | 'onnx'; name: string; transposed: boolean }[];
  /** The base tensor used, or why none was. */
  base?: string;
  note?: string;
}

export interface EvalResult {
  /** Fraction of samples classified right. */
  accuracy: number;
  macroF1: number;
  perClass: Record<string, ClassMetrics>;
  /** confusion[true][predicted], in `labels` order. */
  confusion: number[][];
  labels: string[];
  samples: number;
  skipped?: number;
  executionProvider: string;
  /** The WebGPU adapter (vendor and device name), when it ran on WebGPU. */
  adapter?: string;
  seconds: number;
  model?: string;
  data?: string;
  /** Every measure of the task by its fixed name (src/eval/metrics); `ken eval --json` prints these. */
  metrics?: TaskMetrics;
  /** Regression: true and predicted values (at most 5,000 samples), for the Metrics view's scatter plot. */
  scatter?: { truth: number[]; predicted: number[] };
  /** Which graph ran: the folder's ONNX export, or the one built from config.json. */
  graph?: 'built' | 'export';
}

export interface SweepPoint {
  k: number;
  keptParams: number;
  keptRatio: number;
  accuracy: number;
  macroF1: number;
  /** The sweep's metric (--metric) at this k, and every scalar metric. */
  value?: number;
  metrics?: Record<string, number>;
  /** The pruning method (src/methods); absent in sweeps from before methods: ken. */
  method?: string;
  /** The seed of a random or dare run. */
  seed?: number;
  /** Bytes of the subnetwork at this point: its tensors' values, positions and whole tensors, and the files' other bytes (the few-KB JSON header aside). */
  subnetworkBytes?: number;
}

/** A seeded method (random, dare) at one k over its seeds: the metric's mean and spread. */
export interface MethodAggregate {
  method: string;
  k: number;
  runs: number;
  /** Mean of the sweep's metric over the seeds. */
  mean: number;
  /** Sample standard deviation over the seeds (0 for one run). */
  spread: number;
  min: number;
  max: number;
  keptParams: number;
  subnetworkBytes: number;
}

/** Per method, the smallest k within --max-drop (the mean over seeds for seeded methods). */
export interface MethodRecommendation {
  method: string;
  k?: number;
  keptParams?: number;
  subnetworkBytes?: number;
  /** The metric there (the mean for seeded methods). */
  value?: number;
  /** Why there is none. */
  note?: string;
}

/** A PEFT adapter of the same task on the same base, as one point beside the pruning methods. */
export interface AdapterPoint {
  path: string;
  /** The sweep's metric, and every scalar metric, of the merged model. */
  value: number;
  metrics: Record<string, number>;
  /** Parameters the adapter trains (LoRA A and B matrices and its modules_to_save). */
  trainableParams: number;
  /** The adapter's weight files' bytes. */
  bytes: number;
}

/** What a sweep keeps for the panel and reports: the curve of every method, with the reference. */
export interface SweepRecord {
  finetunedAccuracy: number;
  points: SweepPoint[];
  metric?: string;
  finetunedValue?: number;
  /** The methods swept, in the order asked (absent: ken alone). */
  methods?: string[];
  /** Seeded methods over their seeds, per k. */
  aggregates?: MethodAggregate[];
  recommendations?: MethodRecommendation[];
  adapter?: AdapterPoint;
  /** The fine-tuned model's parameters, the reference the kept counts are read against. */
  totalParams?: number;
}

export interface KenReport {
  k: number;
  /** The KDE's kernel (scikit-learn's name); absent in reports from before kernels: gaussian. */
  kernel?: string;
  /** The pruning method (src/methods: ken, delta-magnitude, magnitude, random, dare, wanda); absent: ken. */
  method?: string;
  /** The seed of random and dare. */
  seed?: number;
  /** DARE: the kept changes were rescaled by n/k (kept values are not the fine-tuned ones). */
  rescaled?: boolean;
  /** Wanda: tensors scored without activations (no Linear input measured), by delta-magnitude. */
  fallback?: { method: string; tensors: string[] };
  /** Wanda: the calibration lines the activation norms were taken over. */
  calibration?: { data: string; lines: number };
  backend: string;
  executionProvider: string;
  /** The WebGPU adapter (vendor and device name), when KEN's densities ran on WebGPU. */
  adapter?: string;
  /** Densities computed, and those summed again exactly in float64 because they lay within their
   *  pass's error bound of a rounding boundary (the float32 WebGPU pass, the js fast pass). */
  densityChecks?: { densities: number; rechecked: number };
  /** The js backend's density pass: WebAssembly SIMD or TypeScript. */
  densityEngine?: string;
  seconds: number;
  totalParams: number;
  keptParams: number;
  keptRatio: number;
  tensors: TensorReport[];
  bytes?: { checkpoint: number; subnetwork: number };
  accuracy?: { before: EvalResult; after: EvalResult };
  sweep?: SweepRecord;
  /** The model family (config.json model_type's registry entry), when known. */
  family?: string;
  /** config.json `problem_type` (regression, single_label_classification, multi_label_classification). */
  problemType?: string;
  /** What the tool decided that the user should read (a shard given alone, an inferred layout, ...). */
  notes?: string[];
  /** A LoRA adapter merged into its base before pruning. */
  lora?: { r: number; alpha: number; modules: string[]; rslora: boolean; adapterBytes: number; base: string };
  /** ONNX initializers that are no weight KEN can use (integer constants), left as they are. */
  unmappedInitializers?: string[];
  /** Side files of the inputs left out of the output (a symlink out of the folder, a private-looking name). */
  warnings?: string[];
  /** Provenance, for people and for the panel. */
  tool?: string;
  scope?: string;
  finetuned?: string;
  base?: string;
  formats?: string[];
  threads?: number;
  createdAt?: string;
  /**
   * Present when this is no prune but a comparison (`ken viz --base`, KEN: Compare with Base…): kept
   * = where the model differs from the base; `k` is 0. `unpaired`: tensors of either side with no
   * counterpart of the same name and shape.
   */
  compare?: { model: string; base: string; unpaired: { name: string; side: 'model' | 'base'; reason: string }[] };
}

/** The numbered layer a tensor belongs to (`...layer.3...` -> 3), or undefined. */
export function layerOf(name: string): number | undefined {
  const m = /(?:^|\.)(?:layer|layers|h|block|blocks)\.(\d+)\./.exec(name);
  return m ? Number(m[1]) : undefined;
}

/** The tensor's name with its layer number replaced by `*`: the same matrix across layers. */
export function layerPattern(name: string): string {
  return name.replace(/((?:^|\.)(?:layer|layers|h|block|blocks)\.)\d+\./, '$1*.');
}

/** What `ken sweep` measured: the fine-tuned model, then every method at each k pruned and evaluated. */
export interface SweepResult {
  finetunedAccuracy: number;
  /** The metric followed, and its fine-tuned value. */
  metric: string;
  finetunedValue: number;
  before: EvalResult;
  /** The methods swept, in the order asked. */
  methods: string[];
  /** The k values asked for (points also hold the k a --max-drop search tried). */
  ks: number[];
  /** Every point evaluated: by method (in `methods` order), k, then seed. */
  points: SweepPoint[];
  /** Seeded methods at each k over their seeds. */
  aggregates: MethodAggregate[];
  /** The first method's smallest k within maxDrop, when asked for and found (KEN's, when swept alone). */
  recommended?: number;
  /** Why the first method has no recommendation, when maxDrop was given. */
  note?: string;
  /** Per method, the smallest k within maxDrop (when asked for). */
  recommendations?: MethodRecommendation[];
  /** The method keeping the fewest parameters within maxDrop, and the one with the smallest subnetwork. */
  best?: { fewestParams: MethodRecommendation; smallestSubnetwork: MethodRecommendation };
  /** The fine-tuned model's parameters (every tensor of the plan). */
  totalParams: number;
  /** The adapter given with --adapter, merged and evaluated. */
  adapter?: AdapterPoint;
  kernel: string;
  backend: string;
  executionProvider: string;
  evalProvider: string;
  seconds: number;
}
