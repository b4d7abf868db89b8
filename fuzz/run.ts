// `npm run fuzz -- --cases N --seed S [--jobs J] [--kinds a,b] [--timeout-ms T] [--rss-mb M] [--out DIR] [--keep]`
//
// The fuzz campaign: case i (of seed S) is built by mutator i mod K (fuzz/mutators/*.ts, K kinds)
// from valid seed inputs with a random generator seeded by (S, i), so a campaign is reproducible case
// by case whatever runs in parallel. Each case is one `ken` child process, classified by
// fuzz/harness.ts; every case that is not clean or a success is kept under <out>/repro/ with
// repro.json and repro.sh. Prints a table per kind and writes <out>/summary.md and summary.json.
// Exits 1 when any case is internal, vague, hang, crash or memory.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync, cpSync, existsSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { BAD, STATUSES, runCase, type Outcome, type Status } from './harness';
import { Rng } from './rng';
import { buildSeeds } from './seeds';
import type { FuzzCase, Mutator } from './types';

const root = ((): string => {
  let d = __dirname;
  while (!existsSync(join(d, 'package.json'))) d = dirname(d);
  return d;
})();

function loadMutators(only: string[] | undefined): Mutator[] {
  const dir = join(__dirname, 'mutators');
  const all = readdirSync(dir)
    .filter((f) => f.endsWith('.js'))
    .sort()
    .map((f) => (require(join(dir, f)) as { default: Mutator }).default);
  const picked = only ? all.filter((m) => only.includes(m.kind)) : all;
  if (only && picked.length !== only.length) throw new Error(`unknown kind in --kinds (have: ${all.map((m) => m.kind).join(', ')})`);
  return picked;
}

interface Done {
  index: number;
  kind: string;
  note: string;
  args: string[];
  outcome: Outcome;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      cases: { type: 'string', default: '200' },
      seed: { type: 'string', default: '1' },
      start: { type: 'string', default: '0' },
      jobs: { type: 'string' },
      kinds: { type: 'string' },
      'timeout-ms': { type: 'string', default: '30000' },
      'rss-mb': { type: 'string', default: '1024' },
      out: { type: 'string' },
      keep: { type: 'boolean', default: false },
      quiet: { type: 'boolean', default: false },
    },
  });
  const cases = Number(values.cases);
  const seed = Number(values.seed);
  const start = Number(values.start);
  const jobs = Math.max(1, Number(values.jobs ?? availableParallelism()));
  const limits = { timeoutMs: Number(values['timeout-ms']), rssMb: Number(values['rss-mb']) };
  const mutators = loadMutators(values.kinds?.split(','));
  const out = resolve(values.out ?? join(root, 'fuzz-output', `seed${seed}-${start}-${start + cases}`));
  rmSync(out, { recursive: true, force: true });
  mkdirSync(join(out, 'repro'), { recursive: true });
  const cli = join(root, 'dist', 'cli.js');
  const probe = join(root, 'fuzz', 'rss-probe.cjs');
  const work = mkdtempSync(join(out, 'cases-'));
  // child processes: one KEN thread each (the campaign runs `jobs` of them), a short tokenizer budget
  const env: NodeJS.ProcessEnv = { ...process.env, KEN_TOKENIZE_LINE_MS: '2000', NO_COLOR: '1' };
  delete env['KEN_DEBUG'];
  const started = Date.now();
  const seeds = await buildSeeds(join(out, 'seeds'), cli);

  // Each kind's unchanged seed must succeed, or its mutations would test nothing.
  for (const m of mutators) {
    const dir = mkdtempSync(join(work, `seed-${m.kind}-`));
    const c = await m.make({ rng: new Rng(seed, -1), dir, seeds, mutate: false });
    const o = await runCase(cli, probe, c, dir, limits, env);
    if (o.status !== 'success') throw new Error(`the seed of ${m.kind} does not succeed (${o.status}, ${o.why}): ken ${c.args.join(' ')}\n${o.stderr}`);
    rmSync(dir, { recursive: true, force: true });
  }

  const results: Done[] = [];
  let next = 0;
  let finished = 0;
  const worker = async (): Promise<void> => {
    for (;;) {
      const i = next++;
      if (i >= cases) return;
      const index = start + i;
      const m = mutators[index % mutators.length]!;
      const dir = join(work, `case-${index}`);
      mkdirSync(dir);
      let c: FuzzCase;
      try {
        c = await m.make({ rng: new Rng(seed, index), dir, seeds, mutate: true });
      } catch (e) {
        throw new Error(`mutator ${m.kind} failed on case ${index}: ${e instanceof Error ? e.stack : String(e)}`);
      }
      const outcome = await runCase(cli, probe, c, dir, limits, env);
      results.push({ index, kind: m.kind, note: c.note, args: c.args, outcome });
      if (BAD.has(outcome.status) || values.keep) {
        const dest = join(out, 'repro', `${outcome.status}-${m.kind}-${index}`);
        // special files (a FIFO the case made) are re-made by repro.sh's case, not copied
        cpSync(dir, dest, { recursive: true, filter: (src) => !statSync(src).isFIFO() && !statSync(src).isSocket() });
        writeFileSync(join(dest, 'repro.json'), JSON.stringify({ seed, case: index, kind: m.kind, note: c.note, args: c.args, status: outcome.status, why: outcome.why, code: outcome.code, signal: outcome.signal, ms: outcome.ms, rssMb: Math.round(outcome.rssMb), stderr: outcome.stderr.slice(0, 4000) }, null, 2));
        writeFileSync(join(dest, 'repro.sh'), `#!/bin/sh\n# ${m.kind} case ${index} of seed ${seed}: ${outcome.status} (${outcome.why})\ncd "$(dirname "$0")" && exec node ${JSON.stringify(cli)} ${c.args.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ')}\n`, { mode: 0o755 });
        if (!values.quiet) process.stderr.write(`case ${index} ${m.kind}: ${outcome.status} (${outcome.why}) ${outcome.stderr.split('\n')[0]!.slice(0, 160)}\n`);
      }
      rmSync(dir, { recursive: true, force: true });
      if (++finished % 100 === 0 && !values.quiet) process.stderr.write(`fuzz: ${finished}/${cases} cases, ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
    }
  };
  await Promise.all(Array.from({ length: jobs }, () => worker()));
  rmSync(work, { recursive: true, force: true });
  const seconds = (Date.now() - started) / 1000;

  // summary
  const kinds = mutators.map((m) => m.kind);
  const count = (k: string | undefined, s: Status): number => results.filter((r) => (k === undefined || r.kind === k) && r.outcome.status === s).length;
  const maxOf = (k: string | undefined, f: (o: Outcome) => number): number => Math.max(0, ...results.filter((r) => k === undefined || r.kind === k).map((r) => f(r.outcome)));
  const header = ['kind', 'cases', ...STATUSES, 'max s', 'max RSS MB'];
  const row = (k: string | undefined): string[] => [
    k ?? '**total**', String(results.filter((r) => k === undefined || r.kind === k).length), ...STATUSES.map((s) => String(count(k, s))),
    (maxOf(k, (o) => o.ms) / 1000).toFixed(1), maxOf(k, (o) => o.rssMb).toFixed(0),
  ];
  const table = [header, header.map(() => '---'), ...kinds.map((k) => row(k)), row(undefined)].map((r) => `| ${r.join(' | ')} |`).join('\n');
  const bad = results.filter((r) => BAD.has(r.outcome.status)).length;
  const command = `npm run fuzz -- --cases ${cases} --seed ${seed}${start ? ` --start ${start}` : ''} --jobs ${jobs}`;
  const cpu = results.reduce((a, r) => a + r.outcome.cpuS, 0);
  const md = `${command}\n\n${table}\n\n${results.length} cases in ${seconds.toFixed(0)} s (${jobs} parallel; the cases' processes used ${cpu.toFixed(0)} CPU s), time limit ${limits.timeoutMs / 1000} s, memory bound ${limits.rssMb} MB; ${bad} not clean${bad ? `, reproducers in ${join(out, 'repro')}` : ''}\n`;
  writeFileSync(join(out, 'summary.md'), md);
  // every case: index, kind, class, exit code, ms, peak RSS MB, what was done, first line of output
  writeFileSync(join(out, 'cases.tsv'), results.sort((a, b) => a.index - b.index).map((r) => [r.index, r.kind, r.outcome.status, r.outcome.code, r.outcome.ms, Math.round(r.outcome.rssMb), r.note.replace(/\s+/g, ' ').slice(0, 120), r.outcome.stderr.split('\n')[0]!.replace(/\t/g, ' ').slice(0, 400)].join('\t')).join('\n') + '\n');
  writeFileSync(join(out, 'summary.json'), JSON.stringify({
    seed, start, cases: results.length, jobs, seconds, cpuSeconds: cpu, limits,
    byKind: Object.fromEntries(kinds.map((k) => [k, Object.fromEntries(STATUSES.map((s) => [s, count(k, s)]))])),
    total: Object.fromEntries(STATUSES.map((s) => [s, count(undefined, s)])),
    maxMs: maxOf(undefined, (o) => o.ms), maxRssMb: maxOf(undefined, (o) => o.rssMb),
  }, null, 2));
  process.stdout.write(md);
  return bad ? 1 : 0;
}

main().then(
  (code) => (process.exitCode = code),
  (e: unknown) => {
    process.stderr.write(`fuzz: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
    process.exitCode = 2;
  },
);
