// Comparing figures the panel shows with the report's, at the precision shown.

/** True when `shown` ("21.9%", "0.4341", "43.4 %") is `value` (a fraction) rounded at its precision. */
export function sameAtShownPrecision(shown, value) {
  const m = /(-?\d+(?:\.(\d+))?)\s*(%?)/.exec(shown);
  if (!m) return false;
  const decimals = m[2]?.length ?? 0;
  const v = m[3] ? value * 100 : value;
  return Math.abs(Number(m[1]) - v) <= 0.5 * 10 ** -decimals + 1e-9;
}

export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
