// The small files users hand us (config.json, tokenizer.json, shard indexes, data sets, subnetwork
// metadata) are read here: regular files only, with a size bound, then parsed and checked against a
// zod schema (src/formats/schemas.ts). Every failure is one line naming the file and, for a schema,
// the field at fault; nothing downstream sees a value the schema did not accept.
import { open } from 'node:fs/promises';
import type { z } from 'zod';
import { CheckpointError } from '../errors';
import { OPEN_READ, describeKind } from './paths';

/** JSON side files (config, tokenizer, index) above this are refused before they are read. */
export const MAX_JSON_BYTES = 512 * 1024 * 1024;


/**
 * The bytes of a regular file, at most `maxBytes` (the same open-then-fstat check as paths.ts's
 * openRegular, but open errors such as ENOENT come back raw, for optional files). It is opened non-blocking (a FIFO would otherwise block the open until a
 * writer comes) and refused unless fstat says it is a regular file, so a FIFO or a device named
 * config.json never blocks or streams forever. Errors from open itself (ENOENT, EACCES) are rethrown
 * as they are, for the caller to word (a missing optional file is often fine).
 */
export async function readBoundedFile(path: string, maxBytes = MAX_JSON_BYTES): Promise<Buffer> {
  const fh = await open(path, OPEN_READ);
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new CheckpointError(`${path}: is ${describeKind(st)}, not a regular file; KEN reads only regular files`);
    if (st.size > maxBytes) throw new CheckpointError(`${path}: ${st.size} bytes, more than the ${maxBytes} this tool reads for such a file`);
    const buf = Buffer.allocUnsafe(st.size);
    let done = 0;
    while (done < st.size) {
      const { bytesRead } = await fh.read(buf, done, st.size - done, done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    return done === st.size ? buf : buf.subarray(0, done);
  } finally {
    await fh.close();
  }
}

/** The first problem a zod schema found, as "at <path>: <message>". */
export function schemaProblem(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'does not match its schema';
  const where = issue.path.length ? issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '') : '(top level)';
  // zod's wording without its "Invalid input:" lead, e.g. "num_labels: expected int, received number"
  const message = issue.message === 'Invalid input' ? 'not a value this field takes' : issue.message.replace(/^Invalid (input|option): /, '');
  return `${where}: ${message}`.slice(0, 300);
}

/** `value` checked against `schema`; otherwise a one-line CheckpointError "<what>: <field>: <problem>". */
export function checked<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const r = schema.safeParse(value);
  if (!r.success) throw new CheckpointError(`${what}: ${schemaProblem(r.error)}`);
  return r.data;
}

/** Parses JSON text; a syntax error is a one-line CheckpointError naming the file. */
export function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new CheckpointError(`${what}: not valid JSON`);
  }
}

/**
 * Reads a JSON side file and checks it: a missing file is `undefined` when `optional`, anything else
 * that cannot be read or does not fit the schema is one line naming the file.
 */
export async function readJsonFile<S extends z.ZodType>(path: string, schema: S, opts: { optional?: boolean; missingHint?: string } = {}): Promise<z.output<S> | undefined> {
  let bytes: Buffer;
  try {
    bytes = await readBoundedFile(path);
  } catch (e) {
    if (e instanceof CheckpointError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && opts.optional) return undefined;
    throw new CheckpointError(`${path}: ${code === 'ENOENT' ? 'missing' : `cannot read (${code ?? 'error'})`}${code === 'ENOENT' && opts.missingHint ? ` ${opts.missingHint}` : ''}`);
  }
  return checked(schema, parseJson(bytes.toString('utf8'), path), path);
}
