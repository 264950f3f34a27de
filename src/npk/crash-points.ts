/**
 * Crash points: named steps of a multi-step publish where a test can make the process
 * die (SIGKILL, as a power cut or `kill -9` would) to prove that every step leaves the
 * old store or the new one. Inert unless the environment variable
 * `TENSIO_NPK_CRASH_AT` is set, which only the crash tests do.
 *
 * - `TENSIO_NPK_CRASH_AT=<k>`: die at the k-th crash point reached (1-based).
 * - `TENSIO_NPK_CRASH_AT=list`: die nowhere; print every crash point reached to stderr
 *   as `crash-point <k> <label>`, so a test learns how many steps a scenario has.
 */

let reached = 0;

/**
 * Marks the end of one publish step.
 *
 * @example
 * ```ts
 * await rename(staged, final);
 * npkCrashPoint(`replaced ${final}`);
 * ```
 */
export function npkCrashPoint(label: string): void {
  const setting = process.env.TENSIO_NPK_CRASH_AT;
  if (!setting) return;
  reached++;
  if (setting === 'list') {
    process.stderr.write(`crash-point ${reached} ${label}\n`);
    return;
  }
  if (Number(setting) === reached) {
    process.stderr.write(`crash-point ${reached} ${label} (killing)\n`);
    process.kill(process.pid, 'SIGKILL');
  }
}
