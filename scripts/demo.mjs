// `npm run demo`: KEN on the embedded demo pair (demo/debdesc-bert, made by scripts/demo-pair/make_demo_pair.py):
// a k sweep on its test set ending at k=96 (rows of 128 values: at least 25% of each row reset to the base),
// the pruned model at that k with accuracy before and after, a summary, and the KEN_viz views (the sweep curve
// included) as one offline HTML file. It replaces only its own earlier output (demo-output/).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const demo = join(root, 'demo', 'debdesc-bert');
const outRoot = join(root, 'demo-output');
const out = join(outRoot, 'pruned');
const html = join(outRoot, 'ken-report.html');
const k = Number(process.env.KEN_DEMO_K ?? '96');
const sweepKs = [...new Set([32, 64, k])].filter((x) => x <= k).sort((a, b) => a - b);
// KEN beside the alternatives at the same budget (issue 19): random and dare over 2 seeds
const methods = ['ken', 'delta-magnitude', 'magnitude', 'random', 'dare'];
const seeds = 2;

if (!Number.isInteger(k) || k < 1) {
  console.error(`KEN_DEMO_K must be a whole number >= 1 (got ${process.env.KEN_DEMO_K})`);
  process.exit(2);
}
if (!existsSync(join(root, 'dist', 'cli.js'))) {
  const b = spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { stdio: 'inherit' });
  if (b.status !== 0) process.exit(b.status ?? 1);
}
rmSync(outRoot, { recursive: true, force: true });
mkdirSync(outRoot, { recursive: true });

const ken = (args, stdout = 'inherit') => spawnSync(process.execPath, [join(root, 'bin', 'ken.js'), ...args], { stdio: ['ignore', stdout, 'inherit'], encoding: 'utf8', maxBuffer: 64 << 20 });
const config = JSON.parse(readFileSync(join(demo, 'finetuned', 'config.json'), 'utf8'));
const widths = [config.hidden_size, config.intermediate_size];
console.log(`KEN demo: ${demo}\nsweep of ${methods.join(', ')} at k=${sweepKs.join(',')} on ${join(demo, 'test.jsonl')}, then KEN's pruned model at k=${k}\n`);

// the sweep prunes KEN (the first method) at its last k into --out, evaluated before and after; every
// method's curve is kept in the report (the Methods view)
let r = ken(['sweep', join(demo, 'finetuned'), '--base', join(demo, 'pretrained'), '--data', join(demo, 'test.jsonl'), '-k', sweepKs.join(','),
  '--methods', methods.join(','), '--seeds', String(seeds), '--out', out, '--json'], 'pipe');
if (r.status !== 0) process.exit(r.status ?? 1);
const sweep = JSON.parse(r.stdout);
r = ken(['report', out, '--html', html], 'pipe');
if (r.status !== 0) process.exit(r.status ?? 1);
const report = JSON.parse(readFileSync(join(out, 'ken-report.json'), 'utf8'));

const pct = (x, d = 1) => `${(x * 100).toFixed(d)}%`;
const pts = (a, b) => `${((b - a) * 100 >= 0 ? '+' : '')}${((b - a) * 100).toFixed(2)} points`;
const { before, after } = report.accuracy;
const reset = widths.map((w) => pct(Math.max(0, 1 - k / w), 0)).join(' / ');
// every method at one k, as `ken prune --compare` prints it: seeded methods as mean ± spread (points)
const at = (kk) => `at k=${kk}: ${sweep.methods.map((m) => {
  const agg = sweep.aggregates.find((a) => a.method === m && a.k === kk);
  if (agg) return `${m} ${pct(agg.mean, 2)} ±${(agg.spread * 100).toFixed(2)} (${agg.runs} seeds)`;
  return `${m} ${pct(sweep.points.find((p) => p.method === m && p.k === kk).accuracy, 2)}`;
}).join(', ')}`;
console.log(`sweep (accuracy on ${before.samples} test lines; fine-tuned ${pct(sweep.finetunedAccuracy, 2)})
${sweep.points.filter((p) => p.method === 'ken').map((p) => `  KEN k=${String(p.k).padStart(3)}  kept ${pct(p.keptRatio).padStart(6)} of the pruned tensors' values  accuracy ${pct(p.accuracy, 2)} (${pts(sweep.finetunedAccuracy, p.accuracy)})`).join('\n')}

KEN and the alternatives, same data, same budget (ken sweep --methods; ken prune --compare prints the same line)
${sweepKs.map((kk) => `  ${at(kk)}`).join('\n')}

demo summary
  k               ${k}: each row keeps at most ${k} fine-tuned values; rows of ${widths.join(' / ')} values: ${reset} of each row reset to the base
  kept ratio      ${pct(report.keptRatio)} (${report.keptParams.toLocaleString('en-US')} of ${report.totalParams.toLocaleString('en-US')} parameters)
  accuracy        ${pct(before.accuracy, 2)} fine-tuned -> ${pct(after.accuracy, 2)} pruned (${pts(before.accuracy, after.accuracy)}, ${after.samples} samples)
  macro F1        ${pct(before.metrics.macro_f1, 2)} fine-tuned -> ${pct(after.metrics.macro_f1, 2)} pruned (${pts(before.metrics.macro_f1, after.metrics.macro_f1)})
  subnetwork      ${(report.bytes.subnetwork / 1e6).toFixed(2)} MB = ${pct(report.bytes.subnetwork / report.bytes.checkpoint)} of the checkpoint
  ran on          KEN ${report.backend} on ${report.executionProvider}; evaluation on ${after.executionProvider}
  output          ${out}
  HTML report     ${html} (with the sweep curve)`);
