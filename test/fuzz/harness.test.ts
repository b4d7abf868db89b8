// The fuzz campaign's own logic: how a case's outcome is classified, and that a case is the same
// input whatever else runs (the generator depends on the seed and the case index only).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classify } from '../../fuzz/harness';
import { Rng, mutateBytes, mutateJson } from '../../fuzz/rng';
import type { FuzzCase } from '../../fuzz/types';

const c: FuzzCase = { args: [], names: ['config.json'], note: '' };

test('classify: exit 0 succeeds; one line naming the damaged file is clean', () => {
  assert.equal(classify(c, '/d', 0, null, '').status, 'success');
  assert.equal(classify(c, '/d', 1, null, 'ken eval: /d/m/config.json: num_labels: Too big\n').status, 'clean');
  assert.equal(classify(c, '/d', 1, null, 'ken prune: tensor a.weight: row 3 holds NaN\n').status, 'clean');
  assert.equal(classify(c, '/d', 2, null, 'ken eval: --k must be a whole number (got x)\nusage: ken eval ...\n').status, 'vague');
});

test('classify: JavaScript error texts, stacks, several lines and "internal error" are internal', () => {
  for (const err of [
    "ken restore: Cannot read properties of undefined (reading 'map')\n",
    'ken eval: config.json: type is not iterable\n',
    'ken eval: Invalid array length\n',
    'ken prune: EEXIST: file already exists, mkdir config.json\n',
    'ken eval: internal error (x); please report it\n',
    'ken eval: config.json bad\n    at f (x.js:1:2)\n',
    '',
  ]) assert.equal(classify(c, '/d', 1, null, err).status, 'internal', err);
});

test('classify: signals and other exit codes are crashes; a line naming nothing is vague', () => {
  assert.equal(classify(c, '/d', null, 'SIGSEGV', '').status, 'crash');
  assert.equal(classify(c, '/d', 134, null, '').status, 'crash');
  assert.equal(classify(c, '/d', 1, null, 'ken eval: something failed\n').status, 'vague');
});

test('a case is the same input for the same (seed, index), and another for another index', () => {
  const make = (seed: number, index: number): string => {
    const rng = new Rng(seed, index);
    const json = mutateJson(rng, { a: [1, 2, 3], b: { c: 'x', d: null } });
    return JSON.stringify(json) + Buffer.from(mutateBytes(rng, Buffer.from('0123456789abcdef'))).toString('hex');
  };
  assert.equal(make(7, 3), make(7, 3));
  const others = new Set(Array.from({ length: 20 }, (_, i) => make(7, i)));
  assert.ok(others.size >= 15, `only ${others.size} distinct cases of 20`);
});
