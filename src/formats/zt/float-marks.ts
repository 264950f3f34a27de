/**
 * Float marks: which attribute values were CBOR floats with a whole value (`1.0`).
 * Attributes reach the model as plain JavaScript values, where `1.0` and `1` are the
 * same number, and the writer encodes a whole number as a CBOR integer: a `.zt` → `.zt`
 * copy would change the attribute bytes and, for object attributes, the content id.
 * The reader therefore records, per value holding such floats, a mark — `'float'` for a
 * whole-number float itself, else the JSON text of a mask mirroring the value (`1` for
 * a float, arrays index by index with `0` for none, maps key by key) — and the writer
 * gives those numbers their float encoding back. A value changed on the way simply no
 * longer matches its mask where it changed.
 *
 * File attributes carry their marks as the reader's `metadataTypes` (`convert` keeps
 * them as `zt.value_types`); object attributes as the tensor's `extras.attributeFloats`.
 */
import { CborFloat, CborMap, type CborValue } from './cbor.js';

/** Metadata key under which `convert` carries file-attribute marks through any format. */
export const ZT_VALUE_TYPES_KEY = 'zt.value_types';

type Mask = 0 | 1 | Mask[] | { [key: string]: Mask };

/** A float a plain number cannot tell from an integer: a whole value within ±2^53, not -0. */
const isWholeFloat = (value: CborValue): boolean => value instanceof CborFloat && Number.isSafeInteger(value.value) && !Object.is(value.value, -0);

function maskOf(value: CborValue): Mask {
  if (isWholeFloat(value)) return 1;
  if (Array.isArray(value)) {
    const items = value.map(maskOf);
    return items.some((item) => item !== 0) ? items : 0;
  }
  if (value instanceof CborMap) {
    const entries = value.entries.filter(([key]) => typeof key === 'string').map(([key, item]) => [key as string, maskOf(item)] as const).filter(([, mask]) => mask !== 0);
    return entries.length > 0 ? Object.fromEntries(entries) : 0;
  }
  return 0;
}

/**
 * The mark of a decoded attribute value, or undefined when it holds no whole-number float.
 *
 * @example
 * ```ts
 * ztFloatMarks(new CborFloat(1)); // 'float'
 * ztFloatMarks([new CborFloat(2), 3]); // '[1,0]'
 * ```
 */
export function ztFloatMarks(value: CborValue): string | undefined {
  const mask = maskOf(value);
  return mask === 0 ? undefined : mask === 1 ? 'float' : JSON.stringify(mask);
}

/** The marks of every key of an attribute map that has some. */
export function ztFloatMarksOf(attributes: CborValue | undefined): Record<string, string> | undefined {
  if (!(attributes instanceof CborMap)) return undefined;
  const out: Record<string, string> = {};
  for (const [key, value] of attributes.entries) {
    const marks = typeof key === 'string' ? ztFloatMarks(value) : undefined;
    if (marks !== undefined) out[key as string] = marks;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

function parseMask(marks: unknown): Mask {
  if (marks === 'float') return 1;
  if (typeof marks !== 'string') return 0;
  try {
    return JSON.parse(marks) as Mask;
  } catch {
    return 0;
  }
}

function apply(value: unknown, mask: Mask | undefined): unknown {
  if (mask === 1) return typeof value === 'number' ? new CborFloat(value) : value;
  if (Array.isArray(mask)) return Array.isArray(value) ? value.map((item, i) => apply(item, mask[i])) : value;
  if (typeof mask === 'object' && mask !== null && value instanceof Map) return new Map([...value].map(([key, item]) => [key, apply(item, typeof key === 'string' ? mask[key] : 0)]));
  return value;
}

/**
 * A value ready for the CBOR encoder (numbers, arrays, `Map`s) with the numbers its
 * mark names as floats made {@link CborFloat}s again.
 *
 * @example
 * ```ts
 * ztWithFloatMarks(1, 'float'); // CborFloat { value: 1 }
 * ```
 */
export function ztWithFloatMarks(value: unknown, marks: unknown): unknown {
  return marks === undefined ? value : apply(value, parseMask(marks));
}

/**
 * The file-attribute marks carried in metadata under {@link ZT_VALUE_TYPES_KEY} (an
 * object, or its JSON text after a trip through a format that keeps text only).
 */
export function ztRecordedFloatMarks(metadata: Readonly<Record<string, unknown>> | undefined): Record<string, unknown> {
  let recorded = metadata?.[ZT_VALUE_TYPES_KEY];
  if (typeof recorded === 'string') {
    try {
      recorded = JSON.parse(recorded);
    } catch {
      return {};
    }
  }
  return typeof recorded === 'object' && recorded !== null && !Array.isArray(recorded) ? recorded as Record<string, unknown> : {};
}
