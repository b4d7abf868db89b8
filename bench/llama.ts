// `npm run bench -- --llama`: KEN at the scale of a 7B decoder. A deterministic BF16 pair with
// Llama-2-7B's shapes (hidden 4096, MLP 11008, vocab 32000, embedding and untied LM head) but 8 of its
// 32 layers, sharded (~1 GB shards with model.safetensors.index.json) in a temporary folder, pruned
// in-process at k=64 (reading and writing included), then restored from its subnetwork file.
//
//   node dist/bench/bench.js --llama [--layers 8] [--k 64] [--threads N] [--keep DIR]
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, open, readdir, rm, writeFile, type FileHandle } from 'node:fs/promises';
import { availableParallelism, cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { encodeHeader, numel } from '../src/formats/safetensors';
import { pruneToFolder, sha256File } from '../src/workflows/prune';
import { SUBNETWORK_FILE } from '../src/formats/subnetwork';
import { restoreSubnetwork } from '../src/workflows/restore';
import { CpuWatch, MB, RssSampler, kernelPeakRss, resetPeakRss, type CpuFigures } from './measure';
import { NormalStream, type TensorSpec } from './synth';

export interface LlamaShape {
  vocab: number;
  hidden: number;
  intermediate: number;
  layers: number;
  heads: number;
}

export const LLAMA_2_7B: LlamaShape = { vocab: 32000, hidden: 4096, intermediate: 11008, layers: 32, heads: 32 };

/** Tensor names and shapes of LlamaForCausalLM (untied lm_head), in Hugging Face's save order. */
export function llamaTensors(c: LlamaShape): TensorSpec[] {
  const H = c.hidden;
  const I = c.intermediate;
  const t: TensorSpec[] = [{ name: 'model.embed_tokens.weight', shape: [c.vocab, H] }];
  for (let l = 0; l < c.layers; l++) {
    const p = `model.layers.${l}`;
    t.push(
      { name: `${p}.self_attn.q_proj.weight`, shape: [H, H] },
      { name: `${p}.self_attn.k_proj.weight`, shape: [H, H] },
      { name: `${p}.self_attn.v_proj.weight`, shape: [H, H] },
      { name: `${p}.self_attn.o_proj.weight`, shape: [H, H] },
      { name: `${p}.mlp.gate_proj.weight`, shape: [I, H] },
      { name: `${p}.mlp.up_proj.weight`, shape: [I, H] },
      { name: `${p}.mlp.down_proj.weight`, shape: [H, I] },
      { name: `${p}.input_layernorm.weight`, shape: [H] },
      { name: `${p}.post_attention_layernorm.weight`, shape: [H] },
    );
  }
  t.push({ name: 'model.norm.weight', shape: [H] }, { name: 'lm_head.weight', shape: [c.vocab, H] });
  return t;
}

/** KEN rows of the pair (every tensor: 1-D ones are one row). */
export function llamaRows(c: LlamaShape): number {
  return llamaTensors(c).reduce((s, t) => s + (t.shape.length === 1 ? 1 : t.shape[0]!), 0);
}

/**
 * Fast deterministic N(0,1)-like values: a sfc32-style stream indexes a 64K-entry table of normal
 * quantiles. Plenty of spread for KEN's densities, and an order of magnitude faster than drawing
 * each value by the polar method, which matters for 3.8 G values.
 */
class TableNormals {
  private static table: Float32Array | undefined;
  private s: number;
  constructor(seed: string) {
    if (!TableNormals.table) {
      const tab = new Float32Array(65536);
      new NormalStream('llama-table').fill(tab, 1);
      tab.sort();
      TableNormals.table = tab;
    }
    let h = 0x811c9dc5;
    for (let i = 0; i < seed.length; i++) h = Math.imul(h ^ seed.charCodeAt(i), 0x01000193) >>> 0;
    this.s = h || 1;
  }
  /** out[i] = base[i] + std * N(0,1) (base may be undefined: zeros). */
  fill(out: Float32Array, std: number, base?: Float32Array): void {
    const tab = TableNormals.table!;
    let s = this.s;
    for (let i = 0; i < out.length; i++) {
      // xorshift32: cheap, full period, good enough to index a quantile table
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      const v = tab[(s >>> 8) & 0xffff]! * std;
      out[i] = base ? base[i]! + v : v;
    }
    this.s = s;
  }
}

/** float32 -> bfloat16 bits, round to nearest even (what torch's .to(torch.bfloat16) does). */
function toBf16(src: Float32Array, dst: Uint16Array): void {
  const u = new Uint32Array(src.buffer, src.byteOffset, src.length);
  for (let i = 0; i < src.length; i++) {
    const x = u[i]!;
    dst[i] = (x + 0x7fff + ((x >>> 16) & 1)) >>> 16;
  }
}

export interface LlamaPair {
  base: string;
  finetuned: string;
  params: number;
  rows: number;
  /** Bytes of one model's shards. */
  modelBytes: number;
  seconds: number;
}

function config(c: LlamaShape): Record<string, unknown> {
  return {
    architectures: ['LlamaForCausalLM'], model_type: 'llama', hidden_size: c.hidden, intermediate_size: c.intermediate,
    num_hidden_layers: c.layers, num_attention_heads: c.heads, num_key_value_heads: c.heads, vocab_size: c.vocab,
    max_position_embeddings: 4096, rms_norm_eps: 1e-5, rope_theta: 10000, hidden_act: 'silu', tie_word_embeddings: false,
    torch_dtype: 'bfloat16', bos_token_id: 1, eos_token_id: 2,
  };
}

/** Writes base/ and finetuned/ (config.json, BF16 shards of about `shardBytes`, index); fine-tuned = base + N(0, noise). */
export async function writeLlamaPair(root: string, c: LlamaShape, opts: { seed?: number; shardBytes?: number; signal?: AbortSignal } = {}): Promise<LlamaPair> {
  const t0 = performance.now();
  const seed = opts.seed ?? 1;
  const shardBytes = opts.shardBytes ?? 1e9;
  const tensors = llamaTensors(c);
  // shards as transformers' save_pretrained cuts them: in order, a new shard when the next tensor would overflow
  const shards: TensorSpec[][] = [[]];
  let size = 0;
  for (const t of tensors) {
    const b = numel(t.shape) * 2;
    if (size > 0 && size + b > shardBytes) {
      shards.push([]);
      size = 0;
    }
    shards[shards.length - 1]!.push(t);
    size += b;
  }
  const names = shards.map((_, i) => `model-${String(i + 1).padStart(5, '0')}-of-${String(shards.length).padStart(5, '0')}.safetensors`);
  const dirs = { base: join(root, 'base'), finetuned: join(root, 'finetuned') };
  const total = tensors.reduce((s, t) => s + numel(t.shape) * 2, 0);
  for (const dir of Object.values(dirs)) {
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'config.json'), JSON.stringify(config(c), null, 2) + '\n');
    const weightMap: Record<string, string> = {};
    shards.forEach((s, i) => s.forEach((t) => (weightMap[t.name] = names[i]!)));
    await writeFile(join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: { total_size: total }, weight_map: weightMap }, null, 2) + '\n');
  }
  const chunk = 1 << 22;
  const b32 = new Float32Array(chunk);
  const f32 = new Float32Array(chunk);
  const b16 = new Uint16Array(chunk);
  const f16 = new Uint16Array(chunk);
  for (const [i, list] of shards.entries()) {
    const header = encodeHeader(list.map((t) => ({ ...t, dtype: 'BF16' })), list.map((t) => numel(t.shape) * 2), { format: 'pt' });
    const fhs: FileHandle[] = [await open(join(dirs.base, names[i]!), 'wx'), await open(join(dirs.finetuned, names[i]!), 'wx')];
    try {
      for (const fh of fhs) await fh.write(header, 0, header.length, 0);
      let pos = header.length;
      for (const t of list) {
        const count = numel(t.shape);
        const norm = t.shape.length === 1;
        const values = new TableNormals(`${seed}:base:${t.name}`);
        const noise = new TableNormals(`${seed}:noise:${t.name}`);
        for (let at = 0; at < count; at += chunk) {
          if (opts.signal?.aborted) throw new Error('cancelled');
          const len = Math.min(chunk, count - at);
          const b = b32.subarray(0, len);
          const f = f32.subarray(0, len);
          values.fill(b, norm ? 0.05 : 0.02);
          if (norm) for (let j = 0; j < len; j++) b[j] = b[j]! + 1;
          noise.fill(f, 0.002, b);
          toBf16(b, b16);
          toBf16(f, f16);
          await fhs[0]!.write(new Uint8Array(b16.buffer, 0, len * 2), 0, len * 2, pos);
          await fhs[1]!.write(new Uint8Array(f16.buffer, 0, len * 2), 0, len * 2, pos);
          pos += len * 2;
        }
      }
    } finally {
      for (const fh of fhs) await fh.close();
    }
  }
  return { ...dirs, params: total / 2, rows: llamaRows(c), modelBytes: total, seconds: (performance.now() - t0) / 1000 };
}

const fmt = (x: number, d = 2): string => x.toFixed(d);
const mb = (b: number | undefined): string => (b === undefined ? 'n/a' : `${Math.round(b / MB)} MB`);
const cpuText = (c: CpuFigures): string => `CPU: ours ${fmt(c.ownCores)} cores (user+system), other processes ${c.otherCores === undefined ? 'n/a' : fmt(c.otherCores)} cores`;

const TARGET_ROWS_PER_S = 2400;
const TARGET_RSS = 1.5 * 1024 * MB;
const TARGET_RESTORE_MB_S = 200;

function systemSeconds(u0: NodeJS.CpuUsage): { user: number; system: number } {
  const u = process.cpuUsage(u0);
  return { user: u.user / 1e6, system: u.system / 1e6 };
}

export async function llamaBench(argv: string[]): Promise<number> {
  const log = (s: string): void => void process.stdout.write(s + '\n');
  let layers = 8;
  let k = 64;
  let threads: number | undefined;
  let keep: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const v = (): string => argv[++i] ?? '';
    if (a === '--llama') continue;
    else if (a === '--layers') layers = Number(v());
    else if (a === '--k') k = Number(v());
    else if (a === '--threads') threads = Number(v());
    else if (a === '--keep') keep = v();
    else {
      process.stderr.write(`bench --llama: unknown option ${a}\n`);
      return 2;
    }
  }
  const shape: LlamaShape = { ...LLAMA_2_7B, layers };
  const machine = `${cpus()[0]?.model ?? 'cpu'} x${cpus().length}, ${Math.round(totalmem() / 1024 ** 3)} GiB, node ${process.version}`;
  log(`KEN at 7B scale: Llama-2-7B shapes, ${layers} of 32 layers, BF16, k=${k}`);
  log(`  machine: ${machine}; threads: ${threads ?? availableParallelism()}`);
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  const work = keep ?? (await mkdtemp(join(tmpdir(), 'ken-llama-')));
  try {
    log(`\n[1] generating the pair in ${work}`);
    const pairDir = join(work, 'pair');
    if (keep && existsSync(join(pairDir, 'done'))) log('  (reusing the pair --keep left there)');
    else await rm(pairDir, { recursive: true, force: true });
    const pair = keep && existsSync(join(pairDir, 'done'))
      ? (JSON.parse(readFileSync(join(pairDir, 'done'), 'utf8')) as LlamaPair)
      : await writeLlamaPair(pairDir, shape, { signal: controller.signal });
    if (keep) await writeFile(join(pairDir, 'done'), JSON.stringify(pair));
    for (const d of ['pruned', 'restored']) await rm(join(work, d), { recursive: true, force: true });
    log(`  ${pair.params.toLocaleString('en')} parameters per model, ${pair.rows.toLocaleString('en')} KEN rows, ${mb(pair.modelBytes)} per model, written in ${fmt(pair.seconds, 1)} s`);

    log(`\n[2] ken prune (in-process, js backend, k=${k})`);
    const out = join(work, 'pruned');
    const hwm = resetPeakRss();
    const sampler = new RssSampler().start(100);
    const watch = new CpuWatch();
    const u0 = process.cpuUsage();
    const t0 = performance.now();
    let lastLog = t0;
    const report = await pruneToFolder({
      finetuned: pair.finetuned, base: pair.base, out, k, backend: 'js', device: 'cpu', threads, signal: controller.signal,
      onProgress: (p) => {
        const now = performance.now();
        if (now - lastLog > 15000) {
          lastLog = now;
          log(`  ${p.rowsDone.toLocaleString('en')} / ${p.rowsTotal.toLocaleString('en')} rows, ${fmt((now - t0) / 1000, 0)} s`);
        }
      },
    }).finally(() => sampler.stop());
    const seconds = (performance.now() - t0) / 1000;
    const cpu = watch.stop();
    const sys = systemSeconds(u0);
    const peak = Math.max(sampler.peak, (hwm ? kernelPeakRss() : undefined) ?? 0);
    const rows = report.tensors.reduce((s, t) => s + (t.status === 'pruned' || t.status === 'kept-all' ? t.rows : 0), 0);
    const rowsPerS = rows / seconds;
    log(`  ${fmt(seconds, 1)} s, ${rows.toLocaleString('en')} rows, ${Math.round(rowsPerS).toLocaleString('en')} rows/s; kept ${fmt(100 * report.keptRatio, 2)}%; ` +
      `peak RSS ${mb(peak)}; user ${fmt(sys.user, 1)} s, system ${fmt(sys.system, 1)} s; ${cpuText(cpu)}`);
    log(`  subnetwork ${mb(report.bytes!.subnetwork)} (${fmt((100 * report.bytes!.subnetwork) / report.bytes!.checkpoint, 1)}% of the checkpoint)`);

    log(`\n[3] ken restore`);
    const restored = join(work, 'restored');
    const rHwm = resetPeakRss();
    const rSampler = new RssSampler().start(100);
    const rWatch = new CpuWatch();
    const r0 = process.cpuUsage();
    const rt0 = performance.now();
    await restoreSubnetwork({ subnetwork: join(out, SUBNETWORK_FILE), base: pair.base, out: restored, signal: controller.signal }).finally(() => rSampler.stop());
    const rSeconds = (performance.now() - rt0) / 1000;
    const rCpu = rWatch.stop();
    const rSys = systemSeconds(r0);
    const rPeak = Math.max(rSampler.peak, (rHwm ? kernelPeakRss() : undefined) ?? 0);
    const mbps = pair.modelBytes / MB / rSeconds;
    // the restored shards must be the pruned ones, byte for byte
    let identical = true;
    for (const name of await readdir(out)) {
      if (!name.endsWith('.safetensors') || name === SUBNETWORK_FILE) continue;
      const [a, b] = await Promise.all([sha256File(join(out, name)), sha256File(join(restored, name))]);
      if (a !== b) identical = false;
    }
    log(`  ${fmt(rSeconds, 1)} s, ${fmt(mbps, 0)} MB/s of checkpoint; peak RSS ${mb(rPeak)}; user ${fmt(rSys.user, 1)} s, system ${fmt(rSys.system, 1)} s; ${cpuText(rCpu)}; shards identical to the pruned ones: ${identical}`);

    log(`\nTargets: ${Math.round(rowsPerS)} rows/s vs >= ${TARGET_ROWS_PER_S}: ${rowsPerS >= TARGET_ROWS_PER_S ? 'met' : 'MISSED'}; ` +
      `peak RSS ${mb(peak)} vs <= ${mb(TARGET_RSS)}: ${peak <= TARGET_RSS ? 'met' : 'MISSED'}; ` +
      `restore ${fmt(mbps, 0)} MB/s vs >= ${TARGET_RESTORE_MB_S}: ${mbps >= TARGET_RESTORE_MB_S ? 'met' : 'MISSED'}`);
    if ((cpu.otherCores ?? 0) > 0.2) log(`NOTE: other processes kept ${fmt(cpu.otherCores!)} cores busy during the prune; its wall time is inflated accordingly.`);
    log('\n' + JSON.stringify({
      bench: 'ken-llama', machine, layers, k, params: pair.params, rows, modelBytes: pair.modelBytes,
      prune: { seconds, rowsPerSecond: rowsPerS, peakRssBytes: peak, user: sys.user, system: sys.system, cpu, subnetworkBytes: report.bytes!.subnetwork, keptRatio: report.keptRatio },
      restore: { seconds: rSeconds, mbPerSecond: mbps, peakRssBytes: rPeak, user: rSys.user, system: rSys.system, cpu: rCpu, identical },
      createdAt: new Date().toISOString(),
    }));
    return identical ? 0 : 1;
  } finally {
    if (!keep) await rm(work, { recursive: true, force: true });
  }
}


