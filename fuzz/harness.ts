// Runs one fuzz case as a `ken` child process and classifies what happened:
//   clean     exit 1 or 2 with one line that names the damaged file, tensor, line or row
//   success   exit 0
//   internal  an error line that is a JavaScript error text, a stack, "internal error", or several lines
//   vague     a one-line error that names none of the damaged inputs (not clean either)
//   hang      still running after the time limit (killed)
//   crash     killed by a signal, or an exit code other than 0, 1, 2
//   memory    peak resident memory over the bound (killed when it is crossed)
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FuzzCase } from './types';

export type Status = 'clean' | 'success' | 'internal' | 'vague' | 'hang' | 'crash' | 'memory';
export const STATUSES: readonly Status[] = ['clean', 'success', 'internal', 'vague', 'hang', 'crash', 'memory'];
export const BAD: ReadonlySet<Status> = new Set(['internal', 'vague', 'hang', 'crash', 'memory']);

export interface Outcome {
  status: Status;
  code: number | null;
  signal: string | null;
  ms: number;
  /** Peak resident set size, MB. */
  rssMb: number;
  /** CPU seconds (user + system) the process reported at exit; 0 when it was killed. */
  cpuS: number;
  stderr: string;
  stdout: string;
  why: string;
}

export interface RunLimits {
  timeoutMs: number;
  rssMb: number;
}

/** Texts that only a JavaScript error, not one of our messages, would print. */
const JS_ERROR = /\b(TypeError|RangeError|ReferenceError|SyntaxError|EvalError|AggregateError)\b|Cannot read propert|Cannot set propert|is not a function|is not iterable|is not defined|of undefined|of null\b|Invalid array length|Invalid typed array length|Array buffer allocation failed|Maximum call stack|Unexpected token|JSON at position|\bERR_[A-Z_]{3,}|^\s+at .+:\d+:\d+\)?$|\bE(EXIST|NOTEMPTY|ISDIR|NOTDIR|PIPE)\b|Unhandled|FATAL ERROR|Aborted|Segmentation/m;
/** A progress line (printed every few seconds on a non-terminal). */
const PROGRESS = /^\S+ \d+% \(\d+\/\d+ /;

function hwmKb(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

export function classify(c: FuzzCase, dir: string, code: number | null, signal: string | null, stderr: string): { status: Status; why: string } {
  if (code === 0) return { status: 'success', why: '' };
  if (code !== 1 && code !== 2) return { status: 'crash', why: signal ? `signal ${signal}` : `exit code ${code}` };
  const lines = stderr.split('\n').map((l) => l.trimEnd()).filter((l) => l !== '' && !PROGRESS.test(l) && !(code === 2 && l.startsWith('usage: ')));
  if (lines.length === 0) return { status: 'internal', why: 'failed without a message' };
  if (lines.length > 1) return { status: 'internal', why: `${lines.length} lines of error output` };
  const line = lines[0]!;
  if (/internal error/.test(line)) return { status: 'internal', why: 'internal error' };
  const js = JS_ERROR.exec(line);
  if (js) return { status: 'internal', why: `JavaScript error text: ${js[0]}` };
  const named = c.names.some((n) => line.includes(n)) || line.includes(dir) || /\b(line|row|tensor|entry|initializer) \S/.test(line);
  if (!named) return { status: 'vague', why: 'names none of the damaged inputs' };
  return { status: 'clean', why: '' };
}

/** Runs `node [probe] dist/cli.js ...args` in `dir` and classifies it. */
export function runCase(cli: string, probe: string, c: FuzzCase, dir: string, limits: RunLimits, env: NodeJS.ProcessEnv): Promise<Outcome> {
  return new Promise((resolve) => {
    const started = Date.now();
    const rssFile = join(dir, '.rss');
    const child = spawn(process.execPath, ['-r', probe, cli, ...c.args], {
      cwd: dir,
      env: { ...env, KEN_FUZZ_RSS_FILE: rssFile },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const cap = (s: string, d: Buffer): string => (s.length < 65_536 ? s + d.toString('utf8') : s);
    child.stdout.on('data', (d: Buffer) => (stdout = cap(stdout, d)));
    child.stderr.on('data', (d: Buffer) => (stderr = cap(stderr, d)));
    let peakKb = 0;
    let killedFor: 'hang' | 'memory' | undefined;
    const poll = setInterval(() => {
      if (child.pid === undefined) return;
      peakKb = Math.max(peakKb, hwmKb(child.pid));
      if (peakKb > limits.rssMb * 1024 && !killedFor) {
        killedFor = 'memory';
        child.kill('SIGKILL');
      }
    }, 50);
    const timer = setTimeout(() => {
      if (!killedFor) {
        killedFor = 'hang';
        child.kill('SIGKILL');
      }
    }, limits.timeoutMs);
    child.on('close', (code, signal) => {
      clearInterval(poll);
      clearTimeout(timer);
      const ms = Date.now() - started;
      let cpuS = 0;
      try {
        const [rss, cpu] = readFileSync(rssFile, 'utf8').split(' ').map(Number);
        peakKb = Math.max(peakKb, rss || 0);
        cpuS = (cpu || 0) / 1e6;
      } catch {
        // killed before it could write
      }
      const rssMb = peakKb / 1024;
      let r: { status: Status; why: string };
      if (killedFor === 'hang') r = { status: 'hang', why: `still running after ${limits.timeoutMs} ms` };
      else if (killedFor === 'memory' || rssMb > limits.rssMb) r = { status: 'memory', why: `peak RSS ${rssMb.toFixed(0)} MB over ${limits.rssMb} MB` };
      else r = classify(c, dir, code, signal, stderr);
      resolve({ ...r, code, signal, ms, rssMb, cpuS, stderr, stdout });
    });
  });
}
