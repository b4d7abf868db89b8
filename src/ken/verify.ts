// Whether a KEN subnetwork can be restored, checked cheaply from its header alone (no tensor bytes
// read): every file's holes lie inside it without overlapping, its skeleton holds exactly the bytes
// around them, and every tensor's entries have the sizes its shape, dtype and kept count call for.
// `ken prune` runs it on what it wrote before reporting success; `ken restore` before writing anything.
import { dtypeSize, numel } from '../formats/safetensors';
import type { Subnetwork } from '../formats/subnetwork';

function count(sub: Subnetwork, key: string): number | undefined {
  const e = sub.entries.get(key);
  if (!e) return undefined;
  const size = dtypeSize(e.dtype);
  return size ? (e.end - e.begin) / size : undefined;
}

/** The first reason `sub` could not be restored bit for bit, or undefined when its maps hold. */
export function restorableProblem(sub: Subnetwork): string | undefined {
  const tensors = new Map<string, Subnetwork['meta']['tensors'][number]>();
  for (const t of sub.meta.tensors) {
    if (tensors.has(t.name)) return `tensor ${t.name} is listed twice`;
    tensors.set(t.name, t);
    const total = numel(t.shape);
    const elem = dtypeSize(t.dtype);
    if (elem === undefined) return `tensor ${t.name} has unknown dtype ${t.dtype}`;
    if (t.layout === 'whole') {
      const e = sub.entries.get(`whole:${t.name}`);
      if (!e || e.end - e.begin !== total * elem) return `tensor ${t.name}: its stored bytes do not match ${t.dtype}${JSON.stringify(t.shape)}`;
      continue;
    }
    const rows = t.shape.length <= 1 ? 1 : t.shape[0]!;
    if (count(sub, `values:${t.name}`) !== t.kept || t.kept > total) return `tensor ${t.name}: ${t.kept} kept values recorded, ${count(sub, `values:${t.name}`) ?? 'none'} stored`;
    if (t.layout === 'mask') {
      if (count(sub, `mask:${t.name}`) !== Math.ceil(total / 8)) return `tensor ${t.name}: its position mask has the wrong size`;
    } else if (t.layout === 'index') {
      if (count(sub, `index:${t.name}`) !== t.kept || count(sub, `counts:${t.name}`) !== rows) return `tensor ${t.name}: its positions have the wrong size`;
    } else {
      return `tensor ${t.name} has unknown layout ${String(t.layout)}`;
    }
    if (!t.base) return `tensor ${t.name} names no base tensor`;
  }
  const paths = new Set<string>();
  for (const f of sub.meta.files) {
    if (typeof f.path !== 'string' || f.path.split(/[\\/]/).some((part) => part === '' || part === '.' || part === '..')) return `file entry ${JSON.stringify(f.path)} is not a plain relative path`;
    if (paths.has(f.path)) return `file ${f.path} is listed twice`;
    paths.add(f.path);
    if (!Number.isSafeInteger(f.size) || f.size < 0) return `file ${f.path} has a bad size`;
    const holes = [...f.holes].sort((a, b) => a.offset - b.offset);
    let end = 0;
    let holeBytes = 0;
    for (const h of holes) {
      if (!Number.isSafeInteger(h.offset) || !Number.isSafeInteger(h.length) || h.offset < 0 || h.length < 0) return `file ${f.path}: a hole has a bad offset or length`;
      if (h.offset < end) return `file ${f.path}: the places of tensors overlap at byte ${h.offset} (${h.tensor})`;
      end = h.offset + h.length;
      if (end > f.size) return `file ${f.path}: tensor ${h.tensor}'s place ends at byte ${end}, past the file's ${f.size} bytes`;
      holeBytes += h.length;
      const t = tensors.get(h.tensor);
      if (!t) return `file ${f.path} needs tensor ${h.tensor}, which it does not hold`;
      const size = dtypeSize(h.dtype);
      if (size === undefined || numel(h.shape) !== numel(t.shape) || numel(h.shape) * size !== h.length) {
        return `file ${f.path}: tensor ${h.tensor}'s place holds ${h.length} bytes, not ${h.dtype}${JSON.stringify(h.shape)} of ${t.dtype}${JSON.stringify(t.shape)}`;
      }
    }
    const skeleton = sub.entries.get(`file:${f.path}`);
    const have = skeleton ? skeleton.end - skeleton.begin : undefined;
    if (have !== f.size - holeBytes) return `file ${f.path} has ${have ?? 'no'} skeleton bytes, expected ${f.size - holeBytes} (${f.size} less ${holeBytes} of tensors)`;
  }
  return undefined;
}
