// Microbenchmark of one KEN row per kernel on this thread (RowPruner, js engines: the gaussian with
// the WebAssembly fast pass as the pool runs it), on BERT-like rows (normal values, scale 0.02).
// Rounds alternate the kernels so that load from other processes hits them alike.
//
//   node dist/bench/kernels.js [--rounds 5]
import { NormalStream } from './synth';
import { KERNELS } from '../src/ken/kernels';
import { RowPruner } from '../src/ken/row';
import { fastDensityPass } from '../src/ken/wasm-densities';

const SHAPES = [
  [768, 384, 1000],
  [3072, 384, 250],
  [768, 96, 1000],
] as const;

const median = (a: number[]): number => [...a].sort((x, y) => x - y)[a.length >> 1]!;

function main(): void {
  const roundsArg = process.argv.indexOf('--rounds');
  const rounds = roundsArg >= 0 ? Number(process.argv[roundsArg + 1]) : 5;
  const fast = fastDensityPass();
  const pruners = KERNELS.map((k) => [k, new RowPruner(fast.pass, k)] as const);
  console.log(`µs per row (whole RowPruner), median of ${rounds} rounds, kernels alternating; gaussian fast pass: ${fast.engine}`);
  for (const [n, k, rows] of SHAPES) {
    const data = new Float32Array(n * rows);
    new NormalStream(`kernels-${n}-${k}`).fill(data, 0.02);
    const mask = new Uint8Array(n);
    const times = new Map<string, number[]>(KERNELS.map((name) => [name, []]));
    for (let r = 0; r < rounds; r++) {
      for (const [name, pruner] of pruners) {
        const t0 = performance.now();
        for (let i = 0; i < rows; i++) pruner.prune(data.subarray(i * n, (i + 1) * n), k, mask, 0);
        times.get(name)!.push(((performance.now() - t0) * 1000) / rows);
      }
    }
    console.log(`n=${n} k=${k}: ${KERNELS.map((name) => `${name} ${median(times.get(name)!).toFixed(0)}`).join(', ')}`);
  }
}

main();
