/**
 * A test-only hook that kills the process at a named step of a multi-step publish, so
 * crash-safety tests can stop a writer exactly between two renames instead of at
 * random times. Set `TENSIO_TEST_CRASH_AFTER=<operation>:<step>` (e.g.
 * `sharded-publish:3`) in a child process; when that step has just completed, the
 * process sends itself SIGKILL (no cleanup, no exit handlers: a real crash).
 * Without the variable this is one string comparison per step.
 */

/** The environment variable the hook reads. */
export const CRASH_AFTER_ENV = 'TENSIO_TEST_CRASH_AFTER';

/**
 * Marks the end of step `step` of `operation`; kills the process when the test hook
 * asks for that step.
 *
 * @example
 * ```ts
 * await rename(temporary, target);
 * crashPoint('sharded-publish', 2);
 * ```
 */
export function crashPoint(operation: string, step: number): void {
  if (typeof process === 'undefined') return;
  const wanted = process.env[CRASH_AFTER_ENV];
  if (wanted === undefined || wanted !== `${operation}:${step}`) return;
  process.kill(process.pid, 'SIGKILL');
}
