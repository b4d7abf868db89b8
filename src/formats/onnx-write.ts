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
