/** `node:util` for the browser bundle: `promisify` of a Node-style callback function. */

type Callback = (error: unknown, value?: unknown) => void;

/** A function taking `(…args, callback)` as one returning a promise. */
export function promisify<T = unknown>(fn: (...args: never[]) => unknown): (...args: unknown[]) => Promise<T> {
  return (...args) => new Promise<T>((resolve, reject) => {
    const callback: Callback = (error, value) => (error ? reject(error) : resolve(value as T));
    (fn as unknown as (...all: unknown[]) => void)(...args, callback);
  });
}

export default { promisify };
