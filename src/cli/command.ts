// What every `ken` subcommand is (its summary, usage, options and run) and the terminal it runs against.
// Declared apart from the dispatcher (main.ts) so the commands need not import it.
import type { ParseArgsConfig } from 'node:util';

/** The terminal a command writes to, and the signal that interrupts it. */
export interface CliIo {
  out: (s: string) => void;
  err: (s: string) => void;
  /** Whether stderr shows progress. */
  progress: boolean;
  signal: AbortSignal;
}

/** One subcommand: `ken <name> --help` prints its usage; `run` gets the parsed arguments. */
export interface Command {
  summary: string;
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
  run(args: { values: Record<string, string | boolean | string[] | undefined>; positionals: string[] }, io: CliIo): Promise<void>;
}
