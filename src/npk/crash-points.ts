/**
 * The NumPack publish's crash points, on the shared test hook of
 * `src/storage/crash-point.ts`: steps are numbered in the order a process reaches them,
 * so `TENSIO_TEST_CRASH_AFTER=npk-publish:<k>` kills a writer right after its k-th step
 * and `npk-publish:list` prints every step with its label.
 */
import { crashPoint } from '../storage/crash-point.js';

/** The operation name NumPack publishes use with the crash hook. */
export const NPK_PUBLISH_OPERATION = 'npk-publish';

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
  reached++;
  crashPoint(NPK_PUBLISH_OPERATION, reached, label);
}
