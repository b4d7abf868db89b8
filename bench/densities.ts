// Microbenchmark of one KEN row on this thread: the fast density pass (TypeScript vs WebAssembly)
// and the whole RowPruner with each, on BERT-like rows (normal values, scale 0.02).
// Rounds alternate the two engines so that load from other processes hits both alike.
//
//   node dist/bench/densities.js [--rounds 9]
//   node dist/bench/densities.js --phases [--rounds 5] [--errors 1e-3,1e-4]: the WebAssembly RowPruner's
//     µs per row in each phase (profile.ts; wall, and CPU as each phase's wall share of the row's CPU time),
//     for each first-pass error budget, with the kept count
import { NormalStream } from './synth';
import { FIRST_PASS_ERROR as DEFAULT_FIRST_PASS_ERROR, RowPruner, SQRT_2PI, bandwidth, fillGrid, recurrenceDensities, type RecurrenceDensities } from '../src/ken/row';
import { WasmDensities } from '../src/ken/wasm-densities';
import { PHASES } from '../src/ken/profile';

/** µs per row per phase of the WebAssembly RowPruner, median of `rounds`, for each first-pass error budget. */
function phases(rounds: number, errors: number[]): void {
  const wasm = WasmDensities.create();
  if (!wasm) throw new Error('WebAssembly SIMD is not available in this Node');
  console.log(`µs per row by phase (bandwidth/sort, densities, re-checks, selection: wall; total wall and CPU; CPU by phase = wall share x CPU), median of ${rounds} rounds, budgets alternating`);
  for (const [n, k, rows] of SHAPES) {
    const data = normals(n * rows, 7 + n + k, 0.02);
    const mask = new Uint8Array(n);
    const times = errors.map(() => [] as number[][]);
    const kept = errors.map(() => 0);
    const rechecked = errors.map(() => 0);
    for (let round = 0; round < rounds; round++) {
      errors.forEach((err, e) => {
        const pruner = new RowPruner(wasm.densities);
        pruner.firstPassError = err;
        pruner.profile = new Float64Array(PHASES);
        let sum = 0;
        const c0 = process.cpuUsage();
        const t0 = performance.now();
        for (let r = 0; r < rows; r++) sum += pruner.prune(data.subarray(r * n, (r + 1) * n), k, mask, 0);
        const total = ((performance.now() - t0) / rows) * 1000;
        const c = process.cpuUsage(c0);
        const cpu = (c.user + c.system) / rows;
        const phaseWall = Array.from(pruner.profile, (x) => (x / rows) * 1e6);
        // each phase's share of the wall time, times the CPU time: per-phase CPU µs, robust to load
        const phaseCpu = phaseWall.map((w) => (w / total) * cpu);
        times[e]!.push([...phaseWall, total, cpu, ...phaseCpu]);
        kept[e] = sum;
        rechecked[e] = pruner.rechecked / pruner.densities;
      });
    }
    errors.forEach((err, e) => {
      const cols = times[e]![0]!.map((_, c) => median(times[e]!.map((t) => t[c]!)).toFixed(1));
      console.log(`n=${n} k=${k} error budget ${err}: ${cols.slice(0, 4).join(' / ')}; total ${cols[4]} µs wall, ${cols[5]} µs CPU; CPU by phase ${cols.slice(6, 10).join(' / ')} (re-checked ${(100 * rechecked[e]!).toFixed(3)}%, kept ${kept[e]})`);
    });
    if (new Set(kept).size !== 1) throw new Error(`n=${n} k=${k}: the budgets kept different counts`);
  }
}

const SHAPES = [
  [768, 384, 2000],
  [3072, 384, 500],
  [768, 96, 2000],
] as const;
const FIRST_PASS_ERROR = DEFAULT_FIRST_PASS_ERROR; // as RowPruner

/** Seeded N(0, scale) values (the bench's own generator). */
function normals(count: number, seed: number, scale: number): Float32Array {
  const out = new Float32Array(count);
  new NormalStream(`densities-${seed}`).fill(out, scale);
  return out;
}

const median = (a: number[]): number => [...a].sort((x, y) => x - y)[a.length >> 1]!;
const spread = (a: number[]): string => `${Math.min(...a).toFixed(1)}-${Math.max(...a).toFixed(1)}`;

function main(): void {
  const roundsArg = process.argv.indexOf('--rounds');
  const rounds = roundsArg >= 0 ? Number(process.argv[roundsArg + 1]) : 9;
  if (process.argv.includes('--phases')) {
    const e = process.argv.indexOf('--errors');
    phases(rounds, e >= 0 ? process.argv[e + 1]!.split(',').map(Number) : [DEFAULT_FIRST_PASS_ERROR]);
    return;
  }
  const wasm = WasmDensities.create();
  if (!wasm) throw new Error('WebAssembly SIMD is not available in this Node');
  const engines: [string, RecurrenceDensities][] = [
    ['js', recurrenceDensities],
    ['wasm', wasm.densities],
  ];
  console.log(`µs per row, median [min-max] of ${rounds} rounds, engines alternating`);
  for (const [n, k, rows] of SHAPES) {
    const data = normals(n * rows, 7 + n + k, 0.02);
    const grid = new Float64Array(k);
    const dens = new Float64Array(k);
    const mask = new Uint8Array(n);
    const densTimes = new Map<string, number[]>(engines.map(([name]) => [name, []]));
    const pruneTimes = new Map<string, number[]>(engines.map(([name]) => [name, []]));
    const kept = new Map<string, number>();
    const pruners = new Map(engines.map(([name, pass]) => [name, new RowPruner(pass)]));
    for (let round = 0; round < rounds; round++) {
      for (const [name, pass] of engines) {
        let t0 = performance.now();
        for (let r = 0; r < rows; r++) {
          const row = data.subarray(r * n, (r + 1) * n);
          let min = Infinity;
          let max = -Infinity;
          for (let j = 0; j < n; j++) {
            const v = row[j]!;
            if (v < min) min = v;
            if (v > max) max = v;
          }
          fillGrid(min, max, k, grid);
          const h = bandwidth(row);
          pass(row, grid, h, dens, Math.min(1e-4, FIRST_PASS_ERROR * h * SQRT_2PI));
        }
        densTimes.get(name)!.push(((performance.now() - t0) / rows) * 1000);
        const pruner = pruners.get(name)!;
        let sum = 0;
        t0 = performance.now();
        for (let r = 0; r < rows; r++) sum += pruner.prune(data.subarray(r * n, (r + 1) * n), k, mask, 0);
        pruneTimes.get(name)!.push(((performance.now() - t0) / rows) * 1000);
        kept.set(name, sum);
      }
    }
    if (new Set(kept.values()).size !== 1) throw new Error(`n=${n} k=${k}: the engines kept different counts`);
    const d = engines.map(([name]) => densTimes.get(name)!);
    const p = engines.map(([name]) => pruneTimes.get(name)!);
    console.log(
      `n=${n} k=${k}: densities js ${median(d[0]!).toFixed(1)} [${spread(d[0]!)}], wasm ${median(d[1]!).toFixed(1)} [${spread(d[1]!)}] ` +
        `(${(median(d[0]!) / median(d[1]!)).toFixed(2)}x); RowPruner js ${median(p[0]!).toFixed(1)} [${spread(p[0]!)}], ` +
        `wasm ${median(p[1]!).toFixed(1)} [${spread(p[1]!)}] (${(median(p[0]!) / median(p[1]!)).toFixed(2)}x)`,
    );
  }
}

main();
