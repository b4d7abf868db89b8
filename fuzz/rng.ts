// Deterministic randomness for the fuzz campaign: case i of seed S always builds the same input,
// whatever runs in parallel. Plus the mutations every input kind shares (bytes and JSON trees).

/** mulberry32 seeded from (seed, case index). */
export class Rng {
  private s: number;
  constructor(seed: number, stream = 0) {
    this.s = (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(stream + 1, 0xc2b2ae35)) >>> 0;
    for (let i = 0; i < 4; i++) this.next();
  }
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** 0..n-1 */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
}

/** Numbers that break parsers: signs, zero, powers of two at type edges, non-integers, huge. */
export const INTERESTING_NUMBERS = [
  0, -1, 1, 2, 7, 255, 256, 65535, 65536, 2 ** 31 - 1, 2 ** 31, 2 ** 32, 2 ** 53, 2 ** 53 + 2, 1e8, 1e300, -1e8, 0.5, -0.0, 3.7,
];

/** Strings that break parsers and paths. */
export const INTERESTING_STRINGS = [
  '', '.', '..', 'a/..', '../x', '/etc/passwd', 'a/../../b', 'x\u0000y', '\\..\\x', 'C:\\x', 'ken-subnetwork.safetensors',
  'model.safetensors', 'config.json', 'F32', 'BF16', 'I64', 'U8', 'F8_E4M3', 'whole', 'mask', 'index', '\ud800', '%s%n', 'A', 'B',
  '(a|a)+$', '(\\w+\\s?)*$', '[', 'null', '1e8',
];

export function interestingValue(rng: Rng): unknown {
  switch (rng.int(9)) {
    case 0: return null;
    case 1: return rng.pick(INTERESTING_NUMBERS);
    case 2: return rng.pick(INTERESTING_STRINGS);
    case 3: return [];
    case 4: return {};
    case 5: return rng.chance(0.5);
    case 6: return [rng.pick(INTERESTING_NUMBERS), rng.pick(INTERESTING_NUMBERS)];
    case 7: return 'x'.repeat(rng.pick([1000, 100_000]));
    default: return { type: rng.pick(INTERESTING_STRINGS) };
  }
}

type Json = unknown;

/** Every [container, key] in a JSON tree (arrays and objects), up to `limit` of them. */
function slots(root: Json, limit = 20_000): [Record<string | number, Json>, string | number][] {
  const out: [Record<string | number, Json>, string | number][] = [];
  const walk = (v: Json, depth: number): void => {
    if (out.length >= limit || depth > 64 || v === null || typeof v !== 'object') return;
    const entries = Array.isArray(v) ? v.map((x, i) => [i, x] as const) : Object.entries(v as Record<string, Json>);
    for (const [k, x] of entries) {
      out.push([v as Record<string | number, Json>, k]);
      walk(x, depth + 1);
    }
  };
  walk(root, 0);
  return out;
}

/**
 * One structural mutation of a JSON tree (in place, returns the root): replace a value with an
 * interesting one, delete a key, duplicate an array element many times, nest deeply, rename a key,
 * change a number by a little or a lot, or swap a value's type.
 */
export function mutateJson(rng: Rng, root: Json, extra: (rng: Rng) => unknown = interestingValue): Json {
  const all = slots(root);
  if (all.length === 0) return rng.chance(0.5) ? interestingValue(rng) : root;
  const [c, k] = rng.pick(all);
  const v = c[k];
  switch (rng.int(9)) {
    case 0:
    case 1:
      c[k] = extra(rng);
      break;
    case 2:
      if (Array.isArray(c)) c.splice(k as number, 1);
      else delete c[k];
      break;
    case 3: {
      // repeat: an element of an array (or a whole value) many times
      // (the same value, not copies: JSON writes it out each time; capped at ~20 MB of JSON)
      const size = Math.max(1, (JSON.stringify(v) ?? '').length);
      const times = Math.min(rng.pick([2, 10, 1000, 100_000]), Math.ceil(20_000_000 / size));
      if (Array.isArray(c)) {
        const copies = Array.from({ length: times }, () => v);
        c.splice(k as number, 0, ...copies);
      } else c[k] = Array.from({ length: Math.min(times, 1000) }, () => v);
      break;
    }
    case 4: {
      let nested: Json = v;
      for (let i = 0, n = rng.pick([10, 200, 1000]); i < n; i++) nested = [nested];
      c[k] = nested;
      break;
    }
    case 5:
      if (!Array.isArray(c)) {
        delete c[k];
        c[`${String(k)}${rng.pick(['_', 'x', ''])}${rng.pick(INTERESTING_STRINGS)}`] = v;
      } else c[k] = extra(rng);
      break;
    case 6:
      c[k] = typeof v === 'number' ? rng.pick([v + 1, v - 1, v * 2, -v, v * 1e6, Math.floor(v / 2), v + 0.5]) : extra(rng);
      break;
    case 7:
      c[k] = typeof v === 'string' ? Number(v.length) : typeof v === 'number' ? String(v) : Array.isArray(v) ? { ...v } : v === null ? 0 : [v];
      break;
    default:
      if (typeof v === 'string') c[k] = rng.pick([v + v, v.slice(1), v.toUpperCase(), `${v}/..`, `../${v}`, v.repeat(100)]);
      else c[k] = extra(rng);
  }
  return root;
}

/** `n` structural mutations. */
export function mutateJsonTimes(rng: Rng, root: Json, n: number, extra?: (rng: Rng) => unknown): Json {
  let r = root;
  for (let i = 0; i < n; i++) r = mutateJson(rng, r, extra);
  return r;
}

/** Byte-level mutations: flips, interesting bytes, inserts, deletes, chunk copies, truncation, extension. */
export function mutateBytes(rng: Rng, input: Uint8Array, region?: [number, number]): Uint8Array {
  let b = Buffer.from(input);
  const [lo, hi] = region ?? [0, b.length];
  const at = (): number => lo + rng.int(Math.max(1, Math.min(hi, b.length) - lo));
  const n = 1 + rng.int(rng.chance(0.3) ? 32 : 4);
  for (let i = 0; i < n && b.length > 0; i++) {
    switch (rng.int(8)) {
      case 0: { const p = at(); b[p] = b[p]! ^ (1 << rng.int(8)); break; }
      case 1: b[at()] = rng.pick([0, 0xff, 0x7f, 0x80, 0x01, 0x22, 0x5b, 0x7b, 0x2c]); break;
      case 2: { const p = at(); b = Buffer.concat([b.subarray(0, p), Buffer.from([rng.int(256)]), b.subarray(p)]); break; }
      case 3: { const p = at(); b = Buffer.concat([b.subarray(0, p), b.subarray(p + 1 + rng.int(16))]); break; }
      case 4: { const p = at(); const q = at(); const len = 1 + rng.int(64); b = Buffer.concat([b.subarray(0, q), b.subarray(p, p + len), b.subarray(q)]); break; }
      case 5: b = b.subarray(0, at()); break;
      case 6: b = Buffer.concat([b, Buffer.alloc(rng.pick([1, 8, 4096]), rng.int(256))]); break;
      default: { const p = at(); const v = rng.pick([0, 0xffffffff, 0x7fffffff, 0x80000000, 1 << 20]) >>> 0; if (b.length >= 4) b.writeUInt32LE(v, Math.max(0, Math.min(p, b.length - 4))); }
    }
  }
  return b;
}
