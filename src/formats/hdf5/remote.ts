/**
 * HDF5 from any {@link ByteSource} (a URL, S3, bytes in memory) without copying it:
 * libhdf5 runs in a worker thread and reads the file through `mountRangeFile`, each of
 * its reads a range read of the source answered by this thread (`remote-protocol.ts`).
 * Opening costs the file's metadata; reading a slice, the chunks it touches. The
 * source's own block cache (HTTP: 64 KiB blocks) absorbs libhdf5's small metadata reads.
 */
import { Worker } from 'node:worker_threads';
import { TensioError, type TensioErrorCode } from '../../core/errors.js';
import { DEFAULT_STREAM_CHUNK_BYTES } from '../../core/limits.js';
import type { TensorReader } from '../../model/types.js';
import type { ByteSource } from '../../storage/byte-source.js';
import type { Hdf5FileDescription } from './describe.js';
import { hdf5ReaderOf } from './reader.js';
import { STATE, STATUS, type Hdf5WorkerCall, type Hdf5WorkerData, type Hdf5WorkerMessage } from './remote-protocol.js';
import type { Hdf5OpenOptions } from './types.js';

/** Bytes of one answered range (a larger libhdf5 read takes several). */
const WINDOW_BYTES = DEFAULT_STREAM_CHUNK_BYTES;

/** Bytes of one band read remotely: smaller than locally, so a row slice fetches little more than its chunks. */
const REMOTE_BAND_BYTES = 2 ** 20;

/**
 * Starts the worker: `remote-worker.js` when tensio is built; from its sources (tests
 * under tsx) the `.ts` module, loaded after registering tsx in the worker (a worker
 * does not inherit the loader hooks of `--import tsx`).
 */
function startWorker(workerData: Hdf5WorkerData): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./remote-worker.js', import.meta.url), { workerData });
  const tsx = import.meta.resolve('tsx/esm/api');
  const entry = new URL('./remote-worker.ts', import.meta.url).href;
  return new Worker(`import(${JSON.stringify(tsx)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); })`, { eval: true, workerData });
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** A started libhdf5 worker over one source: its calls, and `stop` (closes the file, ends the thread). */
export interface Hdf5WorkerSession {
  call<T>(message: DistributiveOmit<Hdf5WorkerCall, 'id'>): Promise<T>;
  stop(): Promise<void>;
}

/**
 * Starts a libhdf5 worker thread over `source` (its file is opened on the first call).
 * It does not keep the process alive between calls; after the thread fails or exits,
 * every call fails with `IO_ERROR`.
 *
 * @example
 * ```ts
 * const session = startHdf5Worker(source, {});
 * const band = await session.call<Uint8Array>({ call: 'read', plan, offset: null, count: null, bytes });
 * await session.stop();
 * ```
 */
export function startHdf5Worker(source: ByteSource, options: Pick<Hdf5OpenOptions, 'signal'> = {}): Hdf5WorkerSession {
  const name = source.name ?? '<bytes>';
  const control = new Int32Array(new SharedArrayBuffer(8));
  const window = new Uint8Array(new SharedArrayBuffer(Math.min(WINDOW_BYTES, Math.max(1, source.size))));
  const workerData: Hdf5WorkerData = { control: control.buffer as SharedArrayBuffer, window: window.buffer as SharedArrayBuffer, size: source.size, name };
  const worker = startWorker(workerData);
  worker.unref();

  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: unknown) => void }>();
  let nextId = 0;
  // libhdf5 only learns "read failed": the source's own error (HTTP status, changed file, abort) is kept to be thrown instead.
  let readFailure: unknown;
  let ended: TensioError | undefined;

  const answerRange = async (position: number, length: number): Promise<void> => {
    try {
      const bytes = await source.read(position, length, options.signal ? { signal: options.signal } : undefined);
      window.set(bytes);
      Atomics.store(control, STATUS, 0);
    } catch (error) {
      readFailure ??= error;
      Atomics.store(control, STATUS, 1);
    }
    Atomics.store(control, STATE, 1);
    Atomics.notify(control, STATE);
  };

  const failAll = (error: TensioError): void => {
    ended ??= error;
    for (const { reject } of pending.values()) reject(error);
    pending.clear();
  };

  worker.on('message', (message: Hdf5WorkerMessage) => {
    if (message.kind === 'range') return void answerRange(message.position, message.length);
    const waiter = pending.get(message.id);
    if (!waiter) return;
    pending.delete(message.id);
    if (pending.size === 0) worker.unref();
    if (!message.error) return waiter.resolve(message.value);
    const failure = readFailure;
    readFailure = undefined;
    waiter.reject(failure ?? new TensioError(message.error.code as TensioErrorCode, message.error.message, { format: 'hdf5' }));
  });
  worker.on('error', (error) => failAll(new TensioError('IO_ERROR', `hdf5: the libhdf5 worker for ${name} failed (${error.message})`, { format: 'hdf5', cause: error })));
  worker.on('exit', (code) => failAll(new TensioError('IO_ERROR', `hdf5: the libhdf5 worker for ${name} exited (code ${code})`, { format: 'hdf5' })));

  const call = <T>(message: DistributiveOmit<Hdf5WorkerCall, 'id'>): Promise<T> => {
    if (ended) return Promise.reject(ended);
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      worker.ref();
      worker.postMessage({ ...message, id } as Hdf5WorkerCall);
    });
  };

  const stop = async (): Promise<void> => {
    try {
      if (!ended) await call({ call: 'close' });
    } finally {
      ended ??= new TensioError('INVALID_STATE', `hdf5: ${name} is closed`, { format: 'hdf5' });
      await worker.terminate();
    }
  };

  return { call, stop };
}

/**
 * Opens `source` with libhdf5 in a worker thread (see the file comment). The reader's
 * `close` ends the worker; until then the worker does not keep the process alive
 * between calls.
 *
 * @example
 * ```ts
 * await using reader = await hdf5OpenInWorker(await httpSource('https://host/data.h5'));
 * const band = await reader.read('x', { slice: [0, 10] });
 * ```
 */
export async function hdf5OpenInWorker(source: ByteSource, options: Hdf5OpenOptions = {}): Promise<TensorReader> {
  const name = source.name ?? '<bytes>';
  const { call, stop } = startHdf5Worker(source, options);
  let description: Hdf5FileDescription;
  try {
    description = await call<Hdf5FileDescription>({
      call: 'describe',
      options: { ...(options.maxObjects !== undefined ? { maxObjects: options.maxObjects } : {}), ...(options.maxAttributeBytes !== undefined ? { maxAttributeBytes: options.maxAttributeBytes } : {}) },
    });
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }
  return hdf5ReaderOf(name, source.size, description, (plan) => (offset, count, bytes) => call<Uint8Array>({ call: 'read', plan, offset, count, bytes }), stop, REMOTE_BAND_BYTES);
}
