// KEN inline where people fine-tune: which lines of a Python script (or notebook cell) own a watched
// run, and the one-line summary shown after them. Plain text (no vscode), tested alone.
import { isAbsolute, resolve } from 'node:path';
import type { WatchUpdate } from '../workflows/watch';
import { argumentsOf, findTrainerCalls } from './trainer-calls';

/** The latest figures of a watched run, as the inline decoration shows them. */
export function inlineSummary(u: WatchUpdate): string {
  const inLayers = u.layers.filter((l) => l.layer !== null);
  const layers = inLayers.length ? inLayers : u.layers;
  const drift = layers.length ? layers.reduce((s, l) => s + l.meanAbsDelta, 0) / layers.length : 0;
  const parts = [`KEN step ${u.step}`, `kept ${(u.keptRatio * 100).toFixed(1)}%`, `drift ${drift.toExponential(2)}`];
  if (u.accuracy !== undefined) parts.push(`accuracy ${(u.accuracy * 100).toFixed(2)}%`);
  return parts.join(' · ');
}

const ASSIGNED_ARGS = /^[ \t]*([A-Za-z_]\w*)[ \t]*=[ \t]*\w*(?:TrainingArguments|SFTConfig)\s*\(/gm;
const TRAINER = /\b(\w*Trainer)\s*\(/g;

/**
 * The 0-based lines that own `runDir` in `text`: each Trainer(...) call whose arguments name a
 * variable assigned from TrainingArguments(output_dir=<runDir>) (or that has that output_dir
 * itself); where no Trainer call is linked, the TrainingArguments line. `roots` are the folders a
 * relative output_dir may be relative to (the workspace folder, the script's or notebook's folder).
 */
export function ownerLines(text: string, roots: readonly string[], runDir: string): number[] {
  const target = resolve(runDir);
  const matches = (dir: string): boolean => (isAbsolute(dir) ? resolve(dir) === target : roots.some((r) => resolve(r, dir) === target));
  const calls = findTrainerCalls(text).filter((c) => matches(c.outputDir));
  if (calls.length === 0) return [];
  const lines = new Set<number>();
  // variables holding the matching TrainingArguments
  const vars: string[] = [];
  const argLines = new Set(calls.filter((c) => !/Trainer$/.test(c.callee)).map((c) => c.line));
  for (const m of text.matchAll(ASSIGNED_ARGS)) {
    const line = text.slice(0, m.index!).split('\n').length - 1;
    if (argLines.has(line) || argLines.has(line + (m[0].match(/\n/g)?.length ?? 0))) vars.push(m[1]!);
  }
  const linked = new Set<number>();
  if (vars.length > 0) {
    // the variable as a value (`args=args`, a positional `args`), not as a keyword's name
    const word = new RegExp(`(?<![\\w.])(?:${vars.join('|')})\\b(?!\\s*=(?!=))`);
    for (const m of text.matchAll(TRAINER)) {
      const args = argumentsOf(text, m.index! + m[0].length - 1);
      if (args === undefined || !word.test(args)) continue;
      const line = text.slice(0, m.index!).split('\n').length - 1;
      const before = text.slice(text.lastIndexOf('\n', m.index! - 1) + 1, m.index!);
      if (before.includes('#')) continue;
      lines.add(line);
      linked.add(line);
    }
  }
  for (const c of calls) {
    if (/Trainer$/.test(c.callee)) lines.add(c.line); // Trainer(output_dir=...) owns it directly
    else if (linked.size === 0) lines.add(c.line);
  }
  return [...lines].sort((a, b) => a - b);
}
