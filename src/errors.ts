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
  // one line, and no control characters from a damaged input reach the terminal
  return msg.replace(/\s*\n\s*/g, ' ').replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '?').trim();
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new CancelledError();
}

/** Where an unexpected error should be reported, printed after "internal error". */
export const REPORT_HINT = 'please report it with the command you ran and the output of the same run with KEN_DEBUG=1 set';

/**
 * The one place a thrown value becomes what a user sees: the CLI's exit code and one line, the
 * extension's error notification. Our errors keep their message; anything else (a bug, or a
 * library failing in a way we did not foresee) is an "internal error" with how to report it, never a
 * bare JavaScript message.
 */
export function describeError(e: unknown): { kind: 'usage' | 'cancelled' | 'input' | 'internal'; exitCode: 1 | 2 | 130; message: string } {
  if (e instanceof UsageError) return { kind: 'usage', exitCode: 2, message: oneLine(e) };
  if (e instanceof CancelledError) return { kind: 'cancelled', exitCode: 130, message: oneLine(e) };
  if (e instanceof CheckpointError || e instanceof DataError) return { kind: 'input', exitCode: 1, message: oneLine(e) };
  const what = e instanceof Error ? `${e.name}: ${oneLine(e)}` : oneLine(e);
  return { kind: 'internal', exitCode: 1, message: `internal error (${what.slice(0, 300)}); ${REPORT_HINT}` };
}
