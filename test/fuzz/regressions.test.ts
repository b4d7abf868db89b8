// Regression tests for every case issue 14's fuzz campaign found: each was a raw JavaScript error, a
// hang, a blow-up or a multi-line message, and must now be one line naming the file (exit 1), with
// nothing written.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { CancelledError, UsageError, describeError } from '../../src/errors';
import { encodeDataset, loadDataset, loadTokenizer } from '../../src/eval';
import { commands } from '../../src/cli/commands';
import type { Command } from '../../src/cli/command';
import { DEMO, ROOT, ken, synthPair, tmp } from '../helpers';

/** An error line as users see it: exactly one line, no JavaScript error text. */
function assertOneLine(r: { code: number; stderr: string }, pattern: RegExp): void {
  assert.equal(r.code, 1, r.stderr);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.doesNotMatch(r.stderr, /TypeError|RangeError|Cannot read|is not iterable|Invalid array length|EEXIST|internal error|\n\s+at /);
  assert.match(lines[0]!, pattern);
}

// ---------- ken restore never trusts its metadata ----------

interface Meta {
  tensors: Record<string, unknown>[];
  files: { path: string; size: number; holes: Record<string, unknown>[] }[];
}

let pruned: Promise<{ sub: string; base: string }> | undefined;
/** A real subnetwork (pruned once per file) and its base. */
function subnetwork(): Promise<{ sub: string; base: string }> {
  pruned ??= (async () => {
    const { ft, base } = await synthPair(tmp());
    const out = join(tmp(), 'pruned');
    const r = await ken(['prune', ft, '--base', base, '-k', '4', '--out', out, '--threads', '1', '--backend', 'js']);
    assert.equal(r.code, 0, r.stderr);
    return { sub: join(out, 'ken-subnetwork.safetensors'), base };
  })();
  return pruned;
}

/** A copy of the subnetwork with its "ken" metadata (and header) changed by `edit`. */
async function damaged(edit: (meta: Meta, header: Record<string, unknown>) => unknown): Promise<{ file: string; base: string }> {
  const { sub, base } = await subnetwork();
  const bytes = readFileSync(sub);
  const n = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8')) as Record<string, unknown>;
  const md = header['__metadata__'] as Record<string, string>;
  const meta = JSON.parse(md['ken']!) as Meta;
  const replaced = edit(meta, header);
  md['ken'] = typeof replaced === 'string' ? replaced : JSON.stringify(meta);
  const text = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(text.length));
  const file = join(tmp(), 'ken-subnetwork.safetensors');
  writeFileSync(file, Buffer.concat([len, text, bytes.subarray(8 + n)]));
  return { file, base };
}

async function restoreFails(d: { file: string; base: string }, pattern: RegExp): Promise<void> {
  const parent = tmp();
  const out = join(parent, 'restored');
  const r = await ken(['restore', d.file, '--base', d.base, '--out', out]);
  assertOneLine(r, pattern);
  assert.ok(r.stderr.includes('ken-subnetwork.safetensors'), r.stderr);
  assert.equal(existsSync(out), false);
  assert.deepEqual(readdirSync(parent), [], 'no temporary folder left');
}

test('restore: metadata without files, tensors or a path is one line, not a JavaScript error', async () => {
  await restoreFails(await damaged((m) => JSON.stringify({ ...m, files: undefined })), /"ken" metadata: files: expected array/);
  await restoreFails(await damaged((m) => JSON.stringify({ ...m, tensors: null })), /"ken" metadata: tensors: expected array/);
  await restoreFails(await damaged((m) => {
    delete (m.files[0] as Partial<Meta['files'][0]>).path;
  }), /files\[0\]\.path: expected string/);
  await restoreFails(await damaged(() => '{'), /"ken" metadata: not valid JSON/);
});

test('restore: a hole list repeated 100,000 times is refused at once (holes must not overlap)', async () => {
  const d = await damaged((m) => {
    const f = m.files.find((x) => x.holes.length > 0)!;
    f.holes = Array.from({ length: 100_000 }, () => f.holes).flat();
  });
  await restoreFails(d, /hole at byte \d+ .* overlaps another/);
});

test('restore: 1,000 duplicated hole entries are refused before anything is written', async () => {
  const d = await damaged((m) => {
    const f = m.files.find((x) => x.holes.length > 0)!;
    f.holes = [...f.holes, ...Array.from({ length: 1000 }, () => f.holes[0]!)];
  });
  await restoreFails(d, /overlaps another/);
});

test('restore: holes must fit the file and, with its skeleton, make up exactly its size', async () => {
  await restoreFails(await damaged((m) => {
    const f = m.files.find((x) => x.holes.length > 0)!;
    f.holes[f.holes.length - 1]!['offset'] = f.size;
  }), /ends past the file's \d+ bytes|overlaps/);
  await restoreFails(await damaged((m) => {
    m.files[0]!.size += 1_000_000_000;
  }), /skeleton bytes and \d+ hole bytes do not make its 1000\d+ bytes/);
});

test("restore: file entries 'a/..', '.', '../x' and '/abs' are refused in one line", async () => {
  for (const to of ['a/..', '.', '../x', '/tmp/x', 'a/./b', 'a//b', './config.json', '']) {
    const d = await damaged((m, header) => {
      const from = m.files[0]!.path;
      m.files[0]!.path = to;
      header[`file:${to}`] = header[`file:${from}`];
      delete header[`file:${from}`];
    });
    await restoreFails(d, to === '' ? /files\[0\]\.path/ : /file entry .* is not a relative path to a file inside the output folder/);
  }
});

// ---------- config.json, tokenizer.json, data sets: ken eval ----------

const FT = join(DEMO, 'finetuned');
const LINES = readFileSync(join(DEMO, 'test.jsonl'), 'utf8').trim().split('\n').slice(0, 6);

/** A copy of the demo classifier folder with config.json / tokenizer.json edited, and a data file. */
function classifier(edit: { config?: (c: Record<string, unknown>) => void; tokenizer?: (t: Record<string, unknown>) => void } = {}): { dir: string; data: string } {
  const dir = join(tmp(), 'model');
  mkdirSync(dir);
  for (const f of readdirSync(FT)) copyFileSync(join(FT, f), join(dir, f));
  for (const [name, fn] of [['config.json', edit.config], ['tokenizer.json', edit.tokenizer]] as const) {
    if (!fn) continue;
    const v = JSON.parse(readFileSync(join(dir, name), 'utf8')) as Record<string, unknown>;
    fn(v);
    writeFileSync(join(dir, name), JSON.stringify(v));
  }
  const data = join(dirname(dir), 'test.jsonl');
  writeFileSync(data, LINES.join('\n') + '\n');
  return { dir, data };
}

const evalArgs = (c: { dir: string; data: string }): string[] => ['eval', c.dir, '--data', c.data, '--device', 'cpu', '--threads', '1'];

test('the demo classifier copy evaluates (the fixture these tests damage is valid)', async () => {
  const r = await ken(evalArgs(classifier()));
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /accuracy/);
});

test('config.json: num_labels 1e8 or 2^31 fails fast in one line, without building label names', async () => {
  for (const n of [1e8, 2 ** 31]) {
    const c = classifier({ config: (cfg) => { delete cfg['id2label']; delete cfg['label2id']; cfg['num_labels'] = n; } });
    assertOneLine(await ken(evalArgs(c)), /config\.json: num_labels: Too big: expected number to be <=1000000/);
  }
  const c = classifier({ config: (cfg) => { delete cfg['id2label']; delete cfg['label2id']; cfg['num_labels'] = 500_000; } });
  assertOneLine(await ken(evalArgs(c)), /(model\.onnx|model): gives 8 logits but .*config\.json names 500000 labels/);
});

test('config.json: bounded fields with the wrong type are named in one line', async () => {
  assertOneLine(await ken(evalArgs(classifier({ config: (c) => (c['max_position_embeddings'] = -1) }))), /config\.json: max_position_embeddings: Too small/);
  assertOneLine(await ken(evalArgs(classifier({ config: (c) => (c['id2label'] = [1, 2]) }))), /config\.json: id2label: expected record/);
});

test('a FIFO named config.json is refused at once in one line (it does not block)', async () => {
  const c = classifier();
  renameSync(join(c.dir, 'config.json'), join(c.dir, 'config.old'));
  execFileSync('mkfifo', [join(c.dir, 'config.json')]);
  assertOneLine(await ken(evalArgs(c)), /config\.json: is a FIFO \(named pipe\), not a regular file/);
});

test('tokenizer.json: a post-processor with cls: null, or a bare TemplateProcessing, is one line naming the file', async () => {
  const cases: [(t: Record<string, unknown>) => void, RegExp][] = [
    [(t) => (t['post_processor'] = { type: 'BertProcessing', cls: null, sep: ['[SEP]', 3] }), /tokenizer\.json: post_processor\.cls: expected tuple/],
    [(t) => (t['post_processor'] = { type: 'TemplateProcessing' }), /tokenizer\.json: post_processor\.single: expected array/],
    [(t) => (t['post_processor'] = { type: 'TemplateProcessing', single: [], pair: [] }), /tokenizer\.json: post_processor\.single: the single template must hold sequence A once/],
  ];
  for (const [edit, pattern] of cases) assertOneLine(await ken(evalArgs(classifier({ tokenizer: edit }))), pattern);
});

test('a token id past the vocabulary is refused before onnxruntime sees it, naming tokenizer.json and the data line', async () => {
  // config.json says the model embeds 100 tokens; the tokenizer gives ids up to 5999
  const c = classifier({ config: (cfg) => (cfg['vocab_size'] = 100) });
  assertOneLine(await ken(evalArgs(c)), /tokenizer\.json: gives token id \d+ for .*test\.jsonl line 1, outside the model's vocabulary of 100 \(vocab_size in config\.json\)/);
});

for (const pattern of ['(a|a)+$', '(\\w+\\s?)*$']) {
  test(`a pre-tokenizer pattern that backtracks without end (${pattern}) stops the run, naming tokenizer.json and the data line`, async () => {
    const c = classifier({
      tokenizer: (t) => (t['pre_tokenizer'] = { type: 'Sequence', pretokenizers: [{ type: 'Split', pattern: { Regex: pattern }, behavior: 'Isolated', invert: false }, { type: 'BertPreTokenizer' }] }),
    });
    writeFileSync(c.data, [LINES[0], JSON.stringify({ text: `${'a'.repeat(34)} ${'word '.repeat(12)}!`, label: 'web' })].join('\n'));
    const before = process.env['KEN_TOKENIZE_LINE_MS'];
    process.env['KEN_TOKENIZE_LINE_MS'] = '400';
    try {
      // (a|a)+$ backtracks on line 2 only; (\w+\s?)*$ already on line 1, a sentence ending in '.'
      assertOneLine(await ken(evalArgs(c)), new RegExp(`tokenizer\\.json: tokenizing .*test\\.jsonl line ${pattern === '(a|a)+$' ? 2 : 1} took longer than 0\\.4 s, so the run was stopped`));
    } finally {
      if (before === undefined) delete process.env['KEN_TOKENIZE_LINE_MS'];
      else process.env['KEN_TOKENIZE_LINE_MS'] = before;
    }
  });
}

test('tokenizing stays cancellable while a pattern backtracks: the worker is stopped', async () => {
  const c = classifier({ tokenizer: (t) => (t['pre_tokenizer'] = { type: 'Split', pattern: { Regex: '(a|a)+$' }, behavior: 'Isolated', invert: false }) });
  writeFileSync(c.data, JSON.stringify({ text: `${'a'.repeat(40)}!`, label: 'web' }));
  const tok = await loadTokenizer(c.dir);
  const data = await loadDataset(c.data, { labels: ['web'] });
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 300);
  await assert.rejects(encodeDataset(tok, data, { signal: controller.signal, lineBudgetMs: 60_000 }), CancelledError);
});

test('a huge data line is cut before it is tokenized: the same ids as its first characters', async () => {
  const tok = await loadTokenizer(FT);
  assert.ok(tok.maxChars >= 4096 && tok.maxChars <= 64 * 256 + 4096, String(tok.maxChars));
  const huge = 'graphics library for the web server '.repeat(300_000); // 10.8 M characters
  const cut = tok.encode(huge);
  const prefix = tok.encode(huge.slice(0, 20_000));
  assert.deepEqual([...cut.ids], [...prefix.ids]);
  assert.equal(cut.ids.length, 64);
  assert.equal(cut.truncated, true);
});

test('a data file holding a JSON array is one line (never sent to the CSV parser), whatever its extension', async () => {
  const c = classifier();
  const array = JSON.stringify(LINES.map((l) => JSON.parse(l) as unknown));
  for (const name of ['data.json', 'data.jsonl', 'data.csv', 'data.txt']) {
    const p = join(dirname(c.dir), name);
    writeFileSync(p, array);
    assertOneLine(await ken(['eval', c.dir, '--data', p, '--device', 'cpu']), new RegExp(`${name}: holds a JSON array; write one JSON object per line`));
  }
});

test('a CSV whose quote opens mid-field is one line naming the file and line', async () => {
  const c = classifier();
  const p = join(dirname(c.dir), 'd.csv');
  writeFileSync(p, 'text,label\ngood,web\nx"y,web\n1\u0000"bad,admin\n');
  const r = await ken(['eval', c.dir, '--data', p, '--device', 'cpu']);
  assertOneLine(r, /d\.csv line \d+: /);
  assert.doesNotMatch(r.stderr, /\u0000/);
});

// ---------- shard indexes ----------

async function sharded(edit: (index: Record<string, unknown>, dir: string) => void): Promise<{ ft: string; base: string }> {
  const { ft, base } = await synthPair(tmp());
  renameSync(join(ft, 'model.safetensors'), join(ft, 'model-00001-of-00001.safetensors'));
  const header = readFileSync(join(ft, 'model-00001-of-00001.safetensors'));
  const names = Object.keys(JSON.parse(header.subarray(8, 8 + Number(header.readBigUInt64LE(0))).toString('utf8')) as object).filter((k) => k !== '__metadata__');
  const index: Record<string, unknown> = { metadata: {}, weight_map: Object.fromEntries(names.map((n) => [n, 'model-00001-of-00001.safetensors'])) };
  edit(index, ft);
  writeFileSync(join(ft, 'model.safetensors.index.json'), JSON.stringify(index));
  return { ft, base };
}

test('an index whose weight_map is null is one line naming the index', async () => {
  const { ft, base } = await sharded((index) => (index['weight_map'] = null));
  assertOneLine(await ken(['prune', ft, '--base', base, '-k', '4', '--out', join(tmp(), 'o')]), /model\.safetensors\.index\.json: weight_map: expected record, received null/);
});

test('an index whose weight_map names no shard, or a shard that is not .safetensors, is one line naming the index', async () => {
  const empty = await sharded((index) => (index['weight_map'] = {}));
  assertOneLine(await ken(['prune', empty.ft, '--base', empty.base, '-k', '4', '--out', join(tmp(), 'o')]), /model\.safetensors\.index\.json: its weight_map names no shard/);
  const config = await sharded((index) => {
    const map = index['weight_map'] as Record<string, string>;
    map[Object.keys(map)[0]!] = 'config.json';
  });
  assertOneLine(await ken(['prune', config.ft, '--base', config.base, '-k', '4', '--out', join(tmp(), 'o')]), /model\.safetensors\.index\.json: shard "config\.json" is not a \.safetensors file/);
});

test('a shard named ken-subnetwork.safetensors is one clean line (no EEXIST at the end)', async () => {
  const { ft, base } = await sharded((index, dir) => {
    renameSync(join(dir, 'model-00001-of-00001.safetensors'), join(dir, 'ken-subnetwork.safetensors'));
    const map = index['weight_map'] as Record<string, string>;
    for (const k of Object.keys(map)) map[k] = 'ken-subnetwork.safetensors';
  });
  const out = join(tmp(), 'o');
  assertOneLine(await ken(['prune', ft, '--base', base, '-k', '4', '--out', out]), /model\.safetensors\.index\.json: names ken-subnetwork\.safetensors as a shard, the name of KEN's own output/);
  assert.equal(existsSync(out), false);
});

// ---------- the error funnel ----------

test('an unexpected error is "internal error" plus how to report it, in one line, exit 1; ours keep their message', async () => {
  const boom: Command = { summary: 'x', usage: 'ken boom', options: {}, run: () => Promise.reject(new TypeError("Cannot read properties of undefined (reading 'map')\n    at x (y.js:1:2)")) };
  commands['boom'] = boom;
  try {
    const r = await ken(['boom']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /^ken boom: internal error \(TypeError: Cannot read properties of undefined \(reading 'map'\) at x \(y\.js:1:2\)\); please report it/);
  } finally {
    delete commands['boom'];
  }
  assert.deepEqual(describeError(new UsageError('bad')), { kind: 'usage', exitCode: 2, message: 'bad' });
  assert.equal(describeError(new CancelledError()).exitCode, 130);
  assert.equal(describeError('a string').kind, 'internal');
});

test('an error that escapes every await in the ken process is still one "internal error" line, exit 1', () => {
  const preload = join(tmp(), 'throw-later.cjs');
  writeFileSync(preload, "setTimeout(() => { throw new TypeError(\"Cannot read properties of null (reading 'x')\"); }, 0);\n");
  const r = spawnSync(process.execPath, ['-r', preload, join(ROOT, 'dist', 'cli.js'), '--version'], { encoding: 'utf8' });
  assert.equal(r.status, 1, r.stderr);
  assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /^ken: internal error \(TypeError: Cannot read properties of null \(reading 'x'\)\); please report it/);
});
