// Where a worker thread's script is: the esbuild bundles in dist/ (scripts/build.mjs), found from whichever
// bundle is running. The KEN pool, the job worker and the tokenizer pool start their threads from here.
import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** dist/worker.js (or another dist/ bundle), found from whichever bundle is running (dist/, dist/test/..., dist/bench/). */
export function workerScript(file = 'worker.js'): string {
  for (let d = __dirname; ; d = dirname(d)) {
    const p = join(d, file);
    if (existsSync(p) && basename(d) === 'dist') return p;
    if (dirname(d) === d) break;
  }
  throw new Error(`dist/${file} not found above ${__dirname}; run the build`);
}
