/**
 * A strict JSON parser for safetensors headers. `JSON.parse` silently keeps the last of
 * two equal keys and rounds integers above 2^53; both are parser differentials a hostile
 * file can exploit (Trail of Bits TOB-SFTN-7, safetensors issue #401). This parser keeps
 * object key order (as a `Map`), reports duplicate keys at any depth, and keeps numbers
 * that are not safe integers as {@link JsonNumberLiteral}s so callers decide.
 */
import { errorFactory } from '../../core/errors.js';
import { quoteInput } from '../../core/quote.js';

const fail = errorFactory('safetensors');

/** A number that is not a safe integer (a fraction, an exponent, or beyond 2^53-1), kept as text. */
export class JsonNumberLiteral {
  constructor(
    /** The number exactly as written. */
    readonly text: string,
    /** True when written as an integer (no fraction, no exponent) but too large for a safe integer. */
    readonly isInteger: boolean,
  ) {}
}

/** What {@link parseStrictJson} returns. Objects are `Map`s in document order. */
export type JsonValue = null | boolean | number | string | JsonNumberLiteral | JsonValue[] | JsonObject;
/** A JSON object with its keys in document order. */
export type JsonObject = Map<string, JsonValue>;

/**
 * serde_json's default recursion limit; deeper nesting is refused rather than overflowing
 * the stack. serde counts down from 128 and fails on reaching 0, so at most 127 levels pass.
 */
const MAX_DEPTH = 128;

/**
 * Parses JSON text strictly: duplicate keys throw `DUPLICATE_KEY`, anything else that is
 * not JSON (RFC 8259, no lone surrogates) throws `INVALID_JSON` with the offset.
 *
 * @example
 * ```ts
 * const header = parseStrictJson('{"a":{"dtype":"F32"}}') as Map<string, unknown>;
 * parseStrictJson('{"a":1,"a":2}'); // throws DUPLICATE_KEY
 * ```
 */
export function parseStrictJson(text: string): JsonValue {
  let at = 0;
  const length = text.length;

  const syntax = (what: string): never => fail('INVALID_JSON', `safetensors: invalid JSON in header at character ${at}: ${what}`, { offset: at });

  function skipWhitespace(): void {
    while (at < length) {
      const c = text.charCodeAt(at);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) at++;
      else break;
    }
  }

  function parseString(): string {
    at++; // opening quote
    let out = '';
    let runStart = at;
    while (true) {
      if (at >= length) syntax('unterminated string');
      const c = text.charCodeAt(at);
      if (c === 0x22) {
        out += text.slice(runStart, at);
        at++;
        return out;
      }
      if (c < 0x20) syntax(`control character 0x${c.toString(16)} in string`);
      if (c >= 0xd800 && c <= 0xdfff) {
        // Decoded from valid UTF-8, so surrogates always come in pairs here.
        at += 2;
        continue;
      }
      if (c !== 0x5c) {
        at++;
        continue;
      }
      out += text.slice(runStart, at);
      at++;
      const e = text[at];
      at++;
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          const unit = readHex4();
          if (unit >= 0xdc00 && unit <= 0xdfff) syntax('lone trailing surrogate in \\u escape');
          if (unit >= 0xd800 && unit <= 0xdbff) {
            if (text[at] !== '\\' || text[at + 1] !== 'u') syntax('lone leading surrogate in \\u escape');
            at += 2;
            const low = readHex4();
            if (low < 0xdc00 || low > 0xdfff) syntax('invalid low surrogate in \\u escape');
            out += String.fromCharCode(unit, low);
          } else {
            out += String.fromCharCode(unit);
          }
          break;
        }
        default:
          at--;
          syntax(`invalid escape \\${e ?? ''}`);
      }
      runStart = at;
    }
  }

  function readHex4(): number {
    const hex = text.slice(at, at + 4);
    if (!/^[0-9a-fA-F]{4}$/.test(hex)) syntax('invalid \\u escape');
    at += 4;
    return parseInt(hex, 16);
  }

  function parseNumber(): number | JsonNumberLiteral {
    const start = at;
    if (text[at] === '-') at++;
    if (text[at] === '0') at++;
    else if (isDigit(text.charCodeAt(at))) while (isDigit(text.charCodeAt(at))) at++;
    else syntax('invalid number');
    let isInteger = true;
    if (text[at] === '.') {
      isInteger = false;
      at++;
      if (!isDigit(text.charCodeAt(at))) syntax('invalid number: digit expected after "."');
      while (isDigit(text.charCodeAt(at))) at++;
    }
    if (text[at] === 'e' || text[at] === 'E') {
      isInteger = false;
      at++;
      if (text[at] === '+' || text[at] === '-') at++;
      if (!isDigit(text.charCodeAt(at))) syntax('invalid number: digit expected in exponent');
      while (isDigit(text.charCodeAt(at))) at++;
    }
    const literal = text.slice(start, at);
    if (isInteger) {
      // Exact: digits beyond 15 go through BigInt so 2^53+1 is never rounded to 2^53.
      if (literal.length <= 15) return Number(literal);
      const exact = BigInt(literal);
      if (exact <= BigInt(Number.MAX_SAFE_INTEGER) && exact >= -BigInt(Number.MAX_SAFE_INTEGER)) return Number(exact);
    }
    return new JsonNumberLiteral(literal, isInteger);
  }

  function parseLiteral(word: string, value: JsonValue): JsonValue {
    if (text.startsWith(word, at)) {
      at += word.length;
      return value;
    }
    return syntax('unexpected character');
  }

  function parseValue(depth: number): JsonValue {
    skipWhitespace();
    if (at >= length) syntax('unexpected end of input');
    const c = text[at];
    if (c === '{') return parseObject(depth + 1);
    if (c === '[') return parseArray(depth + 1);
    if (c === '"') return parseString();
    if (c === 't') return parseLiteral('true', true);
    if (c === 'f') return parseLiteral('false', false);
    if (c === 'n') return parseLiteral('null', null);
    return parseNumber();
  }

  function parseObject(depth: number): JsonObject {
    if (depth >= MAX_DEPTH) syntax(`nesting of ${MAX_DEPTH} levels or more`);
    at++;
    const object: JsonObject = new Map();
    skipWhitespace();
    if (text[at] === '}') {
      at++;
      return object;
    }
    while (true) {
      skipWhitespace();
      if (text[at] !== '"') syntax('object key expected');
      const keyOffset = at;
      const key = parseString();
      if (object.has(key)) {
        fail('DUPLICATE_KEY', `safetensors: duplicate key ${quoteInput(key)} in header at character ${keyOffset}`, { offset: keyOffset });
      }
      skipWhitespace();
      if (text[at] !== ':') syntax('":" expected');
      at++;
      object.set(key, parseValue(depth));
      skipWhitespace();
      if (text[at] === ',') {
        at++;
        continue;
      }
      if (text[at] === '}') {
        at++;
        return object;
      }
      syntax('"," or "}" expected');
    }
  }

  function parseArray(depth: number): JsonValue[] {
    if (depth >= MAX_DEPTH) syntax(`nesting of ${MAX_DEPTH} levels or more`);
    at++;
    const array: JsonValue[] = [];
    skipWhitespace();
    if (text[at] === ']') {
      at++;
      return array;
    }
    while (true) {
      array.push(parseValue(depth));
      skipWhitespace();
      if (text[at] === ',') {
        at++;
        continue;
      }
      if (text[at] === ']') {
        at++;
        return array;
      }
      syntax('"," or "]" expected');
    }
  }

  const value = parseValue(0);
  skipWhitespace();
  if (at !== length) syntax('trailing characters after the JSON value');
  return value;
}

function isDigit(code: number): boolean {
  return code >= 0x30 && code <= 0x39;
}

/** True for a parsed JSON object. */
export function isJsonObject(value: JsonValue | undefined): value is JsonObject {
  return value instanceof Map;
}
