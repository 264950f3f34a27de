/**
 * The one verify loop every format's verification runs: open a reader, then for each
 * tensor decide how to check it (read it through, recompute its digest, skip it, or
 * report a problem found without reading), honouring the abort signal before every
 * tensor and every chunk, and reporting progress in bytes. Problems are collected, never
 * thrown; only `ABORTED` and errors that are not `TensioError`s (bugs) escape.
 */
import { isTensioError, throwIfAborted } from '../core/errors.js';
import type { Progress, TensorInfo, TensorReader, VerifyProblem } from './types.js';

/** A checksum recomputed over a tensor's bytes as they stream past. */
export interface TensorDigestCheck {
  update(chunk: Uint8Array): void;
  /** The problem when the recomputed digest differs from the recorded one; undefined when it matches. */
  finish(): VerifyProblem | undefined;
}

/**
 * How one tensor is checked: `'read'` streams it to its last byte (structure only),
 * `'skip'` leaves its bytes unread, a {@link TensorDigestCheck} recomputes a checksum, and
 * `{ problem }` reports what was found without reading.
 */
export type TensorCheck = 'read' | 'skip' | TensorDigestCheck | { problem: VerifyProblem };

/** Options for {@link verifyTensors}. */
export interface VerifyLoopOptions {
  signal?: AbortSignal;
  onProgress?: (progress: Progress) => void;
  /** How to check each tensor; default `'read'` for all. */
  checkTensor?(info: TensorInfo): TensorCheck;
}

/** What {@link verifyTensors} found, to put in a `VerifyReport`. */
export interface VerifyTally {
  tensors: number;
  /** Digests recomputed and matched. */
  checksumsVerified: number;
  /** Tensors read or skipped without a checksum. */
  withoutChecksum: number;
  problems: VerifyProblem[];
}

/**
 * Opens a reader and checks every tensor (see {@link TensorCheck}). A reader that cannot
 * be opened is one problem; a tensor that cannot be read is a problem naming it.
 *
 * @example
 * ```ts
 * const tally = await verifyTensors(() => npyOpen(path), { signal, onProgress });
 * ```
 */
export async function verifyTensors(open: () => Promise<TensorReader>, options: VerifyLoopOptions = {}): Promise<VerifyTally> {
  const tally: VerifyTally = { tensors: 0, checksumsVerified: 0, withoutChecksum: 0, problems: [] };
  const { signal, onProgress } = options;
  try {
    const reader = await open();
    try {
      tally.tensors = reader.tensors.length;
      const total = reader.tensors.reduce((sum, info) => sum + info.byteLength, 0);
      let done = 0;
      for (const info of reader.tensors) {
        throwIfAborted(signal);
        const check = options.checkTensor?.(info) ?? 'read';
        if (typeof check === 'object' && 'problem' in check) {
          tally.problems.push(check.problem);
          done += info.byteLength;
          onProgress?.({ done, total, item: info.name });
          continue;
        }
        if (check === 'skip') {
          tally.withoutChecksum += 1;
          done += info.byteLength;
          onProgress?.({ done, total, item: info.name });
          continue;
        }
        try {
          for await (const chunk of reader.stream(info.name, { reuseBuffer: true, ...(signal ? { signal } : {}) })) {
            if (check !== 'read') check.update(chunk);
            done += chunk.byteLength;
            onProgress?.({ done, total, item: info.name });
          }
          if (check === 'read') tally.withoutChecksum += 1;
          else {
            const problem = check.finish();
            if (problem) tally.problems.push(problem);
            else tally.checksumsVerified += 1;
          }
        } catch (error) {
          if (!isTensioError(error) || error.code === 'ABORTED') throw error;
          tally.problems.push({ code: error.code, message: error.message, tensor: info.name });
        }
      }
      // An abort during the last chunk must not end in a report that says "sound".
      throwIfAborted(signal);
    } finally {
      await reader.close();
    }
  } catch (error) {
    if (!isTensioError(error) || error.code === 'ABORTED') throw error;
    tally.problems.push({ code: error.code, message: error.message });
  }
  return tally;
}
