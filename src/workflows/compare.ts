// KEN_viz for any pair of checkpoints: the kept positions of a model are those where it differs from
// its base (what KEN, the reference or any sparse fine-tune leaves behind). No pruning runs: each
// paired tensor is read once from each side and compared in the model's dtype, and the result is
// written as a KEN output folder (ken-report.json + ken-subnetwork.safetensors) that every view opens.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { throwIfAborted } from '../errors';
import { openModel } from '../checkpoint/folder';
import { OutputReservation, checkOutputPath, writing } from '../formats/output';
import type { KenReport } from '../shared/report';
import { TOOL } from '../version';
import { elementSize, type FloatDType } from '../formats/dtype';
import { convertBytes, kenRows } from '../formats/layout';
import { planPrune, type LogicalTensor } from '../ken/plan';
import { kenLayoutOf, readKenLayout } from '../checkpoint/tensors';
import { SUBNETWORK_FILE } from '../formats/subnetwork';
import { REPORT_FILE } from '../shared/report';
import { KenRecorder, summarize } from './record';

export interface CompareRequest {
  /** The model to look at (a KEN output, a reference output, a sparse fine-tune). */
  model: string;
  base: string;
  /** The folder to write (must not exist): ken-report.json and ken-subnetwork.safetensors. */
  out: string;
  signal?: AbortSignal | undefined;
  onProgress?: ((done: number, total: number, tensor: string) => void) | undefined;
}

/** A tensor of either side that has no counterpart to compare with. */
export interface Unpaired {
  name: string;
  side: 'model' | 'base';
  reason: string;
}

/** Positions (KEN layout) whose bytes differ between the two sides, as a mask; and how many. */
export function differingPositions(model: Uint8Array, base: Uint8Array, elem: number): { mask: Uint8Array; kept: number } {
  const count = model.byteLength / elem;
  const mask = new Uint8Array(count);
  let kept = 0;
  for (let i = 0, o = 0; i < count; i++, o += elem) {
    for (let b = 0; b < elem; b++) {
      if (model[o + b] !== base[o + b]) {
        mask[i] = 1;
        kept++;
        break;
      }
    }
  }
  return { mask, kept };
}

/** The tensors of the pair that could not be compared, for people: "name (reason)", model side first. */
export function unpairedLines(unpaired: readonly Unpaired[]): string[] {
  return unpaired.map((u) => `${u.side === 'base' ? 'base only: ' : ''}${u.name} (${u.reason})`);
}

/** Compares `model` with `base` and writes the comparison as a KEN output folder at `out`. */
export async function compareToFolder(req: CompareRequest): Promise<KenReport> {
  const started = performance.now();
  // the output name first (SECURITY.md): taken atomically, never inside an input, nothing left on failure
  const reservation = await OutputReservation.take(req.out, { inputs: [req.model, req.base] });
  const unpaired: Unpaired[] = [];
  let recorder: KenRecorder | undefined;
  try {
    const model = await openModel(req.model, 'model');
    const base = await openModel(req.base, 'base');
    await checkOutputPath(reservation.out, [model.dir, base.dir]);
    const plan = await planPrune(model, base, { scope: 'all', includeHead: true, unpairedShapes: true, signal: req.signal });
    const staging = { dir: reservation.tmp };
    recorder = new KenRecorder(join(staging.dir, '.subnetwork.data'));
    let done = 0;
    for (const t of plan.tensors) {
      throwIfAborted(req.signal);
      req.onProgress?.(done, plan.tensors.length, t.name);
      const finetuned = await readKenLayout(t.views[0]!);
      const total = t.shape.reduce((a, b) => a * b, 1);
      const { rows, n } = kenRows(t.shape);
      if (t.status !== 'pruned') {
        if (t.status === 'no-base' || t.status === 'excluded') unpaired.push({ name: t.name, side: 'model', reason: t.note ?? t.status });
        await recorder.add({ tensor: t, status: t.status, rows, n, kept: total, total, mask: undefined, finetuned, pruned: finetuned, base: undefined });
      } else {
        const dtype = t.dtype as FloatDType;
        const baseBytes = convertBytes(kenLayoutOf(t.base!, await t.base!.read()), t.base!.dtype as FloatDType, dtype);
        const { mask, kept } = differingPositions(finetuned, baseBytes, elementSize(dtype));
        const status: LogicalTensor['status'] = kept === total ? 'kept-all' : 'pruned';
        await recorder.add({ tensor: t, status, rows, n, kept, total, mask: status === 'pruned' ? mask : undefined, finetuned, pruned: finetuned, base: baseBytes });
      }
      done++;
    }
    req.onProgress?.(done, plan.tensors.length, '');
    for (const name of plan.baseOnly) unpaired.push({ name, side: 'base', reason: 'no tensor of this name in the model' });
    const rec = recorder;
    await writing(join(reservation.out, SUBNETWORK_FILE), () => rec.finish(join(staging.dir, SUBNETWORK_FILE), { k: 0, scope: 'all', includeHead: true }, []));
    const report: KenReport = {
      k: 0,
      backend: 'none',
      executionProvider: 'cpu',
      seconds: (performance.now() - started) / 1000,
      ...summarize(recorder.reports),
      tensors: recorder.reports,
      tool: TOOL,
      finetuned: model.path,
      base: base.path,
      formats: [model.safetensors ? 'safetensors' : '', model.onnx ? 'onnx' : ''].filter(Boolean),
      createdAt: new Date().toISOString(),
      compare: { model: model.path, base: base.path, unpaired },
    };
    await writing(join(reservation.out, REPORT_FILE), () => writeFile(join(staging.dir, REPORT_FILE), JSON.stringify(report, null, 2) + '\n', { flag: 'wx' }));
    throwIfAborted(req.signal);
    await writing(reservation.out, () => reservation.commit());
    return report;
  } finally {
    await recorder?.abandon();
    await reservation.release();
  }
}
