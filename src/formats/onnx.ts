// ONNX models read from TypeScript: the graph's nodes and initializers, with each initializer's
// values located in the file (raw_data, packed typed fields, or external data) so that a pruned
// model can be a byte copy of the input with only those bytes overwritten.
import { open } from 'node:fs/promises';
import { basename, dirname, isAbsolute, relative } from 'node:path';
import { CheckpointError } from '../errors';
import { checkFolderFile } from './paths';
import { FileScanner, ProtoError, WIRE_I32, WIRE_I64, WIRE_LEN, WIRE_VARINT, bufferFields, decodeVarint, encodeVarint } from './protoscan';

/** ONNX TensorProto.DataType -> the safetensors dtype names used throughout. */
export const ONNX_DTYPES: Record<number, string> = {
  1: 'F32', 2: 'U8', 3: 'I8', 4: 'U16', 5: 'I16', 6: 'I32', 7: 'I64', 8: 'STRING', 9: 'BOOL', 10: 'F16',
  11: 'F64', 12: 'U32', 13: 'U64', 16: 'BF16',
};
const SIZES: Record<string, number> = { F32: 4, U8: 1, I8: 1, U16: 2, I16: 2, I32: 4, I64: 8, BOOL: 1, F16: 2, F64: 8, U32: 4, U64: 8, BF16: 2 };

export type InitializerStorage =
  /** Little-endian values at [begin, end) of `file` (raw_data, packed float/double fields, external data). */
  | { kind: 'bytes'; file: string; begin: number; end: number; external: boolean }
  /** float16/bfloat16/small ints as varints in int32_data: decoded on read, re-encoded on write. */
  | { kind: 'int32_data'; begin: number; end: number; packed: boolean }
  /** Unpacked repeated fixed-width fields (legal, rare): decoded on read, re-encoded on write. */
  | { kind: 'unpacked'; ranges: [number, number][] }
  | { kind: 'empty' };

export interface OnnxInitializer {
  name: string;
  dataType: number;
  dtype: string;
  dims: number[];
  storage: InitializerStorage;
  /** Where the `initializer` field's tag starts and its message ends, in the model file. */
  fieldAt: number;
  messageBegin: number;
  messageEnd: number;
}

export interface OnnxNode {
  name: string;
  opType: string;
  inputs: string[];
  outputs: string[];
  /** Integer attributes (transA, transB, ...). */
  ints: Record<string, number>;
}

export interface OnnxValueInfo {
  name: string;
  elemType: number;
  dims: (number | string)[];
}

export interface OnnxModel {
  path: string;
  fileSize: number;
  /** The graph field: tag offset, and its payload range. */
  graphAt: number;
  graphBegin: number;
  graphEnd: number;
  initializers: OnnxInitializer[];
  nodes: OnnxNode[];
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
  /** External data files the initializers use, relative to the model's folder. */
  externalFiles: string[];
}

const utf8 = new TextDecoder('utf-8');

function decodeNode(b: Uint8Array): OnnxNode {
  const node: OnnxNode = { name: '', opType: '', inputs: [], outputs: [], ints: {} };
  for (const f of bufferFields(b)) {
    if (f.field === 1 && f.wire === WIRE_LEN) node.inputs.push(utf8.decode(b.subarray(f.begin, f.end)));
    else if (f.field === 2 && f.wire === WIRE_LEN) node.outputs.push(utf8.decode(b.subarray(f.begin, f.end)));
    else if (f.field === 3 && f.wire === WIRE_LEN) node.name = utf8.decode(b.subarray(f.begin, f.end));
    else if (f.field === 4 && f.wire === WIRE_LEN) node.opType = utf8.decode(b.subarray(f.begin, f.end));
    else if (f.field === 5 && f.wire === WIRE_LEN) {
      const a = b.subarray(f.begin, f.end);
      let name = '';
      let i: number | undefined;
      for (const af of bufferFields(a)) {
        if (af.field === 1 && af.wire === WIRE_LEN) name = utf8.decode(a.subarray(af.begin, af.end));
        else if (af.field === 3 && af.wire === WIRE_VARINT) i = af.value;
      }
      if (name && i !== undefined) node.ints[name] = i;
    }
  }
  return node;
}

function decodeValueInfo(b: Uint8Array): OnnxValueInfo {
  const vi: OnnxValueInfo = { name: '', elemType: 0, dims: [] };
  for (const f of bufferFields(b)) {
    if (f.field === 1 && f.wire === WIRE_LEN) vi.name = utf8.decode(b.subarray(f.begin, f.end));
    else if (f.field === 2 && f.wire === WIRE_LEN) {
      const tp = b.subarray(f.begin, f.end);
      for (const tf of bufferFields(tp)) {
        if (tf.field !== 1 || tf.wire !== WIRE_LEN) continue;
        const tt = tp.subarray(tf.begin, tf.end);
        for (const ttf of bufferFields(tt)) {
          if (ttf.field === 1 && ttf.wire === WIRE_VARINT) vi.elemType = ttf.value;
          else if (ttf.field === 2 && ttf.wire === WIRE_LEN) {
            const shape = tt.subarray(ttf.begin, ttf.end);
            for (const sf of bufferFields(shape)) {
              if (sf.field !== 1 || sf.wire !== WIRE_LEN) continue;
              const dim = shape.subarray(sf.begin, sf.end);
              let d: number | string = '?';
              for (const df of bufferFields(dim)) {
                if (df.field === 1 && df.wire === WIRE_VARINT) d = df.value;
                else if (df.field === 2 && df.wire === WIRE_LEN) d = utf8.decode(dim.subarray(df.begin, df.end));
              }
              vi.dims.push(d);
            }
          }
        }
      }
    }
  }
  return vi;
}

function numel(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

/** Checks an external-data location stays inside the model's folder (no absolute path, `..`, or symlink out). */
async function externalPath(modelPath: string, location: string, tensor: string): Promise<string> {
  const dir = dirname(modelPath);
  const bad = (): CheckpointError =>
    new CheckpointError(`${basename(modelPath)}: initializer ${tensor} points outside the model's folder (external data location ${JSON.stringify(location)})`);
  if (!location || isAbsolute(location) || location.includes('\0') || location.split(/[\\/]/).includes('..')) throw bad();
  const check = await checkFolderFile(dir, location);
  if (!check.ok) {
    if (check.reason === 'is missing') throw new CheckpointError(`${basename(modelPath)}: initializer ${tensor}: external data file ${location} is missing`);
    if (check.reason.startsWith('is a symlink')) throw bad();
    throw new CheckpointError(`${basename(modelPath)}: initializer ${tensor}: external data ${check.path} ${check.reason}`);
  }
  return check.path;
}

async function readInitializer(scan: FileScanner, modelPath: string, fieldAt: number, begin: number, end: number): Promise<OnnxInitializer> {
  const init: OnnxInitializer = {
    name: '', dataType: 0, dtype: '', dims: [], storage: { kind: 'empty' }, fieldAt, messageBegin: begin, messageEnd: end,
  };
  let raw: [number, number] | undefined;
  let packedTyped: [number, number] | undefined;
  let int32: { begin: number; end: number; packed: boolean } | undefined;
  const unpacked: [number, number][] = [];
  let location = 0;
  const ext: Record<string, string> = {};
  for await (const f of scan.fields(begin, end)) {
    switch (f.field) {
      case 1:
        if (f.wire === WIRE_VARINT) init.dims.push(f.value);
        else if (f.wire === WIRE_LEN) {
          const b = await scan.bytes(f.begin, f.end - f.begin);
          let p = 0;
          while (p < b.length) {
            const [v, np] = decodeVarint(b, p);
            init.dims.push(v);
            p = np;
          }
        }
        break;
      case 2:
        init.dataType = f.value;
        break;
      case 4: // float_data
      case 10: // double_data
        if (f.wire === WIRE_LEN) packedTyped = [f.begin, f.end];
        else if (f.wire === WIRE_I32 || f.wire === WIRE_I64) unpacked.push([f.begin, f.end]);
        break;
      case 5: // int32_data
        if (f.wire === WIRE_LEN) int32 = { begin: f.begin, end: f.end, packed: true };
        else if (f.wire === WIRE_VARINT) {
          if (!int32) int32 = { begin: f.tagAt, end: f.end, packed: false };
          else int32.end = f.end;
        }
        break;
      case 8:
        init.name = (await scan.bytes(f.begin, f.end - f.begin)).toString('utf8');
        break;
      case 9:
        raw = [f.begin, f.end];
        break;
      case 13: {
        const b = await scan.bytes(f.begin, f.end - f.begin);
        let key = '';
        let value = '';
        for (const ef of bufferFields(b)) {
          if (ef.field === 1 && ef.wire === WIRE_LEN) key = utf8.decode(b.subarray(ef.begin, ef.end));
          else if (ef.field === 2 && ef.wire === WIRE_LEN) value = utf8.decode(b.subarray(ef.begin, ef.end));
        }
        ext[key] = value;
        break;
      }
      case 14:
        location = f.value;
        break;
      default:
        break;
    }
  }
  const name = init.name || `(unnamed initializer at byte ${fieldAt})`;
  init.name = name;
  init.dtype = ONNX_DTYPES[init.dataType] ?? `ONNX_TYPE_${init.dataType}`;
  const size = SIZES[init.dtype];
  const count = numel(init.dims);
  const expect = size === undefined ? undefined : count * size;
  const model = basename(modelPath);
  const mismatch = (have: number): CheckpointError =>
    new CheckpointError(`${model}: initializer ${name} holds ${have} bytes but ${init.dtype}${JSON.stringify(init.dims)} needs ${expect}`);
  if (location === 1) {
    const file = await externalPath(modelPath, ext['location'] ?? '', name);
    const offset = ext['offset'] !== undefined ? Number(ext['offset']) : 0;
    const scanExt = await FileScanner.open(file);
    const fileSize = scanExt.size;
    await scanExt.close();
    const length = ext['length'] !== undefined ? Number(ext['length']) : fileSize - offset;
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > fileSize) {
      throw new CheckpointError(`${model}: initializer ${name}: external data ${ext['location']} offset ${ext['offset']} length ${ext['length']} lies outside the file (${fileSize} bytes)`);
    }
    if (expect !== undefined && length !== expect) throw mismatch(length);
    init.storage = { kind: 'bytes', file, begin: offset, end: offset + length, external: true };
  } else if (raw) {
    if (expect !== undefined && raw[1] - raw[0] !== expect) throw mismatch(raw[1] - raw[0]);
    init.storage = { kind: 'bytes', file: modelPath, begin: raw[0], end: raw[1], external: false };
  } else if (packedTyped) {
    const width = init.dtype === 'F64' ? 8 : 4;
    if (expect !== undefined && packedTyped[1] - packedTyped[0] !== count * width) throw mismatch(packedTyped[1] - packedTyped[0]);
    init.storage = { kind: 'bytes', file: modelPath, begin: packedTyped[0], end: packedTyped[1], external: false };
  } else if (int32) {
    init.storage = { kind: 'int32_data', ...int32 };
  } else if (unpacked.length > 0) {
    const width = init.dtype === 'F64' ? 8 : 4;
    if (unpacked.length !== count) throw mismatch(unpacked.length * width);
    init.storage = { kind: 'unpacked', ranges: unpacked };
  } else if (count !== 0 && expect !== undefined) {
    throw mismatch(0);
  }
  return init;
}

/** Reads an ONNX model's structure; any malformed part is a one-line CheckpointError naming the file. */
export async function readOnnxModel(path: string): Promise<OnnxModel> {
  let scan: FileScanner;
  try {
    scan = await FileScanner.open(path);
  } catch (e) {
    if (e instanceof CheckpointError) throw e;
    throw new CheckpointError(`${path}: cannot open (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  const name = basename(path);
  try {
    let graph: { at: number; begin: number; end: number } | undefined;
    for await (const f of scan.fields(0, scan.size)) {
      if (f.field === 7 && f.wire === WIRE_LEN) graph = { at: f.tagAt, begin: f.begin, end: f.end };
    }
    if (!graph) throw new CheckpointError(`${name}: not an ONNX model (no graph)`);
    const model: OnnxModel = {
      path, fileSize: scan.size, graphAt: graph.at, graphBegin: graph.begin, graphEnd: graph.end,
      initializers: [], nodes: [], inputs: [], outputs: [], externalFiles: [],
    };
    for await (const f of scan.fields(graph.begin, graph.end)) {
      if (f.wire !== WIRE_LEN) continue;
      if (f.field === 1) model.nodes.push(decodeNode(await scan.bytes(f.begin, f.end - f.begin)));
      else if (f.field === 5) model.initializers.push(await readInitializer(scan, path, f.tagAt, f.begin, f.end));
      else if (f.field === 11) model.inputs.push(decodeValueInfo(await scan.bytes(f.begin, f.end - f.begin)));
      else if (f.field === 12) model.outputs.push(decodeValueInfo(await scan.bytes(f.begin, f.end - f.begin)));
    }
    const dir = dirname(path);
    model.externalFiles = [...new Set(model.initializers.flatMap((i) => (i.storage.kind === 'bytes' && i.storage.external ? [relative(dir, i.storage.file)] : [])))];
    const seen = new Set<string>();
    for (const i of model.initializers) {
      if (seen.has(i.name)) throw new CheckpointError(`${name}: initializer ${i.name} appears twice`);
      seen.add(i.name);
    }
    return model;
  } catch (e) {
    if (e instanceof CheckpointError) throw e;
    if (e instanceof ProtoError) throw new CheckpointError(`${name}: not a valid ONNX model (${e.message})`);
    throw new CheckpointError(`${name}: cannot read (${e instanceof Error ? e.message : String(e)})`);
  } finally {
    await scan.close();
  }
}

/**
 * Initializers whose KEN rows are their columns: a 2-D initializer used as input B of MatMul
 * (PyTorch exports Linear weights transposed, [in, out]) or of Gemm without transB.
 * Identity nodes between the initializer and its consumer are followed.
 */
export function columnRowInitializers(model: OnnxModel): Set<string> {
  const aliases = new Map<string, string>();
  for (const n of model.nodes) if (n.opType === 'Identity' && n.inputs[0] && n.outputs[0]) aliases.set(n.outputs[0], n.inputs[0]);
  const source = (name: string): string => {
    let cur = name;
    for (let i = 0; i < 64 && aliases.has(cur); i++) cur = aliases.get(cur)!;
    return cur;
  };
  const out = new Set<string>();
  for (const n of model.nodes) {
    const b = n.inputs[1];
    if (!b) continue;
    if (n.opType === 'MatMul' || (n.opType === 'Gemm' && !n.ints['transB'])) out.add(source(b));
  }
  const twoD = new Set(model.initializers.filter((i) => i.dims.length === 2).map((i) => i.name));
  return new Set([...out].filter((n) => twoD.has(n)));
}


/** An initializer's values as little-endian bytes of its dtype, however they are stored. */
export async function readInitializerBytes(model: OnnxModel, init: OnnxInitializer): Promise<Uint8Array> {
  const s = init.storage;
  const size = SIZES[init.dtype];
  if (s.kind === 'empty') return new Uint8Array(0);
  const scan = await FileScanner.open(s.kind === 'bytes' ? s.file : model.path);
  try {
    if (s.kind === 'bytes') {
      const b = await scan.bytes(s.begin, s.end - s.begin);
      const out = new Uint8Array(new ArrayBuffer(b.length));
      out.set(b);
      return out;
    }
    if (size === undefined) throw new CheckpointError(`${basename(model.path)}: initializer ${init.name} has unsupported type ${init.dtype}`);
    const count = numel(init.dims);
    const out = new Uint8Array(count * size);
    const dv = new DataView(out.buffer);
    if (s.kind === 'unpacked') {
      for (let i = 0; i < s.ranges.length; i++) out.set(await scan.bytes(s.ranges[i]![0], size), i * size);
      return out;
    }
    const b = await scan.bytes(s.begin, s.end - s.begin);
    let p = 0;
    let i = 0;
    while (p < b.length) {
      if (!s.packed) p = decodeVarint(b, p)[1]; // skip the repeated tag
      const [v, np] = decodeVarint(b, p);
      p = np;
      if (i >= count) break;
      if (size === 1) dv.setUint8(i, v & 0xff);
      else if (size === 2) dv.setUint16(i * 2, v & 0xffff, true);
      else dv.setUint32(i * 4, v >>> 0, true);
      i++;
    }
    if (i !== count) {
      throw new CheckpointError(`${basename(model.path)}: initializer ${init.name} holds ${i} values but ${init.dtype}${JSON.stringify(init.dims)} needs ${count}`);
    }
    return out;
  } finally {
    await scan.close();
  }
}

/**
 * Writes a copy of `model` to `dest` in which the listed initializers (name -> little-endian bytes)
 * are re-encoded with raw_data. Used only for initializers whose values are not stored as
 * contiguous bytes (float16 in int32_data, unpacked fields): every other byte is copied as it is,
 * and only the lengths that enclose a rewritten initializer change.
 */
export async function rewriteInitializers(model: OnnxModel, replacements: Map<string, Uint8Array>, dest: string): Promise<void> {
  const scan = await FileScanner.open(model.path);
  const out = await open(dest, 'wx');
  try {
    const pieces: Uint8Array[] = [];
    let graphLen = 0;
    let cursor = model.graphBegin;
    const targets = model.initializers.filter((i) => replacements.has(i.name)).sort((a, b) => a.fieldAt - b.fieldAt);
    for (const init of targets) {
      if (init.fieldAt > cursor) {
        const b = await scan.bytes(cursor, init.fieldAt - cursor);
        pieces.push(Buffer.from(b));
        graphLen += b.length;
      }
      const kept: Uint8Array[] = [];
      for await (const f of scan.fields(init.messageBegin, init.messageEnd)) {
        if (f.field === 4 || f.field === 5 || f.field === 9 || f.field === 10) continue;
        kept.push(Buffer.from(await scan.bytes(f.tagAt, f.end - f.tagAt)));
      }
      const data = replacements.get(init.name)!;
      kept.push(Buffer.concat([encodeVarint((9 << 3) | 2), encodeVarint(data.byteLength), data]));
      const msg = Buffer.concat(kept);
      const field = Buffer.concat([encodeVarint((5 << 3) | 2), encodeVarint(msg.length), msg]);
      pieces.push(field);
      graphLen += field.length;
      cursor = init.messageEnd;
    }
    const tail = await scan.bytes(cursor, model.graphEnd - cursor);
    pieces.push(Buffer.from(tail));
    graphLen += tail.length;
    let pos = 0;
    const write = async (b: Uint8Array): Promise<void> => {
      await out.write(b, 0, b.byteLength, pos);
      pos += b.byteLength;
    };
    await write(await scan.bytes(0, model.graphAt));
    await write(Buffer.concat([encodeVarint((7 << 3) | 2), encodeVarint(graphLen)]));
    for (const p of pieces) await write(p);
    if (model.graphEnd < model.fileSize) await write(await scan.bytes(model.graphEnd, model.fileSize - model.graphEnd));
  } finally {
    await out.close();
    await scan.close();
  }
}
