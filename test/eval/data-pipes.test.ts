import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { closeSync, constants, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { readDataFile } from '../../src/eval/data/text';
import { tmp } from '../helpers';

test('a data FIFO nobody writes to is refused in one line after the wait, never read forever', async () => {
  const path = join(tmp(), 'data.jsonl');
  execFileSync('mkfifo', [path]);
  const t0 = Date.now();
  await assert.rejects(readDataFile(path, 300), /data\.jsonl: a pipe nothing writes to \(waited 0\.3 s for a writer\)/);
  assert.ok(Date.now() - t0 < 5000);
});

test('a data FIFO whose writer comes late and writes slowly is read whole', async () => {
  const path = join(tmp(), 'data.jsonl');
  execFileSync('mkfifo', [path]);
  const reading = readDataFile(path, 5000);
  // the writer opens once the reader has the FIFO open (ENXIO before), writes in two pieces, closes
  let fd: number | undefined;
  for (let i = 0; i < 200 && fd === undefined; i++) {
    try {
      fd = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
    } catch {
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  assert.ok(fd !== undefined, 'the reader opened the FIFO');
  writeSync(fd, '{"text":"a"}\n');
  await new Promise((r) => setTimeout(r, 100));
  writeSync(fd, '{"text":"b"}\n');
  closeSync(fd);
  assert.equal((await reading).toString('utf8'), '{"text":"a"}\n{"text":"b"}\n');
});
