// npm run check:architecture: the house's layering, checked from the import lines of src/ and webview/.
// Every import counts: static, dynamic (`import('…')`), type-only (`import type`, `typeof import('…')`),
// re-exports (`export … from`) and `require`. It fails, naming the file and line, on
//   - an import cycle (type-only edges included: a cycle of types is still a knot for the reader);
//   - an import from a lower layer up to a higher one (LAYERS below, lowest first);
//   - an import across folders of the same layer (ken/ and eval/ never import each other);
//   - `vscode` imported outside src/extension/;
//   - a webview/ import of anything in src/ outside src/shared/.
// LAYERS is the one place the layer order is written; ARCHITECTURE.md draws it.
// Usage: node scripts/check-architecture.mjs [--root DIR] [--json]
import { readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import { join, relative, dirname, sep } from 'node:path';
import { createRequire } from 'node:module';

/** The layers of src/, lowest first. A folder imports its own folder or a lower layer, never a folder beside it. */
export const LAYERS = [
  ['.'], //                 src/*.ts: errors.ts, version.ts (no folder)
  ['shared'], //            what host and webview share: protocol, ken-report.json schema, metric names and types
  ['formats'], //           one reader/writer per byte format, path safety, config.json
  ['runtime', 'graph'], //  onnxruntime sessions and devices | the generic ONNX graph builder
  ['models'], //            families: registry, one file per family, names, heads, building a family's graph
  ['checkpoint'], //        a model as users have it: folder, hub cache, LoRA merge, tensor views
  ['ken', 'eval'], //       the algorithm | data, tokenization, metrics, tasks
  ['methods', 'report'], // one file per pruning method | rendering a KEN output
  ['workflows'], //         each verb once: prune, sweep, compare, restore, record, watch
  ['jobs'], //              a workflow in a worker thread
  ['cli', 'extension'], //  the two doors
];
/** The only folder of src/ that may import `vscode`. */
export const VSCODE_FOLDER = 'extension';
/** The only folder of src/ that webview/ may import. */
export const WEBVIEW_SHARED = 'shared';

const SOURCE = /\.(ts|tsx|mts|cts)$/;

function listFiles(dir) {
  const out = [];
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules') continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...listFiles(p));
    else if (SOURCE.test(name) && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** Every module specifier in a file, with its 1-based line and whether it is type-only. */
export function importsOf(ts, file, text) {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const out = [];
  const add = (lit, typeOnly) => {
    if (!lit || !ts.isStringLiteralLike(lit)) return;
    const line = sf.getLineAndCharacterOfPosition(lit.getStart(sf)).line + 1;
    out.push({ spec: lit.text, line, typeOnly });
  };
  const visit = (node) => {
    if (ts.isImportDeclaration(node)) add(node.moduleSpecifier, !!node.importClause?.isTypeOnly);
    else if (ts.isExportDeclaration(node)) add(node.moduleSpecifier, node.isTypeOnly);
    else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) add(node.moduleReference.expression, node.isTypeOnly);
    else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) add(node.argument.literal, true);
    else if (ts.isCallExpression(node)) {
      const isImport = node.expression.kind === ts.SyntaxKind.ImportKeyword;
      const isRequire = ts.isIdentifier(node.expression) && node.expression.text === 'require';
      if ((isImport || isRequire) && node.arguments.length >= 1) add(node.arguments[0], false);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

function resolveRelative(fromFile, spec) {
  const base = join(dirname(fromFile), spec);
  for (const c of [base, base + '.ts', base + '.tsx', join(base, 'index.ts')]) {
    if (existsSync(c) && statSync(c).isFile()) return c;
  }
  return undefined;
}

/** Where a file sits: 'src' with its top folder ('.' for src/*.ts), 'webview', or 'other'. */
function placeOf(root, file) {
  const rel = relative(root, file).split(sep);
  if (rel[0] === 'src') return { area: 'src', folder: rel.length === 2 ? '.' : rel[1] };
  if (rel[0] === 'webview') return { area: 'webview', folder: 'webview' };
  return { area: 'other', folder: rel[0] };
}

/** Strongly connected components of size > 1 (or a self-import), by Tarjan's algorithm, iteratively. */
function cycles(nodes, edgesOf) {
  let index = 0;
  const idx = new Map(), low = new Map(), onStack = new Set(), stack = [], out = [];
  for (const start of nodes) {
    if (idx.has(start)) continue;
    const work = [[start, 0]];
    idx.set(start, index); low.set(start, index); index++; stack.push(start); onStack.add(start);
    while (work.length) {
      const top = work[work.length - 1];
      const [v, i] = top;
      const succ = edgesOf(v);
      if (i < succ.length) {
        top[1]++;
        const w = succ[i];
        if (!idx.has(w)) {
          idx.set(w, index); low.set(w, index); index++; stack.push(w); onStack.add(w);
          work.push([w, 0]);
        } else if (onStack.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
      } else {
        work.pop();
        if (work.length) { const u = work[work.length - 1][0]; low.set(u, Math.min(low.get(u), low.get(v))); }
        if (low.get(v) === idx.get(v)) {
          const comp = [];
          let w;
          do { w = stack.pop(); onStack.delete(w); comp.push(w); } while (w !== v);
          if (comp.length > 1 || succ.includes(v)) out.push(comp.sort());
        }
      }
    }
  }
  return out;
}

/** Checks the tree at `root`; returns the problems (one line each) and counts. */
export function checkArchitecture(root, ts) {
  const layerOf = new Map();
  LAYERS.forEach((folders, i) => folders.forEach((f) => layerOf.set(f, i)));
  const files = [...listFiles(join(root, 'src')), ...listFiles(join(root, 'webview'))].sort();
  const problems = [];
  const counts = { files: files.length, imports: 0, cycles: 0, upward: 0, sameLayer: 0, vscode: 0, webview: 0, unknownFolder: 0, unresolved: 0 };
  const edges = new Map(); // file -> [{ to, line }]
  const relp = (f) => relative(root, f).split(sep).join('/');
  const unknown = new Set();
  for (const file of files) {
    const from = placeOf(root, file);
    const list = [];
    edges.set(file, list);
    if (from.area === 'src' && !layerOf.has(from.folder) && !unknown.has(from.folder)) {
      unknown.add(from.folder);
      counts.unknownFolder++;
      problems.push(`${relp(file)}: folder src/${from.folder}/ is in no layer (add it to LAYERS in scripts/check-architecture.mjs)`);
    }
    for (const imp of importsOf(ts, file, readFileSync(file, 'utf8'))) {
      counts.imports++;
      const where = `${relp(file)}:${imp.line}`;
      if (!imp.spec.startsWith('.')) {
        const pkg = imp.spec.split('/')[0];
        if (pkg === 'vscode' && !(from.area === 'src' && from.folder === VSCODE_FOLDER)) {
          counts.vscode++;
          problems.push(`${where}: imports 'vscode' outside src/${VSCODE_FOLDER}/`);
        }
        continue;
      }
      const target = resolveRelative(file, imp.spec);
      if (!target) {
        counts.unresolved++;
        problems.push(`${where}: '${imp.spec}' resolves to no file`);
        continue;
      }
      const to = placeOf(root, target);
      if (SOURCE.test(target) && (to.area === 'src' || to.area === 'webview')) list.push({ to: target, line: imp.line });
      if (from.area === 'webview') {
        if (to.area === 'src' && to.folder !== WEBVIEW_SHARED) {
          counts.webview++;
          problems.push(`${where}: the webview imports ${relp(target)}; it may import src/${WEBVIEW_SHARED}/ only`);
        }
        continue;
      }
      if (from.area !== 'src' || !SOURCE.test(target)) continue; // package.json, .wat: data, not layers
      if (to.area !== 'src') {
        counts.upward++;
        problems.push(`${where}: src/ imports ${relp(target)}, outside src/`);
        continue;
      }
      if (to.folder === from.folder) continue;
      const a = layerOf.get(from.folder), b = layerOf.get(to.folder);
      if (a === undefined || b === undefined) continue; // reported once per folder above
      if (b > a) {
        counts.upward++;
        problems.push(`${where}: upward import: ${from.folder} (layer ${a}) imports ${relp(target)} (${to.folder}, layer ${b})`);
      } else if (b === a) {
        counts.sameLayer++;
        problems.push(`${where}: same-layer import: ${from.folder} imports ${relp(target)} (${to.folder}); folders of one layer do not import each other`);
      }
    }
  }
  for (const comp of cycles(files, (v) => (edges.get(v) ?? []).map((e) => e.to))) {
    counts.cycles++;
    // Name one concrete cycle (the shortest back to the component's first file), edge by edge with its line.
    const inComp = new Set(comp);
    const start = comp[0];
    const prev = new Map([[start, undefined]]);
    const queue = [start];
    let last;
    search: while (queue.length) {
      const v = queue.shift();
      for (const e of edges.get(v) ?? []) {
        if (!inComp.has(e.to)) continue;
        if (e.to === start) { last = { from: v, line: e.line }; break search; }
        if (!prev.has(e.to)) { prev.set(e.to, { from: v, line: e.line }); queue.push(e.to); }
      }
    }
    const steps = [];
    for (let at = last; at; at = prev.get(at.from)) steps.unshift(`${relp(at.from)}:${at.line}`);
    problems.push(`import cycle (${comp.length} files knotted): ${steps.join(' -> ')} -> ${relp(start)}`);
  }
  return { problems, counts };
}

async function main() {
  const args = process.argv.slice(2);
  const at = args.indexOf('--root');
  const root = at >= 0 ? args[at + 1] : new URL('..', import.meta.url).pathname;
  const ts = createRequire(join(new URL('..', import.meta.url).pathname, 'package.json'))('typescript');
  const { problems, counts } = checkArchitecture(root, ts);
  if (args.includes('--json')) process.stdout.write(JSON.stringify({ counts, problems }, null, 2) + '\n');
  else {
    for (const p of problems) process.stderr.write(p + '\n');
    process.stdout.write(
      `check:architecture: ${counts.files} files, ${counts.imports} imports: ${counts.cycles} cycles, ${counts.upward} upward, ` +
        `${counts.sameLayer} same-layer, ${counts.vscode} vscode, ${counts.webview} webview, ${counts.unknownFolder} unlayered folders, ${counts.unresolved} unresolved\n`,
    );
  }
  process.exit(problems.length ? 1 : 0);
}

if (process.argv[1] && new URL(import.meta.url).pathname === process.argv[1]) await main();
