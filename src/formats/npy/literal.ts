/**
 * A tiny parser for the Python literals a `.npy` header holds (a dict of strings,
 * bools, ints and tuples), so the header is read without any `eval`. Accepts what
 * `ast.literal_eval` accepts for these types, plus Python 2's `3L` ints.
 */
import { errorFactory } from '../../core/errors.js';
import { quoteInput } from '../../core/quote.js';

/** A parsed Python literal. Ints are bigint so nothing is rounded. */
export type NpyLiteral = string | bigint | boolean | null | NpyLiteralTuple | NpyLiteral[] | NpyLiteralDict;

/** A Python tuple (kept apart from lists: numpy requires a tuple shape). */
export interface NpyLiteralTuple {
  readonly kind: 'tuple';
  readonly items: NpyLiteral[];
}

/** A Python dict; keys in insertion order. */
export interface NpyLiteralDict {
  readonly kind: 'dict';
  readonly entries: [NpyLiteral, NpyLiteral][];
}

/** Deepest nesting accepted; a header needs 3 (dict, list, tuple) for structured dtypes. */
const MAX_DEPTH = 32;

/**
 * Parses one Python literal filling `text` (surrounding whitespace allowed). Throws
 * `INVALID_HEADER` on anything else (names, calls, operators, trailing text).
 *
 * @example
 * ```ts
 * npyParseLiteral("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }");
 * ```
 */
export function npyParseLiteral(text: string, format = 'npy'): NpyLiteral {
  const fail = errorFactory(format);
  let at = 0;

  const bad = (what: string): never => fail('INVALID_HEADER', `${format}: header is not a Python literal: ${what} at character ${at}`);

  function skipSpace(): void {
    while (at < text.length && (text[at] === ' ' || text[at] === '\t' || text[at] === '\n' || text[at] === '\r')) at++;
  }

  function parseString(): string {
    const quote = text[at]!;
    at++;
    let out = '';
    while (at < text.length && text[at] !== quote) {
      const ch = text[at]!;
      if (ch === '\n') bad('newline inside a string');
      if (ch === '\\') {
        const next = text[at + 1];
        const simple: Record<string, string> = { '\\': '\\', "'": "'", '"': '"', n: '\n', t: '\t', r: '\r', '0': '\0' };
        if (next !== undefined && simple[next] !== undefined) {
          out += simple[next];
          at += 2;
          continue;
        }
        bad(`unsupported escape \\${next ?? ''}`);
      }
      out += ch;
      at++;
    }
    if (at >= text.length) bad('unterminated string');
    at++;
    return out;
  }

  function parseInt(): bigint {
    const start = at;
    if (text[at] === '-' || text[at] === '+') at++;
    const digitsStart = at;
    while (at < text.length && text[at]! >= '0' && text[at]! <= '9') at++;
    if (at === digitsStart) bad('expected digits');
    const digits = text.slice(start, at);
    if (text[at] === 'L' || text[at] === 'l') at++; // Python 2 long
    if (digits.replace(/^[-+]/, '').length > 1 && digits.replace(/^[-+]/, '').startsWith('0')) bad('integer with a leading zero');
    return BigInt(digits);
  }

  function parseSequence(close: string, depth: number): { items: NpyLiteral[]; sawComma: boolean } {
    const items: NpyLiteral[] = [];
    let sawComma = false;
    at++;
    skipSpace();
    while (text[at] !== close) {
      items.push(parseValue(depth + 1));
      skipSpace();
      if (text[at] === ',') {
        sawComma = true;
        at++;
        skipSpace();
      } else if (text[at] !== close) bad(`expected "," or "${close}"`);
    }
    at++;
    return { items, sawComma };
  }

  function parseValue(depth: number): NpyLiteral {
    if (depth > MAX_DEPTH) bad(`nesting deeper than ${MAX_DEPTH}`);
    skipSpace();
    const ch = text[at];
    if (ch === undefined) return bad('unexpected end');
    if (ch === "'" || ch === '"') return parseString();
    if ((ch >= '0' && ch <= '9') || ch === '-' || ch === '+') return parseInt();
    if (ch === '(') {
      const { items, sawComma } = parseSequence(')', depth);
      // `(x)` is just x in Python; only a comma (or `()`) makes a tuple.
      if (items.length === 1 && !sawComma) return items[0]!;
      return { kind: 'tuple', items };
    }
    if (ch === '[') return parseSequence(']', depth).items;
    if (ch === '{') {
      at++;
      const entries: [NpyLiteral, NpyLiteral][] = [];
      skipSpace();
      while (text[at] !== '}') {
        const key = parseValue(depth + 1);
        skipSpace();
        if (text[at] !== ':') bad('expected ":"');
        at++;
        const value = parseValue(depth + 1);
        entries.push([key, value]);
        skipSpace();
        if (text[at] === ',') {
          at++;
          skipSpace();
        } else if (text[at] !== '}') bad('expected "," or "}"');
      }
      at++;
      return { kind: 'dict', entries };
    }
    for (const [word, value] of [['True', true], ['False', false], ['None', null]] as const) {
      if (text.startsWith(word, at) && !/[A-Za-z0-9_]/.test(text[at + word.length] ?? '')) {
        at += word.length;
        return value;
      }
    }
    return bad(`unexpected ${quoteInput(ch)}`);
  }

  const value = parseValue(0);
  skipSpace();
  if (at !== text.length) bad('text after the literal');
  return value;
}

/** True for a parsed tuple. */
export function npyIsLiteralTuple(value: NpyLiteral): value is NpyLiteralTuple {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && value.kind === 'tuple';
}

/** True for a parsed dict. */
export function npyIsLiteralDict(value: NpyLiteral): value is NpyLiteralDict {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && value.kind === 'dict';
}
