// Damages a labelled data set (JSONL, CSV or TSV): broken quotes and JSON, JSON arrays, missing or
// unknown fields and labels, NUL bytes, huge lines and fields, a FIFO -> ken eval --data.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { INTERESTING_STRINGS, mutateBytes, type Rng } from '../rng';
import { LABELS, SENTENCES } from '../seeds';
import type { Mutator } from '../types';
import { EVAL, copy, join } from '../util';

function line(rng: Rng, format: string): string {
  const [text, label] = rng.pick(SENTENCES);
  const l = rng.pick([label, label, String(LABELS.indexOf(label)), 'unknown', '7', '-1', '1.5', '', rng.pick(INTERESTING_STRINGS)]);
  if (format === 'jsonl') {
    switch (rng.int(8)) {
      case 0: return JSON.stringify([text, label]);
      case 1: return JSON.stringify({ text: rng.pick([null, 7, [], {}, text]), label: l });
      case 2: return JSON.stringify({ txt: text, label });
      case 3: return `{"text": "${text}", "label": `;
      case 4: return JSON.stringify({ text, label: rng.pick([0, 2, 3, -1, 1e8, null, true, 1.5]) });
      default: return JSON.stringify({ text, label: l });
    }
  }
  const sep = format === 'csv' ? ',' : '\t';
  switch (rng.int(6)) {
    case 0: return `"${text}${sep}${l}`;
    case 1: return `${text}${sep}${l}${sep}extra`;
    case 2: return text;
    default: return `${text}${sep}${l}`;
  }
}

const mutator: Mutator = {
  kind: 'dataset',
  description: 'data sets: JSONL, CSV, TSV (broken lines, JSON arrays, labels, huge lines, NUL, FIFO) -> ken eval',
  make({ rng, dir, seeds, mutate }) {
    const model = copy(seeds.classifier, join(dir, 'model'));
    const format = rng.pick(['jsonl', 'csv', 'tsv']);
    const name = rng.chance(0.85) ? `data.${format}` : rng.pick(['data.txt', 'data', 'data.json']);
    const file = join(dir, name);
    let content: Uint8Array = readFileSync(join(model, `data.${format}`));
    let note = `${name} unchanged`;
    const args = EVAL('model', name);
    if (mutate) {
      const choice = rng.int(20);
      if (choice === 0) {
        execFileSync('mkfifo', [file]);
        return { args, names: [name], note: `${name} is a FIFO` };
      } else if (choice === 1) {
        content = Buffer.from(JSON.stringify(SENTENCES.map(([text, label]) => ({ text, label })), null, rng.chance(0.5) ? 1 : 0));
        note = 'a JSON array';
      } else if (choice === 2) {
        const size = rng.pick([100_000, 1_000_000, 20_000_000]);
        const huge = rng.pick(['good movie ', 'a', ' ', 'zzzz ', 'é']).repeat(Math.ceil(size / 10)).slice(0, size);
        const text = format === 'jsonl' ? JSON.stringify({ text: huge, label: 'positive' }) : `${huge.replace(/[,\t"]/g, ' ')}${format === 'csv' ? ',' : '\t'}positive`;
        content = Buffer.concat([content, Buffer.from(text + '\n')]);
        note = `a ${size}-character line`;
      } else if (choice < 6) {
        content = mutateBytes(rng, content);
        note = 'bytes';
      } else {
        const lines = Buffer.from(content).toString('utf8').split('\n');
        const n = 1 + rng.int(4);
        for (let i = 0; i < n; i++) {
          const at = rng.int(lines.length);
          if (rng.chance(0.2) && at === 0) lines[0] = rng.pick(['', 'txt,label', 'text', '\u0000', 'text\tlabel\textra', '"text,label']);
          else lines.splice(at, rng.chance(0.5) ? 1 : 0, line(rng, format));
        }
        content = Buffer.from(lines.join(rng.chance(0.2) ? '\r\n' : '\n'));
        note = `${n} lines changed`;
      }
    }
    writeFileSync(file, content);
    return { args, names: [name], note: `${format} ${note}` };
  },
};
export default mutator;
