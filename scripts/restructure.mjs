// The layered house's file moves (issue 22) as a re-runnable codemod: `node scripts/restructure.mjs`.
// 1. Moves each file of MOVES with `git mv` (a folder entry, ending in '/', moves every file under it, so a file
//    that a later main adds to an old folder moves too), and the test of the same name under test/ with it.
// 2. Rewrites every relative import path in src/, test/, bench/, fuzz/, webview/ and scripts/ (static, dynamic,
//    type-only, re-exports, require) to the moved files, computed from where each file and its target now are.
// 3. Rewrites repo-relative path strings ('src/ken/worker.ts') in build scripts, configs, package.json, docs.
// Idempotent: a second run finds nothing to move and every import already resolving, and changes nothing.
// On a tree where some moves are done and a new file still imports an old path, that import is rewritten too.
// Usage: node scripts/restructure.mjs [--dry-run]
import { readdirSync, readFileSync, writeFileSync, statSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { join, relative, dirname, sep, posix } from 'node:path';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';

const root = new URL('..', import.meta.url).pathname;
const dry = process.argv.includes('--dry-run');
const ts = createRequire(join(root, 'package.json'))('typescript');

/** [from, to], repo-relative. Order matters only for readability. */
export const MOVES = [
  // shared: what host and webview share
  ['src/protocol.ts', 'src/shared/protocol.ts'],
  ['src/report/report.ts', 'src/shared/report.ts'],
  // formats: element types and tensor layouts are byte-format concepts
  ['src/ken/dtype.ts', 'src/formats/dtype.ts'],
  ['src/ken/layout.ts', 'src/formats/layout.ts'],
  // runtime: onnxruntime devices (the WebGPU adapter, CUDA)
  ['src/ken/adapter.ts', 'src/runtime/webgpu.ts'],
  ['src/ken/cuda-install.ts', 'src/runtime/cuda-install.ts'],
  // checkpoint: a model as users have it (folder, hub cache, LoRA merge)
  ['src/formats/folder.ts', 'src/checkpoint/folder.ts'],
  ['src/formats/lora.ts', 'src/checkpoint/lora.ts'],
  ['src/formats/hfcache.ts', 'src/checkpoint/hfcache.ts'],
  // workflows: each verb once
  ['src/ken/prune.ts', 'src/workflows/prune.ts'],
  ['src/ken/sweep.ts', 'src/workflows/sweep.ts'],
  ['src/ken/compare.ts', 'src/workflows/compare.ts'],
  ['src/ken/restore.ts', 'src/workflows/restore.ts'],
  ['src/ken/record.ts', 'src/workflows/record.ts'],
  ['src/watch/watcher.ts', 'src/workflows/watch.ts'],
  ['src/watch/analyze.ts', 'src/workflows/watch-analyze.ts'],
  ['src/watch/', 'src/workflows/'],
  ['test/watch/watcher.test.ts', 'test/workflows/watch.test.ts'],
  ['test/watch/', 'test/workflows/'],
  // eval: the file that opens evaluation sessions says so
  ['src/eval/model.ts', 'src/eval/session.ts'],
];

const SCAN = ['src', 'test', 'bench', 'fuzz', 'webview', 'scripts'];
const CODE = /\.(ts|tsx|mts|cts|mjs|js|cjs)$/;
const TEXT = /\.(ts|tsx|mts|cts|mjs|js|cjs|json|md|py|wat)$/;

function walk(dir, out = []) {
  const abs = join(root, dir);
  if (!existsSync(abs)) return out;
  for (const name of readdirSync(abs)) {
    if (name === 'node_modules' || name === 'data' && dir === 'test') continue;
    const p = posix.join(dir, name);
    if (statSync(join(root, p)).isDirectory()) walk(p, out);
    else out.push(p);
  }
  return out;
}

const tracked = new Set(execFileSync('git', ['ls-files'], { cwd: root, encoding: 'utf8' }).split('\n').filter(Boolean));
const before = new Set([...SCAN.flatMap((d) => walk(d)), ...tracked].filter((p) => existsSync(join(root, p))));

/** Where an old path goes: its own entry, else the longest folder entry it sits in, else the test mirror of a src move. */
function destination(p) {
  for (const [from, to] of MOVES) if (!from.endsWith('/') && from === p) return to;
  let best;
  for (const [from, to] of MOVES) if (from.endsWith('/') && p.startsWith(from) && (!best || from.length > best[0].length)) best = [from, to];
  if (best) return best[1] + p.slice(best[0].length);
  const m = /^test\/(.*)\.test\.ts$/.exec(p);
  if (m) {
    const src = destination(`src/${m[1]}.ts`);
    if (src !== `src/${m[1]}.ts`) return `test/${src.slice(4, -3)}.test.ts`;
  }
  return p;
}

// 1. Moves.
const moved = new Map(); // new path -> old path, for this run
for (const p of [...before].sort()) {
  const to = destination(p);
  if (to === p) continue;
  if (existsSync(join(root, to))) throw new Error(`restructure: ${p} -> ${to}: the destination exists already`);
  moved.set(to, p);
  if (dry) { console.log(`move ${p} -> ${to}`); continue; }
  mkdirSync(dirname(join(root, to)), { recursive: true });
  if (tracked.has(p)) execFileSync('git', ['mv', p, to], { cwd: root });
  else throw new Error(`restructure: ${p} is not tracked by git; commit or remove it first`);
}
const oldOf = (p) => moved.get(p) ?? p;
const newOf = (p) => destination(p);

/** The file a relative specifier names from `fromFile` in the tree as it was before this run's moves. */
function resolveBefore(fromFile, spec) {
  const base = posix.normalize(posix.join(posix.dirname(fromFile), spec));
  const cands = [[base, ''], [base + '.ts', '.ts'], [base + '.tsx', '.tsx'], [base + '.mts', '.mts'], [base + '.js', '.js'], [base + '.mjs', '.mjs'], [base + '/index.ts', '/index.ts']];
  for (const [c, suffix] of cands) if (before.has(c)) return { file: c, suffix };
  // An import of an old path that an earlier run moved: follow MOVES.
  for (const [c, suffix] of cands) {
    const d = destination(c);
    if (d !== c && existsSync(join(root, d))) return { file: c, suffix };
  }
  return undefined;
}

function specifiers(file, text) {
  const kind = /\.(ts|tsx|mts|cts)$/.test(file) ? ts.ScriptKind.TS : ts.ScriptKind.JS;
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, kind);
  const out = [];
  const add = (lit) => {
    if (lit && ts.isStringLiteralLike(lit) && lit.text.startsWith('.')) out.push({ start: lit.getStart(sf) + 1, end: lit.end - 1, spec: lit.text });
  };
  const visit = (node) => {
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) add(node.moduleSpecifier);
    else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) add(node.moduleReference.expression);
    else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) add(node.argument.literal);
    else if (ts.isCallExpression(node)) {
      const e = node.expression;
      if (e.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(e) && e.text === 'require')) add(node.arguments[0]);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

// 2. Import paths.
let rewritten = 0, files = 0;
const pathPairs = [];
for (const [from] of MOVES) if (!from.endsWith('/')) pathPairs.push([from, destination(from)]);
for (const p of before) { const d = newOf(p); if (d !== p) pathPairs.push([p, d]); }
const uniquePairs = [...new Map(pathPairs.map((x) => [x[0], x])).values()].sort((a, b) => b[0].length - a[0].length);

for (const p of SCAN.flatMap((d) => walk(d)).sort()) {
  if (!TEXT.test(p) || p === 'scripts/restructure.mjs') continue;
  const abs = join(root, p);
  const text = readFileSync(abs, 'utf8');
  let next = text;
  if (CODE.test(p)) {
    const old = oldOf(p);
    const edits = [];
    for (const s of specifiers(p, text)) {
      const target = resolveBefore(old, s.spec);
      if (!target) continue;
      const targetNow = newOf(target.file);
      if (targetNow === target.file && old === p) continue;
      let rel = posix.relative(posix.dirname(p), targetNow);
      if (target.suffix === '/index.ts') rel = posix.dirname(rel) === '.' && rel === 'index.ts' ? '.' : rel.slice(0, -'/index.ts'.length);
      else if (target.suffix) rel = rel.slice(0, -target.suffix.length);
      if (!rel.startsWith('.')) rel = './' + rel;
      if (rel !== s.spec) edits.push({ ...s, rel });
    }
    for (const e of edits.sort((a, b) => b.start - a.start)) next = next.slice(0, e.start) + e.rel + next.slice(e.end);
    rewritten += edits.length;
  }
  // 3. Repo-relative path strings (build entry points, tsconfig includes, comments naming a file).
  next = rewritePaths(next);
  if (next !== text) {
    files++;
    if (!dry) writeFileSync(abs, next);
  }
}
for (const p of ['package.json', '.vscodeignore', 'tsconfig.json', 'README.md', 'CONTRIBUTING.md', 'SECURITY.md', 'ARCHITECTURE.md', 'docs/ARCHITECTURE.md']) {
  const abs = join(root, p);
  if (!existsSync(abs)) continue;
  const text = readFileSync(abs, 'utf8');
  const next = rewritePaths(text);
  if (next !== text) { files++; if (!dry) writeFileSync(abs, next); }
}

function rewritePaths(text) {
  let out = text;
  for (const [from, to] of uniquePairs) {
    if (!from.startsWith('src/') && !from.startsWith('test/')) continue;
    // Whole path tokens only: not preceded by a path character, followed by a non-path character.
    const re = new RegExp(`(?<![\\w.-])${from.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![\\w/-])`, 'g');
    out = out.replace(re, to);
  }
  return out;
}

// Folders the moves emptied go (git keeps no empty folders; the working tree should not either).
if (!dry) for (const [from] of MOVES) if (from.endsWith('/')) {
  const abs = join(root, from);
  if (existsSync(abs) && walk(from).length === 0) rmSync(abs, { recursive: true });
}
console.log(`restructure: ${moved.size} files moved, ${rewritten} import paths rewritten in ${files} files${dry ? ' (dry run)' : ''}`);
