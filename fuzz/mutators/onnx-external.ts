// A base model.onnx whose initializers live in model.onnx.data: lies in the external-data entries
// (location, offset, length) or damage to the data file -> ken prune against it.
import { readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { FLOAT, onnxModel, type Init } from '../onnx';
import { INTERESTING_STRINGS, mutateBytes } from '../rng';
import type { Mutator } from '../types';
import { PRUNE, copy, join, splitSafetensors } from '../util';

const mutator: Mutator = {
  kind: 'onnx-external',
  description: 'base model.onnx external data (location, offset, length, the .data file) -> ken prune',
  make({ rng, dir, seeds, mutate }) {
    copy(seeds.pair.ft, join(dir, 'ft'));
    const base = copy(seeds.onnxExternal, join(dir, 'base'));
    const dataFile = join(base, 'model.onnx.data');
    let note = 'unchanged';
    if (mutate) {
      if (rng.chance(0.35)) {
        const bytes = readFileSync(dataFile);
        if (rng.chance(0.4)) {
          truncateSync(dataFile, rng.int(bytes.length));
          note = 'data file truncated';
        } else {
          writeFileSync(dataFile, mutateBytes(rng, bytes));
          note = 'data file bytes';
        }
      } else {
        // rebuild the graph from the pair's base tensors, with lies in one or more entries
        const { header, data } = splitSafetensors(readFileSync(join(seeds.pair.base, 'model.safetensors')));
        let offset = 0;
        const lies: string[] = [];
        const inits: Init[] = Object.entries(header).filter(([k]) => k !== '__metadata__').map(([name, v]) => {
          const t = v as { shape: number[]; data_offsets: [number, number] };
          const bytes = data.subarray(t.data_offsets[0], t.data_offsets[1]);
          const init: Init = { name, dims: [...t.shape], elemType: FLOAT, data: bytes, external: { location: 'model.onnx.data', offset } };
          offset += bytes.byteLength;
          if (rng.chance(0.3)) {
            const what = rng.int(4);
            if (what === 0) init.external!.location = rng.pick([...INTERESTING_STRINGS, '../ft/model.safetensors', 'model.onnx', 'missing.data', '/dev/zero']);
            else if (what === 1) init.external!.offset = rng.pick([-1, 1, 3, 2 ** 31, 2 ** 53, offset * 7, 1e300]);
            else if (what === 2) init.dims = rng.pick([[0], [2 ** 20, 2 ** 20], [-1], [...init.dims, 2], []]);
            else init.elemType = rng.pick([0, 7, 10, 16, 99]);
            lies.push(`${name}#${what}`);
          }
          return init;
        });
        writeFileSync(join(base, 'model.onnx'), onnxModel({ inits, nodes: [{ op: 'Identity', inputs: [inits[2]!.name], outputs: ['y'] }], inputs: [], outputs: [['y', FLOAT, [16]]] }));
        note = `external entries: ${lies.join(', ') || 'none'}`;
      }
    }
    return { args: PRUNE('ft', 'base'), names: ['model.onnx', 'model.onnx.data'], note };
  },
};
export default mutator;
