// Byte-level damage anywhere in a fine-tuned or base model.safetensors (header and tensor bytes:
// NaNs, truncation, growth) -> ken prune.
import { readFileSync, writeFileSync } from 'node:fs';
import { mutateBytes } from '../rng';
import type { Mutator } from '../types';
import { PRUNE, copy, join } from '../util';

const mutator: Mutator = {
  kind: 'safetensors-bytes',
  description: 'model.safetensors bytes (flips, cuts, inserts, NaN/Inf patterns) -> ken prune',
  make({ rng, dir, seeds, mutate }) {
    const ft = copy(seeds.pair.ft, join(dir, 'ft'));
    const base = copy(seeds.pair.base, join(dir, 'base'));
    const target = join(rng.chance(0.6) ? ft : base, 'model.safetensors');
    if (mutate) {
      const bytes = readFileSync(target);
      const headerEnd = 8 + Number(bytes.readBigUInt64LE(0));
      const region: [number, number] = rng.chance(0.5) ? [0, headerEnd] : [headerEnd, bytes.length];
      writeFileSync(target, mutateBytes(rng, bytes, region));
    }
    return { args: PRUNE('ft', 'base'), names: ['model.safetensors'], note: `${target.includes('/ft/') ? 'fine-tuned' : 'base'} bytes` };
  },
};
export default mutator;
