// `npm run demo`: KEN on the embedded demo model (demo/debdesc-bert-mini) at k=96, accuracy before and
// after on its test set, a summary, and the KEN_viz views as one offline HTML file beside the output.
// It replaces only its own earlier output (demo-output/).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const demo = join(root, 'demo', 'debdesc-bert-mini');
const outRoot = join(root, 'demo-output');
const out = join(outRoot, 'pruned');
const html = join(outRoot, 'ken-report.html');
const k = process.env.KEN_DEMO_K ?? '96';

if (!existsSync(join(root, 'dist', 'cli.js'))) {
  const b = spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { stdio: 'inherit' });
  if (b.status !== 0) process.exit(b.status ?? 1);
}
rmSync(outRoot, { recursive: true, force: true });
mkdirSync(outRoot, { recursive: true });

const ken = (...args) => spawnSync(process.execPath, [join(root, 'bin', 'ken.js'), ...args], { stdio: ['ignore', 'inherit', 'inherit'] });
console.log(`KEN demo: ${demo} at k=${k}\n`);
let r = ken('prune', join(demo, 'finetuned'), '--base', join(demo, 'pretrained'), '-k', k, '--out', out, '--eval', join(demo, 'test.jsonl'));
if (r.status !== 0) process.exit(r.status ?? 1);
r = spawnSync(process.execPath, [join(root, 'bin', 'ken.js'), 'report', out, '--html', html], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
if (r.status !== 0) process.exit(r.status ?? 1);
const report = JSON.parse(readFileSync(join(out, 'ken-report.json'), 'utf8'));
const pct = (x, d = 1) => `${(x * 100).toFixed(d)}%`;
const { before, after } = report.accuracy;
console.log(`
demo summary
  kept ratio      ${pct(report.keptRatio)} (${report.keptParams.toLocaleString('en-US')} of ${report.totalParams.toLocaleString('en-US')} parameters, k=${report.k})
  accuracy        ${pct(before.accuracy, 2)} fine-tuned -> ${pct(after.accuracy, 2)} pruned (${((after.accuracy - before.accuracy) * 100).toFixed(2)} points, ${after.samples} samples)
  weighted F1     ${pct(before.metrics.weighted_f1, 2)} fine-tuned -> ${pct(after.metrics.weighted_f1, 2)} pruned (${((after.metrics.weighted_f1 - before.metrics.weighted_f1) * 100).toFixed(2)} points; macro F1 ${pct(before.metrics.macro_f1, 2)} -> ${pct(after.metrics.macro_f1, 2)})
  subnetwork      ${(report.bytes.subnetwork / 1e6).toFixed(2)} MB = ${pct(report.bytes.subnetwork / report.bytes.checkpoint)} of the checkpoint
  ran on          KEN ${report.backend} on ${report.executionProvider}; evaluation on ${after.executionProvider}
  seconds         KEN ${report.seconds.toFixed(1)} s; evaluation ${before.seconds.toFixed(1)} s before, ${after.seconds.toFixed(1)} s after
  output          ${out}
  HTML report     ${html}`);
