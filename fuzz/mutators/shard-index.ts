// Damages model.safetensors.index.json of a sharded (BF16) fine-tuned model, or its shard files'
// names -> ken prune.
import { renameSync, writeFileSync } from 'node:fs';
import { interestingValue, mutateJsonTimes, type Rng } from '../rng';
import type { Mutator } from '../types';
import { PRUNE, copy, join, readJson, writeJson } from '../util';

const SHARD = ['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors'];

function indexValue(rng: Rng): unknown {
  return rng.chance(0.5) ? rng.pick([...SHARD, 'ken-subnetwork.safetensors', '../pair/ft/model.safetensors', 'model.safetensors.index.json', 'config.json', '', '.', 'x.safetensors', null]) : interestingValue(rng);
}

const mutator: Mutator = {
  kind: 'shard-index',
  description: 'model.safetensors.index.json (weight_map, shard names) of a sharded BF16 model -> ken prune',
  make({ rng, dir, seeds, mutate }) {
    const ft = copy(seeds.sharded, join(dir, 'ft'));
    copy(seeds.pair.base, join(dir, 'base'));
    const file = join(ft, 'model.safetensors.index.json');
    let note = 'unchanged';
    const names = ['model.safetensors.index.json', ...SHARD, 'ken-subnetwork.safetensors'];
    if (mutate) {
      const index = readJson(file) as { weight_map: Record<string, unknown> };
      const choice = rng.int(10);
      if (choice === 0) {
        index.weight_map = rng.pick([null, [], 'x', {}, 7]) as never;
        writeJson(file, index);
        note = 'weight_map replaced';
      } else if (choice === 1) {
        const to = rng.pick(['ken-subnetwork.safetensors', 'model.safetensors', 'model.onnx']);
        renameSync(join(ft, SHARD[1]!), join(ft, to));
        for (const k of Object.keys(index.weight_map)) if (index.weight_map[k] === SHARD[1]) index.weight_map[k] = to;
        writeJson(file, index);
        note = `shard renamed ${to}`;
        names.push(to);
      } else if (choice === 2) {
        writeFileSync(file, rng.pick(['', '{', 'null', '[]', '{"weight_map": {"a": "b"}', '\u0000']));
        note = 'index text replaced';
      } else {
        const n = 1 + rng.int(3);
        writeJson(file, mutateJsonTimes(rng, index, n, indexValue));
        note = `${n} structural mutations`;
      }
    }
    return { args: PRUNE('ft', 'base'), names, note };
  },
};
export default mutator;
