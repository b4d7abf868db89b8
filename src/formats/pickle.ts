// A restricted pickle reader for PyTorch state dicts: it interprets only the opcodes a state dict uses
// and resolves only the globals a state dict names (OrderedDict, torch's tensor and parameter rebuild
// functions, the storage types). Nothing is ever imported, called or executed: every other global is
// refused by name the moment the pickle mentions it, and every other opcode is refused by its byte.
import { CheckpointError } from '../errors';

/** A storage the pickle points at through a persistent id: `archive/data/<key>` in the zip. */
export interface StorageRef {
  kind: 'storage';
  dtype: string;
  key: string;
}

/** A tensor view of a storage, as `torch._utils._rebuild_tensor_v2` would build it. */
export interface TensorRef {
  kind: 'tensor';
  storage: StorageRef;
  /** In elements. */
  offset: number;
  size: number[];
  stride: number[];
}

class PyGlobal {
  constructor(readonly module: string, readonly name: string) {}
  get qualified(): string {
    return `${this.module}.${this.name}`;
  }
}

class PyTuple {
  constructor(readonly items: PyValue[]) {}
}

/** dict and OrderedDict, in insertion order. */
export class PyDict {
  readonly entries = new Map<string | number, PyValue>();
}

type PyValue = null | boolean | number | bigint | string | Uint8Array | PyValue[] | PyTuple | PyDict | PyGlobal | StorageRef | TensorRef;

const STORAGE_DTYPES: Record<string, string> = {
  FloatStorage: 'F32', HalfStorage: 'F16', BFloat16Storage: 'BF16', DoubleStorage: 'F64', LongStorage: 'I64',
  IntStorage: 'I32', ShortStorage: 'I16', CharStorage: 'I8', ByteStorage: 'U8', BoolStorage: 'BOOL',
};

const ALLOWED_GLOBALS = new Set([
  'collections.OrderedDict',
  'torch._utils._rebuild_tensor_v2',
  'torch._utils._rebuild_parameter',
  ...Object.keys(STORAGE_DTYPES).map((s) => `torch.${s}`),
]);

/** The globals this reader accepts, for messages and tests. */
export function allowedGlobals(): string[] {
  return [...ALLOWED_GLOBALS].sort();
}

const MARK = Symbol('mark');

/**
 * Reads a state-dict pickle (protocol 2-5 as torch.save writes it). `where` names the file in errors.
 * Returns the top-level dict.
 */
export function readStateDictPickle(data: Uint8Array, where: string): PyDict {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const stack: (PyValue | typeof MARK)[] = [];
  const memo = new Map<number, PyValue>();
  let pos = 0;
  const fail = (why: string): CheckpointError => new CheckpointError(`${where}: ${why}; refused (KEN reads PyTorch checkpoints without running any pickled code)`);
  const need = (n: number): void => {
    if (pos + n > buf.length) throw fail('the pickle ends early');
  };
  const pop = (): PyValue => {
    const v = stack.pop();
    if (v === undefined || v === MARK) throw fail('the pickle pops an empty stack');
    return v;
  };
  const popMark = (): PyValue[] => {
    const items: PyValue[] = [];
    for (;;) {
      const v = stack.pop();
      if (v === undefined) throw fail('the pickle has no mark to pop to');
      if (v === MARK) return items.reverse();
      items.push(v);
    }
  };
  const top = (): PyValue => {
    const v = stack[stack.length - 1];
    if (v === undefined || v === MARK) throw fail('the pickle reads an empty stack');
    return v;
  };
  const global = (module: string, name: string): PyGlobal => {
    const g = new PyGlobal(module, name);
    if (!ALLOWED_GLOBALS.has(g.qualified)) throw fail(`the pickle names the global ${g.qualified}, which a state dict never uses`);
    return g;
  };
  const str = (n: number): string => {
    need(n);
    const s = buf.toString('utf8', pos, pos + n);
    pos += n;
    return s;
  };
  const setItem = (d: PyValue, k: PyValue, v: PyValue): void => {
    if (!(d instanceof PyDict)) throw fail('the pickle sets an item on something that is not a dict');
    if (typeof k !== 'string' && typeof k !== 'number') throw fail('the pickle uses a dict key that is not a string or an int');
    d.entries.set(k, v);
  };
  const asInts = (v: PyValue, what: string): number[] => {
    if (!(v instanceof PyTuple) || !v.items.every((x) => typeof x === 'number' && Number.isInteger(x) && x >= 0)) throw fail(`tensor ${what} is not a tuple of sizes`);
    return v.items as number[];
  };
  const call = (fn: PyValue, args: PyValue): PyValue => {
    if (!(fn instanceof PyGlobal) || !(args instanceof PyTuple)) throw fail('the pickle calls something that is not an allowed global');
    const a = args.items;
    switch (fn.qualified) {
      case 'collections.OrderedDict':
        if (a.length !== 0) throw fail('OrderedDict is built with arguments');
        return new PyDict();
      case 'torch._utils._rebuild_tensor_v2': {
        const storage = a[0];
        if (!storage || typeof storage !== 'object' || !('kind' in storage) || storage.kind !== 'storage') throw fail('a tensor is rebuilt from something that is not a storage');
        const offset = a[1];
        if (typeof offset !== 'number' || !Number.isInteger(offset) || offset < 0) throw fail('a tensor has a bad storage offset');
        return { kind: 'tensor', storage, offset, size: asInts(a[2] ?? null, 'size'), stride: asInts(a[3] ?? null, 'stride') };
      }
      case 'torch._utils._rebuild_parameter': {
        const t = a[0];
        if (!t || typeof t !== 'object' || !('kind' in t) || t.kind !== 'tensor') throw fail('a parameter is rebuilt from something that is not a tensor');
        return t;
      }
      default:
        throw fail(`the pickle calls ${fn.qualified}`);
    }
  };

  for (;;) {
    need(1);
    const op = buf[pos++]!;
    switch (op) {
      case 0x80: // PROTO
        need(1);
        pos += 1;
        break;
      case 0x95: // FRAME
        need(8);
        pos += 8;
        break;
      case 0x7d: // EMPTY_DICT
        stack.push(new PyDict());
        break;
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push(new PyTuple([]));
        break;
      case 0x28: // MARK
        stack.push(MARK);
        break;
      case 0x58: // BINUNICODE
        need(4);
        pos += 4;
        stack.push(str(buf.readUInt32LE(pos - 4)));
        break;
      case 0x8c: // SHORT_BINUNICODE
        need(1);
        pos += 1;
        stack.push(str(buf[pos - 1]!));
        break;
      case 0x8d: { // BINUNICODE8
        need(8);
        const n = Number(buf.readBigUInt64LE(pos));
        pos += 8;
        stack.push(str(n));
        break;
      }
      case 0x54: // BINSTRING (protocol 2 str from Python 2)
        need(4);
        pos += 4;
        stack.push(str(buf.readInt32LE(pos - 4)));
        break;
      case 0x55: // SHORT_BINSTRING
        need(1);
        pos += 1;
        stack.push(str(buf[pos - 1]!));
        break;
      case 0x43: { // SHORT_BINBYTES
        need(1);
        const n = buf[pos++]!;
        need(n);
        stack.push(new Uint8Array(buf.subarray(pos, pos + n)));
        pos += n;
        break;
      }
      case 0x42: { // BINBYTES
        need(4);
        const n = buf.readUInt32LE(pos);
        pos += 4;
        need(n);
        stack.push(new Uint8Array(buf.subarray(pos, pos + n)));
        pos += n;
        break;
      }
      case 0x71: // BINPUT
        need(1);
        memo.set(buf[pos++]!, top());
        break;
      case 0x72: // LONG_BINPUT
        need(4);
        memo.set(buf.readUInt32LE(pos), top());
        pos += 4;
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x68: { // BINGET
        need(1);
        const k = buf[pos++]!;
        if (!memo.has(k)) throw fail(`the pickle reads memo ${k}, which was never stored`);
        stack.push(memo.get(k)!);
        break;
      }
      case 0x6a: { // LONG_BINGET
        need(4);
        const k = buf.readUInt32LE(pos);
        pos += 4;
        if (!memo.has(k)) throw fail(`the pickle reads memo ${k}, which was never stored`);
        stack.push(memo.get(k)!);
        break;
      }
      case 0x74: // TUPLE
        stack.push(new PyTuple(popMark()));
        break;
      case 0x85: // TUPLE1
        stack.push(new PyTuple([pop()]));
        break;
      case 0x86: { // TUPLE2
        const b = pop();
        stack.push(new PyTuple([pop(), b]));
        break;
      }
      case 0x87: { // TUPLE3
        const c = pop();
        const b = pop();
        stack.push(new PyTuple([pop(), b, c]));
        break;
      }
      case 0x4a: // BININT
        need(4);
        stack.push(buf.readInt32LE(pos));
        pos += 4;
        break;
      case 0x4b: // BININT1
        need(1);
        stack.push(buf[pos++]!);
        break;
      case 0x4d: // BININT2
        need(2);
        stack.push(buf.readUInt16LE(pos));
        pos += 2;
        break;
      case 0x8a: { // LONG1
        need(1);
        const n = buf[pos++]!;
        need(n);
        let v = 0n;
        for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(buf[pos + i]!);
        if (n > 0 && buf[pos + n - 1]! & 0x80) v -= 1n << BigInt(8 * n);
        pos += n;
        stack.push(v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v);
        break;
      }
      case 0x47: // BINFLOAT
        need(8);
        stack.push(buf.readDoubleBE(pos));
        pos += 8;
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x63: { // GLOBAL "module\nname\n"
        const end1 = buf.indexOf(0x0a, pos);
        const end2 = end1 < 0 ? -1 : buf.indexOf(0x0a, end1 + 1);
        if (end1 < 0 || end2 < 0 || end2 - pos > 512) throw fail('a GLOBAL opcode is cut short');
        const module = buf.toString('utf8', pos, end1);
        const name = buf.toString('utf8', end1 + 1, end2);
        pos = end2 + 1;
        stack.push(global(module, name));
        break;
      }
      case 0x93: { // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') throw fail('STACK_GLOBAL names a global with non-strings');
        stack.push(global(module, name));
        break;
      }
      case 0x51: { // BINPERSID: ('storage', storage type, key, location, numel)
        const pid = pop();
        if (!(pid instanceof PyTuple) || pid.items[0] !== 'storage') throw fail('a persistent id is not a storage');
        const type = pid.items[1];
        const key = pid.items[2];
        if (!(type instanceof PyGlobal) || typeof key !== 'string') throw fail('a storage has no type or key');
        const dtype = STORAGE_DTYPES[type.name];
        if (!dtype) throw fail(`storage type ${type.qualified} is not a tensor storage`);
        stack.push({ kind: 'storage', dtype, key });
        break;
      }
      case 0x52: { // REDUCE
        const args = pop();
        const fn = pop();
        stack.push(call(fn, args));
        break;
      }
      case 0x62: { // BUILD: OrderedDict's instance state (torch's `_metadata`): kept out of the tensors
        pop();
        if (!(top() instanceof PyDict)) throw fail('BUILD on something that is not a dict');
        break;
      }
      case 0x73: { // SETITEM
        const v = pop();
        const k = pop();
        setItem(top(), k, v);
        break;
      }
      case 0x75: { // SETITEMS
        const items = popMark();
        if (items.length % 2) throw fail('SETITEMS with an odd number of items');
        const d = top();
        for (let i = 0; i < items.length; i += 2) setItem(d, items[i]!, items[i + 1]!);
        break;
      }
      case 0x61: { // APPEND
        const v = pop();
        const l = top();
        if (!Array.isArray(l)) throw fail('APPEND to something that is not a list');
        l.push(v);
        break;
      }
      case 0x65: { // APPENDS
        const items = popMark();
        const l = top();
        if (!Array.isArray(l)) throw fail('APPENDS to something that is not a list');
        l.push(...items);
        break;
      }
      case 0x2e: { // STOP
        const result = pop();
        if (!(result instanceof PyDict)) throw fail('the pickle does not hold a state dict');
        return result;
      }
      default:
        throw fail(`opcode 0x${op.toString(16).padStart(2, '0')} at byte ${pos - 1} is not one a state dict uses`);
    }
  }
}

export function isTensorRef(v: unknown): v is TensorRef {
  return typeof v === 'object' && v !== null && (v as { kind?: unknown }).kind === 'tensor';
}
