// The browser globals the webview uses: plotly (loaded as its own script before webview.js) and,
// inside VS Code, acquireVsCodeApi.

interface PlotlyElement extends HTMLElement {
  on(event: string, handler: (event: unknown) => void): void;
  removeAllListeners?(event: string): void;
}

interface PlotlyStatic {
  newPlot(el: HTMLElement, data: object[], layout?: object, config?: object): Promise<PlotlyElement>;
  react(el: HTMLElement, data: object[], layout?: object, config?: object): Promise<PlotlyElement>;
  relayout(el: HTMLElement, update: object): Promise<PlotlyElement>;
  purge(el: HTMLElement): void;
  toImage(el: HTMLElement, opts: { format: 'png' | 'svg'; width?: number; height?: number; scale?: number }): Promise<string>;
  Plots: { resize(el: HTMLElement): Promise<void> | void };
}

declare const Plotly: PlotlyStatic;

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}

declare function acquireVsCodeApi(): VsCodeApi;
