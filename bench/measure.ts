// Memory and time measurement for the benchmarks (Linux /proc where it helps, portable fallbacks).
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';

/** Resets the kernel's peak-RSS mark of this process (VmHWM); false where the kernel does not allow it. */
export function resetPeakRss(): boolean {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

function statusField(pid: number | 'self', field: string): number | undefined {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** The kernel's peak RSS of this process since the last reset, in bytes (all threads, workers included). */
export function kernelPeakRss(): number | undefined {
  return statusField('self', 'VmHWM');
}

/** Child processes of this process (worker threads are not processes and do not appear). */
export function childPids(): number[] {
  const out: number[] = [];
  try {
    for (const tid of readdirSync('/proc/self/task')) {
      const text = readFileSync(`/proc/self/task/${tid}/children`, 'utf8').trim();
      if (text) out.push(...text.split(/\s+/).map(Number));
    }
  } catch {
    // not Linux, or no CONFIG_PROC_CHILDREN: nothing to add
  }
  return out;
}

/** RSS of this process plus every descendant process, in bytes, from /proc. */
export function treeRss(): number {
  let total = process.memoryUsage.rss();
  const seen = new Set<number>();
  const walk = (pids: number[]): void => {
    for (const pid of pids) {
      if (seen.has(pid)) continue;
      seen.add(pid);
      total += statusField(pid, 'VmRSS') ?? 0;
      try {
        const kids: number[] = [];
        for (const tid of readdirSync(`/proc/${pid}/task`)) {
          const text = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim();
          if (text) kids.push(...text.split(/\s+/).map(Number));
        }
        walk(kids);
      } catch {
        // the process ended meanwhile
      }
    }
  };
  walk(childPids());
  return total;
}

/** Polls RSS every `intervalMs` (the process alone, and the process tree). */
export class RssSampler {
  private timer: NodeJS.Timeout | undefined;
  peak = 0;
  peakTree = 0;
  samples = 0;

  start(intervalMs = 50): this {
    const sample = (): void => {
      const rss = process.memoryUsage.rss();
      if (rss > this.peak) this.peak = rss;
      const tree = treeRss();
      if (tree > this.peakTree) this.peakTree = tree;
      this.samples++;
    };
    sample();
    this.timer = setInterval(sample, intervalMs);
    return this;
  }

  stop(): this {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    const rss = process.memoryUsage.rss();
    if (rss > this.peak) this.peak = rss;
    return this;
  }
}

export const MB = 1024 * 1024;

/** CPU seconds the whole machine has spent busy (every process), from /proc/stat; undefined off Linux. */
export function machineBusySeconds(): number | undefined {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal; USER_HZ is 100 on Linux
    return (f[0]! + f[1]! + f[2]! + f[5]! + f[6]! + f[7]!) / 100;
  } catch {
    return undefined;
  }
}

export interface CpuFigures {
  wallSeconds: number;
  /** CPU seconds of this process (all threads) per wall second. */
  ownCores: number;
  /** CPU seconds of every other process per wall second (other users of a shared machine). */
  otherCores: number | undefined;
}

/** Measures how busy this process and the rest of the machine were between start and stop. */
export class CpuWatch {
  private readonly t0 = performance.now();
  private readonly own0 = process.cpuUsage();
  private readonly busy0 = machineBusySeconds();

  /** `extraOwnSeconds`: CPU of child processes that count as ours (they are not in process.cpuUsage). */
  stop(extraOwnSeconds = 0): CpuFigures {
    const wall = (performance.now() - this.t0) / 1000;
    const u = process.cpuUsage(this.own0);
    const own = (u.user + u.system) / 1e6 + extraOwnSeconds;
    const busy1 = machineBusySeconds();
    const other = this.busy0 !== undefined && busy1 !== undefined ? Math.max(0, busy1 - this.busy0 - own) / wall : undefined;
    return { wallSeconds: wall, ownCores: own / wall, otherCores: other };
  }
}
