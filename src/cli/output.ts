/**
 * Human output for the CLI: byte sizes, counts, shapes, durations and aligned tables.
 * Machine output (`--json`) goes through {@link cliJson}, which turns values JSON
 * cannot hold (bigint, typed arrays, Maps) into plain data instead of throwing.
 */

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'] as const;

/**
 * A byte count for people: `1536` → `'1.5 KiB'`, `12` → `'12 B'`.
 *
 * @example
 * ```ts
 * cliFormatBytes(3 * 2 ** 20); // '3.0 MiB'
 * ```
 */
export function cliFormatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return String(bytes);
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < BYTE_UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${Math.round(value)} B` : `${value.toFixed(1)} ${BYTE_UNITS[unit]}`;
}

/**
 * An integer with thousands separators: `1234567` → `'1,234,567'`.
 *
 * @example
 * ```ts
 * cliFormatCount(7_000_000); // '7,000,000'
 * ```
 */
export function cliFormatCount(count: number | bigint): string {
  return count.toLocaleString('en-US');
}

/**
 * A shape as `[2, 3]`; a scalar as `[]`.
 *
 * @example
 * ```ts
 * cliFormatShape([4096, 11008]); // '[4096, 11008]'
 * ```
 */
export function cliFormatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/**
 * Seconds for people: `0.0123` → `'12 ms'`, `3.456` → `'3.46 s'`.
 *
 * @example
 * ```ts
 * cliFormatSeconds(0.5); // '500 ms'
 * ```
 */
export function cliFormatSeconds(seconds: number): string {
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 120) return `${seconds.toFixed(2)} s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes} min ${Math.round(seconds - minutes * 60)} s`;
}

/**
 * Bytes per second for people; `'-'` when the time is too short to measure.
 *
 * @example
 * ```ts
 * cliFormatThroughput(2 ** 30, 2); // '512.0 MiB/s'
 * ```
 */
export function cliFormatThroughput(bytes: number, seconds: number): string {
  if (!(seconds > 0)) return '-';
  return `${cliFormatBytes(bytes / seconds)}/s`;
}

/** Column alignment for {@link cliFormatTable}. */
export type CliAlign = 'left' | 'right';

/**
 * Rows of cells as aligned text columns separated by two spaces, each line indented.
 * The first row is usually the header. Trailing spaces are trimmed.
 *
 * @example
 * ```ts
 * cliFormatTable([['NAME', 'BYTES'], ['w', '16']], { align: ['left', 'right'] });
 * ```
 */
export function cliFormatTable(rows: readonly (readonly string[])[], options: { align?: readonly CliAlign[]; indent?: string } = {}): string {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, column) => {
      widths[column] = Math.max(widths[column] ?? 0, cell.length);
    });
  }
  const indent = options.indent ?? '  ';
  return rows
    .map((row) => indent + row.map((cell, column) => {
      const width = widths[column] ?? 0;
      return options.align?.[column] === 'right' ? cell.padStart(width) : cell.padEnd(width);
    }).join('  ').trimEnd())
    .join('\n') + '\n';
}

/**
 * Shortens long text for one table cell or metadata line: `'abc…(1234 chars)'`.
 *
 * @example
 * ```ts
 * cliTruncate('x'.repeat(500), 20);
 * ```
 */
export function cliTruncate(text: string, max = 120): string {
  const oneLine = text.replace(/\s*\n\s*/g, ' ');
  return oneLine.length <= max ? oneLine : `${oneLine.slice(0, max)}… (${oneLine.length} chars)`;
}

/**
 * A value made safe for `JSON.stringify`: bigint → number when safe, else decimal
 * string; typed arrays → arrays (bytes → `{ bytes: n }` when long); Maps → objects;
 * cycles cut. Keeps `inspect --json` from crashing on metadata a format keeps as-is.
 *
 * @example
 * ```ts
 * JSON.stringify(cliToJsonValue({ n: 5n })); // '{"n":5}'
 * ```
 */
export function cliToJsonValue(value: unknown, seen: Set<unknown> = new Set()): unknown {
  if (typeof value === 'bigint') {
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value.toString();
  }
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  if (value === null || typeof value !== 'object') return typeof value === 'function' || typeof value === 'symbol' ? String(value) : value;
  if (seen.has(value)) return '[circular]';
  seen.add(value);
  try {
    if (value instanceof Uint8Array && value.byteLength > 64) return { bytes: value.byteLength };
    if (ArrayBuffer.isView(value)) {
      const items = Array.from(value as unknown as ArrayLike<unknown>);
      return items.map((item) => cliToJsonValue(item, seen));
    }
    if (value instanceof ArrayBuffer) return { bytes: value.byteLength };
    if (value instanceof Map) {
      return Object.fromEntries([...value].map(([key, item]) => [String(key), cliToJsonValue(item, seen)]));
    }
    if (Array.isArray(value)) return value.map((item) => cliToJsonValue(item, seen));
    if (value instanceof Date) return value.toISOString();
    const result: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      if (item !== undefined) result[key] = cliToJsonValue(item, seen);
    }
    return result;
  } finally {
    seen.delete(value);
  }
}

/**
 * One JSON document on one line plus newline, the CLI's `--json` output.
 *
 * @example
 * ```ts
 * io.stdout(cliJson({ ok: true }));
 * ```
 */
export function cliJson(value: unknown): string {
  return `${JSON.stringify(cliToJsonValue(value))}\n`;
}

/**
 * A metadata value as one readable line: strings as-is, everything else as JSON.
 *
 * @example
 * ```ts
 * cliFormatValue({ a: 1 }); // '{"a":1}'
 * ```
 */
export function cliFormatValue(value: unknown, max = 120): string {
  const text = typeof value === 'string' ? value : JSON.stringify(cliToJsonValue(value)) ?? String(value);
  return cliTruncate(text, max);
}
