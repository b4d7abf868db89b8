// Two builds of the KEN row in one process, interleaved: every 1/10 of a shape's rows the builds take
// turns (the order flipping each round), so load from other processes hits both alike. Prints CPU µs
// per row (process time, median and quartiles over the turns), each phase's CPU µs (its wall share of
// the turn's CPU time) and B/A; the kept counts must agree.
//
//   node dist/bench/ab.js <dist A> <dist B> [--kernel gaussian] [--rounds 10]
// Each dist must hold bench/row-pruner.js (bench/row-pruner.ts, built): for an older commit, copy that
// file into its checkout and build there.
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import type { RowPruner as RowPrunerType } from '../src/ken/row';
import type { Kernel } from '../src/ken/kernels';

interface Build {
  RowPruner: new (fastPass?: (...args: never[]) => void, kernel?: Kernel) => RowPrunerType;
  WasmDensities: { create(): { densities: (...args: never[]) => void } | undefined };
  /** The build's own fast pass (builds from before it existed: the WebAssembly walk). */
  fastDensityPass?: () => { pass: (...args: never[]) => void };
  NormalStream: new (seed: string) => { fill(out: Float32Array, scale: number): void };
}

const SHAPES = [
  [768, 384, 2000],
  [3072, 384, 500],
  [768, 96, 2000],
] as const;
const TURNS = 10;

function main(): void {
  const args = process.argv.slice(2);
  const opt = (name: string, fallback: string): string => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1]! : fallback;
  };
  const dirs = args.filter((a, i) => !a.startsWith('--') && !(i > 0 && args[i - 1]!.startsWith('--')));
  if (dirs.length !== 2) throw new Error('usage: node dist/bench/ab.js <dist A> <dist B> [--kernel gaussian] [--rounds 10]');
  const kernel = opt('--kernel', 'gaussian') as Kernel;
  const rounds = Number(opt('--rounds', '10'));
  const req = createRequire(__filename);
  const builds = dirs.map((d) => req(resolve(d, 'bench/row-pruner.js')) as Build);
  console.log(`CPU µs per row, median [quartiles] of ${rounds * TURNS} turns; phases: bandwidth/sort / densities / re-checks / selection (CPU µs); A = ${dirs[0]}, B = ${dirs[1]}`);
  for (const [n, k, rows] of SHAPES) {
    const data = new Float32Array(n * rows);
    new builds[0]!.NormalStream(`densities-${7 + n + k}`).fill(data, 0.02);
    const mask = new Uint8Array(n);
    const pruners = builds.map((b) => {
      const pass = kernel !== 'gaussian' ? undefined : b.fastDensityPass ? b.fastDensityPass().pass : b.WasmDensities.create()?.densities;
      const p = new b.RowPruner(pass, kernel);
      p.profile = new Float64Array(4);
      return p;
    });
    const cpu: number[][] = [[], []];
    const phase: number[][][] = [[], []];
    const kept = [0, 0];
    const chunk = rows / TURNS;
    for (let r = 0; r < rounds; r++) {
      for (let t = 0; t < TURNS; t++) {
        for (const e of r % 2 ? [1, 0] : [0, 1]) {
          const p = pruners[e]!;
          p.profile!.fill(0);
          const c0 = process.cpuUsage();
          const t0 = performance.now();
          let sum = 0;
          for (let q = t * chunk; q < (t + 1) * chunk; q++) sum += p.prune(data.subarray(q * n, (q + 1) * n), k, mask, 0);
          const wall = (performance.now() - t0) / 1000;
          const c = process.cpuUsage(c0);
          const us = (c.user + c.system) / chunk;
          cpu[e]!.push(us);
          phase[e]!.push(Array.from(p.profile!, (s) => (s / wall) * us));
          if (r === 0) kept[e]! += sum;
        }
      }
    }
    const q = (a: number[], f: number): number => [...a].sort((x, y) => x - y)[Math.floor(a.length * f)]!;
    const line = (e: number): string =>
      `${q(cpu[e]!, 0.5).toFixed(1)} [${q(cpu[e]!, 0.25).toFixed(1)}-${q(cpu[e]!, 0.75).toFixed(1)}], phases ` +
      [0, 1, 2, 3].map((j) => q(phase[e]!.map((x) => x[j]!), 0.5).toFixed(1)).join(' / ');
    console.log(`n=${n} k=${k} ${kernel}: A ${line(0)} | B ${line(1)} | B/A ${(q(cpu[1]!, 0.5) / q(cpu[0]!, 0.5)).toFixed(3)}`);
    if (kept[0] !== kept[1]) throw new Error(`n=${n} k=${k}: the builds kept different counts (${kept[0]} vs ${kept[1]})`);
  }
}

main();
