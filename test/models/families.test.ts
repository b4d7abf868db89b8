// Every family the tool registers, pruned the way its users expect, on tiny folders with the real Hugging
// Face tensor names (test/data/arch, written by scripts/gen-arch-fixtures.py): which tensors are pruned,
// kept as task heads, tied; and the output loads with the same names, shapes, dtypes and index.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readSafetensorsHeader } from '../../src/formats/safetensors';
import { openModel } from '../../src/checkpoint/folder';
import { planPrune } from '../../src/ken/plan';
import { safetensorsViews } from '../../src/checkpoint/tensors';
import { NameIndex, prefixesFor } from '../../src/models/names';
import { pruneToFolder, type PruneRequest } from '../../src/workflows/prune';
import { restoreSubnetwork } from '../../src/workflows/restore';
import { familyOf } from '../../src/models/registry';
import type { KenReport } from '../../src/shared/report';
import { ROOT, tmp } from '../helpers';

export const ARCH = join(ROOT, 'test', 'data', 'arch');

export async function prune(ft: string, base: string, extra: Partial<PruneRequest> = {}): Promise<{ out: string; report: KenReport }> {
  const out = join(tmp('ken-arch-'), 'out');
  const report = await pruneToFolder({ finetuned: ft, base, out, k: 2, backend: 'js', threads: 1, ...extra });
  return { out, report };
}

/** status by tensor name, with kept-all read as pruned (KEN ran; every value of the row was kept). */
function statuses(report: KenReport): Map<string, string> {
  return new Map(report.tensors.map((t) => [t.name, t.status === 'kept-all' ? 'pruned' : t.status]));
}

function expectStatuses(report: KenReport, want: Record<string, string>, rest: string): void {
  const got = statuses(report);
  for (const [name, status] of got) assert.equal(status, want[name] ?? rest, `${name}: ${status}`);
  for (const name of Object.keys(want)) assert.ok(got.has(name), `${name} is not in the report`);
}

/** Names, shapes and dtypes of every safetensors file of a folder, and its index, equal the input's. */
export async function sameLayout(input: string, output: string): Promise<void> {
  const inNames = readdirSync(input).filter((n) => n.endsWith('.safetensors'));
  const outNames = readdirSync(output).filter((n) => n.endsWith('.safetensors') && n !== 'ken-subnetwork.safetensors');
  assert.deepEqual(outNames.sort(), inNames.sort());
  for (const n of inNames) {
    const a = await readSafetensorsHeader(join(input, n));
    const b = await readSafetensorsHeader(join(output, n));
    assert.deepEqual(b.tensors.map((t) => [t.name, t.dtype, t.shape]), a.tensors.map((t) => [t.name, t.dtype, t.shape]), n);
  }
  for (const idx of ['model.safetensors.index.json']) {
    if (existsSync(join(input, idx))) assert.equal(readFileSync(join(output, idx), 'utf8'), readFileSync(join(input, idx), 'utf8'));
  }
  // every side file travels unchanged
  for (const n of readdirSync(input).filter((n) => !/\.(safetensors|onnx)$|index\.json$/.test(n))) {
    assert.deepEqual(readFileSync(join(output, n)), readFileSync(join(input, n)), `side file ${n}`);
  }
}

async function tensorOf(dir: string, name: string): Promise<Buffer> {
  for (const n of readdirSync(dir).filter((f) => f.endsWith('.safetensors') && f !== 'ken-subnetwork.safetensors')) {
    const h = await readSafetensorsHeader(join(dir, n));
    const e = h.tensors.find((t) => t.name === name);
    if (e) return readFileSync(join(dir, n)).subarray(e.begin, e.end);
  }
  throw new Error(`${name} not in ${dir}`);
}

const CLS = { 'classifier.weight': 'head', 'classifier.bias': 'head' };

test('BERT: sequence classification, token classification, QA and a regressor against bert-base-uncased (gamma/beta names, cls.* heads)', async () => {
  const base = join(ARCH, 'bert', 'pretrained');
  for (const [kind, heads] of [['seq-cls', CLS], ['token-cls', CLS], ['qa', { 'qa_outputs.weight': 'head', 'qa_outputs.bias': 'head' }], ['regression', CLS]] as const) {
    const ft = join(ARCH, 'bert', kind);
    const { out, report } = await prune(ft, base);
    expectStatuses(report, heads, 'pruned');
    assert.equal(report.tensors.find((t) => t.name === 'bert.embeddings.LayerNorm.weight')!.base, 'bert.embeddings.LayerNorm.gamma');
    assert.equal(report.family, 'bert');
    assert.equal(report.problemType, kind === 'regression' ? 'regression' : undefined);
    await sameLayout(ft, out);
  }
});

test('RoBERTa and XLM-R: the classification head (classifier.dense, classifier.out_proj) is kept; lm_head is never a base', async () => {
  for (const kind of ['roberta', 'xlm-roberta']) {
    const ft = join(ARCH, kind, 'seq-cls');
    const { out, report } = await prune(ft, join(ARCH, kind, 'pretrained'));
    expectStatuses(report, { 'classifier.dense.weight': 'head', 'classifier.dense.bias': 'head', 'classifier.out_proj.weight': 'head', 'classifier.out_proj.bias': 'head' }, 'pruned');
    assert.equal(report.family, 'roberta');
    await sameLayout(ft, out);
  }
});

test('DistilBERT: pre_classifier and classifier are heads; the vocab_* MLM head is ignored', async () => {
  const ft = join(ARCH, 'distilbert', 'seq-cls');
  const { out, report } = await prune(ft, join(ARCH, 'distilbert', 'pretrained'));
  expectStatuses(report, { ...CLS, 'pre_classifier.weight': 'head', 'pre_classifier.bias': 'head' }, 'pruned');
  await sameLayout(ft, out);
});

test('DeBERTa-v3 against its real base: classifier never matches mask_predictions.classifier (3 labels or 1, with --include-head)', async () => {
  const base = join(ARCH, 'deberta-v3', 'pretrained');
  for (const labels of [3, 1]) {
    const ft = join(ARCH, 'deberta-v3', `seq-cls-${labels}`);
    const { out, report } = await prune(ft, base);
    expectStatuses(report, { ...CLS, 'pooler.dense.weight': 'head', 'pooler.dense.bias': 'head' }, 'pruned');
    await sameLayout(ft, out);
    const withHead = await prune(ft, base, { includeHead: true });
    expectStatuses(withHead.report, { 'classifier.weight': 'no-base', 'classifier.bias': 'no-base', 'pooler.dense.weight': 'no-base', 'pooler.dense.bias': 'no-base' }, 'pruned');
    for (const t of withHead.report.tensors) assert.ok(!t.base?.startsWith('mask_predictions.') && !t.base?.startsWith('lm_predictions.'), `${t.name} matched ${t.base}`);
  }
});

test('ELECTRA: classifier.dense/out_proj are heads; embeddings_project is pruned; the discriminator head is ignored', async () => {
  const ft = join(ARCH, 'electra', 'seq-cls');
  const { out, report } = await prune(ft, join(ARCH, 'electra', 'pretrained'));
  expectStatuses(report, { 'classifier.dense.weight': 'head', 'classifier.dense.bias': 'head', 'classifier.out_proj.weight': 'head', 'classifier.out_proj.bias': 'head', 'electra.embeddings_project.weight': 'pruned' }, 'pruned');
  await sameLayout(ft, out);
});

test('ALBERT: --scope attention prunes the shared albert_layer_groups.N.albert_layers.M tensors, nothing else', async () => {
  const ft = join(ARCH, 'albert', 'seq-cls');
  const { out, report } = await prune(ft, join(ARCH, 'albert', 'pretrained'), { scope: 'attention' });
  const inLayers = report.tensors.filter((t) => t.name.includes('.albert_layer_groups.0.albert_layers.0.'));
  assert.equal(inLayers.length, 16);
  const want: Record<string, string> = { ...CLS };
  for (const t of inLayers) want[t.name] = 'pruned';
  expectStatuses(report, want, 'excluded');
  await sameLayout(ft, out);
});

test('GPT-2: transformer.* matches the hub base stored without the prefix; Conv1D rows are the stored first axis; score is a head', async () => {
  const base = join(ARCH, 'gpt2', 'pretrained');
  const lm = await prune(join(ARCH, 'gpt2', 'lm'), base);
  expectStatuses(lm.report, {}, 'pruned');
  const cattn = lm.report.tensors.find((t) => t.name === 'transformer.h.0.attn.c_attn.weight')!;
  assert.equal(cattn.base, 'h.0.attn.c_attn.weight');
  assert.deepEqual(cattn.shape, [8, 24]);
  assert.equal(cattn.rows, 8); // input units: the first axis as PyTorch stores Conv1D
  await sameLayout(join(ARCH, 'gpt2', 'lm'), lm.out);
  const cls = await prune(join(ARCH, 'gpt2', 'seq-cls'), base);
  expectStatuses(cls.report, { 'score.weight': 'head' }, 'pruned');
  await sameLayout(join(ARCH, 'gpt2', 'seq-cls'), cls.out);
});

test('Llama, Mistral: BF16 shards with an index keep their layout; lm_head (untied) is pruned; score is a head', async () => {
  for (const fam of ['llama', 'mistral']) {
    const ft = join(ARCH, fam, 'causal-lm');
    const { out, report } = await prune(ft, join(ARCH, fam, 'pretrained'));
    expectStatuses(report, { 'lm_head.weight': 'pruned', 'model.layers.0.self_attn.k_proj.weight': 'pruned' }, 'pruned');
    assert.ok(report.tensors.every((t) => t.dtype === 'BF16'));
    await sameLayout(ft, out);
  }
  const ft = join(ARCH, 'llama', 'seq-cls');
  const { out, report } = await prune(ft, join(ARCH, 'llama', 'pretrained'));
  expectStatuses(report, { 'score.weight': 'head' }, 'pruned');
  await sameLayout(ft, out);
});

test('Llama token classification (score with a bias) and QA (the base under transformer.) against a LlamaForCausalLM base (model.): heads kept, the rest matched by role and pruned', async () => {
  const base = join(ARCH, 'llama', 'pretrained');
  const tok = await prune(join(ARCH, 'llama', 'tok-cls'), base);
  expectStatuses(tok.report, { 'score.weight': 'head', 'score.bias': 'head' }, 'pruned');
  await sameLayout(join(ARCH, 'llama', 'tok-cls'), tok.out);
  const qa = await prune(join(ARCH, 'llama', 'qa'), base);
  expectStatuses(qa.report, { 'qa_outputs.weight': 'head', 'qa_outputs.bias': 'head', 'transformer.layers.1.mlp.down_proj.weight': 'pruned' }, 'pruned');
  const q = qa.report.tensors.find((t) => t.name === 'transformer.layers.0.self_attn.q_proj.weight')!;
  assert.equal(q.base, 'model.layers.0.self_attn.q_proj.weight');
  assert.equal(qa.report.tensors.find((t) => t.name === 'transformer.embed_tokens.weight')!.base, 'model.embed_tokens.weight');
  await sameLayout(join(ARCH, 'llama', 'qa'), qa.out);
  // --scope attention knows transformer.layers.N as numbered layers
  const att = await prune(join(ARCH, 'llama', 'qa'), base, { scope: 'attention' });
  assert.equal(att.report.tensors.find((t) => t.name === 'transformer.layers.0.self_attn.k_proj.weight')!.status, 'pruned');
  assert.notEqual(att.report.tensors.find((t) => t.name === 'transformer.embed_tokens.weight')?.status, 'pruned');
  // the swap is a family's rule: with every family's prefixes (no config.json) it is not taken
  const views = safetensorsViews(await openModel(base, 'base'));
  assert.equal(new NameIndex(views, prefixesFor(familyOf({ model_type: 'llama' })), true).find('transformer.norm.weight')?.name, 'model.norm.weight');
  assert.equal(new NameIndex(views, prefixesFor(undefined)).find('transformer.norm.weight'), undefined);
  assert.equal(new NameIndex(views, prefixesFor(familyOf({ model_type: 'llama' })), true).find('transformer.qa_outputs.weight'), undefined);
});

test('Qwen2 with tied embeddings: a stored lm_head copy is pruned once with embed_tokens and written identically; remote code and README travel', async () => {
  const ft = join(ARCH, 'qwen2', 'causal-lm');
  const { out, report } = await prune(ft, join(ARCH, 'qwen2', 'pretrained'));
  const tied = report.tensors.find((t) => t.name === 'model.embed_tokens.weight')!;
  assert.deepEqual(tied.stored!.map((s) => s.name), ['model.embed_tokens.weight', 'lm_head.weight']);
  assert.match(tied.note!, /tied: lm_head\.weight is a copy of model\.embed_tokens\.weight/);
  assert.ok(!report.tensors.some((t) => t.name === 'lm_head.weight'));
  const [a, b] = [await tensorOf(out, 'model.embed_tokens.weight'), await tensorOf(out, 'lm_head.weight')];
  assert.ok(a.equals(b));
  assert.ok(!a.equals(await tensorOf(ft, 'model.embed_tokens.weight')), 'the tied weight was pruned');
  await sameLayout(ft, out);
  for (const f of ['configuration_qwen2_custom.py', 'modeling_qwen2_custom.py', 'README.md']) assert.ok(existsSync(join(out, f)), f);
});

test('T5: shared, encoder.embed_tokens and decoder.embed_tokens stored as copies stay one weight, pruned once', async () => {
  const ft = join(ARCH, 't5', 'seq2seq');
  const { out, report } = await prune(ft, join(ARCH, 't5', 'pretrained'));
  const shared = report.tensors.find((t) => t.name === 'shared.weight')!;
  assert.equal(shared.status, 'pruned');
  assert.deepEqual(shared.stored!.map((s) => s.name), ['shared.weight', 'encoder.embed_tokens.weight', 'decoder.embed_tokens.weight']);
  const copies = await Promise.all(['shared.weight', 'encoder.embed_tokens.weight', 'decoder.embed_tokens.weight'].map((n) => tensorOf(out, n)));
  assert.ok(copies[0]!.equals(copies[1]!) && copies[0]!.equals(copies[2]!));
  assert.ok(!copies[0]!.equals(await tensorOf(ft, 'shared.weight')));
  expectStatuses(report, {}, 'pruned');
  await sameLayout(ft, out);
  // the subnetwork rebuilds every copy
  const restored = join(tmp('ken-arch-'), 'restored');
  await restoreSubnetwork({ subnetwork: join(out, 'ken-subnetwork.safetensors'), base: join(ARCH, 't5', 'pretrained'), out: restored });
  assert.deepEqual(readFileSync(join(restored, 'model.safetensors')), readFileSync(join(out, 'model.safetensors')));
});

test('the role rule on every family: a prefix on one side only, never another module, never a pre-training head', async () => {
  const cases: [string, string, string][] = [
    ['bert', 'seq-cls', 'pretrained'], ['roberta', 'seq-cls', 'pretrained'], ['xlm-roberta', 'seq-cls', 'pretrained'], ['distilbert', 'seq-cls', 'pretrained'],
    ['deberta-v3', 'seq-cls-1', 'pretrained'], ['electra', 'seq-cls', 'pretrained'], ['albert', 'seq-cls', 'pretrained'], ['gpt2', 'seq-cls', 'pretrained'],
    ['llama', 'seq-cls', 'pretrained'], ['llama', 'qa', 'pretrained'], ['llama', 'tok-cls', 'pretrained'], ['qwen2', 'causal-lm', 'pretrained'], ['t5', 'seq2seq', 'pretrained'],
  ];
  for (const [fam, ftName, baseName] of cases) {
    const ft = await openModel(join(ARCH, fam, ftName), 'fine-tuned');
    const base = await openModel(join(ARCH, fam, baseName), 'base');
    const family = familyOf(ft.config)!;
    assert.ok(family, fam);
    const plan = await planPrune(ft, base, { scope: 'all', includeHead: true });
    for (const t of plan.tensors) {
      if (!t.base) continue;
      const [a, b] = [t.name.replace(/\.gamma$/, '.weight').replace(/\.beta$/, '.bias'), t.base.name.replace(/\.gamma$/, '.weight').replace(/\.beta$/, '.bias')];
      const ok = a === b || family.prefixes.some((p) => a === p + b || b === p + a || family.prefixes.some((q) => a.startsWith(p) && b.startsWith(q) && a.slice(p.length) === b.slice(q.length)));
      assert.ok(ok, `${fam}: ${t.name} matched ${t.base.name}`);
      assert.ok(!family.pretrainingHeads.test(t.base.name), `${fam}: ${t.name} matched the pre-training head ${t.base.name}`);
    }
  }
  // the index itself, on names alone
  const views = safetensorsViews(await openModel(join(ARCH, 'deberta-v3', 'pretrained'), 'base'));
  const index = new NameIndex(views, prefixesFor(familyOf({ model_type: 'deberta-v2' })));
  assert.equal(index.find('classifier.bias'), undefined);
  assert.equal(index.find('encoder.layer.0.attention.self.query_proj.weight')?.name, 'deberta.encoder.layer.0.attention.self.query_proj.weight');
  assert.equal(index.find('lm_head.bias'), undefined); // the base has lm_predictions.lm_head.bias: another module
});

test('a shard given alone means its folder, and the report says so', async () => {
  const shard = join(ARCH, 'llama', 'causal-lm', 'model-00001-of-00002.safetensors');
  const { out, report } = await prune(shard, join(ARCH, 'llama', 'pretrained'));
  assert.ok(report.notes!.some((n) => /model-00001-of-00002\.safetensors is one shard of model\.safetensors\.index\.json: the whole folder .* is used/.test(n)), JSON.stringify(report.notes));
  assert.equal(report.tensors.length, 21);
  await sameLayout(join(ARCH, 'llama', 'causal-lm'), out);
  assert.ok(existsSync(join(out, 'chat_template.jinja')));
});

test('BART: model.shared and its encoder/decoder copies are one weight; classification_head is a head', async () => {
  const ft = join(ARCH, 'bart', 'seq-cls');
  const { out, report } = await prune(ft, join(ARCH, 'bart', 'pretrained'));
  const shared = report.tensors.find((t) => t.name === 'model.shared.weight')!;
  assert.deepEqual(shared.stored!.map((s) => s.name), ['model.shared.weight', 'model.encoder.embed_tokens.weight', 'model.decoder.embed_tokens.weight']);
  expectStatuses(report, { 'classification_head.dense.weight': 'head', 'classification_head.dense.bias': 'head', 'classification_head.out_proj.weight': 'head', 'classification_head.out_proj.bias': 'head' }, 'pruned');
  const copies = await Promise.all(['model.shared.weight', 'model.encoder.embed_tokens.weight', 'model.decoder.embed_tokens.weight'].map((n) => tensorOf(out, n)));
  assert.ok(copies[0]!.equals(copies[1]!) && copies[0]!.equals(copies[2]!));
  await sameLayout(ft, out);
});

test('MPNet, CamemBERT, Mixtral (experts), Phi-3 (fused projections), Gemma (tied head copy): heads kept, the rest pruned', async () => {
  const dense = { 'classifier.dense.weight': 'head', 'classifier.dense.bias': 'head', 'classifier.out_proj.weight': 'head', 'classifier.out_proj.bias': 'head' };
  for (const [fam, kind, heads] of [['mpnet', 'seq-cls', dense], ['camembert', 'seq-cls', dense], ['mixtral', 'causal-lm', {}], ['phi3', 'seq-cls', { 'score.weight': 'head' }], ['gemma', 'causal-lm', {}]] as const) {
    const ft = join(ARCH, fam, kind);
    const { out, report } = await prune(ft, join(ARCH, fam, 'pretrained'));
    expectStatuses(report, heads, 'pruned');
    await sameLayout(ft, out);
    if (fam === 'mixtral') assert.equal(report.tensors.find((t) => t.name === 'model.layers.1.block_sparse_moe.experts.1.w3.weight')!.status, 'pruned');
    if (fam === 'gemma') {
      assert.deepEqual(report.tensors.find((t) => t.name === 'model.embed_tokens.weight')!.stored!.map((s) => s.name), ['model.embed_tokens.weight', 'lm_head.weight']);
      assert.ok((await tensorOf(out, 'model.embed_tokens.weight')).equals(await tensorOf(out, 'lm_head.weight')));
    }
  }
});

test('T5ForSequenceClassification: transformer.* matches the t5 base, its tied copies stay one weight, classification_head is a head', async () => {
  const ft = join(ARCH, 't5', 'seq-cls');
  const { out, report } = await prune(ft, join(ARCH, 't5', 'pretrained'));
  const shared = report.tensors.find((t) => t.name === 'transformer.shared.weight')!;
  assert.equal(shared.base, 'shared.weight');
  assert.deepEqual(shared.stored!.map((s) => s.name), ['transformer.shared.weight', 'transformer.encoder.embed_tokens.weight', 'transformer.decoder.embed_tokens.weight']);
  expectStatuses(report, { 'classification_head.dense.weight': 'head', 'classification_head.dense.bias': 'head', 'classification_head.out_proj.weight': 'head', 'classification_head.out_proj.bias': 'head' }, 'pruned');
  await sameLayout(ft, out);
  const attention = await prune(ft, join(ARCH, 't5', 'pretrained'), { scope: 'attention' });
  assert.equal(statuses(attention.report).get('transformer.encoder.block.0.layer.0.SelfAttention.q.weight'), 'pruned');
  assert.equal(statuses(attention.report).get('transformer.shared.weight'), 'excluded');
});
