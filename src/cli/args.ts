/**
 * Argument parsing for subcommands, on `node:util` parseArgs (no dependency). Every
 * parse problem becomes a {@link CliUsageError} (exit 2) naming the subcommand.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { CliUsageError } from './types.js';

/** Option definitions in parseArgs' shape. */
export type CliOptions = NonNullable<ParseArgsConfig['options']>;

/** Parsed arguments: option values by name, and the positionals in order. */
export interface CliParsedArgs {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

/**
 * Parses one subcommand's arguments strictly. `--help`/`-h` is always accepted.
 * `positionals` is `[min, max]`: the counts of arguments the command takes.
 *
 * @example
 * ```ts
 * const { values, positionals } = cliParseArgs('inspect', args, { json: { type: 'boolean' } }, [1, 1]);
 * ```
 */
export function cliParseArgs(command: string, args: readonly string[], options: CliOptions, positionals: readonly [number, number]): CliParsedArgs & { help: boolean } {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: [...args],
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    throw new CliUsageError(describeParseError(error), command);
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  const help = values.help === true;
  if (!help) {
    const [min, max] = positionals;
    if (parsed.positionals.length < min) {
      throw new CliUsageError(`${command} needs ${min === max ? min : `at least ${min}`} argument${min === 1 ? '' : 's'}, got ${parsed.positionals.length}`, command);
    }
    if (parsed.positionals.length > max) {
      throw new CliUsageError(`${command} takes ${min === max ? max : `at most ${max}`} argument${max === 1 ? '' : 's'}, got ${parsed.positionals.length}: ${parsed.positionals.join(' ')}`, command);
    }
    for (const [name, value] of Object.entries(values)) {
      if (value === '') throw new CliUsageError(`option --${name} needs a value`, command);
    }
  }
  return { values, positionals: parsed.positionals, help };
}

/** parseArgs' messages are good but long; keep their first sentence. */
function describeParseError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('. To specify a positional')[0]!.replace(/\s+$/, '');
}
