/**
 * The Node globals tensio's format code still touches, for the browser bundle (esbuild
 * `inject`: each bundled module that names one imports it from here; nothing is set on
 * `globalThis`): `Buffer` (the `buffer` package, the browser's usual stand-in),
 * `setImmediate` and a `process` with an empty environment.
 */
import { Buffer as BufferPolyfill } from 'buffer';

/** Node's `Buffer`, from the `buffer` package. */
export const Buffer = BufferPolyfill;

/** Runs `callback` after pending I/O callbacks (a macrotask here). */
export function setImmediate(callback: () => void): ReturnType<typeof setTimeout> {
  return setTimeout(callback, 0);
}

/** No environment, no process id, no signals in a page. */
export const process = {
  env: {} as Record<string, string | undefined>,
  pid: 0,
  platform: 'browser',
  versions: {} as Record<string, string>,
  stderr: { write: (_text: string) => true },
  kill: () => undefined,
};
