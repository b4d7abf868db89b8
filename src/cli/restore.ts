// `ken restore`: the pruned checkpoint from a subnetwork file and its base.
import { restoreSubnetwork } from '../workflows/restore';
import { formatBytes, onePositional, required } from './args';
import type { Command } from './command';
import { progressBar } from './progress';

export const restore: Command = {
  summary: 'rebuild a pruned checkpoint from ken-subnetwork.safetensors and the base model',
  usage: 'ken restore <ken-subnetwork.safetensors> --base <pretrained> --out <dir> [--json]',
  options: { base: { type: 'string', short: 'b' }, out: { type: 'string', short: 'o' }, json: { type: 'boolean' } },
  async run({ values, positionals }, io) {
    const subnetwork = onePositional(positionals, 'subnetwork file');
    const base = required(values, 'base', 'the pre-trained model it was pruned against');
    const out = required(values, 'out', 'the folder to write');
    const bar = progressBar('restore', 'files', io.progress);
    let result;
    try {
      result = await restoreSubnetwork({ subnetwork, base, out, signal: io.signal, onWarning: (w) => io.err(`warning: ${w}\n`), onProgress: (d, t, f) => bar.update(d, t, f) });
    } finally {
      bar.stop();
    }
    if (values['json']) {
      io.out(JSON.stringify(result, null, 2) + '\n');
      return;
    }
    const total = result.files.reduce((s, f) => s + f.size, 0);
    io.out(`restored ${result.files.length} files (${formatBytes(total)}) into ${out}/ in ${result.seconds.toFixed(1)} s; every file matches its recorded sha256\n`);
    for (const f of result.files) io.out(`  ${f.path}  ${formatBytes(f.size)}  sha256 ${f.sha256.slice(0, 16)}…\n`);
  },
};
