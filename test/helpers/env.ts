/** Environment switches for tests of code that reads a variable at each call. */

/**
 * Runs `body` with the environment variable `name` set to `value` (or unset when
 * undefined), and puts the variable back as it was afterwards, whatever `body` does.
 */
export async function withEnv<T>(name: string, value: string | undefined, body: () => Promise<T>): Promise<T> {
  const before = process.env[name];
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
  try {
    return await body();
  } finally {
    if (before === undefined) delete process.env[name];
    else process.env[name] = before;
  }
}
