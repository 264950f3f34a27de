/**
 * Argument parsing for subcommands, on `node:util` parseArgs (no dependency). Every
 * parse problem becomes a {@link CliUsageError} (exit 2) naming the subcommand.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { BUILT_IN_FORMATS } from '../operations/index.js';
import type { TensorFormat } from '../model/types.js';
import { CliUsageError } from './types.js';

/** Option definitions in parseArgs' shape. */
export type CliOptions = NonNullable<ParseArgsConfig['options']>;

/** Parsed arguments: option values by name, and the positionals in order. */
export interface CliParsedArgs {
  /** Strings, booleans, or lists of strings for options declared `multiple: true`. */
  values: Record<string, string | boolean | string[] | undefined>;
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
  const values = parsed.values as CliParsedArgs['values'];
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
      if (value === '' || (Array.isArray(value) && value.includes(''))) throw new CliUsageError(`option --${name} needs a value`, command);
    }
  }
  return { values, positionals: parsed.positionals, help };
}

/** parseArgs' messages are good but long; keep their first sentence. */
function describeParseError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('. To specify a positional')[0]!.replace(/\s+$/, '');
}

const BYTE_UNITS: Record<string, number> = {
  '': 1, b: 1,
  kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12,
  kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30, tib: 2 ** 40,
};

/**
 * Parses a byte size such as `5GB` (decimal, as huggingface_hub's `max_shard_size`),
 * `2GiB` (binary) or `1048576`; a bad value is a usage error (exit 2).
 *
 * @example
 * ```ts
 * cliParseByteSize('500MB', '--max-shard-size', 'convert'); // 500000000
 * ```
 */
export function cliParseByteSize(text: string, option: string, command: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const unit = match ? BYTE_UNITS[match[2]!.toLowerCase()] : undefined;
  const bytes = match && unit !== undefined ? Math.floor(Number(match[1]) * unit) : NaN;
  if (!Number.isSafeInteger(bytes) || bytes <= 0) {
    throw new CliUsageError(`${option} needs a positive size such as 500MB, 5GB or 2GiB, got ${JSON.stringify(text)}`, command);
  }
  return bytes;
}

/**
 * Refuses (usage error, exit 2) a flag that maps to an input-format option the
 * detected format does not understand, instead of ignoring it silently. `flags` maps
 * each CLI flag to the `formatOptions` key it sets.
 *
 * @example
 * ```ts
 * cliRefuseIgnoredOptions(values, { key: 'key' }, format, 'model.npz', 'inspect');
 * ```
 */
export function cliRefuseIgnoredOptions(values: CliParsedArgs['values'], flags: Readonly<Record<string, string>>, format: TensorFormat, input: string, command: string): void {
  for (const [flag, option] of Object.entries(flags)) {
    if (values[flag] === undefined || values[flag] === false) continue;
    if (format.openOptionNames?.includes(option)) continue;
    const takers = BUILT_IN_FORMATS.filter((candidate) => candidate.openOptionNames?.includes(option)).map((candidate) => candidate.name);
    throw new CliUsageError(`--${flag} applies to ${takers.length > 0 ? takers.join(', ') : 'no'} input only; ${input} is ${format.name}`, command);
  }
}

/** The values of a `multiple: true` string option (empty when not given). */
export function cliStringList(value: string | boolean | string[] | undefined): string[] {
  return Array.isArray(value) ? value : typeof value === 'string' ? [value] : [];
}
