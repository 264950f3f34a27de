/**
 * Quoting file content in error messages, bounded: a message must stay short whatever
 * the file holds (a 900 KB tensor name once made a 900 KB error line).
 */
import { ERROR_MAX_QUOTED_CHARS } from './limits.js';

/**
 * `text` as a JSON string literal, cut to `maxChars` characters with a note of its full
 * length when longer: `"aaaa…"…(1000000 chars)`.
 *
 * @example
 * ```ts
 * quoteInput('x'.repeat(1e6)); // '"xxx…x"…(1000000 chars)' with 200 x's
 * ```
 */
export function quoteInput(text: string, maxChars: number = ERROR_MAX_QUOTED_CHARS): string {
  if (text.length <= maxChars) return JSON.stringify(text);
  return `${JSON.stringify(text.slice(0, maxChars))}…(${text.length} chars)`;
}

/**
 * Unquoted text cut the same way, for identifiers already printed bare (dotted
 * global names, dtype strings): `abc…(1000000 chars)`.
 *
 * @example
 * ```ts
 * clipInput('torch.' + 'x'.repeat(1e6)); // 'torch.xxx…(1000006 chars)'
 * ```
 */
export function clipInput(text: string, maxChars: number = ERROR_MAX_QUOTED_CHARS): string {
  return text.length <= maxChars ? text : `${text.slice(0, maxChars)}…(${text.length} chars)`;
}
