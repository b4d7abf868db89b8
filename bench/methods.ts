// `npm run bench:methods`: the pruning methods on the synthetic BERT-base pair of `npm run bench`
// (built here in a temporary folder, removed at the end):
// 1. a whole prune per method at one k, reading and writing included (pruneToFolder, as `ken prune`);
// 2. the pruning part of a sweep: KEN alone at 4 values of k against 4 methods x the same 4 k (each
//    point pruned in memory, as `ken sweep` does before it evaluates; the evaluations are not timed).
//
//   node dist/bench/methods.js [--k 384] [--sweep-k 96,192,384,576] [--methods ken,delta-magnitude,magnitude,random,dare] [--threads N] [--quick]
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { preparePrune, pruneToFolder } from '../src/workflows/prune';
import { KenPool } from '../src/ken/pool';
import { runKen } from '../src/ken/run';
import { prepareMethod } from '../src/methods/prepare';
import { CpuWatch, MB, RssSampler } from './measure';
import { BERT_BASE, writeSyntheticPair, type BertShape } from './synth';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const k = Number(arg('--k', '384'));
  const sweepKs = arg('--sweep-k', '96,192,384,576').split(',').map(Number);
  const methods = arg('--methods', 'ken,delta-magnitude,magnitude,random,dare').split(',');
  const threadsText = arg('--threads', '');
  const threads = threadsText ? Number(threadsText) : undefined;
  const shape: BertShape = quick ? { ...BERT_BASE, layers: 2, vocabSize: 4000 } : BERT_BASE;
  const root = await mkdtemp(join(tmpdir(), 'ken-bench-methods-'));
  try {
    process.stderr.write('writing the synthetic pair...\n');
    const pair = await writeSyntheticPair(root, { shape });
    console.log(`pair: ${shape.layers} layers, ${(pair.finetunedParams / 1e6).toFixed(1)} M parameters, ${(pair.bytes / MB).toFixed(0)} MiB of safetensors; k=${k}`);
    console.log('\n1. whole prune (read, select, merge, write the checkpoint and the subnetwork)');
    console.log('method            seconds   x KEN   peak RSS   other processes\' cores');
    let kenSeconds: number | undefined;
    for (const method of methods) {
      const out = join(root, `out-${method}`);
      const rss = new RssSampler().start();
      const cpu = new CpuWatch();
      const t0 = performance.now();
      await pruneToFolder({ finetuned: pair.finetuned, base: pair.base, out, k, method, seed: 0, threads, backend: 'js', device: 'cpu' });
      const seconds = (performance.now() - t0) / 1000;
      const c = cpu.stop();
      rss.stop();
      if (method === 'ken') kenSeconds = seconds;
      console.log(`${method.padEnd(16)}  ${seconds.toFixed(2).padStart(7)}  ${kenSeconds ? (seconds / kenSeconds).toFixed(2).padStart(6) : '   n/a'}  ${(rss.peakTree / MB).toFixed(0).padStart(6)} MiB  ${c.otherCores === undefined ? 'n/a' : c.otherCores.toFixed(2)}`);
      await rm(out, { recursive: true, force: true });
    }

    console.log(`\n2. a sweep's pruning at k=${sweepKs.join(',')} (in memory, evaluations not timed)`);
    const { ft, plan } = await preparePrune({ finetuned: pair.finetuned, base: pair.base, k: sweepKs[0]! });
    const pool = await KenPool.open({ backend: 'js', device: 'cpu', threads, kernel: 'gaussian' });
    try {
      const times = new Map<string, number>();
      for (const method of methods) {
        const prepared = await prepareMethod({ method, seed: 0 }, ft, plan);
        const t0 = performance.now();
        for (const kk of sweepKs) await runKen(plan, prepared.method.name === 'ken' ? pool : undefined, { k: kk, includeUnpruned: false, selector: prepared.selectorFor(0) }, async () => undefined);
        times.set(method, (performance.now() - t0) / 1000);
        console.log(`${method.padEnd(16)}  ${times.get(method)!.toFixed(2).padStart(7)} s for ${sweepKs.length} k`);
      }
      const kenOnly = times.get('ken');
      const all = [...times.values()].reduce((a, b) => a + b, 0);
      if (kenOnly) console.log(`${methods.length} methods x ${sweepKs.length} k: ${all.toFixed(1)} s = ${(all / kenOnly).toFixed(2)}x the KEN-only sweep's pruning (${kenOnly.toFixed(1)} s)`);
    } finally {
      await pool.close();
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(1);
});
