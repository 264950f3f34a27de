/**
 * Argument checks shared by the store's operations (all done before anything is
 * written), and the wrapping of failed system calls into `IO_ERROR`.
 */
import { TensioError } from '../core/errors.js';
import { tensorByteLength } from '../core/sizes.js';
import type { Tensor } from '../core/tensor.js';
import type { NpkArrayState } from './array-state.js';
import { quoteInput } from '../core/quote.js';

/** The entries of a `name → tensor` record; `INVALID_ARGUMENT` for anything else. */
export function checkRecord(arrays: unknown): [string, Tensor][] {
  if (typeof arrays !== 'object' || arrays === null || Array.isArray(arrays)) {
    throw new TensioError('INVALID_ARGUMENT', 'npk: arrays must be a record of name → tensor', { format: 'npk' });
  }
  return Object.entries(arrays as Record<string, Tensor>);
}

/** `SIZE_MISMATCH` unless the tensor's bytes are exactly what its dtype and shape need. */
export function checkTensorBytes(name: string, tensor: Tensor): void {
  const expected = tensorByteLength(tensor.dtype, tensor.shape, 'npk');
  if (!(tensor.data instanceof Uint8Array) || tensor.data.byteLength !== expected) {
    throw new TensioError('SIZE_MISMATCH', `npk: ${quoteInput(name)} of dtype ${tensor.dtype} and shape [${tensor.shape.join(', ')}] needs ${expected} bytes, got ${tensor.data?.byteLength}`, { format: 'npk' });
  }
}

/** `INVALID_SHAPE` for a 0-d array, which has no rows to append, replace or drop. */
export function needRows(state: NpkArrayState): void {
  if (state.entry.shape.length === 0) {
    throw new TensioError('INVALID_SHAPE', `npk: ${quoteInput(state.entry.name)} is 0-d and has no rows`, { format: 'npk' });
  }
}

/** Checks that `tensor` holds rows of the stored array (`what` names the operation in messages). */
export function checkCompatible(state: NpkArrayState, name: string, tensor: Tensor, what: string): void {
  needRows(state);
  checkTensorBytes(name, tensor);
  if (tensor.dtype !== state.entry.dtype) {
    throw new TensioError('INVALID_ARGUMENT', `npk: ${what} of ${quoteInput(name)}: dtype ${tensor.dtype} differs from the stored ${state.entry.dtype}`, { format: 'npk' });
  }
  const stored = state.entry.shape;
  if (tensor.shape.length !== stored.length || tensor.shape.some((dim, i) => i > 0 && dim !== stored[i])) {
    throw new TensioError('INVALID_SHAPE', `npk: ${what} of ${quoteInput(name)}: shape [${tensor.shape.join(', ')}] does not fit rows of [${stored.join(', ')}]`, { format: 'npk' });
  }
}

/**
 * A failed system call (disk full, permission denied, a folder where a file should be)
 * becomes `TensioError('IO_ERROR')` naming the store, so callers and the CLI see one
 * error family; anything else passes through unchanged.
 */
export function npkWrapFileError(error: unknown, path: string): unknown {
  const errno = error as NodeJS.ErrnoException;
  if (error instanceof TensioError || !(error instanceof Error) || typeof errno.code !== 'string' || typeof errno.syscall !== 'string') return error;
  return new TensioError('IO_ERROR', `npk: ${errno.syscall} failed in ${path}: ${error.message}`, { format: 'npk', path, cause: error });
}
