// `ken graph`: writes the inference graph built from a folder's config.json as an .onnx file whose
// initializers are external data in the folder's own safetensors files (nothing copied), for Netron or
// another runtime.
import { link, lstat, realpath, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { CheckpointError, UsageError } from '../errors';
import { openModel } from '../checkpoint/folder';
import { TASKS, type Task } from '../graph';
import { buildGraph } from '../models/build';
import { choice, formatBytes, onePositional, required } from './args';
import type { Command } from './command';

export const graphCommand: Command = {
  summary: 'write the inference graph built from config.json (.onnx, weights as external data in the folder)',
  usage: 'ken graph <model-folder> --out model.onnx [--task auto|text-classification|token-classification|question-answering|causal-lm]',
  options: { out: { type: 'string', short: 'o' }, task: { type: 'string' } },
  async run({ values, positionals }, io) {
    const folder = onePositional(positionals, 'model folder');
    const out = resolve(required(values, 'out', 'the .onnx file to write'));
    const task = choice(values, 'task', ['auto', ...TASKS] as const, 'auto') as Task | 'auto';
    // it may go beside the weights (inside the model folder): never over a file that is there
    if (!out.endsWith('.onnx')) throw new UsageError(`--out must name a .onnx file (got ${out})`);
    if (await lstat(out).then(() => true, () => false)) throw new UsageError(`${out}: already exists; remove it or choose another name`);
    const m = await openModel(folder, 'model');
    let outDir: string;
    try {
      outDir = await realpath(dirname(out));
    } catch {
      throw new CheckpointError(`${dirname(out)}: no such folder`);
    }
    const built = buildGraph(m, { task, relativeTo: outDir });
    const tmp = join(outDir, `.ken-tmp-${process.pid}-${basename(out)}`);
    try {
      await writeFile(tmp, built.model, { flag: 'wx' });
      // link(2), not rename(2): fails if the name was taken meanwhile instead of replacing that file
      await link(tmp, join(outDir, basename(out)));
      await rm(tmp, { force: true });
    } catch (e) {
      await rm(tmp, { force: true });
      throw new CheckpointError(`${out}: cannot write (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    const weightsDir = await realpath(m.dir);
    const inside = !relative(weightsDir, outDir).startsWith('..');
    io.out(
      `wrote ${out} (${formatBytes(built.model.byteLength)}; ${built.family} ${built.task}${built.architecture ? `, ${built.architecture}` : ''}): ` +
        `inputs ${built.inputs.join(', ')}; outputs ${built.outputs.join(', ')}; weights read from ${m.safetensors!.files.map((f) => basename(f.path)).join(', ')}\n` +
        (inside ? '' : `note: onnxruntime loads external data only from the model file's folder or below; write the graph into ${m.dir} to run it there\n`),
    );
  },
};
