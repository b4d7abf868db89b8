// PyTorch checkpoints (`pytorch_model.bin`, sharded with `pytorch_model.bin.index.json`) in the zip format
// torch.save writes since 1.6, read without executing anything (see pickle.ts) and presented as the
// safetensors files KEN writes them out as (model.safetensors, or model-0000i-of-0000n.safetensors with
// model.safetensors.index.json). The legacy non-zip format is refused.
import { basename, join } from 'node:path';
import { CheckpointError } from '../errors';
import { dtypeSize } from './safetensors';
import { isTensorRef, readStateDictPickle, type TensorRef } from './pickle';
import { virtualSafetensors, type VirtualCheckpoint, type VirtualTensor } from './virtual';
import { entryRange, isZip, readEntryBytes, readZip } from './zip';
import { readRange } from './safetensors';
import { readRegularFile, requireFolderFile } from './paths';

export const TORCH_INDEX = 'pytorch_model.bin.index.json';

/** Whether a folder listing holds a PyTorch checkpoint this reader opens. */
export function hasTorchCheckpoint(names: readonly string[]): boolean {
  return names.includes(TORCH_INDEX) || names.includes('pytorch_model.bin');
}

function contiguous(t: TensorRef): boolean {
  let expect = 1;
  for (let i = t.size.length - 1; i >= 0; i--) {
    if (t.size[i] !== 1 && t.stride[i] !== expect) return false;
    expect *= t.size[i]!;
  }
  return true;
}

/** The tensors of one torch.save zip file, in the pickle's order. */
export async function readTorchFile(path: string): Promise<VirtualTensor[]> {
  const name = basename(path);
  if (!(await isZip(path))) {
    throw new CheckpointError(`${name}: a legacy (pre-1.6, non-zip) PyTorch file; KEN reads only the zip format: re-save it with torch.save or as safetensors`);
  }
  const zip = await readZip(path);
  const pkl = [...zip.entries.values()].find((e) => /^[^/]+\/data\.pkl$/.test(e.name));
  if (!pkl) throw new CheckpointError(`${name}: a zip file without data.pkl, not a torch.save checkpoint`);
  const prefix = pkl.name.slice(0, -'data.pkl'.length);
  const order = zip.entries.get(`${prefix}byteorder`);
  if (order && (await readEntryBytes(zip, order)).toString('utf8').trim() !== 'little') throw new CheckpointError(`${name}: stored big-endian, which KEN does not read`);
  const dict = readStateDictPickle(await readEntryBytes(zip, pkl), name);
  const out: VirtualTensor[] = [];
  for (const [key, value] of dict.entries) {
    if (typeof key !== 'string' || !isTensorRef(value)) continue; // not a weight (a step counter, ...)
    const t = value;
    const elem = dtypeSize(t.storage.dtype)!;
    if (!contiguous(t)) throw new CheckpointError(`${name}: tensor ${key} is stored non-contiguously (strides ${JSON.stringify(t.stride)}); save it with .contiguous()`);
    const entry = zip.entries.get(`${prefix}data/${t.storage.key}`);
    if (!entry) throw new CheckpointError(`${name}: tensor ${key} points at storage ${t.storage.key}, which the archive lacks`);
    if (entry.method !== 0) throw new CheckpointError(`${name}: storage ${t.storage.key} is compressed, which torch.save never does`);
    const { begin, end } = await entryRange(zip, entry);
    const numel = t.size.reduce((a, b) => a * b, 1);
    const from = begin + t.offset * elem;
    const byteLength = numel * elem;
    if (from + byteLength > end) throw new CheckpointError(`${name}: tensor ${key} runs past the end of its storage`);
    out.push({ name: key, dtype: t.storage.dtype, shape: t.size, byteLength, read: () => readRange(path, from, byteLength) });
  }
  if (out.length === 0) throw new CheckpointError(`${name}: holds no tensors`);
  return out;
}

/** A folder's PyTorch checkpoint as the safetensors files it becomes. */
export async function openTorchCheckpoint(dir: string, names: readonly string[]): Promise<VirtualCheckpoint> {
  if (names.includes(TORCH_INDEX)) {
    const indexPath = join(dir, TORCH_INDEX);
    let index: { weight_map?: unknown; metadata?: unknown };
    try {
      index = JSON.parse((await readRegularFile(indexPath)).toString('utf8')) as typeof index;
    } catch (e) {
      if (e instanceof CheckpointError) throw e;
      throw new CheckpointError(`${indexPath}: not a JSON index`);
    }
    if (!index.weight_map || typeof index.weight_map !== 'object') throw new CheckpointError(`${indexPath}: has no weight_map`);
    const shards = [...new Set(Object.values(index.weight_map as Record<string, unknown>))];
    const files = new Map<string, ReturnType<typeof virtualSafetensors>>();
    const weightMap: Record<string, string> = {};
    let total = 0;
    for (const shard of shards) {
      if (typeof shard !== 'string' || basename(shard) !== shard) throw new CheckpointError(`${indexPath}: shard name ${JSON.stringify(shard)} is not a file in the folder`);
      if (!names.includes(shard)) throw new CheckpointError(`${indexPath}: shard ${shard} is missing`);
      const tensors = await readTorchFile(await requireFolderFile(dir, shard, 'weight file'));
      const outName = shard.replace(/^pytorch_model/, 'model').replace(/\.bin$/, '.safetensors');
      files.set(join(dir, outName), virtualSafetensors(join(dir, outName), tensors, { format: 'pt' }));
      for (const t of tensors) {
        weightMap[t.name] = outName;
        total += t.byteLength;
      }
    }
    return { files, index: JSON.stringify({ metadata: { total_size: total }, weight_map: weightMap }, null, 2) + '\n', source: TORCH_INDEX };
  }
  const path = await requireFolderFile(dir, 'pytorch_model.bin', 'weight file');
  const tensors = await readTorchFile(path);
  const out = join(dir, 'model.safetensors');
  return { files: new Map([[out, virtualSafetensors(out, tensors, { format: 'pt' })]]), index: undefined, source: 'pytorch_model.bin' };
}
