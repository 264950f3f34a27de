/**
 * `node:path` for the browser bundle: the POSIX functions tensio's format code uses on
 * names and URL-like keys (`basename`, `dirname`, `join`, `resolve`, `extname`, `sep`).
 * There is no working directory in a page, so `resolve` treats `/` as the root.
 */

/** The separator: always `/` here. */
export const sep = '/';

function normalize(path: string): string {
  const absolute = path.startsWith('/');
  const parts: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (parts.length > 0 && parts[parts.length - 1] !== '..') parts.pop();
      else if (!absolute) parts.push('..');
      continue;
    }
    parts.push(part);
  }
  const joined = parts.join('/');
  return absolute ? `/${joined}` : joined || '.';
}

/** Joins parts with `/` and normalises `.` and `..`. */
export function join(...parts: string[]): string {
  return normalize(parts.filter((part) => part !== '').join('/'));
}

/** Resolves parts right to left until one is absolute; the root `/` stands for the working directory. */
export function resolve(...parts: string[]): string {
  let path = '';
  for (let i = parts.length - 1; i >= 0; i--) {
    const part = parts[i]!;
    if (part === '') continue;
    path = path === '' ? part : `${part}/${path}`;
    if (part.startsWith('/')) break;
  }
  return normalize(path.startsWith('/') ? path : `/${path}`);
}

/** The last part of a path, minus `suffix` when it ends with it. */
export function basename(path: string, suffix?: string): string {
  const trimmed = path.replace(/\/+$/, '');
  const base = trimmed.slice(trimmed.lastIndexOf('/') + 1);
  return suffix && base.endsWith(suffix) && base !== suffix ? base.slice(0, -suffix.length) : base;
}

/** Everything before the last part (`.` for a bare name, `/` at the root). */
export function dirname(path: string): string {
  const trimmed = path.replace(/\/+$/, '');
  const slash = trimmed.lastIndexOf('/');
  if (slash < 0) return '.';
  if (slash === 0) return '/';
  return trimmed.slice(0, slash);
}

/** The extension of the last part, with its dot (`''` when none). */
export function extname(path: string): string {
  const base = basename(path);
  const dot = base.lastIndexOf('.');
  return dot <= 0 ? '' : base.slice(dot);
}

/** True for a path starting at the root. */
export function isAbsolute(path: string): boolean {
  return path.startsWith('/');
}

/** The path from `from` to `to`. */
export function relative(from: string, to: string): string {
  const a = resolve(from).split('/').filter(Boolean);
  const b = resolve(to).split('/').filter(Boolean);
  let same = 0;
  while (same < a.length && same < b.length && a[same] === b[same]) same++;
  return [...a.slice(same).map(() => '..'), ...b.slice(same)].join('/');
}

const path = { sep, join, resolve, basename, dirname, extname, isAbsolute, relative, posix: undefined as unknown };
path.posix = path;
export const posix = path;
export default path;
