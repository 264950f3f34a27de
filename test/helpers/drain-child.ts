/**
 * Child process for the stdio-drain test: writes `argv[2]` bytes to stderr and as many
 * to stdout, drains (unless `argv[3]` is `nodrain`) and exits with code 3, as the bin does.
 */
import { cliDrainOutput } from '../../src/cli/drain.js';

const bytes = Number(process.argv[2]);
process.stderr.write('e'.repeat(bytes));
process.stdout.write('o'.repeat(bytes));
if (process.argv[3] !== 'nodrain') await cliDrainOutput([process.stdout, process.stderr]);
process.exit(3);
