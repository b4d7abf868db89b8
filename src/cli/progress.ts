// A progress bar with ETA on stderr (cli-progress); on a non-terminal stderr a line every few seconds.
import { SingleBar } from 'cli-progress';

export interface ProgressBar {
  update(done: number, total: number, label?: string): void;
  stop(): void;
}

export function progressBar(title: string, unit: string, enabled: boolean): ProgressBar {
  if (!enabled) return { update: () => undefined, stop: () => undefined };
  const bar = new SingleBar({
    format: `${title} [{bar}] {percentage}% | ETA {eta_formatted} | {value}/{total} {unit} {label}`,
    barCompleteChar: '#',
    barIncompleteChar: '-',
    hideCursor: true,
    stream: process.stderr,
    noTTYOutput: true,
    notTTYSchedule: 5000,
    etaBuffer: 50,
    fps: 10,
    clearOnComplete: false,
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
