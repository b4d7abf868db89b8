// A small ONNX graph builder: named values, nodes, inline constants, and checkpoint weights as
// external-data initializers (byte ranges of the checkpoint's own files, or of buffers handed to the
// session from memory). See index.ts for how family files use it.
import { Writer } from 'protobufjs/minimal';
import { CheckpointError } from '../errors';
import { modelHeader, nodeProto, tensorProto, valueInfo, ONNX_TYPE, type AttrValue, type OnnxElemType, type TensorSpec } from '../formats/onnx-write';
import type { WeightSource } from './weights';

/** A value (tensor) in the graph under construction. Only the builder makes them. */
export type Value = string & { readonly __graphValue: true };

export type { AttrValue, OnnxElemType };
export type Attrs = Readonly<Record<string, AttrValue>>;

/** The element type the graph computes in: float32 on CPUs; float16 is allowed for GPUs. */
export type ComputeType = 'float32' | 'float16';

interface NodeRec {
  op: string;
  inputs: string[];
  outputs: string[];
  domain?: string;
  attrs?: Attrs;
}

interface IoRec {
  name: string;
  elemType: OnnxElemType;
  dims: (number | string)[];
}

/** ONNX opset of the default domain, and of onnxruntime's contrib domain. */
export const OPSET = 17;
export const MS_DOMAIN = 'com.microsoft';

const F32_MIN = -3.4028234663852886e38;

export class GraphBuilder {
  private readonly nodes: NodeRec[] = [];
  private readonly inits: TensorSpec[] = [];
  private readonly inputs: IoRec[] = [];
  private readonly outputs: IoRec[] = [];
  private readonly names = new Set<string>();
  private readonly consts = new Map<string, Value>();
  private readonly weights = new Map<string, Value>();
  private readonly stored = new Map<string, Value>();
  private usesContrib = false;

  constructor(
    /** Where checkpoint tensors come from. */
    readonly source: WeightSource,
    readonly computeType: ComputeType = 'float32',
    readonly name = 'ken_graph',
  ) {}

  /** The most negative finite value of the compute type (what Hugging Face masks with). */
  get minValue(): number {
    return this.computeType === 'float16' ? -65504 : F32_MIN;
  }

  private fresh(hint: string): Value {
    const base = hint.replace(/[^\w./:-]/g, '_') || 'v';
    let n = base;
    for (let i = 1; this.names.has(n); i++) n = `${base}_${i}`;
    this.names.add(n);
    return n as Value;
  }

  /** A graph input; dims are numbers or symbolic names ('batch', 'sequence'). */
  input(name: string, elemType: OnnxElemType, dims: (number | string)[]): Value {
    if (this.names.has(name)) throw new Error(`graph: ${name} defined twice`);
    this.names.add(name);
    this.inputs.push({ name, elemType, dims });
    return name as Value;
  }

  /** Makes `v` a graph output called `name` (an Identity when the names differ). */
  output(v: Value, name: string, elemType: OnnxElemType, dims: (number | string)[]): void {
    let out: string = v;
    if (v !== name) {
      if (this.names.has(name)) throw new Error(`graph: ${name} defined twice`);
      this.names.add(name);
      this.nodes.push({ op: 'Identity', inputs: [v], outputs: [name] });
      out = name;
    }
    this.outputs.push({ name: out, elemType, dims });
  }

  /** One node with one output. `hint` names the output (made unique). Pass '' for an absent optional input. */
  op(op: string, inputs: readonly (Value | '')[], attrs?: Attrs, opts: { hint?: string; domain?: string } = {}): Value {
    return this.opN(op, inputs, 1, attrs, opts)[0]!;
  }

  /** One node with `n` outputs. */
  opN(op: string, inputs: readonly (Value | '')[], n: number, attrs?: Attrs, opts: { hint?: string; domain?: string } = {}): Value[] {
    const outs = Array.from({ length: n }, (_, i) => this.fresh(`${opts.hint ?? op.toLowerCase()}${n > 1 ? `_${i}` : ''}`));
    const rec: NodeRec = { op, inputs: [...inputs], outputs: outs };
    if (attrs) rec.attrs = attrs;
    if (opts.domain) {
      rec.domain = opts.domain;
      if (opts.domain === MS_DOMAIN) this.usesContrib = true;
    }
    this.nodes.push(rec);
    return outs;
  }

  private constant(key: string, spec: Omit<TensorSpec, 'name'>, hint: string): Value {
    const known = this.consts.get(key);
    if (known) return known;
    const name = this.fresh(hint);
    this.inits.push({ ...spec, name });
    this.consts.set(key, name);
    return name;
  }

  /** An int64 constant (a scalar when dims is []). */
  i64(values: readonly number[], dims: readonly number[] = [values.length]): Value {
    const raw = new Uint8Array(values.length * 8);
    const dv = new DataView(raw.buffer);
    values.forEach((v, i) => dv.setBigInt64(i * 8, BigInt(v), true));
    return this.constant(`i64:${dims.join('x')}:${values.join(',')}`, { elemType: 'int64', dims, raw }, 'const_i64');
  }

  /** A constant in the compute type (float32 values converted for float16 graphs). */
  scalar(v: number): Value {
    return this.floats([v], []);
  }

  floats(values: readonly number[], dims: readonly number[] = [values.length]): Value {
    const key = `${this.computeType}:${dims.join('x')}:${values.join(',')}`;
    if (this.computeType === 'float32') {
      const raw = new Uint8Array(new Float32Array(values).buffer);
      return this.constant(key, { elemType: 'float32', dims, raw }, 'const_f');
    }
    const f32 = this.constant(`f32:${key}`, { elemType: 'float32', dims, raw: new Uint8Array(new Float32Array(values).buffer) }, 'const_f');
    const known = this.consts.get(key);
    if (known) return known;
    const cast = this.op('Cast', [f32], { to: ONNX_TYPE.float16 }, { hint: 'const_h' });
    this.consts.set(key, cast);
    return cast;
  }

  /** Whether the checkpoint holds tensor `name`. */
  has(name: string): boolean {
    return this.source.has(name);
  }

  /** The stored shape of checkpoint tensor `name`. */
  shape(name: string): readonly number[] {
    return this.source.info(name).shape;
  }

  /** Whether checkpoint tensor `name` is a float stored in another type than the compute type (so reading it casts). */
  castsOnRead(name: string): boolean {
    const elemType = STORED_TYPES[this.source.info(name).dtype];
    return elemType !== this.computeType && (elemType === 'float32' || elemType === 'float16' || elemType === 'bfloat16');
  }

  /**
   * Checkpoint tensor `name` as stored: an external-data initializer named as in the checkpoint. A float
   * stored in another type than the compute type is also declared a graph input (an overridable
   * initializer): onnxruntime then casts it at run time instead of folding a compute-type copy of every
   * weight into memory (for a BF16 checkpoint on the CPU, a copy twice the size of the file).
   */
  storedWeight(name: string): Value {
    const known = this.stored.get(name);
    if (known) return known;
    const info = this.source.info(name);
    const loc = this.source.location(name);
    const elemType = STORED_TYPES[info.dtype];
    if (!elemType) throw new CheckpointError(`${loc.file}: tensor ${name} is ${info.dtype}; the built graph reads F32, F16 and BF16 weights`);
    if (this.names.has(name)) throw new Error(`graph: ${name} defined twice`);
    this.names.add(name);
    this.inits.push(loc.inline ? { name, elemType, dims: info.shape, raw: loc.inline } : { name, elemType, dims: info.shape, external: { location: loc.location, offset: loc.offset, length: loc.length } });
    if (this.castsOnRead(name)) this.inputs.push({ name, elemType, dims: [...info.shape] });
    this.stored.set(name, name as Value);
    return name as Value;
  }

  /**
   * Checkpoint tensor `name` in the compute type: the stored initializer (see storedWeight), cast
   * in-graph when stored in another float type (F16/BF16 on CPUs, F32/BF16 on F16 graphs).
   */
  weight(name: string): Value {
    const known = this.weights.get(name);
    if (known) return known;
    let v = this.storedWeight(name);
    if (this.castsOnRead(name)) v = this.op('Cast', [v], { to: ONNX_TYPE[this.computeType] }, { hint: `${name}.cast` });
    this.weights.set(name, v);
    return v;
  }

  /** Checkpoint tensor `name` as stored (ids, int tables): no cast. */
  rawWeight(name: string): Value {
    return this.storedWeight(name);
  }

  /**
   * Checkpoint weights that the graph reads only as the right operand of MatMul (a Linear's weight,
   * transposed, or a Conv1D's, as stored), with the left operands (their inputs) and the stored axis
   * those inputs' features run along (1 for a transposed weight, 0 as stored). A weight read any other
   * way (an embedding's Gather, a norm, a bias, a tied table that is also an LM head) is left out.
   */
  matmulInputs(): Map<string, { inputs: Value[]; storedAxis: 0 | 1 }> {
    const alias = new Map<string, { weight: string; transposed: boolean }>();
    for (const name of this.stored.keys()) alias.set(name, { weight: name, transposed: false });
    const found = new Map<string, { inputs: Value[]; storedAxis: 0 | 1 }>();
    const other = new Set<string>();
    for (const n of this.nodes) {
      const a = alias.get(n.inputs[0] ?? '');
      if (a && n.op === 'Cast' && n.inputs.length === 1) {
        alias.set(n.outputs[0]!, a);
        continue;
      }
      const perm = n.attrs?.['perm'];
      if (a && n.op === 'Transpose' && Array.isArray(perm) && perm.length === 2 && perm[0] === 1 && perm[1] === 0) {
        alias.set(n.outputs[0]!, { weight: a.weight, transposed: !a.transposed });
        continue;
      }
      const w = alias.get(n.inputs[1] ?? '');
      if (n.op === 'MatMul' && w && !a) {
        const axis = w.transposed ? 1 : 0;
        const rec = found.get(w.weight);
        if (rec && rec.storedAxis !== axis) other.add(w.weight);
        else if (rec) rec.inputs.push(n.inputs[0] as Value);
        else found.set(w.weight, { inputs: [n.inputs[0] as Value], storedAxis: axis });
        continue;
      }
      for (const i of n.inputs) {
        const r = alias.get(i);
        if (r) other.add(r.weight);
      }
    }
    for (const o of this.outputs) {
      const r = alias.get(o.name);
      if (r) other.add(r.weight);
    }
    for (const w of other) found.delete(w);
    return found;
  }

  /** The serialized ModelProto (initializers reference external data; nothing is copied). */
  toBytes(): Uint8Array {
    const w = Writer.create();
    modelHeader(w, this.usesContrib ? { '': OPSET, [MS_DOMAIN]: 1 } : { '': OPSET });
    w.uint32((7 << 3) | 2).fork();
    for (const n of this.nodes) nodeProto(w, n);
    w.uint32((2 << 3) | 2).string(this.name);
    for (const t of this.inits) tensorProto(w, 5, t);
    for (const i of this.inputs) valueInfo(w, 11, i.name, ONNX_TYPE[i.elemType], i.dims);
    for (const o of this.outputs) valueInfo(w, 12, o.name, ONNX_TYPE[o.elemType], o.dims);
    w.ldelim();
    return w.finish();
  }

  /** Counts, for tests and reports. */
  get stats(): { nodes: number; initializers: number; ops: Record<string, number> } {
    const ops: Record<string, number> = {};
    for (const n of this.nodes) ops[n.op] = (ops[n.op] ?? 0) + 1;
    return { nodes: this.nodes.length, initializers: this.inits.length, ops };
  }
}

const STORED_TYPES: Readonly<Record<string, OnnxElemType>> = {
  F32: 'float32', F16: 'float16', BF16: 'bfloat16', I64: 'int64', I32: 'int32', U8: 'uint8', I8: 'int8', BOOL: 'bool', F64: 'float64',
};
