/**
 * The inspector's tensor-table rules, free of the page: the name filter (`/regex/`, glob
 * or substring) and the column orderings. Kept apart from `app.ts`, which draws.
 */
import type { TensorRow } from './protocol.js';

/** The columns the table sorts by. */
export type SortKey = 'name' | 'dtype' | 'shape' | 'parameters' | 'bytes' | 'shard';

/** A name filter: `/regex/flags`, a glob (`*`, `?`), or a substring. Throws on a bad regex. */
export function nameMatcher(text: string): (name: string) => boolean {
  const trimmed = text.trim();
  if (trimmed === '') return () => true;
  const regex = /^\/(.*)\/([a-z]*)$/.exec(trimmed);
  if (regex) {
    const pattern = new RegExp(regex[1]!, regex[2]);
    return (name) => pattern.test(name);
  }
  if (/[*?]/.test(trimmed)) {
    const pattern = new RegExp(`^${trimmed.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
    return (name) => pattern.test(name);
  }
  return (name) => name.includes(trimmed);
}

const collator = new Intl.Collator('en', { numeric: true });
/** Orders two rows by a column: numbers by value, shapes by rank then size, text by natural order. */
export function compareRows(a: TensorRow, b: TensorRow, key: SortKey): number {
  switch (key) {
    case 'parameters':
    case 'bytes':
      return a[key] - b[key];
    case 'shape':
      return a.shape.length - b.shape.length || a.parameters - b.parameters;
    default:
      return collator.compare(a[key] ?? '', b[key] ?? '');
  }
}
