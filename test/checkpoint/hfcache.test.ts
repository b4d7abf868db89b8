// A fake Hugging Face cache laid out as the Hub client lays it out (models--org--name/refs/<rev> ->
// snapshots/<commit>/ files linked into ../../blobs/<hash>): hub ids resolve, base detection uses it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { openModel } from '../../src/checkpoint/folder';
import { cachedModels, hubCacheDirs, parseHubId, resolveHubId } from '../../src/checkpoint/hfcache';
import { pruneToFolder } from '../../src/workflows/prune';
import { baseCandidates } from '../../src/extension/detect';
import { ROOT, tmp } from '../helpers';

const ARCH = join(ROOT, 'test', 'data', 'arch');

/** Puts the files of `src` into `cache` as repo `repo` at `commit`, with refs/<ref> naming it. */
function cacheRepo(cache: string, repo: string, src: string, commit: string, refs: string[]): string {
  const repoDir = join(cache, `models--${repo.replaceAll('/', '--')}`);
  const snap = join(repoDir, 'snapshots', commit);
  mkdirSync(snap, { recursive: true });
  mkdirSync(join(repoDir, 'blobs'), { recursive: true });
  mkdirSync(join(repoDir, 'refs'), { recursive: true });
  for (const f of readdirSync(src)) {
    const bytes = readFileSync(join(src, f));
    const blob = createHash('sha256').update(bytes).digest('hex');
    writeFileSync(join(repoDir, 'blobs', blob), bytes);
    symlinkSync(join('..', '..', 'blobs', blob), join(snap, f));
  }
  for (const r of refs) writeFileSync(join(repoDir, 'refs', r), commit);
  return snap;
}

function fakeCache(): { cache: string; bert: string; mainSnap: string; v1Snap: string } {
  const cache = join(tmp('ken-hub-'), 'hub');
  const bert = cacheRepo(cache, 'bert-base-uncased', join(ARCH, 'bert', 'pretrained'), '86b5e0934494bd15c9632b12f734a8a67f723594', ['main']);
  const mainSnap = cacheRepo(cache, 'org/name', join(ARCH, 'gpt2', 'pretrained'), 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', ['main']);
  const v1Snap = cacheRepo(cache, 'org/name', join(ARCH, 'gpt2', 'pretrained'), 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb', ['v1']);
  return { cache, bert, mainSnap, v1Snap };
}

test('hub ids resolve in the cache: bert-base-uncased, org/name, org/name@rev (a ref or a commit)', async () => {
  const { cache, bert, mainSnap, v1Snap } = fakeCache();
  const env = { HF_HUB_CACHE: cache };
  assert.equal(await resolveHubId('bert-base-uncased', env), bert);
  assert.equal(await resolveHubId('org/name', env), mainSnap);
  assert.equal(await resolveHubId('org/name@v1', env), v1Snap);
  assert.equal(await resolveHubId('org/name@bbbbbbbb', env), v1Snap);
  assert.equal(await resolveHubId('org/name@v2', env), undefined);
  assert.equal(await resolveHubId('org/other', env), undefined);
  // HF_HOME/hub, then ~/.cache/huggingface/hub
  const home = tmp('ken-hfhome-');
  cpSync(cache, join(home, 'hub'), { recursive: true, verbatimSymlinks: true });
  assert.equal(await resolveHubId('bert-base-uncased', { HF_HOME: home }), join(home, 'hub', 'models--bert-base-uncased', 'snapshots', '86b5e0934494bd15c9632b12f734a8a67f723594'));
  const user = tmp('ken-home-');
  cpSync(cache, join(user, '.cache', 'huggingface', 'hub'), { recursive: true, verbatimSymlinks: true });
  assert.ok((await resolveHubId('org/name', { HOME: user }))!.startsWith(join(user, '.cache', 'huggingface', 'hub')));
  assert.deepEqual(hubCacheDirs({ HF_HUB_CACHE: '/a', HF_HOME: '/b', HOME: '/h' }), ['/a', '/b/hub', '/h/.cache/huggingface/hub']);
  for (const notId of ['./bert', '/abs/path', 'a/b/c', '../x', 'org/../x', '~/m', '']) assert.equal(parseHubId(notId), undefined, notId);
  assert.deepEqual((await cachedModels(env)).map((m) => m.id), ['bert-base-uncased', 'org/name']);
});

test('--base accepts a hub id from the cache; the report says where it was found', async () => {
  const { cache, bert } = fakeCache();
  const saved = process.env['HF_HUB_CACHE'];
  process.env['HF_HUB_CACHE'] = cache;
  try {
    const base = await openModel('bert-base-uncased', 'base');
    assert.equal(base.dir, bert);
    const out = join(tmp('ken-hub-out-'), 'out');
    const report = await pruneToFolder({ finetuned: join(ARCH, 'bert', 'seq-cls'), base: 'bert-base-uncased', out, k: 2, backend: 'js', threads: 1 });
    assert.equal(report.base, bert);
    assert.ok(report.notes!.some((n) => n === `bert-base-uncased resolved in the Hugging Face cache: ${bert}`));
    assert.ok(report.tensors.some((t) => t.status === 'pruned'));
    await assert.rejects(openModel('org/missing', 'base'), /org\/missing: no such file or folder \(base model\), and not in the Hugging Face cache/);
  } finally {
    if (saved === undefined) delete process.env['HF_HUB_CACHE'];
    else process.env['HF_HUB_CACHE'] = saved;
  }
});

test('base detection: _name_or_path in the cache first; never another checkpoint of the same run, never an adapter; cached models of the same model_type', async () => {
  const { cache, bert } = fakeCache();
  const env = { HF_HUB_CACHE: cache };
  const run = tmp('ken-run-');
  for (const c of ['checkpoint-500', 'checkpoint-1000']) cpSync(join(ARCH, 'bert', 'seq-cls'), join(run, c), { recursive: true });
  cpSync(join(ARCH, 'lora', 'causal-lm'), join(run, 'an-adapter'), { recursive: true });
  const got = await baseCandidates(join(run, 'checkpoint-500'), [], env);
  assert.deepEqual(got.map((c) => [c.reason, c.path]), [['config', bert]]);
  assert.equal(got[0]!.label, 'bert-base-uncased');
  assert.match(got[0]!.detail, /config\.json _name_or_path bert-base-uncased \(Hugging Face cache\)/);
  // a fine-tuned model naming no base: the cached model of its model_type is offered (not the GPT-2 one)
  const other = join(tmp('ken-run2-'), 'finetuned');
  cpSync(join(ARCH, 'bert', 'seq-cls'), other, { recursive: true });
  const cfg = JSON.parse(readFileSync(join(other, 'config.json'), 'utf8')) as Record<string, unknown>;
  delete cfg['_name_or_path'];
  writeFileSync(join(other, 'config.json'), JSON.stringify(cfg));
  const offered = await baseCandidates(other, [join(run, 'an-adapter')], env);
  assert.deepEqual(offered.map((c) => [c.reason, c.label]), [['cache', 'bert-base-uncased']]);
  // an adapter's base_model_name_or_path is resolved the same way
  const adapter = join(tmp('ken-ad-'), 'adapter');
  cpSync(join(ARCH, 'lora', 'causal-lm'), adapter, { recursive: true });
  const ac = JSON.parse(readFileSync(join(adapter, 'adapter_config.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(adapter, 'adapter_config.json'), JSON.stringify({ ...ac, base_model_name_or_path: 'org/name@v1' }));
  const forAdapter = await baseCandidates(adapter, [], env);
  assert.deepEqual(forAdapter.map((c) => [c.reason, c.label]), [['config', 'org/name@v1']]);
});
