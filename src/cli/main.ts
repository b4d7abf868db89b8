// The `ken` command. Exit codes: 0 success, 1 bad input (one-line message), 2 usage, 130 interrupted.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError, describeError, oneLine } from '../errors';
import { VERSION } from '../version';
import { commands } from './commands';

export interface CliIo {
  out: (s: string) => void;
  err: (s: string) => void;
  /** Whether stderr shows progress. */
  progress: boolean;
  signal: AbortSignal;
}

export interface Command {
  summary: string;
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
  run(args: { values: Record<string, string | boolean | string[] | undefined>; positionals: string[] }, io: CliIo): Promise<void>;
}

const HELP = `ken ${VERSION}: prune fine-tuned transformers with KEN, and measure what pruning did

usage: ken <command> [options]   (ken <command> --help for its options)

commands:
${Object.entries(commands)
  .map(([name, c]) => `  ${name.padEnd(8)} ${c.summary}`)
  .join('\n')}
`;

export async function main(argv: string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.out(HELP);
    return name ? 0 : 2;
  }
  if (name === '--version' || name === '-V') {
    io.out(`${VERSION}\n`);
    return 0;
  }
  const cmd = commands[name];
  if (!cmd) {
    io.err(`ken: unknown command '${name}' (try: ${Object.keys(commands).join(', ')})\n`);
    return 2;
  }
  try {
    let parsed;
    try {
      parsed = parseArgs({ args: rest, options: { ...cmd.options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
    } catch (e) {
      throw new UsageError(oneLine(e).replace(/^TypeError \[[A-Z_]+\]: /, ''));
    }
    if (parsed.values['help']) {
      io.out(`usage: ${cmd.usage}\n`);
      return 0;
    }
    await cmd.run(parsed as { values: Record<string, string | boolean | string[] | undefined>; positionals: string[] }, io);
    return 0;
  } catch (e) {
    // Every thrown error ends here: one line (usage adds the usage line), the exit code of its kind.
    const d = describeError(e);
    if (d.kind === 'usage') {
      io.err(`ken ${name}: ${d.message}\nusage: ${cmd.usage}\n`);
    } else if (d.kind === 'cancelled') {
      io.err(`ken ${name}: cancelled; nothing was written\n`);
    } else {
      io.err(`ken ${name}: ${d.message}\n`);
      if (d.kind === 'internal' && process.env['KEN_DEBUG']) io.err(`${e instanceof Error ? e.stack ?? '' : ''}\n`);
    }
    return d.exitCode;
  }
}

/** Runs `ken` as a process: argv, signals (Ctrl-C cancels cleanly; twice exits), exit code. */
export function runCli(): void {
  const controller = new AbortController();
  let interrupts = 0;
  const onSignal = (): void => {
    interrupts++;
    controller.abort();
    if (interrupts > 1) process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // an error that escapes every await (an 'error' event nobody listens to) still ends in one line
  const escaped = (e: unknown): void => {
    process.stderr.write(`ken: ${describeError(e).message}\n`);
    process.exit(1);
  };
  process.on('uncaughtException', escaped);
  process.on('unhandledRejection', escaped);
  main(process.argv.slice(2), {
    out: (s) => process.stdout.write(s),
    err: (s) => process.stderr.write(s),
    progress: true,
    signal: controller.signal,
  }).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`ken: ${describeError(e).message}\n`);
      process.exitCode = 1;
    },
  );
}
