import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RowPruner, SQRT_2PI, TERM_FLOOR, bandwidth, directDensities, fillGrid, recurrenceDensities } from '../../src/ken/row';
import { WasmDensities, fastDensityPass } from '../../src/ken/wasm-densities';
import { goldenRows, normals, rowValues } from '../helpers';

function wasm(): WasmDensities {
  const w = WasmDensities.create();
  assert.ok(w, 'the WebAssembly module (SIMD) instantiates in this Node');
  return w;
}

/** Deterministic uniform numbers in [0, 1). */
function uniforms(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
}

function expMismatches(w: WasmDensities, xs: Float64Array): string[] {
  const got = new Float64Array(xs.length);
  w.exp(xs, got);
  const bad: string[] = [];
  for (let i = 0; i < xs.length; i++) if (!Object.is(got[i], Math.exp(xs[i]!))) bad.push(`exp(${xs[i]}) = ${got[i]}, Math.exp: ${Math.exp(xs[i]!)}`);
  return bad;
}

test('the module exp equals Math.exp bit for bit, underflow and specials included', () => {
  const w = wasm();
  const u = uniforms(42);
  const ranges: [number, number, number][] = [
    [-60, 0, 400_000], // the arguments the density pass makes: -t^2/2, -t u - u^2/2, t u - u^2/2
    [-800, 720, 200_000], // everything from below the underflow threshold to past overflow
    [-746, -707, 100_000], // results in the subnormal range, and the underflow to 0
    [-1.1, 1.1, 100_000], // no reduction (|x| <= ln2/2), k = +-1, k = +-2
    [-1e-7, 1e-7, 50_000], // around 2^-28, where fdlibm returns 1 + x
  ];
  for (const [lo, hi, count] of ranges) {
    const xs = new Float64Array(count).map(() => lo + (hi - lo) * u());
    const bad = expMismatches(w, xs);
    assert.deepEqual(bad.slice(0, 5), [], `${bad.length} of ${count} differ in [${lo}, ${hi}]`);
  }
  const ln2 = Math.LN2;
  const near = (x: number): number[] => [x, x * (1 - 2 ** -52), x * (1 + 2 ** -52)];
  const specials = [
    0, -0, 1, -1, 2 ** -28, -(2 ** -28), 2 ** -29, 1e-300, -1e-300, 5e-324,
    ...near(0.5 * ln2), ...near(-0.5 * ln2), ...near(1.5 * ln2), ...near(-1.5 * ln2),
    0.34657359123229980, -0.34657359123229980, // the lowest |x| fdlibm reduces
    709.782712893384, 709.7827128933841, 710, -745.1332191019411, -745.1332191019412, -745.13321910194, -746,
    -1074 * ln2, -1075 * ln2, -1022 * ln2, -1e300, 1e300, -Infinity, Infinity, NaN, -Number.MAX_VALUE,
  ];
  assert.deepEqual(expMismatches(w, Float64Array.from(specials)), []);
  const deep = new Float64Array(3);
  w.exp(Float64Array.of(-746, -1e308, -Infinity), deep);
  for (const v of deep) assert.ok(Object.is(v, 0), `very negative arguments underflow to +0 (got ${v})`);
  const odd = new Float64Array(7);
  w.exp(Float64Array.of(-1, -2, -3, -4, -5, -6, -7), odd); // an odd count: the last vector's second lane is spare
  assert.deepEqual([...odd], [-1, -2, -3, -4, -5, -6, -7].map(Math.exp));
});

interface Case {
  name: string;
  row: Float32Array;
  k: number;
}

/** Rows of every shape the density pass meets: sizes, bandwidths, duplicates, large and small u = step/h. */
function cases(): Case[] {
  const out: Case[] = [];
  for (const [n, k] of [[2, 2], [3, 2], [5, 3], [17, 7], [100, 96], [768, 384], [768, 96], [3072, 384], [4096, 1024], [1000, 999], [301, 2]] as const) {
    out.push({ name: `normal n=${n} k=${k}`, row: normals(n, 11 * n + k, 0.02), k });
  }
  out.push({ name: 'tiny values (h ~ 1e-30)', row: normals(768, 5, 1e-30), k: 384 });
  out.push({ name: 'huge values (h ~ 1e30)', row: normals(768, 6, 1e30), k: 384 });
  const dup = normals(3072, 7, 0.02).map((v) => Math.round(v * 300) / 300);
  out.push({ name: 'duplicates (rounded)', row: dup, k: 384 });
  const bf16 = new Float32Array(normals(768, 8, 0.02).buffer.slice(0));
  new Uint32Array(bf16.buffer).forEach((b, i, a) => (a[i] = b & 0xffff0000));
  out.push({ name: 'bf16-like values', row: bf16, k: 96 });
  // large u: one far outlier stretches the grid, so the walks stop at once and exps underflow to 0
  const outlier = normals(4096, 9, 1);
  outlier[17] = 5000;
  out.push({ name: 'outlier, k=2 (u ~ 300)', row: outlier, k: 2 });
  out.push({ name: 'outlier, k=33 (u ~ 10)', row: outlier, k: 33 });
  // small u: two clusters, wide bandwidth against a fine grid, so the walks run to both ends
  const twoPoints = new Float32Array(64).map((_, i) => (i % 2 ? 1 : -1) + i * 1e-6);
  out.push({ name: 'two clusters, k=1024 (u ~ 2e-3)', row: twoPoints, k: 1024 });
  out.push({ name: 'two values, k=1024', row: Float32Array.of(-3, 4), k: 1024 });
  out.push({ name: 'sparse (mostly zeros)', row: normals(768, 10, 0.02).map((v, i) => (i % 9 ? 0 : v)), k: 384 });
  return out;
}

function prepare(c: Case): { grid: Float64Array; h: number } {
  let min = Infinity;
  let max = -Infinity;
  for (const v of c.row) {
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  const grid = new Float64Array(c.k);
  fillGrid(min, max, c.k, grid);
  return { grid, h: bandwidth(c.row) };
}

test('WebAssembly densities agree with the direct sums to 1e-11 relative (plus the term floor)', () => {
  const w = wasm();
  for (const c of cases()) {
    const { grid, h } = prepare(c);
    const exact = new Float64Array(c.k);
    const got = new Float64Array(c.k);
    directDensities(c.row, grid, h, exact);
    w.densities(c.row, grid, h, got);
    const floorBound = TERM_FLOOR / (h * SQRT_2PI);
    for (let i = 0; i < c.k; i++) {
      const err = Math.abs(got[i]! - exact[i]!);
      assert.ok(err <= 1e-11 * exact[i]! + floorBound, `${c.name}, i=${i}: ${got[i]} vs ${exact[i]}`);
    }
  }
});

test('WebAssembly densities equal the TypeScript recurrence bit for bit, at every term floor', () => {
  const w = wasm();
  for (const c of cases()) {
    const { grid, h } = prepare(c);
    // the default, RowPruner's first-pass floor, and floors that cut walks short or stop them at once
    for (const floor of [TERM_FLOOR, Math.min(1e-4, 1e-3 * h * SQRT_2PI), 1e-2, 2]) {
      const js = new Float64Array(c.k);
      const got = new Float64Array(c.k).fill(NaN);
      recurrenceDensities(c.row, grid, h, js, floor);
      w.densities(c.row, grid, h, got, floor);
      const differ: number[] = [];
      for (let i = 0; i < c.k; i++) if (!Object.is(js[i], got[i])) differ.push(i);
      assert.deepEqual(differ, [], `${c.name}, floor ${floor}`);
    }
  }
});

test('memory grows for a long row, and shorter rows after it still come out right', () => {
  const w = wasm();
  for (const c of [
    { name: 'short', row: normals(50, 1, 0.02), k: 10 },
    { name: 'long', row: normals(300_000, 2, 0.02), k: 1000 },
    { name: 'short again', row: normals(51, 3, 0.02), k: 11 },
  ]) {
    const { grid, h } = prepare(c);
    const js = new Float64Array(c.k);
    const got = new Float64Array(c.k);
    recurrenceDensities(c.row, grid, h, js);
    w.densities(c.row, grid, h, got);
    assert.deepEqual(got, js, c.name);
  }
});

test('every golden row keeps exactly the reference set with the WebAssembly pass, as with the TypeScript one', () => {
  const w = wasm();
  const withWasm = new RowPruner(w.densities);
  const withJs = new RowPruner();
  const wrong: string[] = [];
  const differ: string[] = [];
  for (const g of goldenRows()) {
    const values = rowValues(g);
    const a = new Uint8Array(g.n);
    const b = new Uint8Array(g.n);
    withWasm.prune(values, g.k, a, 0);
    withJs.prune(values, g.k, b, 0);
    const kept: number[] = [];
    for (let j = 0; j < g.n; j++) if (a[j]) kept.push(j);
    if (JSON.stringify(kept) !== JSON.stringify(g.kept)) wrong.push(g.id);
    if (!a.every((m, j) => m === b[j])) differ.push(g.id);
  }
  assert.deepEqual(wrong, [], `${wrong.length} rows differ from the reference`);
  assert.deepEqual(differ, []);
});

test('KEN_WASM=0 forces the TypeScript pass; otherwise the WebAssembly one runs', () => {
  assert.equal(fastDensityPass({ KEN_WASM: '0' }).engine, 'js');
  assert.equal(fastDensityPass({ KEN_WASM: '0', KEN_HERMITE: '0' }).pass, recurrenceDensities);
  assert.equal(fastDensityPass({}).engine, 'wasm');
  assert.equal(fastDensityPass({ KEN_WASM: '1' }).engine, 'wasm');
});
