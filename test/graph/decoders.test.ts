// The built GPT-2 and Llama/Mistral/Qwen2 graphs against PyTorch (test/data/decoders: folders and expected
// outputs made by make_fixtures.py with our re-implementation of transformers' modeling code). Every line
// is run alone, in a right-padded batch and in a left-padded batch: padding must not change any output.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openModel } from '../../src/checkpoint/folder';
import { readOnnxModel } from '../../src/formats/onnx';
import { buildGraph, sessionExternalData } from '../../src/models/build';
import { scoreCausalLm } from '../../src/eval/causal-lm';
import { openSession, type OpenedSession } from '../../src/runtime/session';
import { ken, ROOT, tmp } from '../helpers';

const DATA = join(ROOT, 'test', 'data', 'decoders');

interface Line {
  ids: number[];
  logits?: number[] | number[][];
  start_logits?: number[];
  end_logits?: number[];
  token_logprobs?: number[];
}
interface Expected {
  architecture: string;
  lines: Line[];
  perplexity?: number;
  n_predicted_tokens?: number;
}

type Outputs = Record<string, Float32Array>;

async function runBatch(s: OpenedSession, lines: number[][], pad: number, side: 'right' | 'left'): Promise<{ out: Outputs; width: number; dims: Record<string, readonly number[]> }> {
  const width = Math.max(...lines.map((l) => l.length));
  const ids = new BigInt64Array(lines.length * width).fill(BigInt(pad));
  const mask = new BigInt64Array(lines.length * width);
  lines.forEach((l, r) => {
    const start = side === 'right' ? 0 : width - l.length;
    l.forEach((id, j) => {
      ids[r * width + start + j] = BigInt(id);
      mask[r * width + start + j] = 1n;
    });
  });
  const { ort } = s;
  const res = await s.session.run({
    input_ids: new ort.Tensor('int64', ids, [lines.length, width]),
    attention_mask: new ort.Tensor('int64', mask, [lines.length, width]),
  });
  const out: Outputs = {};
  const dims: Record<string, readonly number[]> = {};
  for (const [k, v] of Object.entries(res)) {
    out[k] = v.data as Float32Array;
    dims[k] = v.dims;
  }
  return { out, width, dims };
}

/** The outputs of row `r` at its real tokens, in the shape expected.json stores them. */
function rowOf(e: Expected, key: string, got: { out: Outputs; width: number; dims: Record<string, readonly number[]> }, r: number, n: number, side: 'right' | 'left'): number[] | number[][] {
  const data = got.out[key]!;
  const dims = got.dims[key]!;
  const start = side === 'right' ? 0 : got.width - n;
  if (key === 'token_logprobs') {
    const w = dims[1]!;
    return Array.from(data.subarray(r * w + start, r * w + start + n - 1));
  }
  if (key === 'logits' && dims.length === 2) return Array.from(data.subarray(r * dims[1]!, (r + 1) * dims[1]!));
  if (key === 'logits') {
    const c = dims[2]!;
    return Array.from({ length: n }, (_, t) => Array.from(data.subarray((r * got.width + start + t) * c, (r * got.width + start + t + 1) * c)));
  }
  void e;
  return Array.from(data.subarray(r * got.width + start, r * got.width + start + n));
}

function compare(where: string, key: string, ours: number[] | number[][], theirs: number[] | number[][]): number {
  const a = (ours as (number | number[])[]).flat();
  const b = (theirs as (number | number[])[]).flat();
  assert.equal(a.length, b.length, `${where} ${key}: ${a.length} values, PyTorch has ${b.length}`);
  let worst = 0;
  a.forEach((x, i) => {
    const t = b[i]!;
    const err = Math.abs(x - t);
    const tol = key === 'token_logprobs' ? 5e-5 : 1e-4 + 1e-4 * Math.abs(t);
    assert.ok(err <= tol, `${where} ${key}[${i}]: ours ${x}, PyTorch ${t} (|diff| ${err} > ${tol})`);
    worst = Math.max(worst, err);
  });
  return worst;
}

const FIXTURES: readonly [string, string][] = [
  ['gpt2-lm', 'causal-lm'],
  ['gpt2-hub-lm', 'causal-lm'],
  ['gpt2-seq', 'text-classification'],
  ['gpt2-tok', 'token-classification'],
  ['gpt2-qa', 'question-answering'],
  ['llama-lm', 'causal-lm'],
  ['llama-seq', 'text-classification'],
  ['mistral-lm', 'causal-lm'],
  ['qwen2-lm', 'causal-lm'],
  ['qwen2-seq', 'text-classification'],
  ['llama-tok', 'token-classification'],
  ['mistral-tok', 'token-classification'],
  ['qwen2-tok', 'token-classification'],
  ['llama-qa', 'question-answering'],
  ['mistral-qa', 'question-answering'],
  ['qwen2-qa', 'question-answering'],
];

for (const [name, task] of FIXTURES) {
  test(`built ${name} graph equals PyTorch, each line alone and in right- and left-padded batches`, async () => {
    const dir = join(DATA, name);
    const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as Expected;
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { pad_token_id?: number | null };
    const built = buildGraph(await openModel(dir, name));
    assert.equal(built.task, task);
    assert.equal(built.architecture, expected.architecture);
    assert.ok(built.model.byteLength < 60_000, `the graph holds no weights (${built.model.byteLength} bytes)`);
    const s = await openSession(built.model, 'cpu', sessionExternalData(built));
    try {
      const keys = Object.keys(expected.lines[0]!).filter((k) => k !== 'ids');
      assert.deepEqual([...built.outputs].sort(), [...keys].sort());
      const lines = expected.lines.map((l) => l.ids);
      for (const [i, line] of expected.lines.entries()) {
        const got = await runBatch(s, [line.ids], 0, 'right');
        for (const k of keys) compare(`${name} line ${i + 1} alone`, k, rowOf(expected, k, got, 0, line.ids.length, 'right'), line[k as keyof Line] as number[]);
      }
      // pad with pad_token_id where there is one (as the evaluator does); without one, with an ordinary token, so pooling must use the mask
      const padWith = typeof config.pad_token_id === 'number' ? config.pad_token_id : 3;
      for (const side of ['right', 'left'] as const) {
        const got = await runBatch(s, lines, padWith, side);
        for (const [r, line] of expected.lines.entries()) {
          for (const k of keys) compare(`${name} line ${r + 1} in a ${side}-padded batch`, k, rowOf(expected, k, got, r, line.ids.length, side), line[k as keyof Line] as number[]);
        }
      }
      if (expected.perplexity !== undefined) {
        let nll = 0;
        let n = 0;
        for (const line of expected.lines) {
          const got = await runBatch(s, [line.ids], 0, 'right');
          for (const lp of rowOf(expected, 'token_logprobs', got, 0, line.ids.length, 'right') as number[]) {
            nll -= lp;
            n++;
          }
        }
        assert.equal(n, expected.n_predicted_tokens);
        const ppl = Math.exp(nll / n);
        assert.ok(Math.abs(ppl - expected.perplexity) <= 1e-5 * expected.perplexity, `${name}: perplexity ${ppl}, PyTorch ${expected.perplexity}`);
      }
    } finally {
      await s.session.release();
    }
  });
}

test('scoreCausalLm: every LM fixture line by line in batches cut by size, in input order, with PyTorch\'s perplexity', async () => {
  for (const name of FIXTURES.filter(([, t]) => t === 'causal-lm').map(([n]) => n)) {
    const dir = join(DATA, name);
    const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as Expected;
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { vocab_size: number };
    const built = buildGraph(await openModel(dir, name));
    const s = await openSession(built.model, 'cpu', sessionExternalData(built));
    try {
      const progress: number[] = [];
      // logits of 2 lines x 40 tokens fit; the longer lines go in batches of their own
      const scores = await scoreCausalLm(s, expected.lines.map((l) => Int32Array.from(l.ids)), {
        batchSize: 3, padId: 5, vocabSize: config.vocab_size, maxLogitBytes: 2 * 40 * config.vocab_size * 4, onProgress: (p) => progress.push(p.done),
      });
      assert.ok(progress.length > 3, `${name}: more than one batch (${progress.join(', ')})`);
      assert.equal(progress.at(-1), expected.lines.length);
      for (const [i, line] of expected.lines.entries()) compare(`${name} line ${i + 1}`, 'token_logprobs', Array.from(scores.tokenLogprobs[i]!), line.token_logprobs!);
      assert.equal(scores.nPredictedTokens, expected.n_predicted_tokens);
      assert.ok(Math.abs(scores.perplexity - expected.perplexity!) <= 1e-5 * expected.perplexity!, `${name}: perplexity ${scores.perplexity}, PyTorch ${expected.perplexity}`);
    } finally {
      await s.session.release();
    }
  }
});

test('scoreCausalLm stops between batches when cancelled', async () => {
  const dir = join(DATA, 'gpt2-lm');
  const built = buildGraph(await openModel(dir, 'gpt2-lm'));
  const s = await openSession(built.model, 'cpu', sessionExternalData(built));
  try {
    const ac = new AbortController();
    const lines = [Int32Array.from([1, 2, 3]), Int32Array.from([4, 5]), Int32Array.from([6, 7, 8, 9])];
    await assert.rejects(scoreCausalLm(s, lines, { batchSize: 1, signal: ac.signal, onProgress: (p) => { if (p.done === 1) ac.abort(); } }), { name: 'CancelledError' });
  } finally {
    await s.session.release();
  }
});

test('weights stored in another float type are also graph inputs (overridable initializers: cast per run, never folded into float32 copies); float32 ones are not', async () => {
  for (const [name, castName, plain] of [
    ['llama-lm', 'model.layers.0.self_attn.q_proj.weight', undefined],
    ['mistral-lm', 'model.embed_tokens.weight', undefined],
    ['gpt2-lm', undefined, 'transformer.h.0.attn.c_attn.weight'],
  ] as const) {
    const built = buildGraph(await openModel(join(DATA, name), name));
    const dir = tmp();
    for (const f of readdirSync(join(DATA, name))) copyFileSync(join(DATA, name, f), join(dir, f));
    const file = join(dir, 'model.onnx');
    writeFileSync(file, built.model);
    const model = await readOnnxModel(file);
    const inputs = new Set(model.inputs.map((i) => i.name));
    assert.ok(inputs.has('input_ids') && inputs.has('attention_mask'));
    if (castName) {
      assert.ok(inputs.has(castName), `${name}: ${castName} is a graph input`);
      assert.ok(model.nodes.some((n) => n.opType === 'Cast' && n.inputs[0] === castName) || model.nodes.some((n) => n.opType === 'Gather' && n.inputs[0] === castName), `${name}: ${castName} is read as stored`);
    }
    if (plain) {
      assert.deepEqual([...inputs].sort(), ['attention_mask', 'input_ids'], name);
      assert.ok(model.initializers.some((i) => i.name === plain), `${name}: ${plain} is an initializer`);
    }
  }
});

/** A copy of fixture `name` with config.json changed by `edit`. */
function variant(name: string, edit: (c: Record<string, unknown>) => void): string {
  const dir = tmp();
  for (const f of readdirSync(join(DATA, name))) copyFileSync(join(DATA, name, f), join(dir, f));
  const c = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
  edit(c);
  writeFileSync(join(dir, 'config.json'), JSON.stringify(c));
  return dir;
}

test('decoder configs the graph cannot follow give one-line errors naming config.json and the setting', async () => {
  const cases: [string, (c: Record<string, unknown>) => void, RegExp][] = [
    ['llama-seq', (c) => { c['rope_scaling'] = { rope_type: 'yarn', factor: 4.0 }; }, /config\.json: rope_scaling type "yarn" is not built \(built: default, linear, llama3\)/],
    ['llama-lm', (c) => { c['num_key_value_heads'] = 3; }, /config\.json: num_attention_heads 4 is not a multiple of num_key_value_heads 3/],
    ['mistral-lm', (c) => { c['tie_word_embeddings'] = false; }, /config\.json: tie_word_embeddings is false and the weights hold no lm_head\.weight/],
    ['gpt2-hub-lm', (c) => { c['tie_word_embeddings'] = false; }, /config\.json: tie_word_embeddings is false and the weights hold no lm_head\.weight/],
    ['gpt2-lm', (c) => { c['activation_function'] = 'mish'; }, /config\.json activation_function is "mish"/],
    ['gpt2-seq', (c) => { c['n_head'] = 3; }, /config\.json: n_embd 16 is not a multiple of n_head 3/],
  ];
  for (const [name, edit, message] of cases) {
    const folder = await openModel(variant(name, edit), name);
    assert.throws(() => buildGraph(folder), (e: Error) => e.name === 'CheckpointError' && message.test(e.message) && !e.message.includes('\n'), `${name}: ${message}`);
  }
});

test('ken eval --task causal-lm on text: PyTorch\'s token log-probabilities per line (tokenized; lines past the model\'s positions read in strided windows) and perplexity', async () => {
  for (const name of ['gpt2-lm', 'llama-lm']) {
    const dir = join(DATA, name);
    const expected = JSON.parse(readFileSync(join(dir, 'expected-eval.json'), 'utf8')) as { lines: Line[]; truncated: number; perplexity: number; mean_nll: number; n_predicted_tokens: number };
    const outputs = join(tmp(), 'out.jsonl');
    const r = await ken(['eval', dir, '--data', join(dir, 'data.jsonl'), '--json', '--device', 'cpu', '--batch-size', '3', '--outputs', outputs]);
    assert.equal(r.code, 0, r.stderr);
    const obj = JSON.parse(r.stdout) as { task: string; samples: number; graph: string; metrics: Record<string, number>; truncated: number };
    assert.deepEqual([obj.task, obj.samples, obj.graph], ['causal-lm', expected.lines.length, 'built']);
    assert.equal(obj.truncated, expected.truncated, `${name}: lines read in more than one window`);
    assert.equal(obj.metrics['n_predicted_tokens'], expected.n_predicted_tokens);
    assert.ok(Math.abs(obj.metrics['perplexity']! - expected.perplexity) <= 1e-5 * expected.perplexity, `${name}: perplexity ${obj.metrics['perplexity']}, PyTorch ${expected.perplexity}`);
    const rows = readFileSync(outputs, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { token_logprobs: number[] });
    assert.equal(rows.length, expected.lines.length);
    rows.forEach((row, i) => compare(`${name} ken eval line ${i + 1}`, 'token_logprobs', row.token_logprobs, expected.lines[i]!.token_logprobs!));
  }
});
