// A tiny byte-level BPE tokenizer.json (GPT-2's scheme: every byte is a symbol, Ġ is the space) with a
// few merges, for the offset tests. Hand-made: the vocabulary is the 256 byte symbols plus the merges.
//   node test/data/tokenizers/make_bytelevel.mjs
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = join(fileURLToPath(new URL('.', import.meta.url)), 'bytelevel');
mkdirSync(dir, { recursive: true });
const symbols = [];
let n = 0;
for (let b = 0; b < 256; b++) {
  const printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
  symbols.push(String.fromCodePoint(printable ? b : 256 + n++));
}
const vocab = {};
symbols.forEach((s, i) => (vocab[s] = i));
const merges = [['Ġ', 'c'], ['Ġc', 'a'], ['Ġca', 'f'], ['H', 'i'], ['Ġ', 'w'], ['o', 'r'], ['Ġw', 'or'], ['l', 'd']];
for (const [a, b] of merges) vocab[a + b] = Object.keys(vocab).length;
vocab['<|endoftext|>'] = Object.keys(vocab).length;
const tokenizer = {
  version: '1.0',
  truncation: null,
  padding: null,
  added_tokens: [{ id: vocab['<|endoftext|>'], content: '<|endoftext|>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }],
  normalizer: null,
  pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
  post_processor: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
  decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
  model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: '', end_of_word_suffix: '', fuse_unk: false, byte_fallback: false, vocab, merges: merges.map(([a, b]) => `${a} ${b}`) },
};
writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(tokenizer));
writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ model_max_length: 64, eos_token: '<|endoftext|>', pad_token: '<|endoftext|>' }));
writeFileSync(join(dir, 'config.json'), JSON.stringify({ model_type: 'gpt2', n_positions: 64, max_position_embeddings: 64 }));
console.log('wrote', dir);
