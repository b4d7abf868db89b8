// A deterministic synthetic BERT pair for benchmarks: a "pre-trained" BertForMaskedLM checkpoint
// (bert-base-uncased names and shapes, legacy LayerNorm gamma/beta, MLM and NSP heads) and a
// "fine-tuned" BertForSequenceClassification (modern names, a classifier head, no MLM head).
// base ~ N(0, baseStd), fine-tuned = base + N(0, noiseStd). Every tensor has its own seeded stream,
// so its values depend only on (seed, role, name, index), never on chunking or order. Tensors are
// generated and written in chunks: memory stays at a few chunks whatever the model size.
import { mkdir, open, writeFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { CancelledError } from '../src/errors';
import { encodeHeader, numel } from '../src/formats/safetensors';

export interface BertShape {
  vocabSize: number;
  hiddenSize: number;
  layers: number;
  heads: number;
  intermediateSize: number;
  maxPositions: number;
  typeVocabSize: number;
  labels: number;
}

export const BERT_BASE: BertShape = {
  vocabSize: 30522, hiddenSize: 768, layers: 12, heads: 12, intermediateSize: 3072, maxPositions: 512, typeVocabSize: 2, labels: 2,
};

export type Role = 'base' | 'finetuned';

export interface TensorSpec {
  name: string;
  shape: number[];
}

/** Tensor names and shapes of one side of the pair, sorted by name (as safetensors lays them out). */
export function bertTensors(c: BertShape, role: Role): TensorSpec[] {
  const H = c.hiddenSize;
  const I = c.intermediateSize;
  // bert-base-uncased keeps the TF-era LayerNorm names; a model saved by today's transformers does not
  const ln = (prefix: string): TensorSpec[] => role === 'base'
    ? [{ name: `${prefix}.gamma`, shape: [H] }, { name: `${prefix}.beta`, shape: [H] }]
    : [{ name: `${prefix}.weight`, shape: [H] }, { name: `${prefix}.bias`, shape: [H] }];
  const dense = (prefix: string, out: number, inp: number): TensorSpec[] => [
    { name: `${prefix}.weight`, shape: [out, inp] },
    { name: `${prefix}.bias`, shape: [out] },
  ];
  const t: TensorSpec[] = [
    { name: 'bert.embeddings.word_embeddings.weight', shape: [c.vocabSize, H] },
    { name: 'bert.embeddings.position_embeddings.weight', shape: [c.maxPositions, H] },
    { name: 'bert.embeddings.token_type_embeddings.weight', shape: [c.typeVocabSize, H] },
    ...ln('bert.embeddings.LayerNorm'),
  ];
  for (let l = 0; l < c.layers; l++) {
    const p = `bert.encoder.layer.${l}`;
    t.push(
      ...dense(`${p}.attention.self.query`, H, H),
      ...dense(`${p}.attention.self.key`, H, H),
      ...dense(`${p}.attention.self.value`, H, H),
      ...dense(`${p}.attention.output.dense`, H, H),
      ...ln(`${p}.attention.output.LayerNorm`),
      ...dense(`${p}.intermediate.dense`, I, H),
      ...dense(`${p}.output.dense`, H, I),
      ...ln(`${p}.output.LayerNorm`),
    );
  }
  t.push(...dense('bert.pooler.dense', H, H));
  if (role === 'finetuned') {
    t.push(...dense('classifier', c.labels, H));
  } else {
    t.push(
      { name: 'cls.predictions.bias', shape: [c.vocabSize] },
      ...dense('cls.predictions.transform.dense', H, H),
      ...ln('cls.predictions.transform.LayerNorm'),
      ...dense('cls.seq_relationship', 2, H),
    );
  }
  return t.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** The name a tensor has on the other side of the pair (LayerNorm gamma/beta vs weight/bias). */
export function sharedName(name: string): string {
  return name.replace(/\.gamma$/, '.weight').replace(/\.beta$/, '.bias');
}

export function paramCount(tensors: readonly TensorSpec[]): number {
  return tensors.reduce((s, t) => s + numel(t.shape), 0);
}

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/**
 * Standard normal values from a seeded sfc32 stream (Marsaglia's polar method).
 * Deterministic for a given seed string, whatever the sizes of the `fill` calls.
 */
export class NormalStream {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spare = 0;
  private hasSpare = false;

  constructor(seed: string) {
    // splitmix32 spreads the hashed seed over the four words of state
    let x = fnv1a(seed);
    const next = (): number => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next() | 1;
    for (let i = 0; i < 12; i++) this.u32();
  }

  private u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** out[i] = N(0, std) for every i. */
  fill(out: Float32Array, std: number): void {
    let i = 0;
    const n = out.length;
    if (this.hasSpare && n > 0) {
      out[i++] = this.spare * std;
      this.hasSpare = false;
    }
    while (i < n) {
      let u: number;
      let v: number;
      let s: number;
      do {
        u = this.u32() * 4.656612873077393e-10 - 1; // [-1, 1)
        v = this.u32() * 4.656612873077393e-10 - 1;
        s = u * u + v * v;
      } while (s >= 1 || s === 0);
      const m = Math.sqrt((-2 * Math.log(s)) / s);
      out[i++] = u * m * std;
      if (i < n) out[i++] = v * m * std;
      else {
        this.spare = v * m;
        this.hasSpare = true;
      }
    }
  }
}

export interface SynthOptions {
  shape?: BertShape;
  seed?: number;
  baseStd?: number;
  noiseStd?: number;
  /** Values generated per step (a multiple of nothing in particular); default 1M. */
  chunk?: number;
  signal?: AbortSignal | undefined;
  onProgress?: ((done: number, total: number) => void) | undefined;
}

export interface SynthPair {
  base: string;
  finetuned: string;
  baseParams: number;
  finetunedParams: number;
  /** Bytes of the two model.safetensors files together. */
  bytes: number;
}

function config(c: BertShape, role: Role): Record<string, unknown> {
  const common = {
    attention_probs_dropout_prob: 0.1, hidden_act: 'gelu', hidden_dropout_prob: 0.1, hidden_size: c.hiddenSize,
    initializer_range: 0.02, intermediate_size: c.intermediateSize, layer_norm_eps: 1e-12,
    max_position_embeddings: c.maxPositions, model_type: 'bert', num_attention_heads: c.heads,
    num_hidden_layers: c.layers, pad_token_id: 0, position_embedding_type: 'absolute',
    type_vocab_size: c.typeVocabSize, use_cache: true, vocab_size: c.vocabSize,
  };
  if (role === 'base') return { architectures: ['BertForMaskedLM'], ...common };
  const labels = Array.from({ length: c.labels }, (_, i) => i);
  return {
    architectures: ['BertForSequenceClassification'], ...common,
    id2label: Object.fromEntries(labels.map((i) => [String(i), `LABEL_${i}`])),
    label2id: Object.fromEntries(labels.map((i) => [`LABEL_${i}`, i])),
    problem_type: 'single_label_classification', torch_dtype: 'float32',
  };
}

async function openSafetensors(path: string, tensors: TensorSpec[]): Promise<{ fh: FileHandle; offsets: Map<string, number> }> {
  const header = encodeHeader(tensors.map((t) => ({ ...t, dtype: 'F32' })), tensors.map((t) => numel(t.shape) * 4), { format: 'pt' });
  const fh = await open(path, 'wx');
  await fh.write(header, 0, header.length, 0);
  const offsets = new Map<string, number>();
  let pos = header.length;
  for (const t of tensors) {
    offsets.set(t.name, pos);
    pos += numel(t.shape) * 4;
  }
  return { fh, offsets };
}

async function writeAll(fh: FileHandle, data: Float32Array, position: number): Promise<void> {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  let done = 0;
  while (done < bytes.byteLength) {
    const { bytesWritten } = await fh.write(bytes, done, bytes.byteLength - done, position + done);
    done += bytesWritten;
  }
}

/**
 * Writes `root/base` and `root/finetuned` (config.json + model.safetensors each), tensor by tensor
 * in chunks. Same options, same bytes.
 */
export async function writeSyntheticPair(root: string, opts: SynthOptions = {}): Promise<SynthPair> {
  const c = opts.shape ?? BERT_BASE;
  const seed = opts.seed ?? 1;
  const baseStd = opts.baseStd ?? 0.02;
  const noiseStd = opts.noiseStd ?? 0.002;
  const chunk = Math.max(1, opts.chunk ?? 1 << 20);
  const baseT = bertTensors(c, 'base');
  const ftT = bertTensors(c, 'finetuned');
  const dirs = { base: join(root, 'base'), finetuned: join(root, 'finetuned') };
  for (const role of ['base', 'finetuned'] as const) {
    await mkdir(dirs[role], { recursive: true });
    await writeFile(join(dirs[role], 'config.json'), JSON.stringify(config(c, role), null, 2) + '\n');
  }
  const base = await openSafetensors(join(dirs.base, 'model.safetensors'), baseT);
  let ft: Awaited<ReturnType<typeof openSafetensors>> | undefined;
  try {
    ft = await openSafetensors(join(dirs.finetuned, 'model.safetensors'), ftT);
    // every base tensor (with its fine-tuned twin when there is one), then the fine-tuned-only ones
    const ftByShared = new Map(ftT.map((t) => [sharedName(t.name), t]));
    const jobs: { spec: TensorSpec; baseName: string | undefined; ftName: string | undefined }[] = baseT.map((t) => ({
      spec: t, baseName: t.name, ftName: ftByShared.get(sharedName(t.name))?.name,
    }));
    const covered = new Set(jobs.map((j) => j.ftName));
    for (const t of ftT) if (!covered.has(t.name)) jobs.push({ spec: t, baseName: undefined, ftName: t.name });
    const total = jobs.reduce((s, j) => s + numel(j.spec.shape), 0);
    let done = 0;
    const bbuf = new Float32Array(chunk);
    const fbuf = new Float32Array(chunk);
    for (const job of jobs) {
      const count = numel(job.spec.shape);
      const values = new NormalStream(`${seed}:base:${sharedName(job.spec.name)}`);
      const noise = new NormalStream(`${seed}:noise:${sharedName(job.spec.name)}`);
      for (let at = 0; at < count; at += chunk) {
        if (opts.signal?.aborted) throw new CancelledError();
        const len = Math.min(chunk, count - at);
        const b = bbuf.subarray(0, len);
        const f = fbuf.subarray(0, len);
        values.fill(b, baseStd);
        if (job.baseName !== undefined) await writeAll(base.fh, b, base.offsets.get(job.baseName)! + at * 4);
        if (job.ftName !== undefined) {
          if (job.baseName !== undefined) {
            noise.fill(f, noiseStd);
            for (let i = 0; i < len; i++) f[i] = b[i]! + f[i]!;
            await writeAll(ft.fh, f, ft.offsets.get(job.ftName)! + at * 4);
          } else {
            await writeAll(ft.fh, b, ft.offsets.get(job.ftName)! + at * 4);
          }
        }
        done += len;
        opts.onProgress?.(done, total);
      }
    }
    const bytes = (await base.fh.stat()).size + (await ft.fh.stat()).size;
    return { base: dirs.base, finetuned: dirs.finetuned, baseParams: paramCount(baseT), finetunedParams: paramCount(ftT), bytes };
  } finally {
    await base.fh.close();
    await ft?.fh.close();
  }
}
