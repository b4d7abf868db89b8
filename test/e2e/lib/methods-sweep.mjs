// A report whose sweep compares three pruning methods, for the Methods view's browser checks (the
// end-to-end run and scripts/check-html.mjs).
//
// methodsSweepFolder() runs the real `ken sweep --methods ken,delta-magnitude,random --seeds 2` when
// this build's CLI has --methods; a build without it gets a `ken prune` output whose report is given
// a made-up 3-method sweep (syntheticMethodsSweep), and says so. Either way the folder is a real KEN
// output (subnetwork and all), so the panel opens it like any other.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const SWEEP_METHODS = ['ken', 'delta-magnitude', 'random'];

/**
 * Kept parameters at k for methods that keep exactly min(k, cols) per row of each pruned tensor
 * (tensors kept whole count whole), from a report's tensor list.
 */
export function keptAt(report, k) {
  let kept = 0;
  for (const t of report.tensors) {
    if (t.status !== 'pruned') {
      kept += t.kept;
      continue;
    }
    const cols = t.total / t.rows;
    kept += t.rows * Math.min(k, cols);
  }
  return kept;
}

/**
 * A made-up sweep over ken, delta-magnitude and random (seeds 0..seeds-1) at `ks`, shaped as
 * KenReport['sweep'] (src/shared/report.ts): per point method, k, seed (random), keptParams,
 * subnetworkBytes and the metric; aggregates per k for random; recommendations within 4 points; an
 * adapter point. Values are deterministic and plausible (the metric rises with k, KEN above
 * delta-magnitude above random), and are no measurement.
 */
export function syntheticMethodsSweep(report, { ks = [8, 16, 32, 64], seeds = 3, finetuned = 0.7 } = {}) {
  const total = report.totalParams;
  const points = [];
  const aggregates = [];
  const bytesOf = (kept) => kept * 6 + 4096;
  const curve = (k, lift) => finetuned - 0.45 / Math.sqrt(k) + lift;
  for (const method of SWEEP_METHODS) {
    for (const k of ks) {
      const keptParams = keptAt(report, k);
      const base = { k, keptParams, keptRatio: keptParams / total, subnetworkBytes: bytesOf(keptParams), method };
      if (method !== 'random') {
        const value = curve(k, method === 'ken' ? 0.03 : 0.01);
        points.push({ ...base, accuracy: value, macroF1: value - 0.05, value, metrics: { accuracy: value } });
        continue;
      }
      const values = [];
      for (let seed = 0; seed < seeds; seed++) {
        const value = curve(k, -0.08 + 0.02 * Math.sin(k * 7 + seed * 3));
        values.push(value);
        points.push({ ...base, seed, accuracy: value, macroF1: value - 0.05, value, metrics: { accuracy: value } });
      }
      const mean = values.reduce((a, b) => a + b, 0) / values.length;
      const spread = values.length > 1 ? Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (values.length - 1)) : 0;
      aggregates.push({ method, k, runs: values.length, mean, spread, min: Math.min(...values), max: Math.max(...values), keptParams, subnetworkBytes: bytesOf(keptParams) });
    }
  }
  const recommendations = SWEEP_METHODS.map((method) => {
    const within = ks.find((k) => {
      const v = method === 'random' ? aggregates.find((a) => a.k === k).mean : points.find((p) => p.method === method && p.k === k).value;
      return finetuned - v <= 0.04;
    });
    if (within === undefined) return { method, note: 'no k within 4 points' };
    const p = points.find((q) => q.method === method && q.k === within);
    const value = method === 'random' ? aggregates.find((a) => a.k === within).mean : p.value;
    return { method, k: within, keptParams: p.keptParams, subnetworkBytes: p.subnetworkBytes, value };
  });
  const adapterParams = Math.round(total * 0.012);
  return {
    finetunedAccuracy: finetuned, metric: 'accuracy', finetunedValue: finetuned, totalParams: total,
    methods: [...SWEEP_METHODS], points, aggregates, recommendations,
    adapter: { path: 'adapters/lora-r8', value: finetuned - 0.015, metrics: { accuracy: finetuned - 0.015 }, trainableParams: adapterParams, bytes: adapterParams * 4 + 1024 },
  };
}

/** Whether this build's `ken sweep` takes --methods. */
export function sweepHasMethods(kenJs) {
  const r = spawnSync(process.execPath, [kenJs, 'sweep', '--help'], { encoding: 'utf8' });
  return /--methods\b/.test(`${r.stdout}${r.stderr}`);
}

/**
 * Writes a KEN output folder at `out` whose report's sweep has the three methods. Returns
 * { source: 'ken sweep' | 'synthetic', report }. Throws on a failed `ken` run.
 */
export function methodsSweepFolder(kenJs, { finetuned, pretrained, testSet, out, ks = [16, 64], seeds = 2 }) {
  const run = (args) => {
    const r = spawnSync(process.execPath, [kenJs, ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    if (r.status !== 0) throw new Error(`ken ${args.join(' ')} exited ${r.status}: ${r.stderr.trim().split('\n').pop()}`);
    return r.stdout;
  };
  if (sweepHasMethods(kenJs)) {
    run(['sweep', finetuned, '--base', pretrained, '--methods', SWEEP_METHODS.join(','), '--seeds', String(seeds), '-k', ks.join(','), '--data', testSet, '--out', out, '--json']);
    const report = JSON.parse(readFileSync(join(out, 'ken-report.json'), 'utf8'));
    const methods = new Set((report.sweep?.points ?? []).map((p) => p.method ?? 'ken'));
    if (!SWEEP_METHODS.every((m) => methods.has(m))) throw new Error(`ken sweep --methods wrote a sweep with the methods ${[...methods].join(', ') || 'none'}`);
    return { source: 'ken sweep', report };
  }
  run(['prune', finetuned, '--base', pretrained, '-k', String(ks[ks.length - 1]), '--out', out, '--json']);
  const file = join(out, 'ken-report.json');
  const report = JSON.parse(readFileSync(file, 'utf8'));
  report.sweep = syntheticMethodsSweep(report, { ks, seeds });
  writeFileSync(file, JSON.stringify(report, null, 2));
  return { source: 'synthetic', report };
}
