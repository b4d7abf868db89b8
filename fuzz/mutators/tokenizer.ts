// Damages tokenizer.json (post-processor, normalizer and pre-tokenizer patterns that backtrack,
// vocabulary ids, added tokens, truncation, padding) or tokenizer_config.json -> ken eval.
import { writeFileSync } from 'node:fs';
import { interestingValue, mutateJsonTimes, type Rng } from '../rng';
import { SENTENCES } from '../seeds';
import type { Mutator } from '../types';
import { EVAL, copy, join, readJson, writeJson } from '../util';

const BACKTRACK = ['(a|a)+$', '(\\w+\\s?)*$', '(a+)+$', '([a-z]+)*!$', '(.*a){12}'];

function tokValue(rng: Rng): unknown {
  switch (rng.int(6)) {
    case 0: return rng.pick([{ type: 'TemplateProcessing' }, { type: 'BertProcessing', cls: null, sep: ['[SEP]', 3] }, { type: 'RobertaProcessing', cls: ['<s>', 0] }, { type: 'Sequence', processors: [null] }, { type: 'Nope' }, null]);
    case 1: return { type: 'Split', pattern: { Regex: rng.pick(BACKTRACK) }, behavior: rng.pick(['Isolated', 'Removed', 'MergedWithNext']), invert: rng.chance(0.3) };
    case 2: return rng.pick([1e8, 2 ** 31, -1, 60, 59, 61, 1000]);
    default: return interestingValue(rng);
  }
}

const mutator: Mutator = {
  kind: 'tokenizer',
  description: 'tokenizer.json / tokenizer_config.json (post-processor, backtracking patterns, ids) -> ken eval',
  make({ rng, dir, seeds, mutate }) {
    const model = copy(seeds.classifier, join(dir, 'model'));
    const file = join(model, 'tokenizer.json');
    let note = 'unchanged';
    let names = ['tokenizer.json'];
    if (mutate) {
      const tok = readJson(file) as Record<string, unknown>;
      const choice = rng.int(12);
      if (choice < 2) {
        // a pattern that backtracks without end, and data lines that trigger it
        const pattern = rng.pick(BACKTRACK);
        const split = { type: 'Split', pattern: { Regex: pattern }, behavior: 'Isolated', invert: false };
        if (rng.chance(0.5)) tok['pre_tokenizer'] = rng.chance(0.5) ? split : { type: 'Sequence', pretokenizers: [{ type: 'BertPreTokenizer' }, split] };
        else tok['normalizer'] = { type: 'Replace', pattern: { Regex: pattern }, content: 'x' };
        writeJson(file, tok);
        const bad = `${'a'.repeat(40)}!b`;
        writeFileSync(join(model, 'data.jsonl'), [...SENTENCES.slice(0, 3), [bad, 'neutral'], [`${'word '.repeat(30)}!`, 'positive']].map(([text, label]) => JSON.stringify({ text, label })).join('\n'));
        note = `backtracking pattern ${pattern}`;
      } else if (choice < 4) {
        tok['post_processor'] = tokValue(rng);
        writeJson(file, tok);
        note = `post_processor = ${JSON.stringify(tok['post_processor'])}`;
      } else if (choice === 4) {
        const cfg = join(model, 'tokenizer_config.json');
        writeJson(cfg, mutateJsonTimes(rng, readJson(cfg), 1 + rng.int(2), tokValue));
        names = ['tokenizer_config.json', 'tokenizer.json'];
        note = 'tokenizer_config.json';
      } else if (choice === 5) {
        // ids past the model's vocabulary
        const vocab = (tok['model'] as { vocab: Record<string, number> }).vocab;
        const word = rng.pick(['good', 'movie', 'the', '[CLS]', '[SEP]', '[UNK]', '[PAD]']);
        vocab[word] = rng.pick([60, 61, 1000, 2 ** 24 - 1, 2 ** 24, 2 ** 31]);
        writeJson(file, tok);
        note = `vocab id of ${word} = ${vocab[word]}`;
      } else {
        const n = 1 + rng.int(3);
        writeJson(file, mutateJsonTimes(rng, tok, n, tokValue));
        note = `${n} structural mutations`;
      }
    }
    return { args: EVAL('model', join('model', 'data.jsonl')), names, note };
  },
};
export default mutator;
