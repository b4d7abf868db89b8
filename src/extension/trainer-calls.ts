// Finds `TrainingArguments(...)` / `Trainer(...)` calls in Python source whose output_dir is a
// literal path, for the "KEN: watch this run" CodeLens. Plain text scanning (no vscode), tested alone.

export interface TrainerCall {
  /** 0-based line of the call's name. */
  line: number;
  character: number;
  callee: 'TrainingArguments' | 'Trainer' | string;
  /** The literal output_dir, as written. */
  outputDir: string;
}

const CALL = /\b(\w*TrainingArguments|Trainer|SFTConfig|Seq2SeqTrainer)\s*\(/g;

/** The text of the call's arguments: from after `(` to its matching `)`, skipping strings and comments. */
export function argumentsOf(text: string, open: number): string | undefined {
  let depth = 1;
  let i = open + 1;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '#') {
      const nl = text.indexOf('\n', i);
      i = nl < 0 ? text.length : nl;
      continue;
    }
    if (c === '"' || c === "'") {
      const triple = text.startsWith(c.repeat(3), i);
      const q = triple ? c.repeat(3) : c;
      let j = i + q.length;
      while (j < text.length && !text.startsWith(q, j)) j += text[j] === '\\' ? 2 : 1;
      i = j + q.length;
      continue;
    }
    if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') {
      depth--;
      if (depth === 0) return text.slice(open + 1, i);
    }
    i++;
  }
  return undefined;
}

/** A plain Python string literal (optionally r-prefixed, no f-strings), unquoted; undefined otherwise. */
function literal(expr: string): string | undefined {
  const m = /^\s*(r|R)?(["'])((?:[^"'\\\n]|\\.)*)\2\s*$/.exec(expr);
  if (!m) return undefined;
  return m[1] ? m[3] : m[3]!.replace(/\\(.)/g, '$1');
}

/** Splits top-level arguments at commas. */
function splitArgs(args: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  let quote: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const c = args[i]!;
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = undefined;
      continue;
    }
    if (c === '"' || c === "'") quote = c;
    else if ('([{'.includes(c)) depth++;
    else if (')]}'.includes(c)) depth--;
    else if (c === ',' && depth === 0) {
      out.push(args.slice(start, i));
      start = i + 1;
    }
  }
  out.push(args.slice(start));
  return out.map((a) => a.replace(/#.*$/gm, '').trim()).filter(Boolean);
}

/** Whether position `at` lies after a `#` on its line (outside a string). */
function inComment(text: string, at: number): boolean {
  let quote: string | undefined;
  for (let i = text.lastIndexOf('\n', at - 1) + 1; i < at; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '#') return true;
  }
  return false;
}

export function findTrainerCalls(text: string): TrainerCall[] {
  const out: TrainerCall[] = [];
  for (const m of text.matchAll(CALL)) {
    if (inComment(text, m.index!)) continue;
    const open = m.index! + m[0].length - 1;
    const args = argumentsOf(text, open);
    if (args === undefined) continue;
    const parts = splitArgs(args);
    let dir: string | undefined;
    for (const p of parts) {
      const kw = /^output_dir\s*=\s*([\s\S]*)$/.exec(p);
      if (kw) dir = literal(kw[1]!);
    }
    // TrainingArguments' first positional parameter is output_dir
    if (dir === undefined && /TrainingArguments|SFTConfig/.test(m[1]!) && parts[0] && !parts[0].includes('=')) dir = literal(parts[0]);
    if (dir === undefined || dir === '') continue;
    const before = text.slice(0, m.index!);
    const line = before.split('\n').length - 1;
    out.push({ line, character: m.index! - (before.lastIndexOf('\n') + 1), callee: m[1]!, outputDir: dir });
  }
  return out;
}
