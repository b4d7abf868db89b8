// The valid inputs every fuzz case starts from, built once per campaign (a few KB each): a tiny
// BERT-shaped fine-tuned/base safetensors pair (also sharded, and with the base as ONNX, inline and
// with external data), a tiny ONNX text classifier folder with its tokenizer, config and data sets,
// and a KEN subnetwork pruned from the pair by the CLI itself.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeSafetensors } from '../src/formats/safetensors';
import { fromFloat32 } from '../src/formats/dtype';
import { FLOAT, INT64, onnxModel, type Init } from './onnx';
import { Rng } from './rng';

export interface Seeds {
  /** dist/cli.js */
  cli: string;
  pair: { ft: string; base: string };
  /** A fine-tuned folder with two shards and model.safetensors.index.json. */
  sharded: string;
  /** Base folders holding model.onnx: initializers inline, and in model.onnx.data. */
  onnxBase: string;
  onnxExternal: string;
  /** model.onnx, tokenizer.json, tokenizer_config.json, config.json, data.jsonl, data.csv, data.tsv. */
  classifier: string;
  /** ken-subnetwork.safetensors pruned from pair.ft against pair.base. */
  subnetwork: string;
}

const H = 16;
export const VOCAB = [
  '[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'the', 'a', 'is', 'was', 'not', 'very', 'good', 'bad', 'great', 'awful', 'movie', 'film',
  'plot', 'actor', 'and', 'but', 'it', 'this', 'i', 'liked', 'hated', 'fun', 'boring', 'story', 'end', '##s', '##ing', '##ed', '##ly',
  '.', ',', '!', '?', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'k', 'l', 'm', 'n', 'o', 'p', 'r', 's', 't', 'u', 'w', 'x', 'y', 'z', 'aa',
];
export const LABELS = ['negative', 'neutral', 'positive'];

function values(rng: Rng, n: number, scale = 0.5): Float32Array {
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = (rng.next() * 2 - 1) * scale;
  return v;
}

const SHAPES: [string, number[]][] = [
  ['bert.embeddings.word_embeddings.weight', [VOCAB.length, H]],
  ['bert.encoder.layer.0.attention.self.query.weight', [H, H]],
  ['bert.encoder.layer.0.attention.self.query.bias', [H]],
  ['bert.encoder.layer.0.intermediate.dense.weight', [2 * H, H]],
  ['bert.encoder.layer.0.output.LayerNorm.weight', [H]],
];
const HEAD: [string, number[]][] = [['classifier.weight', [3, H]], ['classifier.bias', [3]]];

const numel = (s: number[]): number => s.reduce((a, b) => a * b, 1);
const f32 = (v: Float32Array): Uint8Array => new Uint8Array(v.buffer, v.byteOffset, v.byteLength);

function tokenizerJson(): Record<string, unknown> {
  const special = (id: string, typeId: number): unknown => ({ SpecialToken: { id, type_id: typeId } });
  const seq = (id: 'A' | 'B', typeId: number): unknown => ({ Sequence: { id, type_id: typeId } });
  return {
    version: '1.0',
    truncation: { direction: 'Right', max_length: 32, strategy: 'LongestFirst', stride: 0 },
    padding: null,
    added_tokens: VOCAB.slice(0, 5).map((content, id) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [special('[CLS]', 0), seq('A', 0), special('[SEP]', 0)],
      pair: [special('[CLS]', 0), seq('A', 0), special('[SEP]', 0), seq('B', 1), special('[SEP]', 1)],
      special_tokens: { '[CLS]': { id: '[CLS]', ids: [2], tokens: ['[CLS]'] }, '[SEP]': { id: '[SEP]', ids: [3], tokens: ['[SEP]'] } },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab: Object.fromEntries(VOCAB.map((t, i) => [t, i])) },
  };
}

export const SENTENCES: [string, string][] = [
  ['this movie was very good', 'positive'], ['the plot is boring and awful', 'negative'], ['it was a film', 'neutral'],
  ['i liked the actor but not the end', 'neutral'], ['great fun!', 'positive'], ['i hated this story.', 'negative'],
  ['the actors acted badly', 'negative'], ['a very great film, i liked it', 'positive'],
];

export async function buildSeeds(root: string, cli: string): Promise<Seeds> {
  const rng = new Rng(1234);
  const dir = (...p: string[]): string => {
    const d = join(root, ...p);
    mkdirSync(d, { recursive: true });
    return d;
  };
  const config = { model_type: 'bert', vocab_size: VOCAB.length, hidden_size: H, max_position_embeddings: 64, id2label: Object.fromEntries(LABELS.map((l, i) => [String(i), l])), label2id: Object.fromEntries(LABELS.map((l, i) => [l, i])) };
  // the pair
  const base = SHAPES.map(([name, shape]) => ({ name, shape, v: values(rng, numel(shape)) }));
  const ft = [...base.map((t) => ({ ...t, v: t.v.map((x) => x + (rng.next() - 0.5) * 0.2) })), ...HEAD.map(([name, shape]) => ({ name, shape, v: values(rng, numel(shape)) }))];
  const pairFt = dir('pair', 'ft');
  const pairBase = dir('pair', 'base');
  await writeSafetensors(join(pairFt, 'model.safetensors'), ft.map((t) => ({ name: t.name, dtype: 'F32', shape: t.shape, data: fromFloat32(t.v, 'F32') })), { format: 'pt' });
  await writeSafetensors(join(pairBase, 'model.safetensors'), base.map((t) => ({ name: t.name, dtype: 'F32', shape: t.shape, data: fromFloat32(t.v, 'F32') })), { format: 'pt' });
  for (const d of [pairFt, pairBase]) writeFileSync(join(d, 'config.json'), JSON.stringify(config));
  // sharded fine-tuned model
  const sharded = dir('sharded');
  const half = [ft.slice(0, 3), ft.slice(3)];
  const weightMap: Record<string, string> = {};
  for (let s = 0; s < 2; s++) {
    const file = `model-0000${s + 1}-of-00002.safetensors`;
    await writeSafetensors(join(sharded, file), half[s]!.map((t) => ({ name: t.name, dtype: 'BF16', shape: t.shape, data: fromFloat32(t.v, 'BF16') })), { format: 'pt' });
    for (const t of half[s]!) weightMap[t.name] = file;
  }
  writeFileSync(join(sharded, 'model.safetensors.index.json'), JSON.stringify({ metadata: { total_size: 0 }, weight_map: weightMap }, null, 1));
  writeFileSync(join(sharded, 'config.json'), JSON.stringify(config));
  // base as ONNX, inline and external
  const onnxBase = dir('onnx-inline');
  const onnxExternal = dir('onnx-external');
  const inits = (external: boolean): Init[] => {
    let offset = 0;
    return base.map((t) => {
      const data = f32(t.v);
      const init: Init = { name: t.name, dims: t.shape, elemType: FLOAT, data };
      if (external) {
        init.external = { location: 'model.onnx.data', offset };
        offset += data.byteLength;
      }
      return init;
    });
  };
  const graph = (is: Init[]): Uint8Array => onnxModel({
    inits: is,
    nodes: [{ op: 'Identity', inputs: [SHAPES[2]![0]], outputs: ['y'] }],
    inputs: [],
    outputs: [['y', FLOAT, [H]]],
  });
  writeFileSync(join(onnxBase, 'model.onnx'), graph(inits(false)));
  writeFileSync(join(onnxExternal, 'model.onnx'), graph(inits(true)));
  writeFileSync(join(onnxExternal, 'model.onnx.data'), Buffer.concat(base.map((t) => f32(t.v))));
  for (const d of [onnxBase, onnxExternal]) writeFileSync(join(d, 'config.json'), JSON.stringify(config));
  // the classifier folder
  const classifier = dir('classifier');
  const emb = values(rng, VOCAB.length * H);
  const w = values(rng, H * 3);
  const b = values(rng, 3, 0.1);
  writeFileSync(join(classifier, 'model.onnx'), onnxModel({
    inits: [
      { name: 'emb', dims: [VOCAB.length, H], elemType: FLOAT, data: f32(emb) },
      { name: 'w', dims: [H, 3], elemType: FLOAT, data: f32(w) },
      { name: 'b', dims: [3], elemType: FLOAT, data: f32(b) },
    ],
    nodes: [
      { op: 'Gather', inputs: ['emb', 'input_ids'], outputs: ['e'], attrs: [{ name: 'axis', i: 0 }] },
      { op: 'ReduceMean', inputs: ['e'], outputs: ['p'], attrs: [{ name: 'axes', ints: [1] }, { name: 'keepdims', i: 0 }] },
      { op: 'MatMul', inputs: ['p', 'w'], outputs: ['z'] },
      { op: 'Add', inputs: ['z', 'b'], outputs: ['logits'] },
    ],
    inputs: [['input_ids', INT64, ['batch', 'seq']]],
    outputs: [['logits', FLOAT, ['batch', 3]]],
  }));
  writeFileSync(join(classifier, 'tokenizer.json'), JSON.stringify(tokenizerJson(), null, 1));
  writeFileSync(join(classifier, 'tokenizer_config.json'), JSON.stringify({ model_max_length: 32, pad_token: '[PAD]', unk_token: '[UNK]', do_lower_case: true }));
  writeFileSync(join(classifier, 'config.json'), JSON.stringify(config, null, 1));
  writeFileSync(join(classifier, 'data.jsonl'), SENTENCES.map(([text, label]) => JSON.stringify({ text, label })).join('\n') + '\n');
  writeFileSync(join(classifier, 'data.csv'), 'text,label\n' + SENTENCES.map(([t, l], i) => (i % 2 ? `"${t.replace(/"/g, '""')}",${l}` : `${t.replace(/,/g, ' ')},${LABELS.indexOf(l)}`)).join('\n') + '\n');
  writeFileSync(join(classifier, 'data.tsv'), 'text\tlabel\n' + SENTENCES.map(([t, l]) => `${t}\t${l}`).join('\n') + '\n');
  // a subnetwork, pruned by the CLI from the pair
  const pruned = join(root, 'pruned');
  const r = spawnSync(process.execPath, [cli, 'prune', pairFt, '--base', pairBase, '--out', pruned, '-k', '4', '--threads', '1', '--backend', 'js'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`fuzz seeds: ken prune failed (${r.status}): ${r.stderr}`);
  const subDir = dir('subnetwork');
  cpSync(join(pruned, 'ken-subnetwork.safetensors'), join(subDir, 'ken-subnetwork.safetensors'));
  return { cli, pair: { ft: pairFt, base: pairBase }, sharded, onnxBase, onnxExternal, classifier, subnetwork: join(subDir, 'ken-subnetwork.safetensors') };
}
