/**
 * Where the columns of a run parsed once wait for their readers. Separate CSV columns
 * are parsed together (one pass over the text fills every column), but read one at a
 * time: a table writer pulls one band of rows from each column in turn (the stash then
 * holds about one run of every column), a safetensors writer reads a whole column before
 * the next (the stash then holds all the other columns). Pieces are kept in memory up
 * to a budget, then appended to a spill file on local disk; without one (the browser
 * build, an unwritable temporary folder) a piece is dropped and its column parses that
 * run again when read — slower, never wrong.
 */
import { openSpillFile, type SpilledPiece, type SpillFile } from '../../storage/spill-file.js';

type Kept = Uint8Array | SpilledPiece;

/** Counters of a stash's life, for tests and `inspect`-style reports. */
export interface CsvColumnStashStats {
  /** Largest number of bytes held in memory at once. */
  peakMemoryBytes: number;
  /** Bytes written to the spill file. */
  spilledBytes: number;
  /** Pieces dropped because no spill file could be made. */
  droppedPieces: number;
}

/** Pieces keyed by (unit, column): a unit is a run of rows, or a band of a gzip stream. */
export class CsvColumnStash {
  readonly #units = new Map<number, Map<number, Kept>>();
  #memoryBytes = 0;
  #spill: Promise<SpillFile | undefined> | undefined;
  readonly stats: CsvColumnStashStats = { peakMemoryBytes: 0, spilledBytes: 0, droppedPieces: 0 };

  /** `memoryBytes`: the budget of pieces kept in memory before spilling. */
  constructor(private readonly memoryBytes: number) {}

  /** True when the piece of `column` in `unit` is waiting. */
  has(unit: number, column: number): boolean {
    return this.#units.get(unit)?.has(column) === true;
  }

  /** Keeps a piece (the stash owns `bytes` from now on). */
  async put(unit: number, column: number, bytes: Uint8Array): Promise<void> {
    let kept: Kept | undefined;
    if (this.#memoryBytes + bytes.byteLength <= this.memoryBytes) {
      kept = bytes;
      this.#memoryBytes += bytes.byteLength;
      this.stats.peakMemoryBytes = Math.max(this.stats.peakMemoryBytes, this.#memoryBytes);
    } else {
      const spill = await this.#spillFile();
      if (spill) {
        kept = await spill.append(bytes);
        this.stats.spilledBytes += bytes.byteLength;
      } else this.stats.droppedPieces++;
    }
    if (kept === undefined) return;
    let pieces = this.#units.get(unit);
    if (!pieces) this.#units.set(unit, (pieces = new Map()));
    pieces.set(column, kept);
  }

  /** Takes a waiting piece out of the stash (undefined when none waits). */
  async take(unit: number, column: number): Promise<Uint8Array | undefined> {
    const pieces = this.#units.get(unit);
    const kept = pieces?.get(column);
    if (kept === undefined) return undefined;
    pieces!.delete(column);
    if (pieces!.size === 0) this.#units.delete(unit);
    if (kept instanceof Uint8Array) {
      this.#memoryBytes -= kept.byteLength;
      return kept;
    }
    return (await this.#spill)!.read(kept);
  }

  /** Forgets every piece and removes the spill file. */
  async close(): Promise<void> {
    this.#units.clear();
    this.#memoryBytes = 0;
    const spill = await this.#spill;
    this.#spill = undefined;
    await spill?.close();
  }

  #spillFile(): Promise<SpillFile | undefined> {
    this.#spill ??= openSpillFile().catch(() => undefined);
    return this.#spill;
  }
}
