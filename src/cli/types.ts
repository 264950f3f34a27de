/**
 * What the CLI needs from its surroundings ({@link CliIO}) and what each subcommand
 * gets to run with ({@link CliContext}). Tests pass their own `CliIO` to capture output.
 */
import { isAbsolute, resolve } from 'node:path';
import { isHttpUrl, localPathOf } from '../storage/source-input.js';

/**
 * The CLI's window on the world. The bin shim wires it to the process; tests capture
 * the text in strings.
 *
 * @example
 * ```ts
 * let out = '';
 * const io: CliIO = { stdout: (t) => { out += t; }, stderr: () => {}, isTTY: false, env: {}, cwd: process.cwd() };
 * const code = await main(['inspect', 'model.safetensors'], io);
 * ```
 */
export interface CliIO {
  /** Writes text to standard output (text carries its own newlines). */
  stdout(text: string): void;
  /** Writes text to standard error. */
  stderr(text: string): void;
  /** True when stderr is a terminal: progress bars are drawn only then. */
  isTTY: boolean;
  env: Readonly<Record<string, string | undefined>>;
  /** Folder relative paths are resolved against. */
  cwd: string;
  /** Fires on Ctrl-C; the command stops, leaves no partial file and exits 130. */
  signal?: AbortSignal;
  /** Terminal width for the progress bar; default 80. */
  columns?: number;
  /** Milliseconds clock; default `performance.now`. */
  now?: () => number;
}

/** Everything a subcommand runs with: the IO plus resolved defaults. */
export interface CliContext extends CliIO {
  now: () => number;
  /** Print stack traces for errors (`--debug` or `TENSIO_DEBUG=1`). */
  debug: boolean;
  /** A user-given path resolved against `cwd`; an `http(s)://` URL is returned as it is. */
  resolvePath(path: string): string;
}

/** Builds the {@link CliContext} for one run. */
export function cliContext(io: CliIO, debug: boolean): CliContext {
  return {
    ...io,
    now: io.now ?? (() => performance.now()),
    debug,
    // http(s) URLs pass through untouched (they are read remotely); file: URLs become paths.
    resolvePath: (path: string) => {
      const local = localPathOf(path);
      if (isHttpUrl(path) || local === undefined) return path; // read remotely, or refused by name later
      return isAbsolute(local) ? local : resolve(io.cwd, local);
    },
  };
}

/**
 * A mistake in how the command was called (unknown option, missing argument): exit
 * code 2 and a hint to `--help`, never a stack trace.
 *
 * @example
 * ```ts
 * throw new CliUsageError('convert needs IN and OUT', 'convert');
 * ```
 */
export class CliUsageError extends Error {
  /** The subcommand whose help the hint points to, if any. */
  readonly command: string | undefined;

  constructor(message: string, command?: string) {
    super(message);
    this.name = 'CliUsageError';
    this.command = command;
  }
}

/** Exit codes, documented in `tensio --help` and the README. */
export const CLI_EXIT = {
  /** Success (for `verify`: the file is sound). */
  ok: 0,
  /** Bad input or a failed check: a `tensio: CODE: message` line on stderr. */
  failure: 1,
  /** The command was called wrongly. */
  usage: 2,
  /** A bug in tensio: `tensio: INTERNAL: message`. */
  internal: 3,
  /** Interrupted by Ctrl-C (SIGINT); no partial output is left. */
  interrupted: 130,
} as const;

/** One subcommand: its name, one-line summary, help text and how to run it. */
export interface CliCommand {
  readonly name: string;
  readonly summary: string;
  /** Full help shown by `tensio help NAME` and `tensio NAME --help`. */
  readonly help: string;
  run(args: readonly string[], context: CliContext): Promise<number>;
}
