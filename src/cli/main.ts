// The `ken` command. Exit codes: 0 success, 1 bad input (one-line message), 2 usage, 130 interrupted.
import { parseArgs } from 'node:util';
import { UsageError, describeError, oneLine } from '../errors';
import { discardAllSync } from '../formats/output';
import { VERSION } from '../version';
import { commands } from './commands';
import type { CliIo } from './command';

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

/**
 * Ends the process as an interrupt does (the shell sees status 130). Not process.exit(): at exit libuv
 * joins its thread pool, and a thread blocked in a read (a FIFO, a hung network file system) would
 * keep the process forever. The default action of SIGINT ends it without waiting for anything.
 */
function dieOfInterrupt(): void {
  for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.removeAllListeners(s);
  process.kill(process.pid, 'SIGINT');
  setTimeout(() => process.exit(130), 200).unref(); // where signals are emulated (Windows)
}

/** How long a cancelled run may take to wind down before it is stopped, its temporary files removed. */
export const STOP_WITHIN_MS = 1500;

/**
 * Runs `ken` as a process: argv, signals, exit code.
 * - Ctrl-C (SIGINT), SIGTERM or SIGHUP cancels: the work stops at its next check, removes what it
 *   wrote and exits 130. A step that cannot notice (a read blocked in the kernel, a long native call)
 *   is not waited for: after STOP_WITHIN_MS, or at once on a second signal, the temporary output is
 *   removed synchronously and the process exits 130 saying so.
 * - A reader that goes away (`ken restore ... | head`) ends the output quietly (EPIPE), not the work.
 */
export function runCli(): void {
  const controller = new AbortController();
  let interrupts = 0;
  const stopNow = (): void => {
    const removed = discardAllSync();
    safeWrite(process.stderr, `ken: interrupted${removed.length ? `; removed ${removed.join(', ')}` : ''}\n`);
    dieOfInterrupt();
  };
  const onSignal = (): void => {
    interrupts++;
    controller.abort();
    if (interrupts > 1) stopNow();
    else setTimeout(stopNow, STOP_WITHIN_MS).unref();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);
  const closed = new Set<NodeJS.WriteStream>();
  for (const stream of [process.stdout, process.stderr]) {
    // EPIPE: the reader went away; anything else: the stream is unusable. Either way stop writing to it.
    stream.on('error', () => closed.add(stream));
  }
  const safeWrite = (stream: NodeJS.WriteStream, s: string): void => {
    if (!closed.has(stream) && !stream.destroyed) stream.write(s);
  };
  // an error that escapes every await (an 'error' event nobody listens to) still ends in one line
  const escaped = (e: unknown): void => {
    process.stderr.write(`ken: ${describeError(e).message}\n`);
    process.exit(1);
  };
  process.on('uncaughtException', escaped);
  process.on('unhandledRejection', escaped);
  main(process.argv.slice(2), {
    out: (s) => safeWrite(process.stdout, s),
    err: (s) => safeWrite(process.stderr, s),
    progress: true,
    signal: controller.signal,
  }).then(
    (code) => {
      process.exitCode = code;
      // nothing of ours is left to wait for: a handle stuck in the kernel must not keep the process
      setTimeout(() => (code === 130 ? dieOfInterrupt() : process.exit(code)), STOP_WITHIN_MS).unref();
    },
    (e: unknown) => {
      safeWrite(process.stderr, `ken: ${describeError(e).message}\n`);
      process.exitCode = 1;
      setTimeout(() => process.exit(1), STOP_WITHIN_MS).unref();
    },
  );
}
