// Where each token of a text lies in it ([start, end) in UTF-16 code units), for the tokenizer
// library used here returns tokens without offsets. Derived from the tokens themselves:
// - byte-level BPE (GPT-2, RoBERTa, Llama 3, Qwen2): the tokens' bytes are the text's UTF-8 bytes
//   (plus a leading space the pre-tokenizer may add), so offsets follow exactly; a token that holds
//   part of a character spans the whole character, as the Rust library reports it;
// - WordPiece (BERT) and Metaspace/SentencePiece (ALBERT, XLM-R, DeBERTa-v3, Llama 2): each token,
//   without its continuation or space marker, is found in the text after the previous one, both
//   compared case- and accent-folded (the normaliser may have lowercased, stripped accents or applied
//   NFKC); byte-fallback tokens <0xNN> are joined into their character; an unknown token spans the
//   word (or the CJK character, or the punctuation mark) it replaced.
// Offsets, like Hugging Face's, leave out the space a token's marker stands for.

export type OffsetStyle =
  | { kind: 'wordpiece'; prefix: string }
  | { kind: 'bytelevel' }
  | { kind: 'metaspace'; marker: string };

export type Offset = [number, number];

interface Configured {
  config?: { type?: string; prefix?: string; replacement?: string; decoders?: Configured['config'][]; pattern?: { String?: string }; continuing_subword_prefix?: string | null } | undefined;
}

/** How a tokenizer marks its tokens, from its decoder (and model) configuration. */
export function offsetStyle(decoder: Configured | null | undefined, model: Configured | null | undefined): OffsetStyle {
  const types: NonNullable<Configured['config']>[] = [];
  const walk = (c: Configured['config']): void => {
    if (!c) return;
    types.push(c);
    for (const d of c.decoders ?? []) walk(d);
  };
  walk(decoder?.config);
  if (types.some((c) => c.type === 'ByteLevel')) return { kind: 'bytelevel' };
  const meta = types.find((c) => c.type === 'Metaspace');
  if (meta) return { kind: 'metaspace', marker: meta.replacement ?? '\u2581' };
  if (types.some((c) => c.type === 'Replace' && c.pattern?.String === '\u2581')) return { kind: 'metaspace', marker: '\u2581' };
  const wp = types.find((c) => c.type === 'WordPiece');
  return { kind: 'wordpiece', prefix: wp?.prefix ?? model?.config?.continuing_subword_prefix ?? '##' };
}

// GPT-2's bytes_to_unicode: printable bytes stand for themselves, the others for 256 + n.
let byteOfChar: Map<string, number> | undefined;
function byteTable(): Map<string, number> {
  if (byteOfChar) return byteOfChar;
  const m = new Map<string, number>();
  let n = 0;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
    m.set(String.fromCodePoint(printable ? b : 256 + n++), b);
  }
  return (byteOfChar = m);
}

/** UTF-16 index of every UTF-8 byte of `text` (the character it belongs to), and the end. */
function byteToIndex(text: string): Int32Array {
  const out: number[] = [];
  for (let i = 0; i < text.length;) {
    const cp = text.codePointAt(i)!;
    const units = cp > 0xffff ? 2 : 1;
    const bytes = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    for (let k = 0; k < bytes; k++) out.push(i);
    i += units;
  }
  out.push(text.length);
  return Int32Array.from(out);
}

function byteLevelOffsets(text: string, tokens: readonly string[]): Offset[] {
  const table = byteTable();
  const at = byteToIndex(text);
  const nBytes = at.length - 1;
  const textBytes = new TextEncoder().encode(text);
  let pos = 0;
  // A pre-tokenizer's added prefix space is in the first token but not in the text.
  let virtualSpace = text.length > 0 && textBytes[0] !== 0x20 && tokens[0]?.startsWith('\u0120') === true;
  const charEnd = (b: number): number => {
    // the end of the character the byte before `b` belongs to
    if (b <= 0) return 0;
    const start = at[b - 1]!;
    const cp = text.codePointAt(start)!;
    return start + (cp > 0xffff ? 2 : 1);
  };
  return tokens.map((tok) => {
    let len = 0;
    let lead = 0;
    let leading = true;
    for (const ch of tok) {
      const b = table.get(ch);
      if (b === undefined) {
        // an added token written as text (e.g. <|endoftext|>): its UTF-8 length
        len += new TextEncoder().encode(ch).length;
        leading = false;
        continue;
      }
      if (virtualSpace && b === 0x20 && len === 0) {
        virtualSpace = false;
        continue;
      }
      len++;
      if (leading && (b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d)) lead++;
      else leading = false;
    }
    virtualSpace = false;
    const s = Math.min(pos + (lead < len ? lead : 0), nBytes);
    const e = Math.min(pos + len, nBytes);
    pos += len;
    const start = at[s]!;
    const end = Math.max(start, charEnd(e));
    return [start, end];
  });
}

/** Case- and accent-folded form of one character (several for ligatures). */
function fold(ch: string): string {
  return ch.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase();
}

const CJK = /[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u{20000}-\u{2fa1f}]/u;
const WORD = /[\p{L}\p{N}\p{M}]/u;

function searchOffsets(text: string, tokens: readonly string[], clean: (t: string) => string, unk: string | undefined): Offset[] {
  // the folded text, and for each folded unit the index of the character it came from
  let folded = '';
  const origin: number[] = [];
  const chars = Array.from(text);
  let idx = 0;
  for (const ch of chars) {
    const f = fold(ch);
    for (let k = 0; k < f.length; k++) origin.push(idx);
    folded += f;
    idx += ch.length;
  }
  origin.push(text.length);
  const endOf = (fi: number): number => {
    // end (exclusive, original units) of the character folded unit fi-1 came from
    const o = origin[fi - 1]!;
    return o + (text.codePointAt(o)! > 0xffff ? 2 : 1);
  };
  const isSpace = (fi: number): boolean => /\s/u.test(folded[fi] ?? '');
  let cursor = 0;
  const out: Offset[] = [];
  for (const tok of tokens) {
    while (cursor < folded.length && isSpace(cursor)) cursor++;
    if (tok === unk) {
      let e = cursor;
      const first = text.codePointAt(origin[cursor] ?? text.length);
      const c = first === undefined ? '' : String.fromCodePoint(first);
      if (c && (CJK.test(c) || !WORD.test(c))) e = cursor + fold(c).length || cursor + 1;
      else while (e < folded.length && WORD.test(folded[e]!) && !CJK.test(folded[e]!)) e++;
      out.push([origin[cursor] ?? text.length, e > cursor ? endOf(e) : origin[cursor] ?? text.length]);
      cursor = e;
      continue;
    }
    const want = Array.from(clean(tok)).map(fold).join('').replace(/\s+/gu, '');
    if (want === '') {
      out.push([origin[cursor] ?? text.length, origin[cursor] ?? text.length]);
      continue;
    }
    const found = folded.indexOf(want, cursor);
    if (found < 0) {
      out.push([origin[cursor] ?? text.length, origin[cursor] ?? text.length]);
      continue;
    }
    out.push([origin[found]!, endOf(found + want.length)]);
    cursor = found + want.length;
  }
  return out;
}

/** Joins byte-fallback tokens (<0x..>) into the characters they encode; offsets then map back to every piece. */
function metaspaceOffsets(text: string, tokens: readonly string[], marker: string, unk: string | undefined): Offset[] {
  const groups: { tokens: number[]; surface: string }[] = [];
  const hex = /^<0x([0-9A-Fa-f]{2})>$/;
  for (let i = 0; i < tokens.length; i++) {
    const m = hex.exec(tokens[i]!);
    if (!m) {
      groups.push({ tokens: [i], surface: tokens[i]! });
      continue;
    }
    const bytes: number[] = [];
    const members: number[] = [];
    let j = i;
    let mm: RegExpExecArray | null = m;
    while (mm && j < tokens.length) {
      bytes.push(parseInt(mm[1]!, 16));
      members.push(j);
      j++;
      mm = hex.exec(tokens[j] ?? '');
    }
    groups.push({ tokens: members, surface: new TextDecoder().decode(Uint8Array.from(bytes)) });
    i = j - 1;
  }
  const offsets = searchOffsets(text, groups.map((g) => g.surface), (t) => t.split(marker).join(' '), unk);
  const out: Offset[] = new Array(tokens.length);
  groups.forEach((g, k) => {
    for (const t of g.tokens) out[t] = offsets[k]!;
  });
  return out;
}

/** The [start, end) of each token of `text` (tokens as the tokenizer gave them, no special tokens). */
export function tokenOffsets(text: string, tokens: readonly string[], style: OffsetStyle, unk?: string): Offset[] {
  if (style.kind === 'bytelevel') return byteLevelOffsets(text, tokens);
  if (style.kind === 'metaspace') return metaspaceOffsets(text, tokens, style.marker, unk);
  const prefix = style.prefix;
  return searchOffsets(text, tokens, (t) => (prefix && t.startsWith(prefix) ? t.slice(prefix.length) : t), unk);
}
