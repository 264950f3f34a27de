/**
 * Runs a test's child script in its own Node process, for what must stay out of the test
 * runner (a SIGBUS, `--expose-gc`, another environment such as `TENSIO_NO_MMAP=1`), and
 * reads the JSON line it reports with.
 */
import { execFileSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * `node [--expose-gc] [...flags] --import tsx script ...args` in the repository root, with `env`
 * over this process's environment; the last line of its output that starts with `{`,
 * parsed. A child that exits non-zero throws (with its output) as `execFileSync` does.
 *
 * @example
 * ```ts
 * const result = runJsonChild(CHILD, ['truncate-read', path, 'a'], { gc: true });
 * ```
 */
export function runJsonChild(script: string, args: readonly string[], options: { env?: Record<string, string>; gc?: boolean; flags?: readonly string[] } = {}): Record<string, unknown> {
  const output = execFileSync(process.execPath, [...(options.gc ? ['--expose-gc'] : []), ...(options.flags ?? []), '--import', 'tsx', script, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, ...options.env },
    maxBuffer: 64 * 2 ** 20,
  });
  const line = output.trim().split('\n').filter((text) => text.startsWith('{')).pop();
  if (line === undefined) throw new Error(`${script} printed no JSON line:\n${output.slice(-2000)}`);
  return JSON.parse(line) as Record<string, unknown>;
}
