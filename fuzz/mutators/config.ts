// Damages config.json of a classifier folder (num_labels, id2label/label2id, vocab_size, positions,
// pad_token_id; or a FIFO or a folder named config.json) -> ken eval.
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { interestingValue, mutateJsonTimes, type Rng } from '../rng';
import type { Mutator } from '../types';
import { EVAL, copy, join, readJson, writeJson } from '../util';

const FIELDS = ['num_labels', 'id2label', 'label2id', 'vocab_size', 'max_position_embeddings', 'pad_token_id', 'model_type'];

function configValue(rng: Rng): unknown {
  switch (rng.int(5)) {
    case 0: return rng.pick([1e8, 2 ** 31, 2 ** 53, 0, -3, 1, 2, 3, 4, 1.5, 100_000, 1_000_001]);
    case 1: return rng.pick([{ 0: 'a' }, { 0: 'a', 1: 'a', 2: 'b' }, { '-1': 'x', 0: 'y', 1: 'z' }, { 5: 'a', 6: 'b', 7: 'c' }, { 0: null, 1: 2, 2: {} }, {}]);
    case 2: return rng.pick([{ a: 0, b: 0, c: 1 }, { a: 0, b: 1, c: 7 }, { a: 'x' }, {}]);
    default: return interestingValue(rng);
  }
}

const mutator: Mutator = {
  kind: 'config',
  description: 'config.json of a classifier (labels, sizes, positions; FIFO or folder named config.json) -> ken eval',
  make({ rng, dir, seeds, mutate }) {
    const model = copy(seeds.classifier, join(dir, 'model'));
    const file = join(model, 'config.json');
    let note = 'unchanged';
    if (mutate) {
      const choice = rng.int(20);
      if (choice === 0) {
        rmSync(file);
        execFileSync('mkfifo', [file]);
        note = 'config.json is a FIFO';
      } else if (choice === 1) {
        rmSync(file);
        mkdirSync(file);
        note = 'config.json is a folder';
      } else {
        const config = readJson(file) as Record<string, unknown>;
        if (choice < 12) {
          const field = rng.pick(FIELDS);
          config[field] = configValue(rng);
          if (rng.chance(0.5) && (field === 'num_labels')) {
            delete config['id2label'];
            delete config['label2id'];
          }
          note = `${field} = ${JSON.stringify(config[field])?.slice(0, 80)}`;
          writeJson(file, config);
        } else {
          const n = 1 + rng.int(3);
          writeJson(file, mutateJsonTimes(rng, config, n, configValue));
          note = `${n} structural mutations`;
        }
      }
    }
    return { args: EVAL('model', join('model', 'data.jsonl')), names: ['config.json'], note };
  },
};
export default mutator;
