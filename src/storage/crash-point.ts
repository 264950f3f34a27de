/**
 * A test-only hook that kills the process at a named step of a multi-step publish, so
 * crash-safety tests can stop a writer exactly between two renames instead of at
 * random times. Set `TENSIO_TEST_CRASH_AFTER=<operation>:<step>` (e.g.
 * `sharded-publish:3`) in a child process; when that step has just completed, the
 * process sends itself SIGKILL (no cleanup, no exit handlers: a real crash).
 * Without the variable this is one string comparison per step.
 *
 * `TENSIO_TEST_CRASH_AFTER=<operation>:list` kills nothing: each step that passes a
 * `label` is printed to stderr as `crash-point <step> <label>`, so a test learns how many
 * steps a run has (the NumPack publish numbers its steps as they are reached).
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
export function crashPoint(operation: string, step: number, label?: string): void {
  if (typeof process === 'undefined') return;
  const wanted = process.env[CRASH_AFTER_ENV];
  if (wanted === undefined || !wanted.startsWith(`${operation}:`)) return;
  if (label !== undefined && wanted === `${operation}:list`) {
    process.stderr.write(`crash-point ${step} ${label}\n`);
    return;
  }
  if (wanted !== `${operation}:${step}`) return;
  if (label !== undefined) process.stderr.write(`crash-point ${step} ${label} (killing)\n`);
  process.kill(process.pid, 'SIGKILL');
}
