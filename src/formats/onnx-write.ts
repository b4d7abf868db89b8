// Small pieces of ONNX protobuf encoding (protobufjs Writer), for the graphs this tool builds.
import type { Writer } from 'protobufjs/minimal';

/** A ValueInfoProto (graph input 11 / output 12): name, tensor element type, dims (numbers or names). */
export function valueInfo(w: Writer, field: number, name: string, elemType: number, dims: (number | string)[]): void {
  w.uint32((field << 3) | 2).fork();
  w.uint32((1 << 3) | 2).string(name);
  // TypeProto { tensor_type = 1: { elem_type = 1, shape = 2 { dim = 1 { dim_value = 1 | dim_param = 2 } } } }
  w.uint32((2 << 3) | 2).fork();
  w.uint32((1 << 3) | 2).fork();
  w.uint32((1 << 3) | 0).int32(elemType);
  w.uint32((2 << 3) | 2).fork();
  for (const d of dims) {
    w.uint32((1 << 3) | 2).fork();
    if (typeof d === 'number') w.uint32((1 << 3) | 0).int64(d);
    else w.uint32((2 << 3) | 2).string(d);
    w.ldelim();
  }
  w.ldelim().ldelim().ldelim().ldelim();
}

/** ONNX TensorProto.DataType numbers of the element types the built graphs use. */
export const ONNX_TYPE = { float32: 1, uint8: 2, int8: 3, int32: 6, int64: 7, bool: 9, float16: 10, float64: 11, bfloat16: 16 } as const;
export type OnnxElemType = keyof typeof ONNX_TYPE;

/** One attribute value: int, float, string, ints, floats, or a tensor (for Constant). */
export type AttrValue = number | string | readonly number[] | { floats: readonly number[] } | { float: number } | TensorSpec;

/** A TensorProto: values inline (`raw`, little-endian bytes) or external data (`external`). */
export interface TensorSpec {
  name: string;
  elemType: OnnxElemType;
  dims: readonly number[];
  raw?: Uint8Array;
  external?: { location: string; offset: number; length: number };
}

/** A TensorProto body (fields only; the caller frames it). */
export function tensorFields(w: Writer, t: TensorSpec): void {
  for (const d of t.dims) w.uint32((1 << 3) | 0).int64(d);
  w.uint32((2 << 3) | 0).int32(ONNX_TYPE[t.elemType]);
  if (t.name) w.uint32((8 << 3) | 2).string(t.name);
  if (t.raw) w.uint32((9 << 3) | 2).bytes(t.raw);
  if (t.external) {
    for (const [k, v] of [['location', t.external.location], ['offset', String(t.external.offset)], ['length', String(t.external.length)]] as const) {
      w.uint32((13 << 3) | 2).fork();
      w.uint32((1 << 3) | 2).string(k);
      w.uint32((2 << 3) | 2).string(v);
      w.ldelim();
    }
    w.uint32((14 << 3) | 0).int32(1); // data_location = EXTERNAL
  }
}

/** A TensorProto as a message in `field` (graph initializer = 5). */
export function tensorProto(w: Writer, field: number, t: TensorSpec): void {
  w.uint32((field << 3) | 2).fork();
  tensorFields(w, t);
  w.ldelim();
}

function attribute(w: Writer, name: string, v: AttrValue): void {
  w.uint32((5 << 3) | 2).fork();
  w.uint32((1 << 3) | 2).string(name);
  if (typeof v === 'number') {
    w.uint32((3 << 3) | 0).int64(v);
    w.uint32((20 << 3) | 0).int32(2); // INT
  } else if (typeof v === 'string') {
    w.uint32((4 << 3) | 2).bytes(new TextEncoder().encode(v));
    w.uint32((20 << 3) | 0).int32(3); // STRING
  } else if (Array.isArray(v)) {
    for (const x of v as readonly number[]) w.uint32((8 << 3) | 0).int64(x);
    w.uint32((20 << 3) | 0).int32(7); // INTS
  } else if ('floats' in v) {
    for (const x of v.floats) w.uint32((7 << 3) | 5).float(x);
    w.uint32((20 << 3) | 0).int32(6); // FLOATS
  } else if ('float' in v) {
    w.uint32((2 << 3) | 5).float(v.float);
    w.uint32((20 << 3) | 0).int32(1); // FLOAT
  } else {
    w.uint32((5 << 3) | 2).fork();
    tensorFields(w, v as TensorSpec);
    w.ldelim();
    w.uint32((20 << 3) | 0).int32(4); // TENSOR
  }
  w.ldelim();
}

/** A NodeProto in a graph (field 1). */
export function nodeProto(w: Writer, n: { op: string; inputs: readonly string[]; outputs: readonly string[]; name?: string; domain?: string; attrs?: Readonly<Record<string, AttrValue>> }): void {
  w.uint32((1 << 3) | 2).fork();
  for (const i of n.inputs) w.uint32((1 << 3) | 2).string(i);
  for (const o of n.outputs) w.uint32((2 << 3) | 2).string(o);
  if (n.name) w.uint32((3 << 3) | 2).string(n.name);
  w.uint32((4 << 3) | 2).string(n.op);
  for (const [k, v] of Object.entries(n.attrs ?? {})) attribute(w, k, v);
  if (n.domain) w.uint32((7 << 3) | 2).string(n.domain);
  w.ldelim();
}

/** ModelProto header fields: ir_version, producer, opset imports (domain -> version). */
export function modelHeader(w: Writer, opsets: Readonly<Record<string, number>>, producer = 'ken'): void {
  w.uint32((1 << 3) | 0).int64(8); // ir_version 8
  w.uint32((2 << 3) | 2).string(producer);
  for (const [domain, version] of Object.entries(opsets)) {
    w.uint32((8 << 3) | 2).fork();
    if (domain) w.uint32((1 << 3) | 2).string(domain);
    w.uint32((2 << 3) | 0).int64(version);
    w.ldelim();
  }
}
