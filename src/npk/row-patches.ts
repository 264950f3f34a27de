/**
 * Rows that the journal has committed but that are not yet in their data files: a
 * journaled `replace` writes its rows into the journal record only (one write, one fsync
 * when durable) and into the data files at the next fold (`store-core.ts`), so that 100
 * scattered rows cost one system call instead of 100. Until then every read of the array
 * lays these rows over what the files hold. A reader that finds a live writer's journal
 * builds the same patches from its records (`store-open.ts`).
 */

/** One positional write: `bytes` at byte `position` of `file` (a path relative to the store). */
export interface NpkPatchWrite {
  readonly file: string;
  readonly position: number;
  readonly bytes: Uint8Array;
}

/**
 * Pending rows of one array, by data file and row within that file (last write wins).
 *
 * @example
 * ```ts
 * const patches = new NpkRowPatches(40);
 * patches.add('data_x.npkd', 400, rowBytes);          // row 10 of the file
 * patches.apply('data_x.npkd', 0, first100Rows);       // row 10 of the read replaced
 * for (const write of patches.writes()) await file.write(write);
 * ```
 */
export class NpkRowPatches {
  readonly rowBytes: number;
  readonly #files = new Map<string, Map<number, Uint8Array>>();
  #size = 0;

  constructor(rowBytes: number) {
    this.rowBytes = rowBytes;
  }

  /** Rows pending, over all files. */
  get size(): number { return this.#size; }

  /**
   * Records whole rows `bytes` written at byte `position` (a multiple of the row size)
   * of `file`. The bytes are copied once: the caller's buffer may change afterwards.
   */
  add(file: string, position: number, bytes: Uint8Array, copy = true): void {
    const rowBytes = this.rowBytes;
    if (rowBytes === 0 || bytes.byteLength === 0) return;
    const own = copy ? bytes.slice() : bytes;
    let rows = this.#files.get(file);
    if (!rows) this.#files.set(file, rows = new Map());
    const first = position / rowBytes;
    for (let i = 0; i * rowBytes < own.byteLength; i++) {
      const before = rows.size;
      rows.set(first + i, own.subarray(i * rowBytes, (i + 1) * rowBytes));
      this.#size += rows.size - before;
    }
  }

  /** The pending bytes of row `row` of `file`, if any. */
  row(file: string, row: number): Uint8Array | undefined {
    return this.#files.get(file)?.get(row);
  }

  /**
   * Lays the pending rows of `file` over `target`, which holds the file's bytes from
   * `position` on. Costs min(rows read, rows pending) lookups.
   */
  apply(file: string, position: number, target: Uint8Array): void {
    const rows = this.#files.get(file);
    if (!rows || rows.size === 0 || target.byteLength === 0) return;
    const rowBytes = this.rowBytes;
    const end = position + target.byteLength;
    const first = Math.floor(position / rowBytes);
    const last = Math.ceil(end / rowBytes); // exclusive
    const put = (row: number, bytes: Uint8Array) => {
      const from = Math.max(position, row * rowBytes);
      const to = Math.min(end, (row + 1) * rowBytes);
      if (from < to) target.set(bytes.subarray(from - row * rowBytes, to - row * rowBytes), from - position);
    };
    if (rows.size < last - first) {
      for (const [row, bytes] of rows) if (row >= first && row < last) put(row, bytes);
    } else {
      for (let row = first; row < last; row++) {
        const bytes = rows.get(row);
        if (bytes) put(row, bytes);
      }
    }
  }

  /** The pending rows as writes, file by file in row order, consecutive rows merged into one write. */
  *writes(): Generator<NpkPatchWrite> {
    const rowBytes = this.rowBytes;
    for (const [file, rows] of this.#files) {
      const order = [...rows.keys()].sort((a, b) => a - b);
      for (let first = 0; first < order.length;) {
        let last = first;
        while (last + 1 < order.length && order[last + 1] === order[last]! + 1) last++;
        let bytes = rows.get(order[first]!)!;
        if (last > first) {
          bytes = new Uint8Array((last - first + 1) * rowBytes);
          for (let k = first; k <= last; k++) bytes.set(rows.get(order[k]!)!, (k - first) * rowBytes);
        }
        yield { file, position: order[first]! * rowBytes, bytes };
        first = last + 1;
      }
    }
  }

  /** Files with pending rows. */
  files(): string[] {
    return [...this.#files.keys()];
  }

  /** Forgets every pending row (they were written, or the array was replaced). */
  clear(): void {
    this.#files.clear();
    this.#size = 0;
  }
}
