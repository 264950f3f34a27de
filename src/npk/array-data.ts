/**
 * Physical row I/O for one array: a plain `data_<name>.npkd` or a segmented array.
 * Rows are addressed physically here; the bitmap's logical view lives above.
 */
import { errorFactory, throwIfAborted } from '../core/errors.js';
import { localFolder, type LocalFile, type LocalFolder } from '../storage/local-folder.js';
import { npkWriteFileAtomic } from './files.js';
import { npkManifestFileName, npkSegmentFileName, npkSegmentFolderName } from './names.js';
import { npkDecodeManifest, npkEncodeManifest, npkIsManifestPath, npkSegmentRows, type NpkSegment } from './segments.js';
import { quoteInput } from '../core/quote.js';
import { MAP_MAX_WINDOW_BYTES, MAP_MIN_BYTES, mapFileRange, mapFileRanges, memoryMapAvailable } from '../storage/memory-map.js';
import { NpkRowPatches } from './row-patches.js';

const fail: ReturnType<typeof errorFactory> = errorFactory('npk');
/** Writes at most this big go through synchronous pwrite: far cheaper than a thread-pool hop. */
const SYNC_READ_BYTES = 2 ** 20;

interface Part extends NpkSegment { readonly startRow: number; handle?: LocalFile }

/** How an array's data is opened. */
export interface NpkArrayDataOptions {
  writable: boolean;
  /** Rows committed but not yet in the files (laid over every read); owned by the array's state. */
  patches?: NpkRowPatches;
  /**
   * Cut a plain data file back to the catalogue's rows: an append interrupted before its commit
   * leaves rows past the count, and NumPack's own append (O_APPEND) would write after
   * them, so its new rows would not be the ones it counts. Writers only.
   */
  trimOrphans?: boolean;
}

/** Where bytes of physical rows lie: `length` bytes at `position` of `file` (relative to the store). */
interface FilePiece { readonly file: string; readonly position: number; readonly length: number }

/** A mapped view handed out by {@link NpkArrayData.mapRows}, tracked so in-place writes leave it as it was. */
interface HandedOutView {
  readonly buffer: WeakRef<ArrayBuffer>;
  /** The file ranges the view's bytes come from, end to end (several for segments). */
  readonly pieces: readonly FilePiece[];
}

/**
 * Most segments a gather maps (one mapping each): far above the 4 of a 1 GiB array at
 * NumPack's 256 MiB target, far below the addon's table of 65,536 live mappings.
 */
const MAX_GATHER_SEGMENTS = 1024;

/** Granularity of the copy-on-write touch: the smallest page size Linux uses. */
const PAGE_BYTES = 4096;

/**
 * Open data of one array. Handles are opened on first use and kept until `close()`.
 *
 * @example
 * ```ts
 * const data = await NpkArrayData.open(dir, 'data_x.npkd', 'x', 40, 1000, { writable: false });
 * const rows = new Uint8Array(40 * 10);
 * await data.readRows(0, rows);
 * ```
 */
export class NpkArrayData {
  readonly #folder: LocalFolder;
  readonly #name: string;
  readonly #writable: boolean;
  readonly rowBytes: number;
  #parts: Part[];
  #rows: number;
  /** Segments as the manifest lists them, undefined for a plain file. */
  readonly segmented: boolean;
  #dirty = new Set<LocalFile>();
  readonly #patches: NpkRowPatches;
  /** Private mappings of whole data files (the plain file or each segment) that gathers copy rows out of (never handed out). */
  #windows = new Map<string, Uint8Array>();
  /** Mapped views handed out by `mapRows` (loads), still referenced or not yet collected. */
  #views: HandedOutView[] = [];

  private constructor(folder: LocalFolder, name: string, rowBytes: number, rows: number, parts: Part[], segmented: boolean, writable: boolean, patches: NpkRowPatches) {
    this.#patches = patches;
    this.#folder = folder;
    this.#name = name;
    this.rowBytes = rowBytes;
    this.#rows = rows;
    this.#parts = parts;
    this.segmented = segmented;
    this.#writable = writable;
  }

  /** Opens an array's data and checks that its files hold `rows` rows. */
  static async open(dir: string, dataFile: string, name: string, rowBytes: number, rows: number, options: NpkArrayDataOptions): Promise<NpkArrayData> {
    let parts: Part[];
    const folder = localFolder(dir);
    const segmented = npkIsManifestPath(dataFile);
    if (segmented) {
      const manifest = await folder.readBytes(dataFile).catch((cause) => fail('NOT_FOUND', `npk: segment manifest ${dataFile} of ${quoteInput(name)} is missing`, { cause }));
      let startRow = 0;
      parts = npkDecodeManifest(manifest, rowBytes, name).map((segment) => {
        const part = { ...segment, startRow };
        startRow += segment.rows;
        return part;
      });
      if (startRow < rows) fail('TRUNCATED', `npk: segments of ${quoteInput(name)} hold ${startRow} rows, the metadata says ${rows}`);
      // Rows past the catalogue's count (an interrupted append) are not part of the array:
      // keep exactly `rows`, so the next append writes right after them.
      parts = parts.filter((part) => part.startRow < rows)
        .map((part) => (part.startRow + part.rows > rows ? { ...part, rows: rows - part.startRow, bytes: (rows - part.startRow) * rowBytes } : part));
    } else {
      parts = [{ file: dataFile, rows, bytes: rows * rowBytes, startRow: 0 }];
    }
    for (const part of parts) {
      const size = await folder.stat(part.file).then((info) => info?.size ?? -1, () => -1);
      if (size < 0 && part.rows * rowBytes > 0) fail('NOT_FOUND', `npk: data file ${part.file} of ${quoteInput(name)} is missing`);
      if (size >= 0 && size < part.rows * rowBytes) {
        fail('TRUNCATED', `npk: data file ${part.file} of ${quoteInput(name)} has ${size} bytes, ${part.rows} rows of ${rowBytes} bytes need ${part.rows * rowBytes}`);
      }
      // Plain files only: a segment's size is also in the manifest, which would then disagree.
      if (options.trimOrphans && !segmented && size > part.rows * rowBytes) {
        const handle = await folder.openFile(part.file, 'update');
        try {
          await handle.truncate(part.rows * rowBytes);
        } finally {
          await handle.close();
        }
      }
    }
    return new NpkArrayData(folder, name, rowBytes, rows, parts, segmented, options.writable, options.patches ?? new NpkRowPatches(rowBytes));
  }

  /** Physical rows. */
  get rows(): number { return this.#rows; }
  /** The segment list (a plain file is one part). */
  get parts(): readonly NpkSegment[] { return this.#parts; }

  async #handle(part: Part): Promise<LocalFile> {
    if (!part.handle) {
      const path = this.#folder.pathOf(part.file);
      // Writable handles are never O_APPEND: appends are positional writes after the
      // catalogue's last row, over whatever an interrupted append left past it.
      const opening = this.#folder.openFile(part.file, this.#writable ? 'update' : 'read');
      part.handle = await opening.catch((cause) => fail('IO_ERROR', `npk: cannot open ${path}: ${(cause as Error).message}`, { cause }));
    }
    return part.handle;
  }

  #partIndex(row: number): number {
    let low = 0;
    let high = this.#parts.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >>> 1;
      if (this.#parts[mid]!.startRow <= row) low = mid; else high = mid - 1;
    }
    return low;
  }

  /** Reads `target.byteLength / rowBytes` physical rows starting at `row` into `target`. */
  async readRows(row: number, target: Uint8Array, signal?: AbortSignal): Promise<void> {
    let done = 0;
    let index = this.#partIndex(row);
    while (done < target.byteLength) {
      throwIfAborted(signal);
      const part = this.#parts[index]!;
      const position = done === 0 ? (row - part.startRow) * this.rowBytes : 0;
      const length = Math.min(target.byteLength - done, part.rows * this.rowBytes - position);
      await this.#readAt(part, target.subarray(done, done + length), position);
      done += length;
      index++;
    }
  }

  async #readAt(part: Part, target: Uint8Array, position: number): Promise<void> {
    const handle = await this.#handle(part);
    let done = 0;
    while (done < target.byteLength) {
      const want = Math.min(target.byteLength - done, 2 ** 30);
      // Synchronous pread, as the file sources do: no thread-pool hop, C speed.
      const bytesRead = handle.readSync(target, done, want, position + done);
      if (bytesRead === 0) fail('TRUNCATED', `npk: ${part.file} of ${quoteInput(this.#name)} ended at byte ${position + done}`);
      done += bytesRead;
    }
    if (this.#patches.size > 0) this.#patches.apply(part.file, position, target);
  }

  /**
   * A fresh private (copy-on-write) mapping of physical rows `[row, row + count)` with
   * the pending rows laid over it, or undefined when the rows are not mapped: no addon,
   * fewer than `MAP_MIN_BYTES` bytes (copying is cheaper), more than one mapping holds,
   * or rows that span segments whose boundaries are not on pages (a segment that is not
   * a whole number of pages long cannot sit right before the next one in memory; the
   * segments tensio writes are, see `npkSegmentRows`). Rows in several segments are one
   * mapping with each segment's range placed side by side (`mapFileRanges`). The view
   * stays valid while referenced (tensio's lifetime rule); this store's later in-place
   * writes leave it as it was (see `#keepViews`).
   */
  async mapRows(row: number, count: number): Promise<Uint8Array | undefined> {
    const length = count * this.rowBytes;
    if (length < MAP_MIN_BYTES || length > MAP_MAX_WINDOW_BYTES || !memoryMapAvailable()) return undefined;
    const pieces = this.locate(row, length);
    const byFile = new Map(this.#parts.map((part) => [part.file, part]));
    const located = [];
    for (const piece of pieces) located.push({ fd: (await this.#handle(byFile.get(piece.file)!)).fd, offset: piece.position, length: piece.length });
    const view = located.length === 1
      ? mapFileRange(located[0]!.fd, located[0]!.offset, length, this.#folder.pathOf(pieces[0]!.file))
      : mapFileRanges(located, `${this.#folder.pathOf(pieces[0]!.file)} and ${pieces.length - 1} more segments`);
    if (!view) return undefined;
    if (this.#patches.size > 0) {
      let at = 0;
      for (const piece of pieces) {
        this.#patches.apply(piece.file, piece.position, view.subarray(at, at + piece.length));
        at += piece.length;
      }
    }
    this.#views = this.#views.filter((kept) => kept.buffer.deref() !== undefined);
    this.#views.push({ buffer: new WeakRef(view.buffer as ArrayBuffer), pieces });
    return view;
  }

  /**
   * A private mapping of each data file's rows (kept, remapped when appends grew the
   * file), or undefined when any cannot be mapped.
   */
  async #fileWindows(): Promise<Uint8Array[] | undefined> {
    const windows: Uint8Array[] = [];
    for (const part of this.#parts) {
      const length = part.rows * this.rowBytes;
      let window = this.#windows.get(part.file);
      if (!window || window.byteLength < length) {
        // The old mapping (if any) goes with the garbage.
        window = length > MAP_MAX_WINDOW_BYTES ? undefined : mapFileRange((await this.#handle(part)).fd, 0, length, this.#folder.pathOf(part.file));
        if (!window) return undefined;
        this.#windows.set(part.file, window);
      }
      windows.push(window);
    }
    return windows;
  }

  /**
   * Copies physical rows `physical[i]` to row i of `target` out of mappings of the data
   * files (one per segment, kept by the open array), in one pass per file: no system
   * call and no allocation per row. Returns false (nothing copied) when the array is not
   * mapped (no addon, under `MAP_MIN_BYTES`, a file over one mapping, more than
   * `MAX_GATHER_SEGMENTS` segments); the caller then reads.
   */
  async gatherMapped(physical: readonly number[], target: Uint8Array): Promise<boolean> {
    const rowBytes = this.rowBytes;
    const parts = this.#parts;
    if (this.#rows * rowBytes < MAP_MIN_BYTES || parts.length > MAX_GATHER_SEGMENTS || !memoryMapAvailable()) return false;
    const windows = await this.#fileWindows();
    if (!windows) return false;
    // Writers give every segment but the last the same rows: the segment of a row is then a division.
    const uniform = parts.every((part, index) => index === parts.length - 1 || part.rows === parts[0]!.rows) ? parts[0]!.rows : 0;
    copyRows(windows, parts.map((part) => part.startRow), uniform, physical, rowBytes, target);
    if (this.#patches.size > 0) {
      for (let i = 0; i < physical.length; i++) {
        const part = this.#parts[this.#partIndex(physical[i]!)]!;
        const bytes = this.#patches.row(part.file, physical[i]! - part.startRow);
        if (bytes) target.set(bytes, i * rowBytes);
      }
    }
    return true;
  }

  /**
   * Before bytes at `[position, position + length)` of `file` change in place: every
   * handed-out mapped view over them gets its own copy of those pages now (one write per
   * page into the private mapping makes the kernel copy it), so a loaded array keeps
   * the rows it was loaded with, as NumPack's eager `load` does.
   */
  #keepViews(file: string, position: number, length: number): void {
    if (this.#views.length === 0) return;
    this.#views = this.#views.filter((kept) => kept.buffer.deref() !== undefined);
    for (const kept of this.#views) {
      const buffer = kept.buffer.deref();
      if (!buffer) continue;
      const bytes = new Uint8Array(buffer);
      let start = 0; // where the piece starts in the view
      for (const piece of kept.pieces) {
        const from = Math.max(position, piece.position);
        const to = Math.min(position + length, piece.position + piece.length);
        // File offsets step page by page: a mapping keeps a file page on a memory page.
        if (piece.file === file) {
          for (let at = from; at < to; at = (Math.floor(at / PAGE_BYTES) + 1) * PAGE_BYTES) {
            const index = start + at - piece.position;
            bytes[index] = bytes[index]!; // the write faults in a private copy of the page
          }
        }
        start += piece.length;
      }
    }
  }

  async #writeAt(part: Part, bytes: Uint8Array, position: number): Promise<void> {
    const handle = await this.#handle(part);
    this.#keepViews(part.file, position, bytes.byteLength);
    let done = 0;
    while (done < bytes.byteLength) {
      const want = Math.min(bytes.byteLength - done, 2 ** 30);
      // Small writes (a replaced row, an appended batch) skip the thread-pool hop.
      done += want <= SYNC_READ_BYTES
        ? handle.writeSync(bytes, done, want, position + done)
        : await handle.write(bytes, done, want, position + done);
    }
    this.#dirty.add(handle);
  }

  /** Overwrites physical rows starting at `row` (they must exist). */
  async writeRows(row: number, bytes: Uint8Array): Promise<void> {
    let done = 0;
    let index = this.#partIndex(row);
    while (done < bytes.byteLength) {
      const part = this.#parts[index]!;
      const position = done === 0 ? (row - part.startRow) * this.rowBytes : 0;
      const length = Math.min(bytes.byteLength - done, part.rows * this.rowBytes - position);
      await this.#writeAt(part, bytes.subarray(done, done + length), position);
      done += length;
      index++;
    }
  }

  /**
   * Where `byteLength` bytes of physical rows from `row` on lie: one piece per file they
   * touch (a plain file is one; segments may split them).
   */
  locate(row: number, byteLength: number): FilePiece[] {
    const pieces: FilePiece[] = [];
    let done = 0;
    let index = this.#partIndex(row);
    while (done < byteLength) {
      const part = this.#parts[index]!;
      const position = done === 0 ? (row - part.startRow) * this.rowBytes : 0;
      const length = Math.min(byteLength - done, part.rows * this.rowBytes - position);
      pieces.push({ file: part.file, position, length });
      done += length;
      index++;
    }
    return pieces;
  }

  /**
   * Writes bytes at positions of this array's files (as {@link locate} gave them), with
   * synchronous positional writes: a journaled replace's rows, applied after its commit.
   */
  async applyWrites(writes: readonly { file: string; position: number; bytes: Uint8Array }[]): Promise<void> {
    const byFile = new Map(this.#parts.map((part) => [part.file, part]));
    for (const write of writes) {
      const part = byFile.get(write.file);
      if (!part) fail('IO_ERROR', `npk: ${write.file} is not a data file of ${quoteInput(this.#name)}`);
      const handle = part.handle ?? await this.#handle(part);
      this.#keepViews(write.file, write.position, write.bytes.byteLength);
      let done = 0;
      while (done < write.bytes.byteLength) done += handle.writeSync(write.bytes, done, write.bytes.byteLength - done, write.position + done);
      this.#dirty.add(handle);
    }
  }

  /**
   * Appends whole rows at the physical end: positional writes past the last row (a
   * plain file stays plain); a segmented array fills its last segment up to the target,
   * then adds segments and republishes the manifest atomically.
   */
  async appendRows(bytes: Uint8Array, segmentTargetBytes: number, durable: boolean): Promise<void> {
    const count = bytes.byteLength / this.rowBytes;
    if (!this.segmented) {
      const part = this.#parts[0]!;
      await this.#writeAt(part, bytes, part.rows * this.rowBytes);
      this.#parts[0] = { ...part, rows: part.rows + count, bytes: (part.rows + count) * this.rowBytes };
      this.#rows += count;
      return;
    }
    const perSegment = npkSegmentRows(segmentTargetBytes, this.rowBytes);
    let written = 0;
    const last = this.#parts[this.#parts.length - 1];
    if (last && last.rows < perSegment) {
      const fill = Math.min(perSegment - last.rows, count);
      await this.#writeAt(last, bytes.subarray(0, fill * this.rowBytes), last.rows * this.rowBytes);
      this.#parts[this.#parts.length - 1] = { ...last, rows: last.rows + fill, bytes: (last.rows + fill) * this.rowBytes };
      written = fill;
    }
    const folder = npkSegmentFolderName(this.#name);
    await this.#folder.makeFolder(folder);
    let index = this.#parts.length;
    while (written < count) {
      const rows = Math.min(perSegment, count - written);
      let file = `${folder}/${npkSegmentFileName(index)}`;
      while (this.#parts.some((part) => part.file === file)) file = `${folder}/${npkSegmentFileName(++index)}`;
      // A new segment file starts empty, whatever an interrupted append left under its name.
      const handle = await this.#folder.openFile(file, 'update'); // read and write ('create' is write-only)
      await handle.truncate(0).catch(async (error) => {
        await handle.close().catch(() => undefined);
        throw error;
      });
      const part: Part = { file, rows: 0, bytes: 0, startRow: this.#rows + written, handle };
      this.#parts.push(part);
      await this.#writeAt(part, bytes.subarray(written * this.rowBytes, (written + rows) * this.rowBytes), 0);
      this.#parts[this.#parts.length - 1] = { ...part, rows, bytes: rows * this.rowBytes };
      written += rows;
      index++;
    }
    this.#rows += count;
    await this.sync(durable);
    await npkWriteFileAtomic(this.#folder, npkManifestFileName(this.#name), npkEncodeManifest(this.#parts), durable);
  }

  /** fsyncs every file written since the last sync (before the metadata names them). */
  async sync(durable: boolean): Promise<void> {
    if (durable) for (const handle of this.#dirty) await handle.datasync();
    this.#dirty.clear();
  }

  /** Closes every handle (mappings live on while referenced). */
  async close(): Promise<void> {
    this.#windows.clear();
    for (const part of this.#parts) {
      await part.handle?.close().catch(() => undefined);
      delete part.handle;
    }
    this.#dirty.clear();
  }
}

/**
 * Copies `rowBytes` bytes of physical row `rows[i]` to row i of `to`, in one pass in the
 * order asked. `from[p]` holds the rows of part p (the plain file, or a segment) from
 * physical row `starts[p]` on; when every part but the last holds `uniform` rows, a
 * row's part is a division, else a binary search over `starts`. Four bytes at a time
 * when rows are whole 32-bit words (typed-array element copies, no subarray objects),
 * else byte by byte for short rows and `set` for long ones.
 */
function copyRows(from: readonly Uint8Array[], starts: readonly number[], uniform: number, rows: readonly number[], rowBytes: number, to: Uint8Array): void {
  const count = rows.length;
  const last = from.length - 1;
  const partOf = (row: number): number => {
    if (last === 0) return 0;
    if (uniform > 0) return Math.min(Math.floor(row / uniform), last);
    let low = 0;
    let high = last;
    while (low < high) {
      const mid = (low + high + 1) >>> 1;
      if (starts[mid]! <= row) low = mid; else high = mid - 1;
    }
    return low;
  };
  if (rowBytes % 4 === 0 && to.byteOffset % 4 === 0 && rowBytes <= 1024 && from.every((part) => part.byteOffset % 4 === 0)) {
    const words = rowBytes / 4;
    const sources = from.map((part) => new Uint32Array(part.buffer, part.byteOffset, part.byteLength >>> 2));
    const target = new Uint32Array(to.buffer, to.byteOffset, count * words);
    for (let i = 0; i < count; i++) {
      const p = partOf(rows[i]!);
      const source = sources[p]!;
      const s = (rows[i]! - starts[p]!) * words;
      const t = i * words;
      for (let w = 0; w < words; w++) target[t + w] = source[s + w]!;
    }
  } else if (rowBytes <= 64) {
    for (let i = 0; i < count; i++) {
      const p = partOf(rows[i]!);
      const source = from[p]!;
      const s = (rows[i]! - starts[p]!) * rowBytes;
      const t = i * rowBytes;
      for (let b = 0; b < rowBytes; b++) to[t + b] = source[s + b]!;
    }
  } else {
    for (let i = 0; i < count; i++) {
      const p = partOf(rows[i]!);
      const s = (rows[i]! - starts[p]!) * rowBytes;
      to.set(from[p]!.subarray(s, s + rowBytes), i * rowBytes);
    }
  }
}
