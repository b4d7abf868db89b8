// A tiny test harness for code running inside the real extension host: named tests run in order,
// each with a time limit; results go to a JSON file that test/e2e/run.mjs reads for its summary.
import { writeFileSync } from 'node:fs';

export interface E2eConfig {
  workspace: string;
  finetuned: string;
  pretrained: string;
  /** A folder with no model in it (the data folder). */
  noModel: string;
  k: number;
  /** Where the in-host prune and restore write (inside the workspace, away from the explorer drive). */
  pruneOut: string;
  restoreOut: string;
  resultsFile: string;
  /** `ken prune ... --json` for the same inputs, run by run.mjs before the server started. */
  cli: { keptParams: number; totalParams: number; keptRatio: number; executionProvider: string; tensors: { name: string; kept: number; total: number }[] };
  /** The command id of the extension under test (publisher.name). */
  extensionId: string;
}

export interface TestResult {
  name: string;
  ok: boolean;
  ms: number;
  error?: string;
}

export interface SuiteResults {
  tests: TestResult[];
  /** Facts the UI drive needs that only the extension host can see. */
  facts: Record<string, unknown>;
}

export class Suite {
  private readonly tests: { name: string; fn: () => Promise<void>; timeoutMs: number }[] = [];
  readonly facts: Record<string, unknown> = {};

  constructor(private readonly resultsFile: string) {}

  test(name: string, fn: () => Promise<void>, timeoutMs = 120_000): void {
    this.tests.push({ name, fn, timeoutMs });
  }

  /** Runs every test (a failure does not stop the others); rejects when any failed. */
  async run(): Promise<void> {
    const results: TestResult[] = [];
    for (const t of this.tests) {
      const t0 = Date.now();
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          t.fn(),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error(`timed out after ${t.timeoutMs} ms`)), t.timeoutMs);
          }),
        ]);
        results.push({ name: t.name, ok: true, ms: Date.now() - t0 });
      } catch (e) {
        results.push({ name: t.name, ok: false, ms: Date.now() - t0, error: e instanceof Error ? e.message : String(e) });
      } finally {
        clearTimeout(timer);
      }
      const last = results.at(-1)!;
      console.log(`${last.ok ? 'ok' : 'FAIL'} ${last.name} (${last.ms} ms)${last.error ? `: ${last.error}` : ''}`);
      this.write(results);
    }
    const failed = results.filter((r) => !r.ok).length;
    if (failed) throw new Error(`${failed} of ${results.length} in-host tests failed`);
  }

  private write(tests: TestResult[]): void {
    const out: SuiteResults = { tests, facts: this.facts };
    writeFileSync(this.resultsFile, JSON.stringify(out, null, 2));
  }
}

/** Polls `check` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function poll<T>(what: string, check: () => T | undefined | Promise<T | undefined>, timeoutMs = 10_000, everyMs = 50): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
