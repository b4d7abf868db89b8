// What views get from the app: the data, the theme, tiles, persisted choices.
import type { RequestTileMessage, TensorInfo, Tile, TimelinePoint } from '../src/shared/protocol';
import type { KenReport } from '../src/shared/report';
import type { Chart } from './chart';
import type { PatternGroup } from './logic/shape';
import type { SortDir, SortKey } from './logic/table';
import type { ChartTheme } from './logic/theme-layout';

export interface AppData {
  report: KenReport;
  tensors: TensorInfo[];
  groups: PatternGroup[];
  title: string;
  source: string;
  backend: string;
  executionProvider: string;
  accuracy: KenReport['accuracy'];
  sweep: KenReport['sweep'];
  /** undefined: no watcher. */
  timeline: TimelinePoint[] | undefined;
}

export type TabId = 'matrix' | 'neighbours' | 'layers' | 'ratios' | 'accuracy' | 'methods' | 'timeline';

/** The choices that survive a reload of the webview (VS Code getState/setState). */
export interface PersistedState {
  tab?: TabId;
  pattern?: string;
  layer?: number;
  reduce?: 'mean' | 'absmax';
  layersPattern?: string;
  layersKind?: 'values' | 'neighbours';
  sort?: { key: SortKey; dir: SortDir };
  filter?: string;
  theme?: 'light' | 'dark';
  /** The Methods view's x axis: kept parameters or subnetwork bytes. */
  methodsAxis?: 'params' | 'bytes';
  /** The report's folder (the panel's source), so a restored panel reopens it. */
  source?: string;
}

export type TileQuery = Omit<RequestTileMessage, 'type' | 'requestId'>;

export interface ViewContext {
  data(): AppData;
  theme(): ChartTheme;
  requestTile(query: TileQuery): Promise<Tile>;
  state(): PersistedState;
  setState(patch: Partial<PersistedState>): void;
  readonly staticMode: boolean;
  /** A short note in the header (export done, request failed). */
  notify(message: string, kind?: 'info' | 'error'): void;
  /** Performance marks for the browser check (load to first view, matrix switch). */
  rendered(view: TabId, detail: Record<string, unknown>): void;
}

export interface View {
  readonly id: TabId;
  readonly label: string;
  readonly el: HTMLElement;
  /** New data (init or report-updated). */
  update(): void;
  /** The tab became visible: draw now (views draw lazily). */
  show(): void;
  retheme(): void;
  /** The chart an "Export PNG" click exports. */
  exportChart(): Chart | undefined;
  timelinePoint?(): void;
}
