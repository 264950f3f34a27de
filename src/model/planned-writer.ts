/**
 * The one lifecycle every format's {@link TensorWriter} shares: the plan is known up
 * front, `add` is called once per planned tensor in `order`, `close` publishes, `abort`
 * discards. A format supplies only what it does with the bytes; the checks, and the one
 * error code each misuse gets, live here:
 *
 * | Misuse | Code |
 * |---|---|
 * | a name the plan does not hold | `NOT_FOUND` |
 * | a planned tensor out of `order` (or twice) | `OUT_OF_ORDER` |
 * | more or fewer bytes than the tensor's dtype and shape take | `SIZE_MISMATCH` |
 * | `close()` before every planned tensor arrived | `INCOMPLETE` |
 * | `add()` or `close()` after `close()`, `abort()` or a failed `add()`; a second `add()` before the first settled | `INVALID_STATE` |
 * | a plan naming one tensor twice (at creation) | `DUPLICATE_NAME` |
 */
import { TensioError, throwIfAborted } from '../core/errors.js';
import { tensorByteLength } from '../core/sizes.js';
import { chunksOf, type TensorBytes } from '../storage/tensor-bytes.js';
import type { TensorSpec, TensorWriter } from './types.js';
import { quoteInput } from '../core/quote.js';

/** What a format supplies to {@link createPlannedWriter}. */
export interface PlannedWriterParts {
  /** Format name, for `writer.format` and error messages. */
  format: string;
  /** Every planned tensor, in the order `add` must be called (the order of the data in the file). */
  order: readonly TensorSpec[];
  /**
   * Writes one tensor. `chunks` yields its bytes and throws `SIZE_MISMATCH` as soon as they
   * overrun the tensor, or at the end when they fall short, so a format never has to count.
   */
  writeTensor(spec: TensorSpec, chunks: AsyncIterable<Uint8Array>, signal?: AbortSignal): Promise<void>;
  /** Publishes the file (atomically); called once, after every planned tensor arrived. */
  publish(): Promise<void>;
  /** Throws the partial output away; called at most once, never after `publish` succeeded. */
  discard(): Promise<void>;
  /**
   * Bytes one tensor takes, when the format stores other than the dense dtype × shape
   * (default {@link tensorByteLength}); `undefined` leaves counting to the format.
   */
  byteLength?(spec: TensorSpec): number | undefined;
  /**
   * The files the writer publishes when they are not just the output path (a sharded
   * checkpoint), and those a replaced output lost; read after `close()`.
   */
  outputs?(): { files?: readonly string[]; removedFiles?: readonly string[] };
}

type State = 'open' | 'busy' | 'failed' | 'closed' | 'aborted';

/**
 * Throws `DUPLICATE_NAME` when a plan names one tensor twice. Formats call it before they
 * create any file, so a bad plan leaves nothing behind.
 *
 * @example
 * ```ts
 * plannedWriterCheckPlan('npz', options.tensors);
 * ```
 */
export function plannedWriterCheckPlan(format: string, plan: readonly TensorSpec[]): void {
  const seen = new Set<string>();
  for (const spec of plan) {
    if (seen.has(spec.name)) throw new TensioError('DUPLICATE_NAME', `${format}: the plan holds tensor ${quoteInput(spec.name)} twice`, { format });
    seen.add(spec.name);
  }
}

/**
 * Builds a {@link TensorWriter} around a format's tensor writing, publishing and
 * discarding, with every misuse refused the same way for every format (see the table
 * at the top of this file).
 *
 * @example
 * ```ts
 * return createPlannedWriter({ format: 'npy', order: [spec],
 *   writeTensor: async (spec, chunks) => { for await (const chunk of npyChunks(spec, chunks)) await sink.write(chunk); },
 *   publish: () => sink.close(), discard: () => sink.abort() });
 * ```
 */
export function createPlannedWriter(parts: PlannedWriterParts): TensorWriter {
  const { format } = parts;
  plannedWriterCheckPlan(format, parts.order);
  const position = new Map(parts.order.map((spec, index) => [spec.name, index]));
  let next = 0;
  let state: State = 'open';
  const fail = (code: 'NOT_FOUND' | 'OUT_OF_ORDER' | 'INCOMPLETE' | 'INVALID_STATE', message: string): never => {
    throw new TensioError(code, `${format}: ${message}`, { format });
  };
  const refuseUnlessOpen = (what: string): void => {
    if (state === 'open') return;
    if (state === 'busy') fail('INVALID_STATE', `${what} while an add() is still running; await each add() before the next call`);
    if (state === 'failed') fail('INVALID_STATE', `${what} after an add() failed; abort() the writer`);
    fail('INVALID_STATE', `${what} on a writer that is ${state === 'closed' ? 'closed' : 'aborted'}`);
  };

  return {
    format,
    order: parts.order.map((spec) => spec.name),
    get files() {
      return parts.outputs?.().files;
    },
    get removedFiles() {
      return parts.outputs?.().removedFiles;
    },

    async add(name: string, data: TensorBytes, options: { signal?: AbortSignal } = {}): Promise<void> {
      refuseUnlessOpen(`add(${quoteInput(name)})`);
      const index = position.get(name);
      if (index === undefined) fail('NOT_FOUND', `tensor ${quoteInput(name)} is not in the plan`);
      if (index !== next) {
        const expected = parts.order[next];
        fail('OUT_OF_ORDER', index! < next
          ? `tensor ${quoteInput(name)} was already added`
          : `tensor ${quoteInput(name)} comes later; add ${quoteInput(expected!.name)} first (writer.order gives the order)`);
      }
      const spec = parts.order[index!]!;
      throwIfAborted(options.signal);
      state = 'busy';
      try {
        const expected = parts.byteLength ? parts.byteLength(spec) : tensorByteLength(spec.dtype, spec.shape, format);
        await parts.writeTensor(spec, countedChunks(data, expected, spec.name, format, options.signal), options.signal);
        next += 1;
        state = 'open';
      } catch (error) {
        state = 'failed';
        throw error;
      }
    },

    async close(): Promise<void> {
      if (state === 'closed') return;
      refuseUnlessOpen('close()');
      if (next < parts.order.length) {
        const missing = parts.order.slice(next).map((spec) => JSON.stringify(spec.name));
        fail('INCOMPLETE', `close() before every planned tensor was added: ${missing.length} missing (${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''})`);
      }
      state = 'busy';
      try {
        await parts.publish();
        state = 'closed';
      } catch (error) {
        state = 'failed';
        throw error;
      }
    },

    async abort(): Promise<void> {
      if (state === 'closed' || state === 'aborted') return;
      state = 'aborted';
      await parts.discard();
    },
  };
}

/** The chunks of `data`, refusing more or fewer than `expected` bytes (`SIZE_MISMATCH`); no check when `expected` is undefined. */
async function* countedChunks(data: TensorBytes, expected: number | undefined, name: string, format: string, signal?: AbortSignal): AsyncGenerator<Uint8Array> {
  let total = 0;
  for await (const chunk of chunksOf(data, signal)) {
    total += chunk.byteLength;
    if (expected !== undefined && total > expected) {
      throw new TensioError('SIZE_MISMATCH', `${format}: tensor ${quoteInput(name)} takes ${expected} bytes; more than ${total - chunk.byteLength} were given (${total} so far)`, { format });
    }
    yield chunk;
  }
  if (expected !== undefined && total !== expected) {
    throw new TensioError('SIZE_MISMATCH', `${format}: tensor ${quoteInput(name)} takes ${expected} bytes; ${total} were given`, { format });
  }
}
