// Progress on stderr: a bar with ETA (cli-progress) on a terminal; elsewhere (CI logs, pipes) a
// plain line every few seconds, so long work shows it is alive without filling the log.
import { SingleBar } from 'cli-progress';

export interface ProgressBar {
  update(done: number, total: number, label?: string): void;
  stop(): void;
}

const LINE_EVERY_MS = 5000;

function eta(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  if (seconds < 60) return `${Math.round(seconds)}s`;
  return `${Math.floor(seconds / 60)}m${String(Math.round(seconds % 60)).padStart(2, '0')}s`;
}

export function progressBar(title: string, unit: string, enabled: boolean, stream: NodeJS.WriteStream = process.stderr): ProgressBar {
  if (!enabled) return { update: () => undefined, stop: () => undefined };
  if (!stream.isTTY) {
    const started = Date.now();
    let last = started;
    return {
      update(done, total, label = '') {
        const now = Date.now();
        if (now - last < LINE_EVERY_MS || total <= 0) return;
        last = now;
        const left = done > 0 ? ((now - started) / 1000) * (total - done) / done : NaN;
        stream.write(`${title} ${Math.floor((100 * done) / total)}% (${done}/${total} ${unit}, ETA ${eta(left)}) ${label}\n`);
      },
      stop: () => undefined,
    };
  }
  const bar = new SingleBar({
    format: `${title} [{bar}] {percentage}% | ETA {eta_formatted} | {value}/{total} {unit} {label}`,
    barCompleteChar: '#',
    barIncompleteChar: '-',
    hideCursor: true,
    stream,
    etaBuffer: 50,
    fps: 10,
    clearOnComplete: true,
  });
  let started = false;
  return {
    update(done, total, label = '') {
      const short = label.length > 40 ? `…${label.slice(-39)}` : label;
      if (!started) {
        bar.start(Math.max(total, 1), done, { label: short, unit });
        started = true;
      } else {
        if (bar.getTotal() !== Math.max(total, 1)) bar.setTotal(Math.max(total, 1));
        bar.update(done, { label: short });
      }
    },
    stop() {
      if (started) bar.stop();
      started = false;
    },
  };
}
