// Wanda's activations: the L2 norm of each input column of every Linear/Conv1D whose weight is pruned,
// over calibration lines run through the inference graph the tool builds from config.json.
import { UsageError } from '../errors';
import type { ModelFolder } from '../formats/folder';

export interface CalibrationSpec {
  /** Lines of the task's data (any data format `ken eval` reads). */
  data: string;
  /** How many lines (the first ones); default 128. */
  lines?: number | undefined;
  textField?: string | undefined;
  textPairField?: string | undefined;
  labelField?: string | undefined;
  split?: string | undefined;
  batchSize?: number | undefined;
  threads?: number | undefined;
}

export const DEFAULT_CALIBRATION_LINES = 128;

export interface ActivationNorms {
  /** Tensor name (as planned) -> the norm of each input column (length n of its KEN rows). */
  norms: Map<string, Float32Array>;
  /** Lines the norms were taken over. */
  lines: number;
}

/** The input-activation norms of `tensors` of the fine-tuned model over the calibration lines. */
export async function inputActivationNorms(ft: ModelFolder, tensors: readonly string[], spec: CalibrationSpec, signal?: AbortSignal): Promise<ActivationNorms> {
  void ft; void tensors; void spec; void signal;
  throw new UsageError('wanda: activation norms are not built yet');
}
