// What a mutator is. ADDING AN INPUT KIND is a one-file job: write fuzz/mutators/<kind>.ts whose
// default export is a Mutator (see the existing ones), and run `npm run fuzz`: the build bundles
// every file in fuzz/mutators/ and the campaign runs them in turn. A mutator copies the seed inputs
// it needs (fuzz/seeds.ts builds them; add one there if the kind needs a new seed) into its case
// folder, damages one of them with `rng`, and returns the `ken` command that reads it.
import type { Rng } from './rng';
import type { Seeds } from './seeds';

export interface FuzzCase {
  /** Arguments of `ken` (relative paths resolve in the case folder). */
  args: string[];
  /** File names (or other words) a clean error line may name: the inputs this case damaged. */
  names: string[];
  /** What was done, for the reproducer. */
  note: string;
}

export interface MutatorContext {
  rng: Rng;
  /** An empty folder for this case's files; the command runs there. */
  dir: string;
  seeds: Seeds;
  /** false: build the case from the seeds unchanged (the campaign checks each kind's seed succeeds). */
  mutate: boolean;
}

export interface Mutator {
  /** Short name shown in the summary table. */
  kind: string;
  /** What it damages and through which command. */
  description: string;
  make(ctx: MutatorContext): FuzzCase | Promise<FuzzCase>;
}
