// KEN's Gaussian densities on the evenly spaced grid by a binned Hermite expansion (the fast Gauss
// transform's idea, on the grid's own spacing), with a rigorous bound on every term's error, so the
// rounded densities stay exactly the reference's (RowPruner re-checks those near a rounding boundary).
//
// Grid g_i = lo + i*s, u = s/h. The grid is cut into cells of L = 2a+1 consecutive points, cell c
// centred on grid index z = c*L + a. A value x belongs to the cell of its nearest grid point and sits
// at delta = (x - lo - z*s)/h from the centre, |delta| <= D = (a + 1/2) u. At grid point z+m, y = m*u,
// its term exp(-(y - delta)^2/2) is, as a Taylor series in delta (the generating function of the
// probabilists' Hermite polynomials He_p):
//   exp(-(y - delta)^2 / 2) = sum_p He_p(y) exp(-y^2/2) delta^p / p!
// so a cell adds to grid point z+m
//   sum_{p<P} G[m][p] M_p,   G[m][p] = exp(-y^2/2) He_p(y) / p!,   M_p = sum_{x in cell} delta_x^p
// (power sums: no exp per value), and to z-m the same with odd p negated (He_p(-y) = (-1)^p He_p(y)).
// G is one table per row, built by the recurrence He_{p+1} = y He_p - p He_{p-1}.
//
// Error per (value, grid point), relative to a value's peak term 1:
//   - inside the window |m| <= R, the Lagrange remainder He_P(y - xi) exp(-(y - xi)^2/2) delta^P / P!,
//     which Cramer's inequality (|He_n(t)| exp(-t^2/4) <= K sqrt(n!), K < 1.0865) bounds by
//     K D^P / sqrt(P!);
//   - outside it (|y| >= (R+1) u > rho + D): the whole term, below exp(-rho^2/2) = termFloor.
// Both are kept at or below `termFloor` (twice over for the first), the recurrence's own per-term
// budget: a density is off by at most n * termFloor before normalisation, the bound RowPruner's
// re-check already assumes. Float rounding adds ~1e-15 relative, inside the re-check's own slack.
//
// Work: n*P/2 for the moments, (R+1)*P for the table, then per non-empty cell (R+1)*P/2 pairs of
// multiply-adds, independent of how many values the cell holds, against the walk's n*2*rho/u
// updates. `hermitePlan` picks the cell width with the least work and says when the walk is cheaper
// (few values per cell, coarse grids).

import { TERM_FLOOR, type RecurrenceDensities } from './row';

/** Cramer's constant, rounded up. */
const CRAMER = 1.0866;
export const HERMITE_MAX_TERMS = 24;
const LOG_SQRT_FACT = new Float64Array(HERMITE_MAX_TERMS + 1);
for (let p = 1; p <= HERMITE_MAX_TERMS; p++) LOG_SQRT_FACT[p] = LOG_SQRT_FACT[p - 1]! + 0.5 * Math.log(p);
/** INV[q] = 1/q (the table's recurrence divides by q). */
export const INV = new Float64Array(HERMITE_MAX_TERMS + 1);
for (let q = 1; q <= HERMITE_MAX_TERMS; q++) INV[q] = 1 / q;

/**
 * Costs in walk updates, which decide which pass a row takes. Measured (CPU time per row, both
 * engines, rows from n=64 to 3072 and k=16 to 384, normal and heavy-tailed): a unit of the
 * expansion's work costs 1.0-1.5 ns in WebAssembly (3-5 ns in TypeScript), a walk update 0.6-0.9 ns
 * (1.7-2.5 ns), plus 25-55 ns per value for the walk's exps.
 */
export const HERMITE_STEP_COST = 2.2;
/** The walk's work per value besides its updates (three exps, the nearest point), in updates. */
export const WALK_VALUE_COST = 40;

/** How a row's densities are expanded: cells of 2a+1 grid points, P terms (even), window |m| <= R. */
export interface HermitePlan {
  /** Cell half-width in grid points; -1 when the walk is cheaper (or no expansion fits the budget). */
  a: number;
  P: number;
  R: number;
  /** Estimated work, in walk updates. */
  cost: number;
  walkCost: number;
}

/** The bound on one term's truncation error with P terms and |delta| <= D (relative to a peak of 1). */
export function hermiteTermBound(P: number, D: number): number {
  if (D <= 0) return 0;
  return CRAMER * Math.exp(P * Math.log(D) - LOG_SQRT_FACT[P]!);
}

/**
 * The least even P whose error 2 K D^P / sqrt(P!) stays within the floor whose log(floor / 2K) is
 * `logTarget`, in logarithms (one log per call); 0 when none up to the maximum does.
 */
function termsFor(D: number, logTarget: number): number {
  const logD = Math.log(D);
  for (let P = 2; P <= HERMITE_MAX_TERMS; P += 2) if (P * logD - LOG_SQRT_FACT[P]! <= logTarget) return P;
  return 0;
}

/** Cell half-widths tried, in units of h (D = (a + 1/2) u, rounded to the grid). */
const D_TARGETS = [0.35, 0.5, 0.7, 0.9, 1.1, 1.4, 1.8];

/**
 * The cheapest expansion for a row of n values on k grid points with u = step/h, each term allowed an
 * error of `floor`; `walk` false: the cheapest expansion whatever the walk costs (tests).
 */
export function hermitePlan(n: number, k: number, u: number, floor: number, walk = true): HermitePlan {
  const logFloor = Math.log(floor);
  const rho = Math.sqrt(-2 * logFloor); // terms beyond rho bandwidths are below the floor
  const walkCost = n * (2 * Math.min(k, rho / u + 1) + 1 + WALK_VALUE_COST);
  const best: HermitePlan = { a: -1, P: 0, R: 0, cost: Infinity, walkCost };
  if (!(k > 1 && u > 0 && floor > 0 && floor < 1)) return best;
  const logTarget = logFloor - Math.log(2 * CRAMER) - 1e-12;
  let lastA = -1;
  for (let t = 0; t < D_TARGETS.length; t++) {
    const a = Math.max(0, Math.round(D_TARGETS[t]! / u - 0.5));
    if (a === lastA || a >= k) continue;
    lastA = a;
    const D = (a + 0.5) * u * (1 + 1e-9); // delta's own rounding is ~1e-15 relative
    const P = termsFor(D, logTarget);
    if (P === 0) continue;
    const R = Math.ceil((rho + D) / u);
    const L = 2 * a + 1;
    const cells = Math.min(n, Math.ceil(k / L));
    const span = Math.min(R, k + L) + 1;
    const cost = HERMITE_STEP_COST * (cells * span * (P / 2 + 2) + n * (P / 2 + 4) + span * P);
    if (cost < best.cost) {
      best.a = a;
      best.P = P;
      best.R = R;
      best.cost = cost;
    }
  }
  if (walk && !(best.cost < walkCost)) best.a = -1;
  return best;
}

let moments = new Float64Array(0);
let table = new Float64Array(0);
let padded = new Float64Array(0);

/**
 * Densities with the recurrence's contract (every term off by at most `termFloor` relative to its
 * peak, so each density by at most termFloor / (h sqrt(2 pi))) by the plan's expansion. The plan
 * must have a >= 0 (from `hermitePlan` for this row's n, k, u and floor).
 */
export const hermiteDensities: HermitePass = (row, grid, h, out, plan) => {
  const n = row.length;
  const k = out.length;
  const lo = grid[0]!;
  const invh = 1 / h;
  const step = (grid[k - 1]! - lo) / (k - 1);
  const invStep = 1 / step;
  const u = step * invh;
  const { a, P, R } = plan;
  const L = 2 * a + 1;
  const invL = 1 / L;
  const cells = Math.ceil(k / L);
  if (moments.length < cells * P) moments = new Float64Array(cells * P * 2);
  const M = moments;
  M.fill(0, 0, cells * P);
  const last = k - 1;
  for (let j = 0; j < n; j++) {
    const x = row[j]!;
    let p = Math.floor((x - lo) * invStep + 0.5);
    if (p < 0) p = 0;
    else if (p > last) p = last;
    const c = Math.floor((p + 0.5) * invL);
    const d = (x - lo - (c * L + a) * step) * invh;
    const base = c * P;
    let w = 1;
    for (let q = 0; q < P; q++) {
      M[base + q] += w;
      w *= d;
    }
  }
  // G[m][p] = exp(-y^2/2) He_p(y) / p!, y = m u: g_{p+1} = (y g_p - g_{p-1}) / (p+1)
  if (table.length < (R + 1) * P) table = new Float64Array((R + 1) * P * 2);
  const G = table;
  const ratio = Math.exp(-u * u); // C_{m+1} = C_m r_m, r_m = exp(-(2m+1) u^2 / 2), r_{m+1} = r_m ratio
  let cm = 1;
  let rm = Math.exp(-0.5 * u * u);
  for (let m = 0; m <= R; m++) {
    const y = m * u;
    const row0 = m * P;
    let g0 = cm;
    let g1 = y * cm;
    G[row0] = g0;
    G[row0 + 1] = g1;
    for (let q = 1; q + 1 < P; q++) {
      const g2 = (y * g1 - g0) * INV[q + 1]!;
      G[row0 + q + 1] = g2;
      g0 = g1;
      g1 = g2;
    }
    cm *= rm;
    rm *= ratio;
  }
  // out padded by R + L on each side: windows need no clamping
  const pad = R + L;
  if (padded.length < k + 2 * pad) padded = new Float64Array(2 * (k + 2 * pad));
  const o = padded;
  o.fill(0, 0, k + 2 * pad);
  for (let c = 0; c < cells; c++) {
    const base = c * P;
    if (M[base] === 0) continue; // no value in this cell
    const z = c * L + a;
    const mMax = Math.max(Math.min(R, z), Math.min(R, last - z));
    const at = pad + z;
    for (let m = 0; m <= mMax; m++) {
      const g = m * P;
      let e = 0;
      let od = 0;
      for (let q = 0; q < P; q += 2) {
        e += G[g + q]! * M[base + q]!;
        od += G[g + q + 1]! * M[base + q + 1]!;
      }
      o[at + m] += e + od;
      if (m > 0) o[at - m] += e - od;
    }
  }
  const norm = 1 / (n * h * Math.sqrt(2 * Math.PI));
  for (let i = 0; i < k; i++) out[i] = o[pad + i]! * norm;
  return true;
};

/** A pass computing a row's densities by an expansion's plan; false, having written nothing, when it cannot. */
export type HermitePass = (row: Float32Array, grid: Float64Array, h: number, out: Float64Array, plan: HermitePlan) => boolean;

/**
 * The fast density pass: per row, the binned Hermite expansion where its plan costs less than the
 * walk, else the walk (`recurrenceDensities` or its WebAssembly twin). Same contract as the walk.
 */
export function withHermite(walk: RecurrenceDensities, expand: HermitePass = hermiteDensities): RecurrenceDensities {
  return (row, grid, h, out, termFloor = TERM_FLOOR) => {
    const n = row.length;
    const k = out.length;
    if (k > 1) {
      const step = (grid[k - 1]! - grid[0]!) / (k - 1);
      const plan = hermitePlan(n, k, step / h, termFloor);
      if (plan.a >= 0 && expand(row, grid, h, out, plan)) return;
    }
    walk(row, grid, h, out, termFloor);
  };
}
