// Builds small ONNX models for tests: Y = MatMul(X, W) + B, with W and B stored in the ways
// ONNX allows (raw_data, typed fields, float16 in int32_data, external data).
import { Writer } from 'protobufjs/minimal';
import { floatToHalf } from '../src/formats/dtype';
import { valueInfo } from '../src/formats/onnx-write';

export type Storage = 'raw' | 'typed' | 'int32' | 'external';

export interface InitSpec {
  name: string;
  dims: number[];
  values: Float32Array;
  dtype: 'F32' | 'F16';
  storage: Storage;
  /** For external storage: file name and offset. */
  location?: string;
  offset?: number;
}

function le32(values: Float32Array): Uint8Array {
  return new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength));
}

function le16(values: Float32Array): Uint8Array {
  const u = Uint16Array.from(values, (v) => floatToHalf(v));
  return new Uint8Array(u.buffer);
}

export function initBytes(spec: InitSpec): Uint8Array {
  return spec.dtype === 'F32' ? le32(spec.values) : le16(spec.values);
}

function tensor(w: Writer, spec: InitSpec): void {
  w.uint32((5 << 3) | 2).fork();
  for (const d of spec.dims) w.uint32((1 << 3) | 0).int64(d);
  w.uint32((2 << 3) | 0).int32(spec.dtype === 'F32' ? 1 : 10);
  w.uint32((8 << 3) | 2).string(spec.name);
  if (spec.storage === 'raw') {
    w.uint32((9 << 3) | 2).bytes(initBytes(spec));
  } else if (spec.storage === 'typed') {
    if (spec.dtype !== 'F32') throw new Error('typed storage is float_data: F32 only');
    w.uint32((4 << 3) | 2).fork();
    for (const v of spec.values) w.float(v);
    w.ldelim();
  } else if (spec.storage === 'int32') {
    const halves = Uint16Array.from(spec.values, (v) => floatToHalf(v));
    w.uint32((5 << 3) | 2).fork();
    for (const h of halves) w.int32(h);
    w.ldelim();
  } else {
    const bytes = initBytes(spec);
    for (const [k, v] of [['location', spec.location!], ['offset', String(spec.offset ?? 0)], ['length', String(bytes.byteLength)]] as const) {
      w.uint32((13 << 3) | 2).fork();
      w.uint32((1 << 3) | 2).string(k);
      w.uint32((2 << 3) | 2).string(v);
      w.ldelim();
    }
    w.uint32((14 << 3) | 0).int32(1);
  }
  w.ldelim();
}

/** Y[batch, out] = X[batch, in] @ W[in, out] + B[out]  (W stored transposed, as PyTorch exports Linear). */
export function linearModel(w: InitSpec, b: InitSpec): Uint8Array {
  const elem = w.dtype === 'F32' ? 1 : 10;
  const m = Writer.create();
  m.uint32((1 << 3) | 0).int64(8);
  m.uint32((2 << 3) | 2).string('ken-test');
  m.uint32((8 << 3) | 2).fork().uint32((2 << 3) | 0).int64(17).ldelim();
  m.uint32((7 << 3) | 2).fork();
  m.uint32((1 << 3) | 2).fork().uint32((1 << 3) | 2).string('X').uint32((1 << 3) | 2).string(w.name).uint32((2 << 3) | 2).string('XW').uint32((4 << 3) | 2).string('MatMul').ldelim();
  m.uint32((1 << 3) | 2).fork().uint32((1 << 3) | 2).string('XW').uint32((1 << 3) | 2).string(b.name).uint32((2 << 3) | 2).string('Y').uint32((4 << 3) | 2).string('Add').ldelim();
  m.uint32((2 << 3) | 2).string('linear');
  tensor(m, w);
  tensor(m, b);
  valueInfo(m, 11, 'X', elem, ['batch', w.dims[0]!]);
  valueInfo(m, 12, 'Y', elem, ['batch', w.dims[1]!]);
  m.ldelim();
  return m.finish();
}

/**
 * A graph holding `inits` as initializers, with one MatMul(X, W) per name in `matmulWeights` (the way an
 * exporter feeds Linear / Conv1D weights); enough for the tool's readers, not meant to run.
 */
export function matmulModel(inits: InitSpec[], matmulWeights: string[]): Uint8Array {
  const m = Writer.create();
  m.uint32((1 << 3) | 0).int64(8);
  m.uint32((2 << 3) | 2).string('ken-test');
  m.uint32((8 << 3) | 2).fork().uint32((2 << 3) | 0).int64(17).ldelim();
  m.uint32((7 << 3) | 2).fork();
  matmulWeights.forEach((w, i) => {
    m.uint32((1 << 3) | 2).fork().uint32((1 << 3) | 2).string('X').uint32((1 << 3) | 2).string(w).uint32((2 << 3) | 2).string(`Y${i}`).uint32((4 << 3) | 2).string('MatMul').ldelim();
  });
  m.uint32((2 << 3) | 2).string('matmuls');
  for (const t of inits) tensor(m, t);
  valueInfo(m, 11, 'X', 1, ['batch', 'in']);
  matmulWeights.forEach((_, i) => valueInfo(m, 12, `Y${i}`, 1, ['batch', 'out']));
  m.ldelim();
  return m.finish();
}
