// Causal LM perplexity through ken eval's runner: an ONNX "model" whose next-token logits depend only
// on the current token (a bigram table), so the log-likelihood of a text does not depend on how it is
// cut into windows. Long lines read in windows with a stride must then predict every token after the
// first exactly once (stride below the window), and give the full-context NLL.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GraphBuilder, type WeightSource } from '../../src/graph';
import { loadTokenizer } from '../../src/eval';
import { evaluateTask } from '../../src/eval/tasks';
import { ROOT, tmp } from '../helpers';

const TOK = join(ROOT, 'test', 'data', 'tokenizers', 'bytelevel');

test('sliding windows with a stride predict each token once: perplexity equals the full-context figure', async () => {
  const dir = tmp();
  for (const f of ['tokenizer.json', 'tokenizer_config.json', 'config.json']) copyFileSync(join(TOK, f), join(dir, f));
  const V = Object.keys((JSON.parse(readFileSync(join(TOK, 'tokenizer.json'), 'utf8')) as { model: { vocab: object } }).model.vocab).length + 1;
  let seed = 12345;
  const rnd = (): number => ((seed = (seed * 16807) % 2147483647) / 2147483647) * 4 - 2;
  const table = Float32Array.from({ length: V * V }, rnd);
  const g = new GraphBuilder({} as WeightSource);
  const ids = g.input('input_ids', 'int64', ['batch', 'sequence']);
  g.input('attention_mask', 'int64', ['batch', 'sequence']);
  g.output(g.op('Gather', [g.floats([...table], [V, V]), ids], { axis: 0 }), 'logits', 'float32', ['batch', 'sequence', V]);
  writeFileSync(join(dir, 'model.onnx'), g.toBytes());
  const texts = ['Hi café 🙂! world', 'Hi', 'Hi world Hi world Hi café, café world!! and more words after them', 'x'];
  writeFileSync(join(dir, 'data.jsonl'), texts.map((text) => JSON.stringify({ text })).join('\n') + '\n');

  const tok = await loadTokenizer(dir);
  let nll = 0;
  let n = 0;
  const lengths: number[] = [];
  for (const t of texts) {
    const e = tok.assemble(tok.tokensWithOffsets(t).tokens, null).ids;
    lengths.push(e.length);
    for (let i = 1; i < e.length; i++) {
      const row = table.subarray(e[i - 1]! * V, e[i - 1]! * V + V);
      const max = Math.max(...row);
      let sum = 0;
      for (const x of row) sum += Math.exp(x - max);
      nll -= row[e[i]!]! - max - Math.log(sum);
      n++;
    }
  }
  assert.ok(Math.max(...lengths) > 20, 'a line longer than several windows');
  const outputs = join(dir, 'out.jsonl');
  for (const [maxLength, stride] of [[64, 32], [8, 3], [5, 5]] as const) {
    const r = await evaluateTask(dir, { data: join(dir, 'data.jsonl'), task: 'causal-lm', graph: 'export', device: 'cpu', maxLength, stride, outputs });
    assert.equal(r.metrics.kind, 'causal_lm');
    const m = r.metrics as { perplexity: number; mean_nll: number; n_predicted_tokens: number };
    const rows = readFileSync(outputs, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { token_logprobs: (number | null)[] });
    assert.deepEqual(rows.map((x) => x.token_logprobs.length), lengths.map((l) => Math.max(0, l - 1)));
    if (stride === maxLength) {
      // windows that do not overlap: the first token of each has no context and is not predicted (as in the guide)
      assert.equal(m.n_predicted_tokens, lengths.reduce((a, l) => a + l - Math.ceil(l / maxLength), 0));
      assert.equal(rows.flatMap((x) => x.token_logprobs).filter((v) => v === null).length, n - m.n_predicted_tokens);
      continue;
    }
    assert.equal(m.n_predicted_tokens, n, `window ${maxLength}, stride ${stride}`);
    assert.ok(Math.abs(m.mean_nll - nll / n) <= 1e-6 * (nll / n), `${m.mean_nll} vs ${nll / n}`);
    assert.ok(Math.abs(m.perplexity - Math.exp(nll / n)) <= 1e-5 * Math.exp(nll / n));
    assert.ok(rows.every((x) => x.token_logprobs.every((v) => typeof v === 'number')));
  }
});
