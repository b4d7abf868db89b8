// PEFT LoRA adapters: merged as PEFT merges (the reference is PEFT's merge done in torch on the CPU, written by
// scripts/gen-arch-fixtures.py: F32, F16 and BF16 bases), pruned against the base, written as a full checkpoint
// in the base's layout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { openModel } from '../../src/checkpoint/folder';
import { readSafetensorsHeader } from '../../src/formats/safetensors';
import { safetensorsViews } from '../../src/checkpoint/tensors';
import { pruneToFolder } from '../../src/workflows/prune';
import { restoreSubnetwork } from '../../src/workflows/restore';
import { pruneSummary } from '../../src/cli/prune';
import { ROOT, tmp } from '../helpers';

const LORA = join(ROOT, 'test', 'data', 'arch', 'lora');

async function expected(dir: string): Promise<Map<string, Buffer>> {
  const path = join(dir, 'expected-merged.safetensors');
  const h = await readSafetensorsHeader(path);
  const all = readFileSync(path);
  return new Map(h.tensors.map((e) => [e.name, all.subarray(e.begin, e.end)]));
}

for (const [kind, base] of [['causal-lm', 'llama-base'], ['causal-lm-bin', 'llama-base'], ['seq-cls', 'gpt2-base'], ['llama-bf16', 'llama-bf16-base'], ['gpt2-f16', 'gpt2-f16-base']] as const) {
  test(`LoRA ${kind}: merged tensors equal PEFT's merge in torch bit for bit, in the base's dtype; the others are the base's`, async () => {
    const baseFolder = await openModel(join(LORA, base), 'base');
    const merged = await openModel(join(LORA, kind), 'fine-tuned', { adapterBase: baseFolder });
    const want = await expected(join(LORA, kind));
    const baseViews = new Map(safetensorsViews(baseFolder).map((v) => [v.name, v]));
    let compared = 0;
    for (const v of safetensorsViews(merged)) {
      const got = Buffer.from(await v.read());
      const w = want.get(v.name);
      if (w) {
        assert.ok(got.equals(w), `${v.name} differs from PEFT's merge in torch`);
        compared++;
      } else {
        assert.ok(got.equals(Buffer.from(await baseViews.get(v.name)!.read())), `${v.name} should be the base's`);
      }
    }
    assert.equal(compared, want.size);
  });
}

test('LoRA CAUSAL_LM: pruned against its declared base (adapter_config.json), a full checkpoint in the base layout, report says LoRA merged', async () => {
  const out = join(tmp('ken-lora-'), 'out');
  // no --base needed beyond the adapter's own base_model_name_or_path ("../llama-base"); give the same folder explicitly here
  const report = await pruneToFolder({ finetuned: join(LORA, 'causal-lm'), base: join(LORA, 'llama-base'), out, k: 2, backend: 'js', threads: 1 });
  assert.deepEqual(report.lora && { r: report.lora.r, alpha: report.lora.alpha, rslora: report.lora.rslora, modules: report.lora.modules }, { r: 4, alpha: 8, rslora: true, modules: ['embed_tokens', 'q_proj', 'v_proj'] });
  const baseH = await readSafetensorsHeader(join(LORA, 'llama-base', 'model.safetensors'));
  const outH = await readSafetensorsHeader(join(out, 'model.safetensors'));
  assert.deepEqual(outH.tensors.map((t) => [t.name, t.dtype, t.shape]), baseH.tensors.map((t) => [t.name, t.dtype, t.shape]));
  assert.ok(!existsSync(join(out, 'adapter_config.json')) && !existsSync(join(out, 'adapter_model.safetensors')));
  assert.deepEqual(readFileSync(join(out, 'tokenizer.json')), readFileSync(join(LORA, 'llama-base', 'tokenizer.json')));
  assert.deepEqual(readFileSync(join(out, 'README.md')), readFileSync(join(LORA, 'causal-lm', 'README.md')));
  // only the merged tensors differ from the base: KEN keeps values there; the untouched ones are the base's and keep nothing
  assert.ok(report.tensors.every((t) => t.status === 'pruned'));
  for (const t of report.tensors.filter((t) => t.kept === 0)) assert.match(t.note!, /the base tensor itself \(not adapted\)/);
  const pruned = report.tensors.filter((t) => t.kept > 0).map((t) => t.name).sort();
  assert.deepEqual(pruned, ['model.embed_tokens.weight', 'model.layers.0.self_attn.q_proj.weight', 'model.layers.0.self_attn.v_proj.weight', 'model.layers.1.self_attn.q_proj.weight', 'model.layers.1.self_attn.v_proj.weight']);
  const summary = pruneSummary(report, out);
  assert.match(summary, /LoRA merged \(r=4, alpha=8, rsLoRA, modules embed_tokens, q_proj, v_proj\); 16 tensors untouched by the adapter are the base's; subnetwork .* vs the adapter's .* \(\d+\.\dx\)/);
  assert.equal(report.lora!.adapterBytes, readFileSync(join(LORA, 'causal-lm', 'adapter_model.safetensors')).byteLength);
  // the subnetwork and the base rebuild the pruned checkpoint
  const restored = join(tmp('ken-lora-'), 'restored');
  await restoreSubnetwork({ subnetwork: join(out, 'ken-subnetwork.safetensors'), base: join(LORA, 'llama-base'), out: restored });
  assert.deepEqual(readFileSync(join(restored, 'model.safetensors')), readFileSync(join(out, 'model.safetensors')));
});

test('LoRA SEQ_CLS on GPT-2 (fan_in_fan_out Conv1D, score in modules_to_save): score is added as a head, c_attn pruned', async () => {
  const out = join(tmp('ken-lora-'), 'out');
  const report = await pruneToFolder({ finetuned: join(LORA, 'seq-cls'), base: join(LORA, 'gpt2-base'), out, k: 2, backend: 'js', threads: 1 });
  const byName = new Map(report.tensors.map((t) => [t.name, t]));
  assert.equal(byName.get('score.weight')!.status, 'head');
  assert.equal(byName.get('h.0.attn.c_attn.weight')!.status, 'pruned');
  assert.deepEqual(report.lora!.modules, ['c_attn', 'score (saved whole)']);
  const outH = await readSafetensorsHeader(join(out, 'model.safetensors'));
  assert.equal(outH.tensors[outH.tensors.length - 1]!.name, 'score.weight');
  assert.ok(readdirSync(out).includes('config.json'));
});

test('an adapter is never the base of a model, and a missing declared base is one line', async () => {
  await assert.rejects(pruneToFolder({ finetuned: join(LORA, 'llama-base'), base: join(LORA, 'causal-lm'), out: join(tmp(), 'o'), k: 2, backend: 'js', threads: 1 }), /causal-lm: is a LoRA adapter \(adapter_config\.json\), never the base of a model/);
  // seq-cls declares openai-community/gpt2, which no cache here holds
  const env = process.env['HF_HUB_CACHE'];
  process.env['HF_HUB_CACHE'] = tmp('ken-empty-cache-');
  try {
    await assert.rejects(openModel(join(LORA, 'seq-cls'), 'fine-tuned'), /adapter_config\.json: base_model_name_or_path "openai-community\/gpt2" is neither a folder nor in the Hugging Face cache; give the base with --base/);
    const merged = await openModel(join(LORA, 'causal-lm'), 'fine-tuned'); // "../llama-base": a local path
    assert.ok(merged.lora && merged.notes!.some((n) => /LoRA base \.\.\/llama-base resolved to .*llama-base/.test(n)));
  } finally {
    if (env === undefined) delete process.env['HF_HUB_CACHE'];
    else process.env['HF_HUB_CACHE'] = env;
  }
});

test('fmaf rounds a * b + c once, like the fused multiply-add of torch\'s CPU matmul, also where the double sum is a float32 midpoint', async () => {
  const { fmaf } = await import('../../src/checkpoint/lora');
  const a = Math.fround(1 - 2 ** -23);
  const b = Math.fround(1 + 2 ** -23);
  const c = 2 ** 24 + 2;
  // exact: 2^24 + 3 - 2^-46, just under the midpoint 2^24 + 3 that the double sum rounds to
  assert.equal(Math.fround(a * b + c), 2 ** 24 + 4, 'rounding twice goes up');
  assert.equal(fmaf(a, b, c), 2 ** 24 + 2);
  assert.equal(fmaf(-a, b, -c), -(2 ** 24 + 2));
  assert.equal(fmaf(0.5, 0.25, 1), 1.125);
  assert.equal(fmaf(1, 2 ** 24 + 2, 1), 2 ** 24 + 4); // a true tie goes to the even neighbour
});
