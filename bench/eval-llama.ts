// Part of `npm run bench:eval`: a 1B-class Llama-shaped BF16 folder (Llama 3.2 1B's shapes: hidden 2048,
// 16 layers, 32 query / 8 KV heads, intermediate 8192, vocab 128256, tied embeddings, llama3 RoPE;
// random weights) is written deterministically to a temporary folder in two shards with an index, then
// evaluated as a causal LM through the built graph; the figure is the process's peak RSS (the kernel's
// VmHWM, reset after the folder is written) against the folder's size. Target: below 2.5 times.
// BENCH_LLAMA_LAYERS (default 16) shrinks the model for a quick look; BENCH_LLAMA_LINES / _TOKENS the data.
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { scoreCausalLm } from '../src/eval/causal-lm';
import { openModel } from '../src/checkpoint/folder';
import { buildGraph, sessionExternalData } from '../src/models/build';
import { openSession } from '../src/runtime/session';
import { kernelPeakRss, MB, resetPeakRss, RssSampler } from './measure';

const LAYERS = Number(process.env['BENCH_LLAMA_LAYERS'] ?? 16);
const LINES = Number(process.env['BENCH_LLAMA_LINES'] ?? 4);
const TOKENS = Number(process.env['BENCH_LLAMA_TOKENS'] ?? 128);

const CONFIG = {
  architectures: ['LlamaForCausalLM'], model_type: 'llama', vocab_size: 128256, hidden_size: 2048, intermediate_size: 8192,
  num_hidden_layers: LAYERS, num_attention_heads: 32, num_key_value_heads: 8, head_dim: 64, hidden_act: 'silu',
  max_position_embeddings: 131072, rms_norm_eps: 1e-5, rope_theta: 500000.0, tie_word_embeddings: true,
  rope_scaling: { rope_type: 'llama3', factor: 32.0, low_freq_factor: 1.0, high_freq_factor: 4.0, original_max_position_embeddings: 8192 },
  bos_token_id: 128000, eos_token_id: 128001, torch_dtype: 'bfloat16',
};

/** The tensors of the Llama checkpoint, in file order. */
function tensors(): { name: string; shape: number[] }[] {
  const { hidden_size: d, intermediate_size: inter, num_attention_heads: nh, num_key_value_heads: nkv, head_dim: hd, vocab_size: v } = CONFIG;
  const out = [{ name: 'model.embed_tokens.weight', shape: [v, d] }];
  for (let i = 0; i < LAYERS; i++) {
    const p = `model.layers.${i}.`;
    out.push(
      { name: `${p}input_layernorm.weight`, shape: [d] },
      { name: `${p}self_attn.q_proj.weight`, shape: [nh * hd, d] },
      { name: `${p}self_attn.k_proj.weight`, shape: [nkv * hd, d] },
      { name: `${p}self_attn.v_proj.weight`, shape: [nkv * hd, d] },
      { name: `${p}self_attn.o_proj.weight`, shape: [d, nh * hd] },
      { name: `${p}post_attention_layernorm.weight`, shape: [d] },
      { name: `${p}mlp.gate_proj.weight`, shape: [inter, d] },
      { name: `${p}mlp.up_proj.weight`, shape: [inter, d] },
      { name: `${p}mlp.down_proj.weight`, shape: [d, inter] },
    );
  }
  out.push({ name: 'model.norm.weight', shape: [d] });
  return out;
}

/** Writes one shard: BF16 values, uniform in +-0.04 from a fixed xorshift stream (norm weights 1), in 8 MB chunks. */
function writeShard(path: string, list: { name: string; shape: number[] }[], state: { s: number }): number {
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let off = 0;
  for (const t of list) {
    const bytes = t.shape.reduce((a, b) => a * b, 1) * 2;
    header[t.name] = { dtype: 'BF16', shape: t.shape, data_offsets: [off, off + bytes] };
    off += bytes;
  }
  let h = JSON.stringify(header);
  h += ' '.repeat((8 - (h.length % 8)) % 8);
  const fd = openSync(path, 'w');
  try {
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(h.length));
    writeSync(fd, len);
    writeSync(fd, h);
    const chunk = new Uint16Array(4 << 20);
    const f32 = new Float32Array(1);
    const u32 = new Uint32Array(f32.buffer);
    for (const t of list) {
      let left = t.shape.reduce((a, b) => a * b, 1);
      const norm = t.shape.length === 1;
      while (left > 0) {
        const n = Math.min(left, chunk.length);
        for (let i = 0; i < n; i++) {
          if (norm) {
            chunk[i] = 0x3f80; // 1.0
            continue;
          }
          let s = state.s;
          s ^= s << 13;
          s ^= s >>> 17;
          s ^= s << 5;
          state.s = s >>> 0;
          f32[0] = ((state.s / 4294967296) * 2 - 1) * 0.04;
          chunk[i] = u32[0]! >>> 16;
        }
        writeSync(fd, chunk.subarray(0, n));
        left -= n;
      }
    }
  } finally {
    closeSync(fd);
  }
  return 8 + h.length + off;
}

function writeFolder(dir: string): number {
  writeFileSync(join(dir, 'config.json'), JSON.stringify(CONFIG, null, 2));
  const list = tensors();
  const half = Math.ceil(list.length / 2);
  const shards = [list.slice(0, half), list.slice(half)];
  const weightMap: Record<string, string> = {};
  let total = 0;
  let size = 0;
  const state = { s: 0x2545f491 };
  shards.forEach((part, i) => {
    const file = `model-0000${i + 1}-of-00002.safetensors`;
    size += writeShard(join(dir, file), part, state);
    for (const t of part) {
      weightMap[t.name] = file;
      total += t.shape.reduce((a, b) => a * b, 1) * 2;
    }
  });
  writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: { total_size: total }, weight_map: weightMap }));
  return size;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'ken-bench-llama-'));
  try {
    const t0 = performance.now();
    const fileBytes = writeFolder(dir);
    const params = tensors().reduce((a, t) => a + t.shape.reduce((x, y) => x * y, 1), 0);
    console.log(`bench:eval llama: ${(params / 1e9).toFixed(3)}B parameters, ${LAYERS} layers, BF16 in 2 shards: ${(fileBytes / MB).toFixed(0)} MB written in ${((performance.now() - t0) / 1000).toFixed(1)} s to ${dir}`);
    const reset = resetPeakRss();
    const sampler = new RssSampler().start(100);
    const rss0 = process.memoryUsage.rss();
    const t1 = performance.now();
    const built = buildGraph(await openModel(dir, 'benchmark'));
    const s = await openSession(built.model, 'cpu', { memPattern: false, ...sessionExternalData(built) });
    const openSeconds = (performance.now() - t1) / 1000;
    const afterOpen = process.memoryUsage.rss();
    let x = 12345;
    const lines = Array.from({ length: LINES }, () => Int32Array.from({ length: TOKENS }, () => ((x = (x * 1103515245 + 12345) % 2147483648), x % CONFIG.vocab_size)));
    const t2 = performance.now();
    const scores = await scoreCausalLm(s, lines, { batchSize: LINES, vocabSize: CONFIG.vocab_size });
    const evalSeconds = (performance.now() - t2) / 1000;
    await s.session.release();
    sampler.stop();
    const peak = reset ? kernelPeakRss() ?? sampler.peak : sampler.peak;
    const figures = {
      parameters: params, fileMB: fileBytes / MB, rssBeforeMB: rss0 / MB, rssAfterOpenMB: afterOpen / MB, peakRssMB: peak / MB, peakSource: reset ? 'VmHWM' : 'sampled',
      ratio: peak / fileBytes, openSeconds, evalSeconds, tokens: LINES * TOKENS, tokensPerSecond: (LINES * TOKENS) / evalSeconds, perplexity: scores.perplexity,
      cores: cpus().length,
    };
    console.log(`session opened in ${openSeconds.toFixed(1)} s (RSS ${figures.rssAfterOpenMB.toFixed(0)} MB); ${LINES} lines x ${TOKENS} tokens scored in ${evalSeconds.toFixed(1)} s (${figures.tokensPerSecond.toFixed(1)} tokens/s), perplexity ${scores.perplexity.toFixed(1)} (random weights)`);
    console.log(`peak RSS ${figures.peakRssMB.toFixed(0)} MB (${figures.peakSource}) = ${figures.ratio.toFixed(2)} x the folder's ${figures.fileMB.toFixed(0)} MB; target < 2.5 x: ${figures.ratio < 2.5 ? 'met' : 'NOT met'}`);
    console.log(JSON.stringify(figures));
    if (figures.ratio >= 2.5) process.exitCode = 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(`bench:eval llama: ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = 1;
});
