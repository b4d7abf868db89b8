// Small ONNX models for the fuzz seeds, written with protobufjs: initializers inline (raw_data) or
// external, and a tiny text classifier (Gather -> ReduceMean -> MatMul -> Add).
import { Writer } from 'protobufjs/minimal';
import { valueInfo } from '../src/formats/onnx-write';

export const FLOAT = 1;
export const INT64 = 7;

export interface Init {
  name: string;
  dims: number[];
  elemType: number;
  data: Uint8Array;
  /** Stored in another file at this offset (the location is relative to the model's folder). */
  external?: { location: string; offset: number };
}

export interface Node {
  op: string;
  inputs: string[];
  outputs: string[];
  attrs?: { name: string; i?: number; ints?: number[] }[];
}

function tensor(w: Writer, t: Init): void {
  w.uint32((5 << 3) | 2).fork();
  for (const d of t.dims) w.uint32((1 << 3) | 0).int64(d);
  w.uint32((2 << 3) | 0).int32(t.elemType);
  w.uint32((8 << 3) | 2).string(t.name);
  if (!t.external) w.uint32((9 << 3) | 2).bytes(t.data);
  else {
    for (const [k, v] of [['location', t.external.location], ['offset', String(t.external.offset)], ['length', String(t.data.byteLength)]] as const) {
      w.uint32((13 << 3) | 2).fork().uint32((1 << 3) | 2).string(k).uint32((2 << 3) | 2).string(v).ldelim();
    }
    w.uint32((14 << 3) | 0).int32(1);
  }
  w.ldelim();
}

function node(w: Writer, n: Node, i: number): void {
  w.uint32((1 << 3) | 2).fork();
  for (const x of n.inputs) w.uint32((1 << 3) | 2).string(x);
  for (const x of n.outputs) w.uint32((2 << 3) | 2).string(x);
  w.uint32((3 << 3) | 2).string(`n${i}`);
  w.uint32((4 << 3) | 2).string(n.op);
  for (const a of n.attrs ?? []) {
    w.uint32((5 << 3) | 2).fork().uint32((1 << 3) | 2).string(a.name);
    if (a.ints) {
      for (const v of a.ints) w.uint32((8 << 3) | 0).int64(v);
      w.uint32((20 << 3) | 0).int32(7);
    } else {
      w.uint32((3 << 3) | 0).int64(a.i ?? 0);
      w.uint32((20 << 3) | 0).int32(2);
    }
    w.ldelim();
  }
  w.ldelim();
}

export function onnxModel(m: { inits: Init[]; nodes: Node[]; inputs: [string, number, (number | string)[]][]; outputs: [string, number, (number | string)[]][] }): Uint8Array {
  const w = Writer.create();
  w.uint32((1 << 3) | 0).int64(8);
  w.uint32((2 << 3) | 2).string('ken-fuzz');
  w.uint32((8 << 3) | 2).fork().uint32((2 << 3) | 0).int64(17).ldelim();
  w.uint32((7 << 3) | 2).fork();
  m.nodes.forEach((n, i) => node(w, n, i));
  w.uint32((2 << 3) | 2).string('g');
  for (const t of m.inits) tensor(w, t);
  for (const [name, type, dims] of m.inputs) valueInfo(w, 11, name, type, dims);
  for (const [name, type, dims] of m.outputs) valueInfo(w, 12, name, type, dims);
  w.ldelim();
  return w.finish();
}
