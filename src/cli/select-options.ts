/**
 * The CLI's tensor selection and renaming options, shared by `convert` (and any
 * command that writes): `--tensors` (names or globs), `--rename FROM=TO`,
 * `--strip-prefix PREFIX`, `--metadata KEY=VALUE`.
 */
import { globToRegExp, isGlob } from '../model/select.js';
import { CliUsageError } from './types.js';

/** `--tensors a,b,'h.0.*'` as a list; undefined when not given. */
export function cliParseTensorList(value: string | undefined, command: string): string[] | undefined {
  if (value === undefined) return undefined;
  const names = value.split(',').map((name) => name.trim()).filter((name) => name.length > 0);
  if (names.length === 0) throw new CliUsageError('--tensors needs at least one name', command);
  return names;
}

/** A rename: which names it applies to, and what it makes of them. */
interface RenameRule {
  text: string;
  apply(name: string): string | undefined;
  used: boolean;
}

/**
 * Builds the rename function from `--strip-prefix` and `--rename FROM=TO` rules.
 * `FROM` is an exact name, or a glob whose one `*` is carried into `TO`'s `*`
 * (`'model.*=*'`). The first rule that applies wins; `--strip-prefix` comes first.
 * `unused()` lists rules that matched no tensor, for a warning.
 *
 * @example
 * ```ts
 * const { rename } = cliRenameRules(['model.*=*'], undefined, 'convert');
 * rename('model.encoder.weight'); // 'encoder.weight'
 * ```
 */
export function cliRenameRules(renames: readonly string[], stripPrefix: string | undefined, command: string): { rename: ((name: string) => string) | undefined; unused(): string[] } {
  const rules: RenameRule[] = [];
  if (stripPrefix !== undefined) {
    rules.push({ text: `--strip-prefix ${stripPrefix}`, used: false, apply: (name) => (name.startsWith(stripPrefix) && name.length > stripPrefix.length ? name.slice(stripPrefix.length) : undefined) });
  }
  for (const text of renames) {
    const at = text.indexOf('=');
    if (at <= 0) throw new CliUsageError(`--rename needs FROM=TO (e.g. 'model.*=*' or old.weight=new.weight), got ${JSON.stringify(text)}`, command);
    const from = text.slice(0, at);
    const to = text.slice(at + 1);
    if (!isGlob(from)) {
      rules.push({ text: `--rename ${text}`, used: false, apply: (name) => (name === from ? to : undefined) });
      continue;
    }
    const stars = from.split('*').length - 1;
    if (stars !== 1 || from.includes('?') || to.split('*').length - 1 > 1) {
      throw new CliUsageError(`--rename ${JSON.stringify(text)}: a pattern takes exactly one * (carried into TO's *, e.g. 'model.*=*')`, command);
    }
    const [before, after] = from.split('*') as [string, string];
    const regex = globToRegExp(from);
    rules.push({
      text: `--rename ${text}`,
      used: false,
      apply: (name) => (regex.test(name) ? to.replace('*', name.slice(before.length, name.length - after.length)) : undefined),
    });
  }
  if (rules.length === 0) return { rename: undefined, unused: () => [] };
  return {
    rename(name) {
      for (const rule of rules) {
        const renamed = rule.apply(name);
        if (renamed !== undefined) {
          rule.used = true;
          return renamed;
        }
      }
      return name;
    },
    unused: () => rules.filter((rule) => !rule.used).map((rule) => rule.text),
  };
}

/** `--metadata KEY=VALUE` entries as an object (values are strings, as safetensors keeps them). */
export function cliParseMetadata(entries: readonly string[], command: string): Record<string, string> | undefined {
  if (entries.length === 0) return undefined;
  const metadata: Record<string, string> = {};
  for (const entry of entries) {
    const at = entry.indexOf('=');
    if (at <= 0) throw new CliUsageError(`--metadata needs KEY=VALUE (e.g. format=pt), got ${JSON.stringify(entry)}`, command);
    metadata[entry.slice(0, at)] = entry.slice(at + 1);
  }
  return metadata;
}
