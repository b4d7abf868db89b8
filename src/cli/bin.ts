// Entry of dist/cli.js: runs the `ken` command.
import { runCli } from './main';

runCli();
