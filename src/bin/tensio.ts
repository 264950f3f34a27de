#!/usr/bin/env node
/**
 * The `tensio` executable: wires the process to {@link main} and is the only place
 * that calls `process.exit`. Ctrl-C aborts the running command (writers throw their
 * temporary files away) and exits 130; a second Ctrl-C exits at once.
 */
import { cliDrainOutput } from '../cli/drain.js';
import { main } from '../cli/main.js';

const controller = new AbortController();
let interrupts = 0;
const onInterrupt = (): void => {
  interrupts += 1;
  if (interrupts > 1) process.exit(130);
  controller.abort(new Error('interrupted'));
};
process.on('SIGINT', onInterrupt);
process.on('SIGTERM', onInterrupt);

// `tensio inspect big.safetensors | head` closes stdout early: stop quietly, as Unix tools do.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});
// A closed stderr must not turn into an uncaught error: the exit code still tells the story.
process.stderr.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
});

const code = await main(process.argv.slice(2), {
  stdout: (text) => {
    process.stdout.write(text);
  },
  stderr: (text) => {
    process.stderr.write(text);
  },
  isTTY: Boolean(process.stderr.isTTY),
  env: process.env,
  cwd: process.cwd(),
  signal: controller.signal,
  ...(process.stderr.columns ? { columns: process.stderr.columns } : {}),
});

// Let piped stdout and stderr drain before exiting: process.exit does not wait for them.
await cliDrainOutput([process.stdout, process.stderr]);
process.exit(code);
