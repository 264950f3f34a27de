/**
 * The worker thread of `remote.ts`: runs libhdf5 (h5wasm's in-memory build) over a
 * file whose reads are range requests answered by the owning thread (see
 * `remote-protocol.ts`), and answers `describe`, `read` and `close` calls.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { isTensioError } from '../../core/errors.js';
import { hdf5DescribeFile, hdf5ReadPlanned } from './describe.js';
import { mountRangeFile } from './device-file.js';
import { readLocalBytesSync } from '../../storage/local-paths.js';
import { hdf5Call, hdf5LibraryInMemory, type H5File } from './library.js';
import { STATE, STATUS, type Hdf5WorkerCall, type Hdf5WorkerData, type Hdf5WorkerMessage } from './remote-protocol.js';

const port = parentPort!;
const { control: controlBuffer, window: windowBuffer, size, name } = workerData as Hdf5WorkerData;
const control = new Int32Array(controlBuffer);
const window = new Uint8Array(windowBuffer);

const post = (message: Hdf5WorkerMessage, transfer: ArrayBuffer[] = []): void => port.postMessage(message, transfer);

/** Reads `target.byteLength` bytes at `position` through the owner, a window at a time. */
function readThroughOwner(target: Uint8Array, position: number): void {
  for (let done = 0; done < target.byteLength;) {
    const length = Math.min(window.byteLength, target.byteLength - done);
    Atomics.store(control, STATE, 0);
    post({ kind: 'range', position: position + done, length });
    Atomics.wait(control, STATE, 0);
    if (Atomics.load(control, STATUS) !== 0) throw new Error(`reading ${length} bytes at ${position + done} of ${name} failed`);
    target.set(window.subarray(0, length), done);
    done += length;
  }
}

const errorOf = (error: unknown) => ({
  code: isTensioError(error) ? error.code : 'IO_ERROR',
  message: error instanceof Error ? error.message : String(error),
});

let file: H5File | undefined;
// The plugin filters' libraries are copied into the in-memory file system from the package's folder.
const library = await hdf5LibraryInMemory(readLocalBytesSync);
let opening: Promise<H5File> | undefined;
const openFile = (): Promise<H5File> => {
  opening ??= Promise.resolve().then(() => {
    const path = mountRangeFile(library.fs, 'source.h5', size, readThroughOwner, () => undefined);
    file = hdf5Call(`opening ${name}`, () => library.openFile(path));
    return file;
  });
  return opening;
};

port.on('message', (message: Hdf5WorkerCall) => {
  void (async () => {
    try {
      if (message.call === 'close') {
        if (file) hdf5Call(`closing ${name}`, () => file!.close());
        post({ kind: 'answer', id: message.id });
        port.close();
        return;
      }
      const open = await openFile();
      if (message.call === 'describe') {
        post({ kind: 'answer', id: message.id, value: hdf5DescribeFile(library.module, open, name, message.options, library.pluginFilters) });
      } else {
        const bytes = hdf5ReadPlanned(library.module, open.file_id, message.plan, message.offset, message.count, message.bytes);
        post({ kind: 'answer', id: message.id, value: bytes }, [bytes.buffer as ArrayBuffer]);
      }
    } catch (error) {
      post({ kind: 'answer', id: message.id, error: errorOf(error) });
    }
  })();
});
