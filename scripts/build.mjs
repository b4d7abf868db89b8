// Builds every bundle with esbuild: the CLI, the extension host, the KEN worker,
// the webview (browser), the benchmarks and the unit tests. `tsc --noEmit` type-checks separately.
import { build } from 'esbuild';
import { readdirSync, statSync, mkdirSync, copyFileSync, existsSync, readFileSync } from 'node:fs';
import initWabt from 'wabt';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const watch = process.argv.includes('--watch');

function files(dir, suffix) {
  const out = [];
  if (!existsSync(join(root, dir))) return out;
  for (const name of readdirSync(join(root, dir))) {
    const p = join(dir, name);
    if (name === 'node_modules' || name === 'e2e') continue;
    if (statSync(join(root, p)).isDirectory()) out.push(...files(p, suffix));
    else if (name.endsWith(suffix)) out.push(p);
  }
  return out;
}

const nodeEntries = {
  cli: 'src/cli/bin.ts',
  worker: 'src/ken/worker.ts',
  'job-worker': 'src/jobs/worker.ts',
  'tokenize-worker': 'src/eval/tokenize-worker.ts',
};
if (existsSync(join(root, 'src/extension/extension.ts'))) nodeEntries.extension = 'src/extension/extension.ts';
const testEntries = {};
for (const f of files('test', '.test.ts')) testEntries[join('test', relative('test', f).replace(/\.ts$/, ''))] = f;
for (const f of files('bench', '.ts')) nodeEntries[join('bench', relative('bench', f).replace(/\.ts$/, ''))] = f;
// The fuzz campaign (npm run fuzz): its runner, and every mutator as its own bundle, found at run time.
nodeEntries['fuzz/run'] = 'fuzz/run.ts';
for (const f of files('fuzz/mutators', '.ts')) nodeEntries[join('fuzz', 'mutators', relative('fuzz/mutators', f).replace(/\.ts$/, ''))] = f;

// WebAssembly text (src/**/*.wat) is assembled here by wabt's wat2wasm and bundled as bytes
// (`import bytes from './x.wat'` is a Uint8Array): nothing is generated into the source tree.
const wabt = await initWabt();
const watPlugin = {
  name: 'wat',
  setup(b) {
    b.onLoad({ filter: /\.wat$/ }, (args) => {
      const mod = wabt.parseWat(args.path, readFileSync(args.path, 'utf8'), { simd: true, bulk_memory: true, sat_float_to_int: true });
      try {
        mod.resolveNames();
        mod.validate();
        return { contents: mod.toBinary({ log: false, write_debug_names: false }).buffer, loader: 'binary', watchFiles: [args.path] };
      } finally {
        mod.destroy();
      }
    });
  },
};

const common = {
  bundle: true,
  sourcemap: 'linked',
  logLevel: 'warning',
  absWorkingDir: root,
  plugins: [watPlugin],
};

await build({
  ...common,
  entryPoints: nodeEntries,
  outdir: 'dist',
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external: ['vscode', 'onnxruntime-node'],
});

// Unit tests: the extension host logic runs against a small fake of the vscode API.
await build({
  ...common,
  entryPoints: testEntries,
  outdir: 'dist',
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external: ['onnxruntime-node'],
  alias: { vscode: './test/fake-vscode.ts' },
});

if (existsSync(join(root, 'webview/main.ts'))) {
  // webview/main.ts imports its CSS: esbuild writes dist/webview.js and dist/webview.css.
  await build({
    ...common,
    entryPoints: { webview: 'webview/main.ts' },
    outdir: 'dist',
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
    minify: true,
  });
  // The notebook output renderer (contributes.notebookRenderers): an ES module VS Code imports into
  // the notebook's output webview; no plotly there (SVG and a canvas), nothing loaded from elsewhere.
  await build({
    ...common,
    entryPoints: { 'notebook-renderer': 'webview/notebook-renderer.ts' },
    outdir: 'dist',
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    minify: true,
  });
  // plotly is loaded as its own script before webview.js. The cartesian bundle holds every trace the
  // views use (heatmap, bar, scatter) and, unlike the full bundle, no eval / new Function (its WebGL
  // traces are left out), so the panel's CSP needs no 'unsafe-eval'; 1.5 MB instead of 4.8 MB.
  const plotly = join(root, 'node_modules/plotly.js-cartesian-dist-min/plotly-cartesian.min.js');
  if (existsSync(plotly)) {
    mkdirSync(join(root, 'dist'), { recursive: true });
    copyFileSync(plotly, join(root, 'dist/plotly.min.js'));
  } else {
    console.warn('plotly.js-cartesian-dist-min is not installed: the webview has no charts (npm install)');
  }
}
if (watch) console.log('watch mode is not supported; rerun the build');
