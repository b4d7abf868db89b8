// The small set of errors a user can see. Each carries a one-line message that names the file,
// tensor, row or line at fault; the CLI and the extension render them the same way.

/** Wrong arguments or settings: the CLI exits with 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** A checkpoint, model or data file that cannot be used as it is: the CLI exits with 1. */
export class CheckpointError extends Error {
  override readonly name: string = 'CheckpointError';
}

/**
 * An output that cannot be written (disk full, quota, permissions): the message names the file. Exit 1.
 * A kind of CheckpointError, so that every place that renders those renders it the same way.
 */
export class OutputError extends CheckpointError {
  override readonly name = 'OutputError';
}

/** A labelled data set line that cannot be read. */
export class DataError extends Error {
  override readonly name = 'DataError';
}



/** The user (or a closed watcher) cancelled the work. */
export class CancelledError extends Error {
  override readonly name = 'CancelledError';
  constructor(message = 'cancelled') {
    super(message);
  }
}

export type KenError = UsageError | CheckpointError | DataError | OutputError | CancelledError;

export function isKenError(e: unknown): e is KenError {
  return e instanceof UsageError || e instanceof CheckpointError || e instanceof DataError || e instanceof OutputError || e instanceof CancelledError;
}

/** One line for a user: our errors as they are, anything else with its message only. */
export function oneLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.replace(/\s*\n\s*/g, ' ').trim();
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new CancelledError();
}
