/**
 * Writing one array's data afresh (`npkWriteArrayFiles`): a plain `data_<name>.npkd` or
 * segment files plus their manifest, streamed from chunks at staged names that the
 * store's publish later renames into place.
 */
import { errorFactory, throwIfAborted } from '../core/errors.js';
import { quoteInput } from '../core/quote.js';
import { localFolder, type LocalFile, type LocalFolder } from '../storage/local-folder.js';
import { npkCrashPoint } from './crash-points.js';
import { npkWriteStaged } from './publish.js';
import { npkDataFileName, npkManifestFileName, npkSegmentFileName, npkSegmentFolderName } from './names.js';
import { npkEncodeManifest, npkSegmentRows } from './segments.js';

const fail: ReturnType<typeof errorFactory> = errorFactory('npk');

/** What {@link npkWriteArrayFiles} needs. */
export interface NpkWriteArrayOptions {
  rowBytes: number;
  /** Total bytes that will arrive (rows × rowBytes, or the item size of a 0-d array). */
  totalBytes: number;
  segmentTargetBytes: number;
  durable: boolean;
  /**
   * Where to write a file or folder whose final name is given (relative to the store):
   * the publish stages it under another name and renames it at commit.
   */
  stage(final: string): string;
  signal?: AbortSignal;
}

/**
 * Writes an array's data afresh from chunks, at the staged names `options.stage` gives:
 * a plain `data_<name>.npkd`, or segments (a folder plus a manifest that lists the
 * final segment paths) when the total exceeds the segment target. Returns the
 * data_file to record in the catalogue. Nothing the store uses is touched: the caller
 * publishes the staged names (see `publish.ts`).
 *
 * @example
 * ```ts
 * const dataFile = await npkWriteArrayFiles(dir, 'x', chunks, { rowBytes: 40, totalBytes: 4000, segmentTargetBytes: 2 ** 28, durable: true, stage: (f) => `${f}.new` });
 * ```
 */
export async function npkWriteArrayFiles(dir: string, name: string, chunks: AsyncIterable<Uint8Array>, options: NpkWriteArrayOptions): Promise<string> {
  const { totalBytes, rowBytes } = options;
  const store = localFolder(dir);
  if (totalBytes <= options.segmentTargetBytes) {
    const finalName = npkDataFileName(name);
    await writeStream(store, options.stage(finalName), 'file', chunks, [totalBytes], options, name);
    npkCrashPoint(`data of ${name} staged`);
    return finalName;
  }
  const perSegment = npkSegmentRows(options.segmentTargetBytes, rowBytes);
  const sizes: number[] = [];
  for (let left = totalBytes; left > 0; left -= perSegment * rowBytes) sizes.push(Math.min(left, perSegment * rowBytes));
  const folder = npkSegmentFolderName(name);
  const stagedFolder = options.stage(folder);
  await store.removeTree(stagedFolder);
  await store.makeFolder(stagedFolder);
  await writeStream(store, stagedFolder, 'folder', chunks, sizes, options, name);
  const segments = sizes.map((bytes, index) => ({ file: `${folder}/${npkSegmentFileName(index)}`, rows: bytes / rowBytes, bytes }));
  const manifest = npkManifestFileName(name);
  await npkWriteStaged(store, options.stage(manifest), npkEncodeManifest(segments), options.durable);
  npkCrashPoint(`segments of ${name} staged`);
  return manifest;
}

/** Streams chunks into one file (`target` is the file) or into numbered segment files of `sizes` bytes in the folder `target`. */
async function writeStream(store: LocalFolder, target: string, mode: 'file' | 'folder', chunks: AsyncIterable<Uint8Array>, sizes: number[], options: NpkWriteArrayOptions, name: string): Promise<void> {
  const single = mode === 'file';
  let index = 0;
  let handle: LocalFile | undefined;
  let inFile = 0;
  let total = 0;
  const openNext = async () => {
    const key = single ? target : `${target}/${npkSegmentFileName(index)}`;
    handle = await store.openFile(key, 'create');
    inFile = 0;
  };
  try {
    await openNext();
    for await (const chunk of chunks) {
      throwIfAborted(options.signal);
      let at = 0;
      while (at < chunk.byteLength) {
        if (index >= sizes.length) fail('SIZE_MISMATCH', `npk: array ${quoteInput(name)} received more than the ${options.totalBytes} bytes its shape needs`);
        if (inFile === sizes[index]) {
          await finish(handle!, options.durable);
          handle = undefined;
          index++;
          if (index >= sizes.length) continue;
          await openNext();
        }
        const length = Math.min(chunk.byteLength - at, sizes[index]! - inFile);
        let done = 0;
        while (done < length) done += await handle!.write(chunk, at + done, length - done, inFile + done);
        inFile += length;
        at += length;
        total += length;
      }
    }
    if (total !== options.totalBytes) fail('SIZE_MISMATCH', `npk: array ${quoteInput(name)} needs ${options.totalBytes} bytes, got ${total}`);
    if (handle) await finish(handle, options.durable);
    handle = undefined;
  } catch (error) {
    await handle?.close().catch(() => undefined);
    await store.removeTree(target);
    throw error;
  }
}

async function finish(handle: LocalFile, durable: boolean): Promise<void> {
  if (durable) await handle.datasync();
  await handle.close();
}
