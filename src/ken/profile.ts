// Where a KEN run's time goes (`npm run bench -- --profile`): seconds per phase on the main thread
// and in each worker thread. Collected only when asked for (a few clock reads per row).

/** One worker thread's seconds, summed over the chunks it pruned. */
export interface ThreadProfile {
  thread: number;
  rows: number;
  /** min/max scan, bandwidth, grid, the row's sort by value. */
  bandwidthSort: number;
  /** The fast density pass (or a provider's densities). */
  densities: number;
  /** Densities summed again exactly near a rounding boundary. */
  rechecks: number;
  /** Rounding, the grid's order, greedy nearest selection, the keep mask. */
  selection: number;
  /** Inside a chunk but in none of the above (the chunk's mask, message handling). */
  other: number;
  /** Wall seconds the thread spent on chunks (the sum of the above). */
  busy: number;
}

/** Phase indices of a worker's timing array. */
export const PHASE_BANDWIDTH_SORT = 0;
export const PHASE_DENSITIES = 1;
export const PHASE_RECHECKS = 2;
export const PHASE_SELECTION = 3;
export const PHASES = 4;

export interface KenProfile {
  /** Main thread, seconds spent awaiting tensor reads (tensors in flight overlap: can exceed the wall). */
  read: number;
  /** Main thread, synchronous: base conversion, non-finite check, base hash. */
  prepare: number;
  /** Main thread, synchronous: fine-tuned bytes to float32 rows for the workers. */
  toRows: number;
  /** Main thread, synchronous: kept fine-tuned values into the base bytes. */
  merge: number;
  /** Main thread, awaiting the caller's sink (writing the output and the subnetwork file). */
  write: number;
  /** Worker threads, by thread id. */
  threads: ThreadProfile[];
}

export function emptyProfile(): KenProfile {
  return { read: 0, prepare: 0, toRows: 0, merge: 0, write: 0, threads: [] };
}

/** Adds one chunk's timing (PHASES seconds, then the chunk's wall seconds) to a thread's entry. */
export function addChunk(p: KenProfile, thread: number, rows: number, phases: ArrayLike<number>): void {
  let t = p.threads.find((x) => x.thread === thread);
  if (!t) {
    t = { thread, rows: 0, bandwidthSort: 0, densities: 0, rechecks: 0, selection: 0, other: 0, busy: 0 };
    p.threads.push(t);
    p.threads.sort((a, b) => a.thread - b.thread);
  }
  const busy = phases[PHASES]!;
  t.rows += rows;
  t.bandwidthSort += phases[PHASE_BANDWIDTH_SORT]!;
  t.densities += phases[PHASE_DENSITIES]!;
  t.rechecks += phases[PHASE_RECHECKS]!;
  t.selection += phases[PHASE_SELECTION]!;
  t.busy += busy;
  t.other = t.busy - t.bandwidthSort - t.densities - t.rechecks - t.selection;
}
