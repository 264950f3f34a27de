/**
 * What a Node built-in becomes in the browser bundle when nothing there can stand in for
 * it (files, sockets, processes): every export is a function that throws
 * `UNSUPPORTED_FEATURE` naming the module and the call, so a path that needs a local file
 * fails with a message instead of a missing-import crash. The build script serves this
 * module for `node:fs`, `node:os`, `node:url`, … (see `scripts/build-browser.mjs`).
 */
import { TensioError } from '../../core/errors.js';

/** A stand-in export: calling or constructing it throws `UNSUPPORTED_FEATURE`. */
export function unavailable(module: string, name: string): (...args: unknown[]) => never {
  const fail = (): never => {
    const why = /^(node:|fs|os|url|module|path)/.test(module)
      ? 'local files, sockets and processes need Node; open a File, a Blob, bytes or an http(s) URL instead'
      : 'it is a native Node addon with no browser build in tensio; read this file with the tensio CLI';
    throw new TensioError('UNSUPPORTED_FEATURE', `${module} (${name}) is not available in a browser: ${why}`);
  };
  // Reaching into it (`xxh3.Xxh3.withSeed`) fails the same way as calling it.
  return new Proxy(fail, {
    get(target, property, receiver) {
      if (typeof property === 'symbol' || property in Function.prototype) return Reflect.get(target, property, receiver);
      return fail();
    },
  });
}

/**
 * A module object whose every property is an {@link unavailable} function. esbuild reads
 * named imports of a CommonJS-shaped module at run time, so any name resolves.
 */
export function unavailableModule(module: string): Record<string, unknown> {
  return new Proxy({}, {
    get(_target, name) {
      if (name === '__esModule' || typeof name === 'symbol' || name === 'then') return undefined;
      if (name === 'default') return unavailableModule(module);
      return unavailable(module, String(name));
    },
  });
}
