/**
 * Quoting file content in error messages, bounded: a message must stay short whatever
 * the file holds (a 900 KB tensor name once made a 900 KB error line).
 */
import { ERROR_MAX_MESSAGE_CHARS, ERROR_MAX_QUOTED_CHARS } from './limits.js';

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
  // Messages about a value that should have been a string get whatever came (from plain JavaScript callers).
  if (typeof text !== 'string') return quoteValue(text, maxChars);
  if (text.length <= maxChars) return JSON.stringify(text);
  return `${JSON.stringify(text.slice(0, maxChars))}…(${text.length} chars)`;
}

/**
 * Any value from a file as JSON (strings quoted), cut like {@link quoteInput}: for
 * shapes, key lists and parsed literals quoted in messages.
 *
 * @example
 * ```ts
 * quoteValue([1, 2]); // '[1,2]'
 * quoteValue(null); // 'null'
 * ```
 */
export function quoteValue(value: unknown, maxChars: number = ERROR_MAX_QUOTED_CHARS): string {
  if (typeof value === 'string') return quoteInput(value, maxChars);
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value); // bigints, cycles
  }
  return clipInput(text, maxChars);
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

/**
 * The safety net under every `TensioError` message: a message longer than
 * `ERROR_MAX_MESSAGE_CHARS` gets each long quoted string cut to `ERROR_MAX_QUOTED_CHARS`,
 * then, if still too long, its middle replaced by `…(N chars)…`. Sites that quote file
 * content should use {@link quoteInput} anyway; this catches the ones that do not.
 *
 * @example
 * ```ts
 * boundMessage(`bad name "${'x'.repeat(1e6)}"`).length < 3000; // true
 * ```
 */
export function boundMessage(message: string): string {
  if (message.length <= ERROR_MAX_MESSAGE_CHARS) return message;
  const cut = message.replace(/"((?:[^"\\]|\\.)*)"/g, (literal: string, body: string) => (body.length > ERROR_MAX_QUOTED_CHARS ? `"${body.slice(0, ERROR_MAX_QUOTED_CHARS)}"…(${body.length} chars)` : literal));
  if (cut.length <= ERROR_MAX_MESSAGE_CHARS) return cut;
  const tail = 300;
  return `${cut.slice(0, ERROR_MAX_MESSAGE_CHARS - tail)}…(${cut.length} chars in all)…${cut.slice(-tail)}`;
}
