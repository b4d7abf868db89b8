// Damages the JSON header of a fine-tuned or base model.safetensors (dtypes, shapes, offsets, the
// __metadata__, the header length) and runs `ken prune` on the pair.
import { readFileSync, writeFileSync } from 'node:fs';
import { interestingValue, mutateJsonTimes, type Rng } from '../rng';
import type { Mutator } from '../types';
import { PRUNE, copy, join, joinSafetensors, splitSafetensors } from '../util';

function headerValue(rng: Rng): unknown {
  switch (rng.int(6)) {
    case 0: return { dtype: rng.pick(['F32', 'BF16', 'F16', 'I64', 'U8', 'F64', 'Q4', '']), shape: [rng.pick([0, 1, 16, 2 ** 31, 1e15]), 16], data_offsets: [0, rng.pick([0, 64, 1024, 2 ** 40])] };
    case 1: return [rng.pick([0, 8, 64, -8, 2 ** 53]), rng.pick([0, 64, 1e9])];
    case 2: return rng.pick([[], [0], [16, 16], [1e9, 1e9], [-1, 16], [2.5, 2], Array(20).fill(2)]);
    default: return interestingValue(rng);
  }
}

const mutator: Mutator = {
  kind: 'safetensors-header',
  description: 'model.safetensors header JSON (dtype, shape, data_offsets, __metadata__, length) -> ken prune',
  make({ rng, dir, seeds, mutate }) {
    const ft = copy(seeds.pair.ft, join(dir, 'ft'));
    const base = copy(seeds.pair.base, join(dir, 'base'));
    const target = join(rng.chance(0.7) ? ft : base, 'model.safetensors');
    let note = 'unchanged';
    if (mutate) {
      const { header, data } = splitSafetensors(readFileSync(target));
      const choice = rng.int(10);
      if (choice < 7) {
        const n = 1 + rng.int(3);
        writeFileSync(target, joinSafetensors(mutateJsonTimes(rng, header, n, headerValue), data));
        note = `${n} structural header mutations`;
      } else if (choice < 9) {
        const delta = rng.pick([-1, 1, -8, 8, 1e6, 2 ** 40]);
        writeFileSync(target, joinSafetensors(header, data, delta));
        note = `header length off by ${delta}`;
      } else {
        const text = JSON.stringify(header);
        const cut = rng.int(text.length);
        writeFileSync(target, joinSafetensors(text.slice(0, cut) + rng.pick(['', '"', '{', '\u0000', 'ä']) + text.slice(cut + 1), data));
        note = `header text damaged at ${cut}`;
      }
    }
    return { args: PRUNE('ft', 'base'), names: ['model.safetensors'], note: `${target.includes('/ft/') ? 'fine-tuned' : 'base'}: ${note}` };
  },
};
export default mutator;
