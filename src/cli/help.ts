/**
 * `tensio --help` and `tensio help COMMAND`: what tensio does, its commands, the
 * formats this build knows, and the exit codes.
 */
import { CLI_S3_HELP } from './s3-options.js';
import { BUILT_IN_FORMATS } from '../operations/index.js';
import { cliFormatTable } from './output.js';
import { CliUsageError, type CliCommand } from './types.js';

/** The exit-code table shared by the general and per-command help. */
export const CLI_EXIT_CODES_HELP = `Exit codes:
  0    success (verify: the file is sound; selftest: every check passed)
  1    bad input or a failed check; stderr has one line: tensio: CODE: message
  2    usage error: unknown command or option, missing or extra argument
  3    internal error (a bug in tensio): tensio: INTERNAL: message
  130  interrupted (Ctrl-C); no partial output file is left behind
`;

/** One line per registered format: name, extensions, read/write. */
export function cliFormatsHelp(): string {
  if (BUILT_IN_FORMATS.length === 0) return 'Formats: none registered in this build.\n';
  const rows = BUILT_IN_FORMATS.map((format) => [
    format.name,
    format.extensions.join(' ') || '(folder)',
    [format.open ? 'read' : '', format.createWriter ? 'write' : '', format.verify ? 'checksums' : ''].filter(Boolean).join(', '),
  ]);
  return `Formats:\n${cliFormatTable(rows)}`;
}

/**
 * The general help text.
 *
 * @example
 * ```ts
 * io.stdout(cliGeneralHelp(commands, '0.1.0'));
 * ```
 */
export function cliGeneralHelp(commands: readonly CliCommand[], version: string): string {
  const commandRows = [
    ...commands.map((command) => [command.name + commandArguments(command), command.summary]),
    ['help [COMMAND]', 'show help for a command (same as tensio COMMAND --help)'],
  ];
  return `tensio ${version}: tensor files for TypeScript. Inspect, convert and verify
safetensors, PyTorch, NumPy, NumPack and other tensor files with bounded memory,
atomic writes and no pickle ever executed.

Usage: tensio COMMAND [ARGUMENTS] [OPTIONS]

Commands:
${cliFormatTable(commandRows)}
Global options:
  -h, --help      show help
  -V, --version   print the version
      --debug     print stack traces for errors (or set TENSIO_DEBUG=1)
${CLI_S3_HELP}

${cliFormatsHelp()}
${CLI_EXIT_CODES_HELP}
Examples:
  tensio inspect model.safetensors
  tensio inspect model.safetensors --json | jq '.tensors | length'
  tensio convert pytorch_model.bin model.safetensors
  tensio verify model.safetensors && echo sound
  tensio convert s3://models/llama/model.safetensors.index.json s3://models/llama-npz/model.npz
  tensio selftest

Run 'tensio help COMMAND' for a command's arguments, options and examples.
`;
}

/** `' PATH'`, `' IN OUT'`: the arguments line a command's help starts with. */
function commandArguments(command: CliCommand): string {
  const usage = /^Usage: tensio \S+(.*?)(?: \[OPTIONS\])?$/m.exec(command.help);
  return usage?.[1] ?? '';
}

/**
 * The `help` subcommand: `tensio help` or `tensio help COMMAND`.
 *
 * @example
 * ```ts
 * await cliHelpCommand(commands, '0.1.0').run(['convert'], context);
 * ```
 */
export function cliHelpCommand(commands: readonly CliCommand[], version: string): CliCommand {
  return {
    name: 'help',
    summary: 'show help for a command',
    help: `Usage: tensio help [COMMAND]

Shows the general help, or one command's arguments, options, examples and exit codes.

Examples:
  tensio help
  tensio help convert
`,
    async run(args, context) {
      const wanted = args.filter((arg) => arg !== '--help' && arg !== '-h');
      if (wanted.length === 0) {
        context.stdout(cliGeneralHelp(commands, version));
        return 0;
      }
      if (wanted.length > 1) throw new CliUsageError(`help takes at most one command, got ${wanted.join(' ')}`);
      const command = commands.find((candidate) => candidate.name === wanted[0]);
      if (command) {
        context.stdout(command.help);
        return 0;
      }
      if (wanted[0] === 'help') {
        context.stdout(this.help);
        return 0;
      }
      throw new CliUsageError(`unknown command ${JSON.stringify(wanted[0])}; commands: ${commands.map((c) => c.name).join(', ')}`);
    },
  };
}
