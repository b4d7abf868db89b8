// The host side of the KEN_viz notebook output renderer: a cell output of MIME
// application/vnd.ken.viz+json names a run folder; its renderer subscribes here over VS Code's
// renderer messaging and gets that run's timeline and latest matrix, then every checkpoint live.
import * as vscode from 'vscode';
import { dirname, isAbsolute, resolve } from 'node:path';
import { KEN_RENDERER_ID, isRendererToHost, type NotebookMatrix, type RunSnapshotMessage, type TimelinePoint } from '../shared/protocol';
import { VizDataSource } from '../report/viz-data';
import type { WatchUpdate } from '../workflows/watch';
import { timelinePoint } from './panel';
import type { RunWatcher } from './watch';
import type { Services } from './services';

/** Cells of the notebook's matrix at most (a small, quick picture; the panel has the full one). */
const MATRIX_ROWS = 48;
const MATRIX_COLS = 96;

/** The matrix the notebook shows: the largest pruned 2-D tensor inside a numbered layer (else any pruned one). */
export function pickMatrixTensor(tensors: readonly { name: string; rows: number; cols: number; status: string; layer?: number }[]): string | undefined {
  const pruned = tensors.filter((t) => t.status === 'pruned' && t.rows > 1);
  const inLayer = pruned.filter((t) => t.layer !== undefined);
  const pool = inLayer.length ? inLayer : pruned;
  let best: (typeof pool)[number] | undefined;
  for (const t of pool) if (!best || t.rows * t.cols > best.rows * best.cols) best = t;
  return best?.name;
}

/** A checkpoint's matrix, reduced for the notebook. */
export async function notebookMatrix(record: string, step: number): Promise<NotebookMatrix | undefined> {
  const data = await VizDataSource.open(record);
  const name = pickMatrixTensor(data.tensors);
  if (!name) return undefined;
  const info = data.tensors.find((t) => t.name === name)!;
  const tile = await data.tile(name, { kind: 'values', maxRows: MATRIX_ROWS, maxCols: MATRIX_COLS, reduce: 'absmax' });
  const values = Array.from(tile.values, (v) => (v === v ? +v.toPrecision(4) : null));
  return { tensor: name, step, rows: tile.rows, cols: tile.cols, tensorRows: info.rows, tensorCols: info.cols, values, absMax: tile.stats.absMax };
}

interface RunState {
  points: TimelinePoint[];
  matrix?: NotebookMatrix;
}

export class NotebookVizBridge implements vscode.Disposable {
  private readonly messaging = vscode.notebooks.createRendererMessaging(KEN_RENDERER_ID);
  private readonly runs = new Map<string, RunState>();
  /** Which runs each notebook editor's outputs asked for: run folder -> the name the output used. */
  private readonly subscribers = new Map<vscode.NotebookEditor, Map<string, string>>();
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly s: Pick<Services, 'log'>, private readonly watcher: Pick<RunWatcher, 'onDidUpdate' | 'onDidStop' | 'active'>) {
    this.disposables.push(
      this.messaging.onDidReceiveMessage((e) => void this.onMessage(e.editor, e.message)),
      watcher.onDidUpdate((e) => void this.onUpdate(e.runDir, e.update)),
      watcher.onDidStop((e) => this.broadcast(e.runDir)),
      vscode.window.onDidChangeVisibleNotebookEditors((visible) => {
        for (const ed of [...this.subscribers.keys()]) if (!visible.includes(ed)) this.subscribers.delete(ed);
      }),
    );
  }

  /** The folder an output's `run` names, for the notebook it is in (Jupyter runs in the notebook's folder). */
  static runDir(notebook: vscode.NotebookDocument, run: string): string {
    if (isAbsolute(run)) return resolve(run);
    const base = notebook.uri.scheme === 'file' ? dirname(notebook.uri.fsPath) : vscode.workspace.getWorkspaceFolder(notebook.uri)?.uri.fsPath ?? '';
    return resolve(base, run);
  }

  private async onMessage(editor: vscode.NotebookEditor, message: unknown): Promise<void> {
    if (!isRendererToHost(message)) {
      this.s.log.warn('notebook renderer: a message of unknown shape was ignored');
      return;
    }
    const runDir = NotebookVizBridge.runDir(editor.notebook, message.run);
    if (message.type === 'watch') {
      await vscode.commands.executeCommand('ken.watch', vscode.Uri.file(runDir));
      return;
    }
    let runs = this.subscribers.get(editor);
    if (!runs) this.subscribers.set(editor, (runs = new Map()));
    runs.set(runDir, message.run);
    await this.messaging.postMessage(this.snapshot(message.run, runDir), editor);
  }

  private snapshot(run: string, runDir: string): RunSnapshotMessage {
    const state = this.runs.get(runDir);
    const watching = this.watcher.active?.runDir === runDir;
    const msg: RunSnapshotMessage = { type: 'run', run, runDir, watching, points: state?.points ?? [] };
    if (state?.matrix) msg.matrix = state.matrix;
    if (!state?.points.length) {
      msg.note = watching
        ? 'KEN is watching this run; the timeline starts with its next complete checkpoint'
        : 'not watched: start KEN: Watch Fine-tuning Run… on this folder to follow it here';
    }
    return msg;
  }

  private async onUpdate(runDir: string, u: WatchUpdate): Promise<void> {
    let state = this.runs.get(runDir);
    if (!state) this.runs.set(runDir, (state = { points: [] }));
    state.points = [...state.points.filter((p) => p.step !== u.step), timelinePoint(u)].sort((a, b) => a.step - b.step);
    if (u.record) {
      try {
        const m = await notebookMatrix(u.record, u.step);
        if (m && !(state.matrix && state.matrix.step > m.step)) state.matrix = m; // checkpoints may finish decoding out of order
      } catch (e) {
        this.s.log.warn(`notebook matrix for step ${u.step}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    this.broadcast(runDir);
  }

  private broadcast(runDir: string): void {
    for (const [editor, runs] of this.subscribers) {
      const run = runs.get(runDir);
      if (run !== undefined) void this.messaging.postMessage(this.snapshot(run, runDir), editor);
    }
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
    this.subscribers.clear();
  }
}
