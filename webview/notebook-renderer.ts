// KEN_viz in a notebook cell's output (MIME application/vnd.ken.viz+json): the run's timeline (kept
// ratio per checkpoint) and its latest matrix, live while KEN watches the run. The output names the
// run folder; the extension answers over renderer messaging. Plain DOM, SVG and a canvas: no remote
// resources, no eval, nothing but this module.
import {
  KEN_VIZ_MIME, isHostToRenderer, isNotebookVizData,
  type NotebookMatrix, type NotebookVizData, type RendererToHost, type RunSnapshotMessage, type TimelinePoint,
} from '../src/shared/protocol';
import { divergingScale, parseColor, type Rgba } from './logic/colors';
import { latestLine, matrixPixels, timelineGeometry } from './logic/notebook';

/** The parts of VS Code's renderer API this module uses (vscode-notebook-renderer's types, by shape). */
interface OutputItem {
  readonly id: string;
  readonly mime: string;
  json(): unknown;
}
interface Disposable {
  dispose(): void;
}
interface RendererContext {
  postMessage?(message: unknown): void;
  onDidReceiveMessage?(listener: (message: unknown) => void): Disposable;
}

const SVG = 'http://www.w3.org/2000/svg'; // the SVG namespace name, not a resource
const WIDTH = 520;
const HEIGHT = 140;
const MATRIX_HEIGHT = 200;

function el<K extends keyof HTMLElementTagNameMap>(tag: K, style: Partial<CSSStyleDeclaration> = {}, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  Object.assign(e.style, style);
  if (text !== undefined) e.textContent = text;
  return e;
}

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>): SVGElementTagNameMap[K] {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  return e;
}

function themeColor(name: string, fallback: string): Rgba {
  const v = getComputedStyle(document.documentElement).getPropertyValue(name) || getComputedStyle(document.body).getPropertyValue(name);
  return parseColor(v) ?? parseColor(fallback)!;
}

/** One rendered output: redraws on every snapshot for its run. */
class RunView {
  private readonly summary = el('div', { fontSize: '12px', opacity: '0.85', margin: '2px 0 6px' });
  private readonly chart = el('div');
  private readonly matrix = el('div', { marginTop: '8px' });
  private readonly note = el('div', { fontSize: '12px', opacity: '0.75', fontStyle: 'italic' });
  private readonly actions = el('div', { marginTop: '6px' });

  constructor(readonly root: HTMLElement, readonly data: NotebookVizData, private readonly post: ((m: RendererToHost) => void) | undefined) {
    root.replaceChildren();
    root.setAttribute('data-testid', 'ken-nb');
    const title = el('div', { fontWeight: '600', fontSize: '13px' }, `KEN_viz: ${data.run}`);
    root.append(title, this.summary, this.chart, this.matrix, this.note, this.actions);
    this.draw({ points: data.points ?? [], watching: false, note: post ? 'asking the KEN extension for this run…' : 'the KEN extension is not answering here; showing the saved figures' });
  }

  update(msg: RunSnapshotMessage): void {
    // live figures replace a saved snapshot once there are any
    const points = msg.points.length ? msg.points : this.data.points ?? [];
    this.draw({ points, watching: msg.watching, matrix: msg.matrix, note: msg.note, runDir: msg.runDir });
  }

  private draw(s: { points: TimelinePoint[]; watching: boolean; matrix?: NotebookMatrix | undefined; note?: string | undefined; runDir?: string }): void {
    this.summary.textContent = `${s.watching ? '● watching · ' : ''}${latestLine(s.points)}`;
    this.chart.replaceChildren(this.timeline(s.points));
    this.matrix.replaceChildren(...(s.matrix ? this.matrixView(s.matrix) : []));
    this.note.textContent = s.note ?? '';
    this.actions.replaceChildren();
    if (this.post && !s.watching && s.runDir) {
      const b = el('button', { fontSize: '12px', cursor: 'pointer' }, 'Watch this run with KEN');
      b.addEventListener('click', () => this.post?.({ type: 'watch', run: this.data.run }));
      this.actions.append(b);
    }
  }

  private timeline(points: TimelinePoint[]): SVGSVGElement {
    const fg = getComputedStyle(this.root).color || 'currentColor';
    const root = svg('svg', { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: 'img', preserveAspectRatio: 'xMinYMin meet' });
    Object.assign(root.style, { width: '100%', maxWidth: `${WIDTH}px`, height: 'auto', display: 'block' });
    root.setAttribute('data-testid', 'ken-nb-timeline');
    root.setAttribute('data-points', String(points.length));
    const g = timelineGeometry(points, WIDTH, HEIGHT - 18, 14);
    root.setAttribute('data-steps', g.steps.join(','));
    root.setAttribute('aria-label', `kept ratio over ${points.length} checkpoints`);
    root.append(svg('rect', { x: 0.5, y: 0.5, width: WIDTH - 1, height: HEIGHT - 1, fill: 'none', stroke: fg, 'stroke-opacity': 0.2 }));
    const label = (x: number, y: number, text: string, anchor = 'start'): SVGTextElement => {
      const t = svg('text', { x, y, 'font-size': 10, fill: fg, 'text-anchor': anchor, 'fill-opacity': 0.8 });
      t.textContent = text;
      return t;
    };
    if (points.length > 0) {
      root.append(label(4, 11, `kept ${(g.yMax * 100).toFixed(1)}%`), label(4, HEIGHT - 22, `${(g.yMin * 100).toFixed(1)}%`));
      if (points.length > 1) {
        root.append(svg('polyline', { points: g.x.map((x, i) => `${x.toFixed(1)},${g.y[i]!.toFixed(1)}`).join(' '), fill: 'none', stroke: 'var(--vscode-charts-blue, #3794ff)', 'stroke-width': 2 }));
      }
      g.x.forEach((x, i) => {
        const c = svg('circle', { cx: x.toFixed(1), cy: g.y[i]!.toFixed(1), r: 3.5, fill: 'var(--vscode-charts-blue, #3794ff)' });
        const tip = svg('title', {});
        tip.textContent = `step ${g.steps[i]}`;
        c.append(tip);
        root.append(c, label(x, HEIGHT - 4, `step ${g.steps[i]}`, 'middle'));
      });
    } else {
      root.append(label(WIDTH / 2, HEIGHT / 2, 'no checkpoint yet', 'middle'));
    }
    return root;
  }

  private matrixView(m: NotebookMatrix): HTMLElement[] {
    const cap = el('div', { fontSize: '12px', opacity: '0.85', marginBottom: '2px' },
      `${m.tensor} at step ${m.step}: kept values coloured by value, pruned blank (${m.tensorRows}×${m.tensorCols} shown as ${m.rows}×${m.cols})`);
    const canvas = el('canvas');
    canvas.setAttribute('data-testid', 'ken-nb-matrix');
    canvas.width = m.cols;
    canvas.height = m.rows;
    const scale = Math.max(1, Math.min(Math.floor(WIDTH / Math.max(1, m.cols)), Math.floor(MATRIX_HEIGHT / Math.max(1, m.rows))));
    // explicit pixel sizes: the notebook sizes the output from its content as laid out
    Object.assign(canvas.style, { width: `${m.cols * scale}px`, height: `${m.rows * scale}px`, imageRendering: 'pixelated', border: '1px solid rgba(128,128,128,0.3)' });
    const ctx = canvas.getContext('2d');
    if (ctx && m.rows > 0 && m.cols > 0) {
      const colours = divergingScale(themeColor('--vscode-editor-background', '#1e1e1e'), themeColor('--vscode-editor-foreground', '#d4d4d4'));
      const img = ctx.createImageData(m.cols, m.rows);
      img.data.set(matrixPixels(m, colours));
      ctx.putImageData(img, 0, 0);
    }
    return [cap, canvas];
  }
}

export function activate(ctx: RendererContext): { renderOutputItem(item: OutputItem, element: HTMLElement): void; disposeOutputItem(id?: string): void } {
  const views = new Map<string, RunView>();
  const post = ctx.postMessage ? (m: RendererToHost): void => ctx.postMessage!(m) : undefined;
  ctx.onDidReceiveMessage?.((msg) => {
    if (!isHostToRenderer(msg)) return;
    for (const v of views.values()) if (v.data.run === msg.run) v.update(msg);
  });
  return {
    renderOutputItem(item, element) {
      if (item.mime !== KEN_VIZ_MIME) return;
      let data: unknown;
      try {
        data = item.json();
      } catch {
        data = undefined;
      }
      if (!isNotebookVizData(data)) {
        element.replaceChildren(el('div', { fontStyle: 'italic' }, `KEN_viz: this output is not a run description (expected {"run": "<folder>"} as ${KEN_VIZ_MIME})`));
        return;
      }
      views.set(item.id, new RunView(element, data, post));
      post?.({ type: 'subscribe', run: data.run });
    },
    disposeOutputItem(id) {
      if (id === undefined) views.clear();
      else views.delete(id);
    },
  };
}
