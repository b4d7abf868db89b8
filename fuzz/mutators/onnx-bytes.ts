// Byte-level damage to a base model.onnx (protobuf framing, varints, initializer bytes) -> ken prune
// of a safetensors fine-tuned model against it.
import { readFileSync, writeFileSync } from 'node:fs';
import { mutateBytes } from '../rng';
import type { Mutator } from '../types';
import { PRUNE, copy, join } from '../util';

const mutator: Mutator = {
  kind: 'onnx-bytes',
  description: 'base model.onnx bytes (protobuf framing, varints, raw_data) -> ken prune',
  make({ rng, dir, seeds, mutate }) {
    copy(seeds.pair.ft, join(dir, 'ft'));
    const base = copy(seeds.onnxBase, join(dir, 'base'));
    const target = join(base, 'model.onnx');
    if (mutate) {
      const bytes = readFileSync(target);
      // the first kilobyte holds the framing and the names; the rest is mostly raw floats
      const region: [number, number] = rng.chance(0.6) ? [0, Math.min(1024, bytes.length)] : [0, bytes.length];
      writeFileSync(target, mutateBytes(rng, bytes, region));
    }
    return { args: PRUNE('ft', 'base'), names: ['model.onnx'], note: 'base model.onnx bytes' };
  },
};
export default mutator;
