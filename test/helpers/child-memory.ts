/** Small pieces the mapping child processes share (mmap-child, wasm-map-child, map-ahead-child, fault-ahead-child, stream-read-ahead-child). */
import { isTensioError } from '../../src/core/errors.js';
import type { WasmMemoryLike } from '../../src/io/index.js';

/** A fresh WebAssembly memory of one page that may grow to 4 GiB. */
export function newWasmMemory(): WasmMemoryLike {
  const api = (globalThis as unknown as { WebAssembly: { Memory: new (descriptor: { initial: number; maximum?: number }) => WasmMemoryLike } }).WebAssembly;
  return new api.Memory({ initial: 1, maximum: 65536 });
}

/** The sum of every byte: touches each page of `bytes`. */
export function byteSum(bytes: Uint8Array): number {
  let total = 0;
  for (let i = 0; i < bytes.byteLength; i++) total += bytes[i]!;
  return total;
}

/**
 * The TensioError code `run` ends with, `undefined` when it resolves; anything else that
 * is thrown comes back as "not a TensioError: …", so the parent's assertion shows it.
 * A function, not a promise, so that a synchronous throw is caught too.
 */
export async function errorCodeOf(run: () => Promise<unknown> | undefined): Promise<string | undefined> {
  try {
    await run();
    return undefined;
  } catch (error) {
    return isTensioError(error) ? error.code : `not a TensioError: ${String(error)}`;
  }
}

/**
 * Full collections (needs `--expose-gc`) with a 20 ms turn of the event loop after each,
 * five times: finalizers of buffers (the unmaps) run after a collection, sometimes on a
 * later turn.
 */
export async function collectWithTurns(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with --expose-gc');
  for (let round = 0; round < 5; round++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
