// JSONL, CSV and TSV: one JSON object per line, or a header row naming the columns. CSV follows RFC
// 4180 quoting (commas, newlines and doubled quotes inside quoted fields); TSV has no quoting, as
// GLUE's files are written. Both through csv-parse.
import { close, constants, fstat, open, read, readFile } from 'node:fs';
import { Socket } from 'node:net';
import { promisify } from 'node:util';
import { extname } from 'node:path';
import { CsvError, parse as parseCsv } from 'csv-parse';
import { CheckpointError, DataError, throwIfAborted } from '../../errors';
import { noColumn, type FieldFlag, type OpenedData, type RowSink } from './types';

export type TextFormat = 'jsonl' | 'csv' | 'tsv';

const openFd = promisify(open);
const fstatFd = promisify(fstat);
const readFd = promisify(readFile) as (fd: number) => Promise<Buffer>;
const closeFd = promisify(close);
const readChunk = promisify(read);
/** How long a data pipe (a FIFO) may have no writer before it is refused. */
const PIPE_WRITER_WAIT_MS = 10_000;

/** The format a file's extension names; otherwise sniffed from its first line. */
export function textFormat(path: string, content: string): TextFormat {
  const ext = extname(path).toLowerCase();
  if (ext === '.jsonl' || ext === '.ndjson' || ext === '.json') return 'jsonl';
  if (ext === '.csv') return 'csv';
  if (ext === '.tsv' || ext === '.tab') return 'tsv';
  const first = content.trimStart().split('\n', 1)[0] ?? '';
  if (first.startsWith('{')) return 'jsonl';
  return first.includes('\t') ? 'tsv' : 'csv';
}

/**
 * A data file's bytes. A regular file is read whole; a pipe (`--data <(zcat test.jsonl.gz)`, a FIFO) is
 * opened without blocking and read through libuv's pipe handling until its writer closes it, so a FIFO
 * nobody writes to is an empty data set at once, never a read that waits forever. Anything else (a
 * folder, a device) is one line.
 */
export async function readDataFile(path: string, writerWaitMs = PIPE_WRITER_WAIT_MS): Promise<Buffer> {
  let fd: number;
  try {
    fd = await openFd(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new DataError(`${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a folder, not a data file' : `cannot read (${code ?? 'error'})`}`);
  }
  // a raw descriptor (not a FileHandle): a pipe's is handed to a net.Socket, which closes it
  let handedOver = false;
  try {
    const st = await fstatFd(fd);
    if (st.isFile()) return await readFd(fd);
    if (st.isDirectory()) throw new DataError(`${path}: is a folder, not a data file`);
    if (!st.isFIFO() && !st.isSocket()) throw new DataError(`${path}: is a device, not a data file`);
    // Reads first: 0 bytes means no writer yet (epoll would never wake for it), so wait for one, a
    // while, polling (Ctrl-C stays free to act); EAGAIN means a writer with nothing written yet. Then
    // libuv's pipe handling reads the rest without blocking a thread.
    const head = Buffer.allocUnsafe(65536);
    let got = 0;
    for (const started = Date.now(); ; ) {
      try {
        got = (await readChunk(fd, head, 0, head.length, null)).bytesRead;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw new DataError(`${path}: cannot read the pipe (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
        got = -1;
      }
      if (got !== 0) break;
      if (Date.now() - started > writerWaitMs) throw new DataError(`${path}: a pipe nothing writes to (waited ${writerWaitMs / 1000} s for a writer)`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const chunks: Buffer[] = got > 0 ? [head.subarray(0, got)] : [];
    handedOver = true;
    const pipe = new Socket({ fd, readable: true, writable: false });
    return await new Promise<Buffer>((resolve, reject) => {
      pipe.on('data', (c: Buffer) => chunks.push(c));
      pipe.on('end', () => resolve(Buffer.concat(chunks)));
      pipe.on('error', (e) => reject(new DataError(`${path}: cannot read the pipe (${e.message.split('\n')[0]})`)));
    }).finally(() => pipe.destroy());
  } finally {
    if (!handedOver) await closeFd(fd);
  }
}

export async function readText(path: string): Promise<string> {
  const content = (await readDataFile(path)).toString('utf8');
  return content.charCodeAt(0) === 0xfeff ? content.slice(1) : content;
}

/** A JSONL/CSV/TSV file. */
export async function openTextData(path: string, format?: TextFormat): Promise<OpenedData> {
  const content = await readText(path);
  const fmt = format ?? textFormat(path, content);
  // a JSON array, whatever the file is called, is never handed to the CSV parser
  if (/^\s*\[\s*[{\]]/.test(content.slice(0, 4096))) {
    throw new DataError(`${path}: holds a JSON array; write one JSON object per line (JSONL)`);
  }
  return {
    path, format: fmt, unit: 'line', files: [path], features: undefined,
    async read(sink, fields, signal) {
      if (fmt === 'jsonl') readJsonl(content, sink, signal);
      else await readDelimited(path, content, fmt, fields, sink, signal);
    },
  };
}

function readJsonl(content: string, into: RowSink, signal: AbortSignal | undefined): void {
  const lines = content.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if ((i & 4095) === 0) throwIfAborted(signal);
    const raw = lines[i]!.trim();
    if (raw === '') continue;
    let obj: unknown;
    try {
      obj = JSON.parse(raw);
    } catch {
      into.bad(i + 1, 'not valid JSON');
      continue;
    }
    if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
      into.bad(i + 1, 'not a JSON object');
      continue;
    }
    const record = obj as Record<string, unknown>;
    into.row(i + 1, (f) => (Object.prototype.hasOwnProperty.call(record, f) ? record[f] : undefined));
  }
}

async function readDelimited(
  path: string, content: string, format: 'csv' | 'tsv', fields: readonly FieldFlag[], into: RowSink, signal: AbortSignal | undefined,
): Promise<void> {
  const parser = parseCsv(content, {
    delimiter: format === 'csv' ? ',' : '\t',
    quote: format === 'csv' ? '"' : false,
    info: true,
    relax_column_count: true,
    skip_empty_lines: true,
  });
  let header: string[] | undefined;
  let prevEnd = 0;
  let prevEmpty = 0;
  let n = 0;
  try {
    for await (const item of parser as AsyncIterable<{ record: string[]; info: { lines: number; empty_lines: number } }>) {
      if ((++n & 4095) === 0) throwIfAborted(signal);
      const { record, info } = item;
      // info.lines is where the record ends; it starts after the previous one and any blank lines.
      const line = prevEnd + 1 + (info.empty_lines - prevEmpty);
      prevEnd = info.lines;
      prevEmpty = info.empty_lines;
      if (!header) {
        header = record.map((h) => h.trim());
        for (const [f, flag] of fields) if (!header.includes(f)) throw new DataError(noColumn(path, f, flag, header).replace(': no column', ': the header has no column'));
        continue;
      }
      if (record.length !== header.length) {
        into.bad(line, `has ${record.length} fields, the header has ${header.length}${format === 'tsv' ? ' (TSV fields are split at every tab)' : ''}`);
        continue;
      }
      const cols = header;
      into.row(line, (f) => {
        const i = cols.indexOf(f);
        return i < 0 ? undefined : record[i];
      });
    }
  } catch (e) {
    if (e instanceof DataError || e instanceof CheckpointError) throw e;
    if (e instanceof CsvError) {
      const err = e;
      // Where a record ends after a broken quote is unknown, so this is never skipped.
      throw new DataError(`${path} line ${err.lines ?? '?'}: ${err.message.replace(/ at line \d+/, '')}; fix the quoting (a broken quote cannot be skipped: where its record ends is unknown)`);
    }
    throw e;
  }
  if (!header) throw new DataError(`${path}: empty (expected a header row naming the columns)`);
}
