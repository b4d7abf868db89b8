// A plotly chart in a div that follows the theme and the panel's size.
import type { ChartTheme } from './logic/theme-layout';
import { withTheme } from './logic/theme-layout';

export const PLOT_CONFIG = { displayModeBar: false, responsive: true, displaylogo: false, scrollZoom: false, showTips: false };

export class Chart {
  private drawn = false;
  private layout: Record<string, unknown> = {};
  private data: object[] = [];
  private readonly resizeObs: ResizeObserver;

  constructor(readonly el: HTMLElement, private theme: () => ChartTheme) {
    el.classList.add('ken-chart');
    let pending = false;
    this.resizeObs = new ResizeObserver(() => {
      if (!this.drawn || pending || this.el.offsetParent === null) return;
      pending = true;
      requestAnimationFrame(() => {
        pending = false;
        void Plotly.Plots.resize(this.el);
      });
    });
    this.resizeObs.observe(el);
  }

  get isDrawn(): boolean {
    return this.drawn;
  }

  /** Draws (or redraws in place, keeping zoom where the layout's uirevision says so). */
  async draw(data: object[], layout: Record<string, unknown>, config: object = {}): Promise<PlotlyElement> {
    this.data = data;
    this.layout = layout;
    const full = withTheme(layout, this.theme());
    const el = this.drawn
      ? await Plotly.react(this.el, data, full, { ...PLOT_CONFIG, ...config })
      : await Plotly.newPlot(this.el, data, full, { ...PLOT_CONFIG, ...config });
    this.drawn = true;
    return el;
  }

  /** Re-applies the theme after VS Code's theme changed. */
  async retheme(): Promise<void> {
    if (this.drawn) await Plotly.react(this.el, this.data, withTheme(this.layout, this.theme()), PLOT_CONFIG);
  }

  async toPng(scale = 2): Promise<string> {
    const r = this.el.getBoundingClientRect();
    return Plotly.toImage(this.el, { format: 'png', width: Math.max(300, Math.round(r.width)), height: Math.max(200, Math.round(r.height)), scale });
  }

  resize(): void {
    if (this.drawn && this.el.offsetParent !== null) void Plotly.Plots.resize(this.el);
  }

  dispose(): void {
    this.resizeObs.disconnect();
    if (this.drawn) Plotly.purge(this.el);
    this.drawn = false;
  }
}
