// The `ken` subcommands: argument checks, then one call into the core each.
import { evalCommand } from './eval';
import { graphCommand } from './graph';
import type { Command } from './command';
import { prune } from './prune';
import { reportCommand } from './report';
import { restore } from './restore';
import { sweepCommand } from './sweep';
import { vizCommand } from './viz';
import { watch } from './watch';

export const commands: Record<string, Command> = { prune, eval: evalCommand, sweep: sweepCommand, restore, report: reportCommand, watch, graph: graphCommand, viz: vizCommand };
