// The commands: each asks only what it cannot find out, runs the core in a worker with progress and
// cancel, logs to the KEN output channel and shows one notification on failure.
import { providerLabel } from '../runtime/webgpu';
import * as vscode from 'vscode';
import { basename, dirname, join } from 'node:path';
import { describeError } from '../errors';
import { LOOKED_FOR } from '../checkpoint/folder';
import { REPORT_FILE } from '../shared/report';
import { SUBNETWORK_FILE } from '../formats/subnetwork';
import type { EvalResult, KenReport } from '../shared/report';
import { evalSummary, sweepTable } from '../report/text';
import { dropUnit } from '../shared/metrics';
import { METHODS, methodNamed } from '../methods/registry';
import type { MethodChoice } from '../methods/prepare';
import { baseCandidates, datasetCandidates, looksLikeModel, modelDir, outputFolder } from './detect';
import { JobError, runJobWithProgress } from './jobs';
import { readSettings } from './settings';
import type { Services } from './services';

/** Options that skip the prompts (for keybindings, tasks and tests). */
export interface PruneOptions {
  k?: number;
  base?: string;
  /** A labelled data set to evaluate before/after, or null for none. */
  dataset?: string | null;
  out?: string;
  openPanel?: boolean;
  /** The pruning method (default: asked, the ken.method setting first; a call that passes `k` is not asked and uses the setting). */
  method?: string;
  /** random/dare's seed (default: the ken.seed setting). */
  seed?: number;
  /** Wanda's calibration lines (default: the ken.calibrationDataset setting, else asked). */
  calibration?: string;
}

export interface PruneOutcome {
  out: string;
  report: KenReport;
}

const RECENT_BASES = 'ken.recentBases';

export function requireTrust(): boolean {
  if (vscode.workspace.isTrusted) return true;
  void vscode.window.showWarningMessage('KEN runs models only in a trusted workspace. Trust this workspace to prune or evaluate.', 'Manage Workspace Trust').then((a) => {
    if (a) void vscode.commands.executeCommand('workbench.trust.manage');
  });
  return false;
}

/** One notification per failure, with the log a click away; cancellation is not a failure. */
export function reportFailure(s: Services, what: string, e: unknown): void {
  if (e instanceof JobError && e.kind === 'CancelledError') {
    s.log.info(`${what}: cancelled; nothing was written`);
    void vscode.window.showInformationMessage(`KEN: ${what} cancelled; nothing was written.`);
    return;
  }
  // a job's error was turned into its line in the worker; anything thrown here goes through the same funnel
  const message = e instanceof JobError ? e.message : describeError(e).message;
  s.log.error(`${what}: ${message}`);
  void vscode.window.showErrorMessage(`KEN: ${what} failed: ${message}`, 'Open log').then((a) => {
    if (a) s.log.show(true);
  });
}

async function pickFolderOrFile(title: string, opts: { files?: Record<string, string[]>; folders?: boolean; defaultUri?: vscode.Uri }): Promise<string | undefined> {
  const picked = await vscode.window.showOpenDialog({
    title,
    canSelectFolders: opts.folders ?? true,
    canSelectFiles: opts.files !== undefined,
    canSelectMany: false,
    ...(opts.files ? { filters: opts.files } : {}),
    ...(opts.defaultUri ? { defaultUri: opts.defaultUri } : {}),
  });
  return picked?.[0]?.fsPath;
}

/** The model the command acts on: the explorer selection, else a picker. Says what was looked for when there is none. */
export async function resolveModel(uri: vscode.Uri | undefined, verb: string): Promise<string | undefined> {
  const path = uri?.fsPath ?? (await pickFolderOrFile(`Model to ${verb}`, { files: { Models: ['safetensors', 'onnx'] }, defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri }));
  if (!path) return undefined;
  if (!(await looksLikeModel(path))) {
    void vscode.window.showErrorMessage(`KEN: no model in ${basename(path)}. Looked for ${LOOKED_FOR}.`);
    return undefined;
  }
  return path;
}

async function askK(defaultK: number): Promise<number | undefined> {
  const v = await vscode.window.showInputBox({
    title: 'KEN: k (values kept per row)',
    prompt: 'KEN keeps the k values of each row that its kernel density estimate points at',
    value: String(defaultK),
    validateInput: (s) => (/^\s*[1-9]\d*\s*$/.test(s) ? undefined : 'a whole number >= 1'),
  });
  return v === undefined ? undefined : Number(v);
}

async function askBase(s: Services, finetuned: string): Promise<string | undefined> {
  const recent = s.context.globalState.get<string[]>(RECENT_BASES, []);
  const candidates = await baseCandidates(finetuned, recent);
  const browse = { label: '$(folder-opened) Browse…', description: '', path: '' };
  const items = [
    ...candidates.map((c) => ({ label: c.label ?? basename(c.path), description: c.detail, detail: c.path, path: c.path })),
    browse,
  ];
  const pick = candidates.length
    ? await vscode.window.showQuickPick(items, { title: 'KEN: the pre-trained (base) model', placeHolder: 'The model it was fine-tuned from' })
    : browse;
  if (!pick) return undefined;
  const path = pick.path || (await pickFolderOrFile('Pre-trained (base) model', { files: { Models: ['safetensors', 'onnx'] }, defaultUri: vscode.Uri.file(dirname(await modelDir(finetuned))) }));
  if (!path) return undefined;
  if (!(await looksLikeModel(path))) {
    void vscode.window.showErrorMessage(`KEN: no model in ${basename(path)}. Looked for ${LOOKED_FOR}.`);
    return undefined;
  }
  await s.context.globalState.update(RECENT_BASES, [path, ...recent.filter((r) => r !== path)].slice(0, 8));
  return path;
}

async function askDataset(finetuned: string, configured: string, required = false, titles?: { title: string; placeHolder: string; setting: string }): Promise<string | null | undefined> {
  const none = { label: 'No evaluation', description: 'prune only', path: null as string | null };
  const browse = { label: '$(folder-opened) Browse…', description: 'JSONL, CSV or TSV with a label column', path: '' };
  const near = await datasetCandidates(finetuned);
  const items = [
    ...(configured ? [{ label: basename(configured), description: titles?.setting ?? 'ken.evalDataset', path: configured as string | null }] : []),
    ...near.filter((p) => p !== configured).map((p) => ({ label: basename(p), description: dirname(p), path: p as string | null })),
    ...(required ? [] : [none]),
    browse,
  ];
  const pick = await vscode.window.showQuickPick(items, {
    title: titles?.title ?? (required ? 'KEN: labelled data set' : 'KEN: evaluate accuracy before and after?'),
    placeHolder: titles?.placeHolder ?? (required ? 'JSONL, CSV or TSV with text and label columns' : 'A labelled data set, or none'),
  });
  if (!pick) return undefined;
  if (pick.path === '') return (await pickFolderOrFile('Labelled data set', { folders: false, files: { Data: ['jsonl', 'csv', 'tsv', 'parquet', 'arrow'] } })) ?? undefined;
  return pick.path;
}

/** The pruning method: the registry's methods, the configured one (ken.method) first. */
async function askMethod(configured: string): Promise<string | undefined> {
  const ordered = [...METHODS].sort((a, b) => Number(b.name === configured) - Number(a.name === configured));
  const pick = await vscode.window.showQuickPick(
    ordered.map((m) => ({ label: m.name, description: m.name === configured ? 'ken.method' : '', detail: m.summary, name: m.name })),
    { title: 'KEN: selection method', placeHolder: 'How each row chooses the k values that keep their fine-tuned value', matchOnDetail: true },
  );
  return pick?.name;
}

/** The methods a sweep compares (ken checked); none checked is ken alone. In the registry's order. */
async function askMethods(): Promise<string[] | undefined> {
  const picks = await vscode.window.showQuickPick(
    METHODS.map((m) => ({ label: m.name, description: m.seeded ? 'seeded: mean and spread over ken.sweepSeeds runs' : m.calibrated ? 'needs calibration lines' : '', detail: m.summary, picked: m.name === 'ken', name: m.name })),
    { title: 'KEN: methods to compare at the same k', placeHolder: 'Each checked method is pruned and evaluated at every k', canPickMany: true, matchOnDetail: true },
  );
  if (!picks) return undefined;
  const names = new Set(picks.map((p) => p.name));
  return names.size ? METHODS.filter((m) => names.has(m.name)).map((m) => m.name) : ['ken'];
}

/** Wanda's calibration lines: the given file, the ken.calibrationDataset setting, else a pick among the data sets near the model. */
async function askCalibration(finetuned: string, given: string | undefined, configured: string): Promise<string | undefined> {
  if (given) return given;
  if (configured) return configured;
  const picked = await askDataset(finetuned, '', true, {
    title: 'KEN: calibration lines for wanda', placeHolder: 'Lines of the task\'s data whose activations weigh the changes (the first 128)', setting: 'ken.calibrationDataset',
  });
  return picked ?? undefined;
}

/** What the prune and sweep requests say about the method(s): the seed for seeded ones, the calibration for wanda. */
function methodFields(methods: readonly string[], seed: number, calibration: string | undefined): MethodChoice {
  const chosen = methods.map(methodNamed);
  const out: MethodChoice = {};
  if (chosen.some((m) => m.seeded)) out.seed = seed;
  if (calibration && chosen.some((m) => m.calibrated)) out.calibration = { data: calibration };
  return out;
}

export async function pruneCommand(s: Services, uri?: vscode.Uri, options: PruneOptions = {}): Promise<PruneOutcome | undefined> {
  if (!requireTrust()) return undefined;
  const finetuned = await resolveModel(uri, 'prune');
  if (!finetuned) return undefined;
  const settings = readSettings(vscode.Uri.file(finetuned));
  // asked in the interactive flow; a scripted call (one that passes k) keeps to the setting
  const method = options.method ?? (options.k === undefined ? await askMethod(settings.method) : settings.method);
  if (method === undefined) return undefined;
  const k = options.k ?? (await askK(settings.k));
  if (k === undefined) return undefined;
  const base = options.base ?? (await askBase(s, finetuned));
  if (!base) return undefined;
  const calibration = METHODS.find((m) => m.name === method)?.calibrated ? await askCalibration(finetuned, options.calibration, settings.calibrationDataset) : undefined;
  if (METHODS.find((m) => m.name === method)?.calibrated && !calibration) return undefined;
  const dataset = options.dataset !== undefined ? options.dataset : await askDataset(finetuned, settings.evalDataset);
  if (dataset === undefined) return undefined;
  const workspace = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(finetuned))?.uri.fsPath;
  const out = options.out ?? (await outputFolder(finetuned, k, settings.outputFolder, workspace));
  let fields: MethodChoice;
  try {
    fields = methodFields([method], options.seed ?? settings.seed, calibration);
  } catch (e) {
    reportFailure(s, 'prune', e);
    return undefined;
  }
  const seeded = fields.seed !== undefined ? `, seed ${fields.seed}` : '';
  s.log.info(`prune ${finetuned} against ${base}, method ${method}${seeded}${calibration ? `, calibration ${calibration}` : ''}, k=${k}, scope ${settings.scope}, backend ${settings.backend}, device ${settings.executionProvider} -> ${out}`);
  // The panel opens now and shows the prune's progress, so it is ready when the report is.
  const named = method === 'ken' ? 'KEN' : method;
  const title = `Pruning ${basename(finetuned)} with ${named} (k=${k})`;
  const pending = (options.openPanel ?? true) ? s.panels?.openPending(out) : undefined;
  pending?.pending(title, 'starting…');
  let report: KenReport;
  try {
    report = await runJobWithProgress(s.context.extensionPath, `KEN: pruning ${basename(finetuned)} (${method === 'ken' ? '' : `${method}, `}k=${k})`, 'prune', {
      finetuned, base, out, k, ...(method === 'ken' ? {} : { method }), ...fields, scope: settings.scope, includeHead: settings.includeHead,
      backend: settings.backend, kernel: settings.kernel, device: settings.executionProvider,
      ...(dataset ? { eval: { data: dataset, batchSize: settings.evalBatchSize, device: settings.executionProvider } } : {}),
    }, s.log, (done, total, label) => pending?.pending(title, label, total > 0 ? done / total : undefined));
  } catch (e) {
    pending?.dispose();
    reportFailure(s, 'prune', e);
    return undefined;
  }
  s.status.ran(report.backend, report.executionProvider, report.adapter);
  const ratio = `${(report.keptRatio * 100).toFixed(1)}%`;
  s.log.info(`kept ${report.keptParams} of ${report.totalParams} parameters (${ratio}) with ${report.backend} on ${providerLabel(report.executionProvider, report.adapter)} in ${report.seconds.toFixed(1)} s; wrote ${out}`);
  if (report.accuracy) s.log.info(`accuracy ${report.accuracy.before.accuracy.toFixed(4)} -> ${report.accuracy.after.accuracy.toFixed(4)}`);
  if (report.lora) s.log.info(`LoRA merged (r=${report.lora.r}, alpha=${report.lora.alpha}, modules ${report.lora.modules.join(', ')}); subnetwork ${report.bytes?.subnetwork ?? '?'} bytes vs the adapter's ${report.lora.adapterBytes}`);
  for (const note of report.notes ?? []) s.log.info(`note: ${note}`);
  // the prune succeeded whatever happens to the panel: its own command reports its own failure
  if (options.openPanel ?? true) await vscode.commands.executeCommand('ken.openVisualization', vscode.Uri.file(out));
  else void vscode.window.showInformationMessage(`KEN kept ${ratio} of the parameters (${providerLabel(report.executionProvider, report.adapter)}). Wrote ${basename(out)}.`);
  return { out, report };
}

export async function restoreCommand(s: Services, uri?: vscode.Uri, options: { base?: string; out?: string } = {}): Promise<string | undefined> {
  if (!requireTrust()) return undefined;
  const sub = uri?.fsPath ?? (await pickFolderOrFile('KEN subnetwork file', { folders: false, files: { 'KEN subnetwork': ['safetensors'] } }));
  if (!sub) return undefined;
  const file = sub.endsWith('.safetensors') ? sub : join(sub, SUBNETWORK_FILE);
  const base = options.base ?? (await pickFolderOrFile('Pre-trained (base) model it was pruned against', { files: { Models: ['safetensors', 'onnx'] } }));
  if (!base) return undefined;
  const out = options.out ?? (await outputFolder(dirname(file), 0, '', undefined)).replace(/-ken-k0(-\d+)?$/, '-restored$1');
  try {
    const result = await runJobWithProgress(s.context.extensionPath, `KEN: restoring ${basename(file)}`, 'restore', { subnetwork: file, base, out }, s.log);
    s.log.info(`restored ${result.files.length} files into ${out}; every file matches its recorded sha256`);
    void vscode.window.showInformationMessage(`KEN restored ${result.files.length} files into ${basename(out)}, bit for bit.`);
    return out;
  } catch (e) {
    reportFailure(s, 'restore', e);
    return undefined;
  }
}

/** The report of a KEN output folder (or the folder holding the given file). */
export async function findReport(uri: vscode.Uri | undefined): Promise<string | undefined> {
  const path = uri?.fsPath ?? (await pickFolderOrFile('KEN output folder (holding ken-report.json)', {}));
  if (!path) return undefined;
  const dir = path.endsWith(REPORT_FILE) || path.endsWith('.safetensors') ? dirname(path) : path;
  try {
    await vscode.workspace.fs.stat(vscode.Uri.file(join(dir, REPORT_FILE)));
    return dir;
  } catch {
    void vscode.window.showErrorMessage(`KEN: ${basename(dir)} holds no ${REPORT_FILE}; prune a model first (KEN: Prune Model…).`);
    return undefined;
  }
}

export async function evaluateCommand(s: Services, uri?: vscode.Uri, options: { dataset?: string } = {}): Promise<EvalResult | undefined> {
  if (!requireTrust()) return undefined;
  const model = uri?.fsPath ?? (await pickFolderOrFile('Model to evaluate (a Hugging Face folder, or an .onnx file)', { files: { ONNX: ['onnx'] } }));
  if (!model) return undefined;
  const settings = readSettings(vscode.Uri.file(model));
  const data = options.dataset ?? (await askDataset(model, settings.evalDataset, true));
  if (!data) return undefined;
  try {
    const result = await runJobWithProgress(s.context.extensionPath, `KEN: evaluating ${basename(model)}`, 'eval', {
      model, spec: { data, batchSize: settings.evalBatchSize, device: settings.executionProvider },
    }, s.log);
    s.status.ran('onnxruntime', result.executionProvider, result.adapter);
    s.log.info(`evaluation of ${model} on ${data}:\n${evalSummary(result)}`);
    void vscode.window.showInformationMessage(
      `KEN: accuracy ${(result.accuracy * 100).toFixed(2)}%, macro-F1 ${result.macroF1.toFixed(4)} on ${result.samples} samples (${providerLabel(result.executionProvider, result.adapter)}).`, 'Show details',
    ).then((a) => a && s.log.show(true));
    return result;
  } catch (e) {
    reportFailure(s, 'evaluate', e);
    return undefined;
  }
}

export interface SweepOptions {
  base?: string;
  dataset?: string;
  ks?: number[];
  maxDrop?: number | null;
  /** The metric the sweep follows (default: the ken.sweepMetric setting). */
  metric?: string;
  out?: string;
  openPanel?: boolean;
  /** The methods to compare (default: asked, ken checked; a call that passes `ks` is not asked and sweeps ken alone). */
  methods?: string[];
  /** Runs of each seeded method per k (default: the ken.sweepSeeds setting). */
  seeds?: number;
  /** The first seed (default: the ken.seed setting). */
  seed?: number;
  /** Wanda's calibration lines (default: the ken.calibrationDataset setting, else asked). */
  calibration?: string;
}

export async function sweepCommand(s: Services, uri?: vscode.Uri, options: SweepOptions = {}): Promise<{ out?: string } | undefined> {
  if (!requireTrust()) return undefined;
  const finetuned = await resolveModel(uri, 'sweep');
  if (!finetuned) return undefined;
  const settings = readSettings(vscode.Uri.file(finetuned));
  const base = options.base ?? (await askBase(s, finetuned));
  if (!base) return undefined;
  const data = options.dataset ?? (await askDataset(finetuned, settings.evalDataset, true));
  if (!data) return undefined;
  // asked in the interactive flow; a scripted call (one that passes ks) sweeps KEN alone unless it names methods
  const methods = options.methods ?? (options.ks === undefined ? await askMethods() : ['ken']);
  if (!methods) return undefined;
  const wanda = methods.some((m) => METHODS.find((x) => x.name === m)?.calibrated);
  const calibration = wanda ? await askCalibration(finetuned, options.calibration, settings.calibrationDataset) : undefined;
  if (wanda && !calibration) return undefined;
  let ks = options.ks;
  if (!ks) {
    const text = await vscode.window.showInputBox({
      title: 'KEN: k values to try', value: '8,16,32,64,96', prompt: 'Comma-separated k values; each is pruned and evaluated in memory',
      validateInput: (v) => (/^\s*[1-9]\d*(\s*,\s*[1-9]\d*)*\s*$/.test(v) ? undefined : 'whole numbers >= 1, separated by commas'),
    });
    if (text === undefined) return undefined;
    ks = [...new Set(text.split(',').map((x) => Number(x.trim())))].sort((a, b) => a - b);
  }
  const chosen = options.metric ?? settings.sweepMetric;
  const metric = chosen === 'auto' ? undefined : chosen;
  const named = metric ?? 'the task\'s main metric';
  let maxDrop = options.maxDrop;
  if (maxDrop === undefined) {
    const text = await vscode.window.showInputBox({
      title: `KEN: ${named} budget (optional)`, value: '', prompt: `Largest drop in ${named} you accept, ${dropUnit(metric ?? 'accuracy') === 'points' ? 'in points (e.g. 1)' : `in ${metric} units`}; KEN finds the smallest k within it. Empty: just the curve.`,
      validateInput: (v) => (v.trim() === '' || (Number.isFinite(Number(v)) && Number(v) >= 0) ? undefined : 'a number >= 0, or empty'),
    });
    if (text === undefined) return undefined;
    maxDrop = text.trim() === '' ? null : Number(text);
  }
  const workspace = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(finetuned))?.uri.fsPath;
  const out = options.out ?? (await outputFolder(finetuned, Math.max(...ks), settings.outputFolder, workspace)).replace(/-ken-k\d+(-\d+)?$/, '-ken-sweep$1');
  let fields: MethodChoice & { seeds?: number };
  try {
    fields = methodFields(methods, options.seed ?? settings.seed, calibration);
    if (fields.seed !== undefined) fields.seeds = options.seeds ?? settings.sweepSeeds;
  } catch (e) {
    reportFailure(s, 'sweep', e);
    return undefined;
  }
  s.log.info(`sweep ${finetuned} against ${base}, k=${ks.join(',')}, methods ${methods.join(', ')}${fields.seeds !== undefined ? ` (seeded ones ${fields.seeds} runs from seed ${fields.seed})` : ''}${calibration ? `, calibration ${calibration}` : ''} -> ${out}`);
  const what = methods.length === 1 && methods[0] === 'ken' ? 'k' : methods.join(', ');
  try {
    const { result, report } = await runJobWithProgress(s.context.extensionPath, `KEN: sweeping ${what} for ${basename(finetuned)}`, 'sweep', {
      finetuned, base, ks, methods, ...fields, ...(maxDrop === null ? {} : { maxDrop }), ...(metric ? { metric } : {}), out,
      eval: { data, batchSize: settings.evalBatchSize, device: settings.executionProvider },
      scope: settings.scope, includeHead: settings.includeHead, backend: settings.backend, kernel: settings.kernel, device: settings.executionProvider,
    }, s.log);
    s.log.info(sweepTable(result, maxDrop ?? undefined));
    if (report) s.status.ran(report.backend, report.executionProvider, report.adapter);
    const best = result.best?.fewestParams;
    const verdict = result.methods.length > 1
      ? best ? `${best.method} keeps the fewest parameters within the budget (k=${best.k})` : result.recommendations ? 'no method stays within the budget at these k' : `${result.methods.length} methods at ${result.ks.length} values of k evaluated`
      : result.recommended !== undefined ? `use k=${result.recommended}` : result.note ?? `${result.points.length} values of k evaluated`;
    const pruned = report ? `${report.method ?? 'ken'} at k=${report.k}` : 'the pruned model';
    void vscode.window.showInformationMessage(`KEN sweep: ${verdict}. ${pruned[0]!.toUpperCase()}${pruned.slice(1)} and the curves are in ${basename(out)}.`);
    if (options.openPanel ?? true) await vscode.commands.executeCommand('ken.openVisualization', vscode.Uri.file(out));
    return { out };
  } catch (e) {
    reportFailure(s, 'sweep', e);
    return undefined;
  }
}

/** Options that skip the prompts of KEN: Compare with Base… (tests, keybindings). */
export interface CompareOptions {
  base?: string;
  /** Where the comparison is written (default: a folder under the extension's temporary folder). */
  out?: string;
  openPanel?: boolean;
}

/**
 * KEN_viz for any pair: the model (a KEN or reference output, a sparse fine-tune) against a base;
 * kept = where they differ; no pruning runs.
 */
export async function compareCommand(s: Services, compareRoot: string, uri?: vscode.Uri, options: CompareOptions = {}): Promise<PruneOutcome | undefined> {
  if (!requireTrust()) return undefined;
  const model = await resolveModel(uri, 'compare with its base');
  if (!model) return undefined;
  const base = options.base ?? (await askBase(s, model));
  if (!base) return undefined;
  const out = options.out ?? join(compareRoot, `${basename(model).replace(/[^\w.-]+/g, '_')}-vs-${basename(base).replace(/[^\w.-]+/g, '_')}-${Date.now().toString(36)}`);
  s.log.info(`compare ${model} with ${base} -> ${out}`);
  let report: KenReport;
  try {
    report = await runJobWithProgress(s.context.extensionPath, `KEN: comparing ${basename(model)} with ${basename(base)}`, 'compare', { model, base, out }, s.log);
  } catch (e) {
    reportFailure(s, 'compare', e);
    return undefined;
  }
  const unpaired = report.compare?.unpaired ?? [];
  s.log.info(`compared: ${report.keptParams} of ${report.totalParams} parameters differ or have no base${unpaired.length ? `; could not pair ${unpaired.length}: ${unpaired.map((u) => `${u.side === 'base' ? 'base only: ' : ''}${u.name} (${u.reason})`).join('; ')}` : ''}`);
  if (unpaired.length > 0) {
    void vscode.window.showWarningMessage(`KEN: could not pair ${unpaired.length} tensor${unpaired.length === 1 ? '' : 's'} of ${basename(model)} and ${basename(base)} (${unpaired.slice(0, 3).map((u) => u.name).join(', ')}${unpaired.length > 3 ? ', …' : ''}); the rest are shown.`, 'Open log').then((a) => {
      if (a) s.log.show(true);
    });
  }
  if (options.openPanel ?? true) await vscode.commands.executeCommand('ken.openVisualization', vscode.Uri.file(out));
  return { out, report };
}
