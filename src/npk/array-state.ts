/**
 * The in-memory record of one array of an open store: its metadata entry, its open
 * data, its bitmap, and a generation counter that lazy views check.
 */
import { localFolder } from '../storage/local-folder.js';
import { itemSize } from '../core/dtype.js';
import { TensioError } from '../core/errors.js';
import { NPK_MAX_ROW_BYTES } from '../core/limits.js';
import { elementCount, tensorByteLength } from '../core/sizes.js';
import { NpkArrayData } from './array-data.js';
import { NpkBitmap } from './bitmap.js';
import type { NpkArrayEntry } from './metadata.js';
import { npkBitmapFileName } from './names.js';
import type { NpkLogicalView } from './logical-io.js';
import { quoteInput } from '../core/quote.js';
import { NpkRowPatches } from './row-patches.js';

/** Physical rows of a shape: its first dimension, or 1 for a 0-d array. */
export function npkRowsOf(shape: readonly number[]): number {
  return shape.length === 0 ? 1 : shape[0]!;
}

/** Bytes of one row: item size × the product of the other dimensions. */
export function npkRowBytesOf(entry: { dtype: NpkArrayEntry['dtype']; shape: readonly number[] }): number {
  return itemSize(entry.dtype)! * elementCount(entry.shape.slice(1), 'npk');
}

/** One array of an open store. */
export class NpkArrayState {
  entry: NpkArrayEntry;
  bitmap: NpkBitmap | undefined;
  #data: NpkArrayData | undefined;
  /** Bumped on every change; lazy arrays compare it. */
  generation = 0;
  /**
   * Rows a journal record committed that are not yet in the data files (a journaled
   * replace's, or a live writer's seen by a reader); every read lays them over the files.
   * A new version of the array (`NpkStoreCore.setArray`) gets a new, empty set.
   */
  patches: NpkRowPatches;

  constructor(entry: NpkArrayEntry, bitmap?: NpkBitmap) {
    this.entry = entry;
    this.bitmap = bitmap;
    this.patches = new NpkRowPatches(npkRowBytesOf(entry));
  }

  /**
   * Loads the state and checks what can be checked without reading data: the array's
   * byte length is a safe integer, one row fits in a buffer (`maxRowBytes`), the data
   * files exist and hold the catalogue's rows, and the bitmap (when present) covers them.
   * A hostile catalogue is thus refused at open, never later as a failed allocation.
   * With `trimOrphans` (a writer's open) data files are cut back to the catalogue's rows.
   */
  static async load(dir: string, entry: NpkArrayEntry, maxRowBytes: number = NPK_MAX_ROW_BYTES, trimOrphans = false): Promise<NpkArrayState> {
    tensorByteLength(entry.dtype, entry.shape, 'npk');
    const rowBytes = npkRowBytesOf(entry);
    if (rowBytes > maxRowBytes) {
      throw new TensioError('LIMIT_EXCEEDED', `npk: rows of ${quoteInput(entry.name)} (shape [${entry.shape.join(', ')}], ${entry.dtype}) are ${rowBytes} bytes each, above maxRowBytes ${maxRowBytes}`, { format: 'npk' });
    }
    await NpkArrayData.open(dir, entry.dataFile, entry.name, rowBytes, npkRowsOf(entry.shape), { writable: false, trimOrphans }).then((data) => data.close());
    const bytes = await localFolder(dir).readBytes(npkBitmapFileName(entry.name)).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      throw error;
    });
    const bitmap = bytes && entry.shape.length > 0 ? NpkBitmap.decode(bytes, npkRowsOf(entry.shape), entry.name) : undefined;
    return new NpkArrayState(entry, bitmap);
  }

  get rowBytes(): number { return npkRowBytesOf(this.entry); }
  get physicalRows(): number { return npkRowsOf(this.entry.shape); }
  get logicalRows(): number { return this.bitmap ? this.bitmap.activeCount : this.physicalRows; }
  get logicalShape(): number[] {
    return this.entry.shape.length === 0 ? [] : [this.logicalRows, ...this.entry.shape.slice(1)];
  }

  /** The array's data, opened on first use. */
  async data(dir: string, writable: boolean): Promise<NpkArrayData> {
    this.#data ??= await NpkArrayData.open(dir, this.entry.dataFile, this.entry.name, this.rowBytes, this.physicalRows, { writable, patches: this.patches });
    return this.#data;
  }

  /** Data plus bitmap for logical I/O. */
  async view(dir: string, writable: boolean): Promise<NpkLogicalView> {
    return { data: await this.data(dir, writable), bitmap: this.bitmap, rowBytes: this.rowBytes };
  }

  /** Closes the data files (before they are replaced, or at close). */
  async closeData(): Promise<void> {
    await this.#data?.close();
    this.#data = undefined;
  }
}
