/**
 * The tensio command line: `main(argv, io)` dispatches to a subcommand and turns every
 * error into one line on stderr and an exit code. It never calls `process.exit`
 * (the bin shim does), so tests run it in-process.
 */
import { isTensioError } from '../core/errors.js';
import { convertCommand } from './convert.js';
import { diffCommand } from './diff.js';
import { cliGeneralHelp, cliHelpCommand } from './help.js';
import { inspectCommand } from './inspect.js';
import { editCommand } from './edit.js';
import { selftestCommand } from './selftest.js';
import { CLI_EXIT, CliUsageError, cliContext, type CliCommand, type CliContext, type CliIO } from './types.js';
import { cliVersion } from './version.js';
import { verifyCommand } from './verify.js';
import { idCommand } from './id.js';
import { compressCommand, decompressCommand } from './compress.js';
import { mergeCommand } from './merge.js';
import { cliApplyS3Options } from './s3-options.js';
import { viewCommand } from './view.js';

export type { CliIO } from './types.js';
export { CLI_EXIT } from './types.js';

/** The subcommands, in the order help lists them. */
export const CLI_COMMANDS: readonly CliCommand[] = [inspectCommand, convertCommand, editCommand, verifyCommand, diffCommand, idCommand, compressCommand, decompressCommand, mergeCommand, viewCommand, selftestCommand];

/** One line: messages from deep inside may carry newlines. */
function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

/** Prints an error the way the CLI promises and returns its exit code. */
function reportError(error: unknown, context: CliContext): number {
  const stack = context.debug && error instanceof Error && error.stack ? `${error.stack}\n` : '';
  if (context.signal?.aborted && (isTensioError(error, 'ABORTED') || (error instanceof Error && error.name === 'AbortError') || error === context.signal.reason)) {
    context.stderr(`tensio: ABORTED: interrupted; no partial output was left\n${stack}`);
    return CLI_EXIT.interrupted;
  }
  if (error instanceof CliUsageError) {
    const hint = error.command ? `tensio ${error.command} --help` : 'tensio --help';
    context.stderr(`tensio: USAGE: ${oneLine(error.message)}\nRun '${hint}' for usage.\n${stack}`);
    return CLI_EXIT.usage;
  }
  if (isTensioError(error)) {
    context.stderr(`tensio: ${error.code}: ${oneLine(error.message)}\n${stack}`);
    return CLI_EXIT.failure;
  }
  const message = error instanceof Error ? error.message : String(error);
  context.stderr(`tensio: INTERNAL: ${oneLine(message)}\n${stack || 'This is a bug in tensio; run again with --debug for a stack trace.\n'}`);
  return CLI_EXIT.internal;
}

/** Finds the subcommand and runs it. */
async function dispatch(args: readonly string[], context: CliContext): Promise<number> {
  const version = cliVersion();
  const helpCommand = cliHelpCommand(CLI_COMMANDS, version);
  const [first, ...rest] = args;
  if (first === undefined) {
    context.stderr(cliGeneralHelp(CLI_COMMANDS, version));
    return CLI_EXIT.usage;
  }
  if (first === '--help' || first === '-h') {
    if (rest.length > 0) return helpCommand.run(rest, context);
    context.stdout(cliGeneralHelp(CLI_COMMANDS, version));
    return CLI_EXIT.ok;
  }
  if (first === '--version' || first === '-V') {
    if (rest.length > 0) throw new CliUsageError(`--version takes no arguments, got ${rest.join(' ')}`);
    context.stdout(`tensio ${version}\n`);
    return CLI_EXIT.ok;
  }
  if (first.startsWith('-')) throw new CliUsageError(`unknown option ${JSON.stringify(first)}; a command comes first`);
  if (first === 'help') return helpCommand.run(rest, context);
  const command = CLI_COMMANDS.find((candidate) => candidate.name === first);
  if (!command) {
    throw new CliUsageError(`unknown command ${JSON.stringify(first)}; commands: ${[...CLI_COMMANDS.map((c) => c.name), 'help'].join(', ')}`);
  }
  return command.run(rest, context);
}

/**
 * Runs the tensio CLI and returns its exit code: 0 success, 1 bad input or failed
 * check, 2 usage error, 3 internal error, 130 interrupted.
 *
 * @example
 * ```ts
 * let out = '';
 * const code = await main(['inspect', 'model.safetensors', '--json'], {
 *   stdout: (text) => { out += text; }, stderr: () => {}, isTTY: false, env: {}, cwd: process.cwd(),
 * });
 * ```
 */
export async function main(argv: string[], io: CliIO): Promise<number> {
  const separator = argv.indexOf('--');
  const options = separator >= 0 ? argv.slice(0, separator) : argv;
  const debug = options.includes('--debug') || /^(1|true|yes)$/i.test(io.env.TENSIO_DEBUG ?? '');
  const args = [...options.filter((arg) => arg !== '--debug'), ...(separator >= 0 ? argv.slice(separator) : [])];
  let wroteStdout = false;
  const context = cliContext({ ...io, stdout: (text) => { wroteStdout = true; io.stdout(text); } }, debug);
  try {
    return await dispatch(cliApplyS3Options(args, io.env), context);
  } catch (error) {
    // A script that asked for --json still gets one JSON object on stdout when the
    // command failed before printing its own, usage errors included (the stderr line
    // is printed as always).
    if (!wroteStdout && args.includes('--json') && !context.signal?.aborted) {
      if (isTensioError(error)) {
        context.stdout(`${JSON.stringify({ error: { code: error.code, message: error.message, format: error.format, ...(error.path !== undefined ? { path: error.path } : {}) } })}\n`);
      } else if (error instanceof CliUsageError) {
        context.stdout(`${JSON.stringify({ error: { code: 'USAGE', message: oneLine(error.message), ...(error.command ? { command: error.command } : {}) } })}\n`);
      }
    }
    return reportError(error, context);
  }
}
