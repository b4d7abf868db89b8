// KEN inline while fine-tuning: while a run is watched, the Trainer(...) / TrainingArguments(...) line
// that owns it (in a Python script, or a notebook cell that constructs the Trainer) ends with the
// latest step, kept ratio, drift and accuracy, updated at each checkpoint.
import * as vscode from 'vscode';
import { dirname } from 'node:path';
import type { WatchUpdate } from '../workflows/watch';
import { inlineSummary, ownerLines } from './inline-status';
import type { RunWatcher } from './watch';

export class InlineRunStatus implements vscode.Disposable {
  private readonly decoration = vscode.window.createTextEditorDecorationType({
    after: { margin: '0 0 0 2em', color: new vscode.ThemeColor('editorCodeLens.foreground'), fontStyle: 'italic' },
    isWholeLine: false,
  });
  private readonly disposables: vscode.Disposable[] = [];
  private latest: { runDir: string; update: WatchUpdate } | undefined;
  /** What each editor shows now (document uri -> text per line), for tests and to skip redundant work. */
  readonly shown = new Map<string, { line: number; text: string }[]>();

  constructor(watcher: Pick<RunWatcher, 'onDidUpdate' | 'onDidStop'>) {
    this.disposables.push(
      watcher.onDidUpdate((e) => {
        this.latest = e;
        this.refresh();
      }),
      watcher.onDidStop(() => {
        this.latest = undefined;
        this.refresh();
      }),
      vscode.window.onDidChangeVisibleTextEditors(() => this.refresh()),
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (this.latest && vscode.window.visibleTextEditors.some((ed) => ed.document === e.document)) this.refresh();
      }),
    );
  }

  /** The folders a relative output_dir in this document may be relative to. */
  private roots(doc: vscode.TextDocument): string[] {
    const roots: string[] = [];
    const ws = vscode.workspace.getWorkspaceFolder(doc.uri)?.uri.fsPath;
    if (doc.uri.scheme === 'vscode-notebook-cell') {
      // Jupyter runs a notebook in its own folder
      const nb = vscode.workspace.notebookDocuments.find((n) => n.getCells().some((c) => c.document === doc));
      if (nb?.uri.scheme === 'file') roots.push(dirname(nb.uri.fsPath));
    } else if (doc.uri.scheme === 'file') {
      roots.push(dirname(doc.uri.fsPath));
    }
    if (ws) roots.unshift(ws);
    return roots;
  }

  refresh(): void {
    const seen = new Set<string>();
    for (const editor of vscode.window.visibleTextEditors) {
      const doc = editor.document;
      if (doc.languageId !== 'python') continue;
      const key = doc.uri.toString();
      seen.add(key);
      const lines = this.latest ? ownerLines(doc.getText(), this.roots(doc), this.latest.runDir) : [];
      const text = this.latest ? inlineSummary(this.latest.update) : '';
      editor.setDecorations(this.decoration, lines.map((line) => {
        const end = doc.lineAt(line).text.length;
        return { range: new vscode.Range(line, end, line, end), renderOptions: { after: { contentText: text } }, hoverMessage: `KEN watches ${this.latest!.runDir}` };
      }));
      if (lines.length) this.shown.set(key, lines.map((line) => ({ line, text })));
      else this.shown.delete(key);
    }
    for (const key of [...this.shown.keys()]) if (!seen.has(key)) this.shown.delete(key);
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
    this.decoration.dispose();
    this.shown.clear();
  }
}
