// Damages ken-subnetwork.safetensors: its "ken" metadata (tensors, files, holes repeated, paths like
// '.', 'a/..', '../x', sizes, layouts) or its bytes -> ken restore against the base.
import { readFileSync, writeFileSync } from 'node:fs';
import { INTERESTING_STRINGS, interestingValue, mutateBytes, mutateJsonTimes, type Rng } from '../rng';
import type { Mutator } from '../types';
import { RESTORE, copy, join, joinSafetensors, splitSafetensors } from '../util';

interface Meta {
  tensors: Record<string, unknown>[];
  files: { path: string; size: number; holes: Record<string, unknown>[] }[];
}

function metaValue(rng: Rng): unknown {
  return rng.chance(0.4) ? rng.pick(['.', 'a/..', '../x', '/tmp/x', 'model.safetensors', 'config.json', 'ken-subnetwork.safetensors', 'sub/../../x', '', ...INTERESTING_STRINGS]) : interestingValue(rng);
}

const mutator: Mutator = {
  kind: 'subnetwork',
  description: 'ken-subnetwork.safetensors metadata (paths, holes, sizes, layouts) and bytes -> ken restore',
  make({ rng, dir, seeds, mutate }) {
    const sub = join(dir, 'ken-subnetwork.safetensors');
    copy(seeds.subnetwork, sub);
    copy(seeds.pair.base, join(dir, 'base'));
    let note = 'unchanged';
    if (mutate) {
      const bytes = readFileSync(sub);
      const { header, data } = splitSafetensors(bytes);
      const md = header['__metadata__'] as Record<string, string>;
      const meta = JSON.parse(md['ken']!) as Meta;
      const choice = rng.int(10);
      if (choice === 0) {
        // a hole list repeated many times
        const f = rng.pick(meta.files.filter((x) => x.holes.length > 0));
        const times = rng.pick([2, 1000, 100_000]);
        f.holes = Array.from({ length: times }, () => f.holes).flat().slice(0, 200_000);
        note = `holes of ${f.path} repeated ${times} times`;
      } else if (choice === 1) {
        const f = rng.pick(meta.files);
        const to = rng.pick(['.', 'a/..', '..', '../x', '/tmp/ken-fuzz-x', 'sub/../..', './', 'a//b', meta.files[0]!.path]);
        const old = f.path;
        f.path = to;
        if (rng.chance(0.7) && header[`file:${old}`] && !header[`file:${to}`]) {
          header[`file:${to}`] = header[`file:${old}`];
          delete header[`file:${old}`];
        }
        note = `file entry ${old} -> ${to}`;
      } else if (choice === 2) {
        const f = rng.pick(meta.files);
        const h = f.holes[rng.int(Math.max(1, f.holes.length))];
        if (h) {
          const key = rng.pick(['offset', 'length', 'shape', 'dtype', 'transposed', 'tensor']);
          h[key] = key === 'offset' || key === 'length' ? rng.pick([0, 1, -1, (h[key] as number) + 1, (h[key] as number) - 4, 2 ** 40, f.size]) : metaValue(rng);
          note = `a hole's ${key} = ${JSON.stringify(h[key])?.slice(0, 60)}`;
        } else f.size = rng.pick([0, f.size + 1, f.size - 1, 2 ** 40]);
      } else if (choice === 3) {
        const t = rng.pick(meta.tensors);
        const key = rng.pick(['shape', 'kept', 'total', 'layout', 'dtype', 'name', 'base']);
        t[key] = key === 'shape' ? rng.pick([[1e9, 1e9], [0], [], [2 ** 31, 2], [-1, 4]]) : key === 'layout' ? rng.pick(['index', 'mask', 'whole', 'nope']) : metaValue(rng);
        note = `tensor ${String(t['name']).slice(0, 40)} ${key}`;
      } else if (choice === 4) {
        writeFileSync(sub, mutateBytes(rng, bytes, rng.chance(0.5) ? [0, 8 + Number(bytes.readBigUInt64LE(0))] : undefined));
        return { args: RESTORE('ken-subnetwork.safetensors', 'base'), names: ['ken-subnetwork.safetensors'], note: 'bytes' };
      } else if (choice === 5) {
        md['ken'] = rng.pick(['', '{', 'null', '[]', '{"version": 99}', '{"version": 1}', JSON.stringify({ ...meta, files: null }), JSON.stringify({ ...meta, tensors: 'x' })]);
        note = 'metadata text replaced';
      } else {
        const n = 1 + rng.int(3);
        mutateJsonTimes(rng, meta, n, metaValue);
        note = `${n} structural mutations`;
      }
      if (choice !== 5) md['ken'] = JSON.stringify(meta);
      writeFileSync(sub, joinSafetensors(header, data));
    }
    return { args: RESTORE('ken-subnetwork.safetensors', 'base'), names: ['ken-subnetwork.safetensors'], note };
  },
};
export default mutator;
