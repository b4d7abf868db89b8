import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  hermiteDensities,
  hermitePlan,
  hermiteTermBound,
  withHermite,
  type HermitePass,
  type HermitePlan,
} from '../../src/ken/hermite-densities';
import { FIRST_PASS_ERROR, RowPruner, SQRT_2PI, bandwidth, directDensities, recurrenceDensities } from '../../src/ken/row';
import { WasmDensities, fastDensityPass } from '../../src/ken/wasm-densities';
import { goldenRows, keptIndices, normals, rowGrid, rowValues } from '../helpers';

function wasm(): WasmDensities {
  const w = WasmDensities.create();
  assert.ok(w, 'the WebAssembly module (SIMD) instantiates in this Node');
  return w;
}

/** Rows unlike each other: normal, heavy-tailed, a few outliers, uniform, clustered. */
function rowOf(kind: number, n: number, seed: number): Float32Array {
  const z = normals(n, seed);
  const z2 = normals(n, seed + 7919);
  const row = new Float32Array(n);
  for (let j = 0; j < n; j++) {
    const v = z[j]!;
    row[j] =
      kind === 0 ? 0.02 * v
      : kind === 1 ? 0.01 * v * v * v
      : kind === 2 ? (j % 23 === 0 ? 0.5 * v : 0.01 * v)
      : kind === 3 ? Math.abs(v) % 1 - 0.5
      : Math.round(v * 3) * 0.1 + 0.001 * z2[j]!;
  }
  return row;
}

interface Case {
  row: Float32Array;
  grid: Float64Array;
  h: number;
  floor: number;
  bound: number;
  u: number;
}

function prepare(row: Float32Array, k: number): Case {
  const grid = rowGrid(row, k);
  const h = bandwidth(row);
  // RowPruner's first-pass budget: each term off by at most `floor`, each density by `bound`
  const floor = Math.min(1e-4, FIRST_PASS_ERROR * h * SQRT_2PI);
  return { row, grid, h, floor, bound: floor / (h * SQRT_2PI), u: (grid[k - 1]! - grid[0]!) / (k - 1) / h };
}

const SHAPES: [number, number][] = [[768, 384], [3072, 384], [768, 96], [768, 32], [64, 32], [3072, 1536], [200, 150], [768, 700], [1000, 3]];

test('the expansion (TypeScript and WebAssembly) stays within its error bound of the definition on every kind of row', () => {
  const w = wasm();
  let checked = 0;
  let worst = 0;
  for (const [n, k] of SHAPES) {
    for (let kind = 0; kind < 5; kind++) {
      const c = prepare(rowOf(kind, n, n * 31 + k * 7 + kind), k);
      const plan = hermitePlan(n, k, c.u, c.floor, false);
      if (plan.a < 0) continue;
      const exact = new Float64Array(k);
      directDensities(c.row, c.grid, c.h, exact);
      for (const [name, pass] of [['ts', hermiteDensities], ['wasm', w.hermite]] as [string, HermitePass][]) {
        const got = new Float64Array(k);
        assert.ok(pass(c.row, c.grid, c.h, got, plan), `${name} n=${n} k=${k}`);
        for (let i = 0; i < k; i++) {
          const err = Math.abs(got[i]! - exact[i]!);
          worst = Math.max(worst, err / c.bound);
          assert.ok(err <= c.bound, `${name} n=${n} k=${k} kind=${kind} i=${i}: off by ${err}, bound ${c.bound}`);
        }
      }
      checked++;
    }
  }
  assert.ok(checked >= 35, `${checked} rows expanded`);
  // the bound is not vacuous: the expansion's real error is a visible share of it
  assert.ok(worst > 1e-3, `worst error ${worst} of the bound`);
});

test('too few terms or too narrow a window breaks the bound: the check sees a wrong expansion', () => {
  const c = prepare(rowOf(0, 3072, 5), 384);
  const plan = hermitePlan(3072, 384, c.u, c.floor, false);
  assert.ok(plan.a >= 0 && plan.P >= 6);
  const exact = new Float64Array(384);
  directDensities(c.row, c.grid, c.h, exact);
  const worstWith = (p: HermitePlan): number => {
    const got = new Float64Array(384);
    hermiteDensities(c.row, c.grid, c.h, got, p);
    let worst = 0;
    for (let i = 0; i < 384; i++) worst = Math.max(worst, Math.abs(got[i]! - exact[i]!));
    return worst / c.bound;
  };
  assert.ok(worstWith(plan) <= 1);
  assert.ok(worstWith({ ...plan, P: 2 }) > 1, 'two terms');
  assert.ok(worstWith({ ...plan, R: Math.floor(plan.R / 2) }) > 1, 'half the window');
});

test('the term bound holds: Cramer-bounded remainder against the remainder itself over a fine grid', () => {
  // the remainder of exp(-(y - d)^2/2) = sum_p He_p(y) exp(-y^2/2) d^p / p! after P terms
  for (const [P, D] of [[4, 0.3], [8, 0.6], [10, 0.9], [14, 1.4], [20, 1.8]] as const) {
    let worst = 0;
    for (let yi = -800; yi <= 800; yi++) {
      const y = yi / 100;
      let he0 = 1;
      let he1 = y;
      let fact = 1;
      const terms: number[] = [1, y];
      for (let q = 1; q < P; q++) {
        const he2 = y * he1 - q * he0;
        terms.push(he2);
        he0 = he1;
        he1 = he2;
      }
      for (const d of [-D, -D / 2, D / 3, D]) {
        let sum = 0;
        let pw = 1;
        fact = 1;
        for (let q = 0; q < P; q++) {
          if (q > 0) fact *= q;
          sum += (terms[q]! * pw) / fact;
          pw *= d;
        }
        const remainder = Math.abs(Math.exp(-0.5 * (y - d) * (y - d)) - Math.exp(-0.5 * y * y) * sum);
        worst = Math.max(worst, remainder);
      }
    }
    const bound = hermiteTermBound(P, D);
    assert.ok(worst <= bound, `P=${P} D=${D}: remainder ${worst} above the bound ${bound}`);
    assert.ok(worst > bound / 1e3, `P=${P} D=${D}: the bound ${bound} is not far above the remainder ${worst}`);
  }
});

test('the plan expands BERT-shaped rows and walks where the walk is cheaper', () => {
  const bert = prepare(rowOf(0, 768, 1), 384);
  const plan = hermitePlan(768, 384, bert.u, bert.floor);
  assert.ok(plan.a >= 0 && plan.cost < plan.walkCost / 2, JSON.stringify(plan));
  const coarse = prepare(rowOf(0, 64, 2), 4);
  assert.equal(hermitePlan(64, 4, coarse.u, coarse.floor).a, -1);
  assert.equal(hermitePlan(64, 1, 1, coarse.floor).a, -1);
});

test('every golden row keeps exactly the reference set with every density taken from the expansion (both engines)', () => {
  const w = wasm();
  const force = (expand: HermitePass) => {
    let expanded = 0;
    const pass = (row: Float32Array, grid: Float64Array, h: number, out: Float64Array, floor?: number): void => {
      const k = out.length;
      const u = (grid[k - 1]! - grid[0]!) / (k - 1) / h;
      const plan = k > 1 ? hermitePlan(row.length, k, u, floor!, false) : undefined;
      if (plan && plan.a >= 0 && expand(row, grid, h, out, plan)) expanded++;
      else recurrenceDensities(row, grid, h, out, floor);
    };
    return { pass, count: () => expanded };
  };
  for (const [name, expand] of [['ts', hermiteDensities], ['wasm', w.hermite]] as [string, HermitePass][]) {
    const f = force(expand);
    const pruner = new RowPruner(f.pass);
    const wrong: string[] = [];
    const rows = goldenRows();
    for (const g of rows) {
      const mask = new Uint8Array(g.n);
      pruner.prune(rowValues(g), g.k, mask, 0);
      if (JSON.stringify(keptIndices(mask)) !== JSON.stringify(g.kept)) wrong.push(g.id);
    }
    assert.deepEqual(wrong, [], `${name}: ${wrong.length} rows differ from the reference`);
    const eligible = rows.filter((g) => g.k >= 8 && g.n > g.k).length;
    assert.ok(f.count() >= eligible && eligible > 600, `${name}: ${f.count()} rows expanded, ${eligible} with k >= 8 and n > k`);
  }
});

test('the fast pass takes the expansion unless KEN_HERMITE=0, on either engine', () => {
  const c = prepare(rowOf(0, 768, 3), 384);
  const exact = new Float64Array(384);
  directDensities(c.row, c.grid, c.h, exact);
  for (const env of [{}, { KEN_WASM: '0' }, { KEN_HERMITE: '0' }, { KEN_WASM: '0', KEN_HERMITE: '0' }]) {
    const { pass } = fastDensityPass(env);
    const got = new Float64Array(384);
    pass(c.row, c.grid, c.h, got, c.floor);
    for (let i = 0; i < 384; i++) assert.ok(Math.abs(got[i]! - exact[i]!) <= c.bound, JSON.stringify(env));
  }
  assert.equal(fastDensityPass({ KEN_WASM: '0', KEN_HERMITE: '0' }).pass, recurrenceDensities);
  // withHermite leaves the walk to rows the plan does not take: the same bits as the walk there
  const coarse = prepare(rowOf(0, 64, 4), 4);
  const a = new Float64Array(4);
  const b = new Float64Array(4);
  withHermite(recurrenceDensities)(coarse.row, coarse.grid, coarse.h, a, coarse.floor);
  recurrenceDensities(coarse.row, coarse.grid, coarse.h, b, coarse.floor);
  assert.deepEqual(a, b);
});
