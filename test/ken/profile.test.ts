import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pruneToFolder } from '../../src/workflows/prune';
import { emptyProfile } from '../../src/ken/profile';
import { ROOT, tmp } from '../helpers';

const PAIR = join(ROOT, 'test', 'data', 'debdesc-bert-mini');

test('a profiled prune writes the same bytes and accounts for every row and each phase', async () => {
  const root = tmp('ken-profile-');
  const plain = join(root, 'plain');
  const profiled = join(root, 'profiled');
  const req = { finetuned: join(PAIR, 'finetuned'), base: join(PAIR, 'pretrained'), k: 16, backend: 'js' as const, threads: 2 };
  const report = await pruneToFolder({ ...req, out: plain });
  const profile = emptyProfile();
  await pruneToFolder({ ...req, out: profiled, profile });
  for (const f of readdirSync(plain).filter((x) => x !== 'ken-report.json')) {
    assert.ok(readFileSync(join(plain, f)).equals(readFileSync(join(profiled, f))), f);
  }
  const rows = report.tensors.filter((t) => t.status === 'pruned' || t.status === 'kept-all').reduce((s, t) => s + t.rows, 0);
  assert.equal(profile.threads.reduce((s, t) => s + t.rows, 0), rows);
  assert.ok(profile.read > 0 && profile.write > 0 && profile.merge > 0 && profile.prepare > 0 && profile.toRows > 0);
  assert.ok(profile.threads.every((t) => t.densities > 0 && t.selection > 0 && t.busy >= t.densities + t.selection));
});
