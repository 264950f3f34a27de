/**
 * The journal of an open store (`journal.ts` has its layout): created on the first
 * journaled change, one record appended per append or replace, folded into
 * `metadata.npkm` at close (or once it grows past {@link NPK_JOURNAL_CHECKPOINT_BYTES}).
 * And its replay by the next opener after a crash.
 */
import type { LocalFile, LocalFolder } from '../storage/local-folder.js';
import { npkCrashPoint } from './crash-points.js';
import { npkCheckJournalSize, npkDecodeJournal, npkEncodeJournalHeader, npkEncodeJournalRecord, NPK_JOURNAL_FILE, NPK_JOURNAL_HEADER_BYTES, type NpkJournalRecord, type NpkJournalWrite } from './journal.js';
import { NPK_METADATA_FILE } from './metadata.js';
import { npkPublish, npkPublishId } from './publish.js';
import { TensioError } from '../core/errors.js';

/** The open journal of a writer. */
export class NpkJournal {
  readonly #folder: LocalFolder;
  readonly #handle: LocalFile;
  #size: number;
  /** Files the records wrote (or whose appended rows they cover): synced before the fold. */
  readonly #touched = new Set<string>();

  private constructor(folder: LocalFolder, handle: LocalFile, size: number) {
    this.#folder = folder;
    this.#handle = handle;
    this.#size = size;
  }

  /**
   * Starts a journal over the published catalogue `base`. When durable, the header and
   * the journal's name are on disk before any record counts on them.
   */
  static async create(folder: LocalFolder, base: Uint8Array, durable: boolean): Promise<NpkJournal> {
    const handle = await folder.openFile(NPK_JOURNAL_FILE, 'create');
    try {
      const header = npkEncodeJournalHeader(base);
      handle.writeSync(header, 0, header.byteLength, 0);
      if (durable) {
        await handle.datasync();
        await folder.syncFolder();
      }
      npkCrashPoint('journal created');
      return new NpkJournal(folder, handle, NPK_JOURNAL_HEADER_BYTES);
    } catch (error) {
      await handle.close().catch(() => undefined);
      throw error;
    }
  }

  /** Bytes written so far. */
  get size(): number { return this.#size; }

  /**
   * Appends one record: its last byte written (and synced, when durable) is the commit
   * point of the change. `touched` names data files whose bytes the record relies on.
   */
  async append(record: NpkJournalRecord, touched: Iterable<string>, durable: boolean): Promise<void> {
    const bytes = npkEncodeJournalRecord(record);
    let done = 0;
    while (done < bytes.byteLength) done += this.#handle.writeSync(bytes, done, bytes.byteLength - done, this.#size + done);
    if (durable) await this.#handle.datasync();
    this.#size += bytes.byteLength;
    for (const file of touched) this.#touched.add(file);
    for (const write of record.writes) this.#touched.add(write.file);
  }

  /** Adds data files the records' rows were written to after the fact (pending rows flushed in place). */
  noteTouched(files: Iterable<string>): void {
    for (const file of files) this.#touched.add(file);
  }

  /** fsyncs every data file the records touched (before the catalogue that counts on them is published). */
  async syncTouched(): Promise<void> {
    for (const file of this.#touched) {
      const handle = await this.#folder.openFile(file, 'update').catch(() => undefined);
      if (!handle) continue;
      try {
        await handle.datasync();
      } finally {
        await handle.close();
      }
    }
  }

  /** Closes and removes the journal (its changes are in the published catalogue). */
  async remove(): Promise<void> {
    await this.#handle.close().catch(() => undefined);
    await this.#folder.unlink(NPK_JOURNAL_FILE, { quiet: true });
    npkCrashPoint('journal removed');
  }

  /** Closes the journal, leaving it for the next opener to replay. */
  async close(): Promise<void> {
    await this.#handle.close().catch(() => undefined);
  }
}

/** The current `metadata.npkm` bytes, or undefined when there is none. */
export async function npkReadCatalogueBytes(folder: LocalFolder): Promise<Uint8Array | undefined> {
  return folder.readBytes(NPK_METADATA_FILE).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
}

/** The journal's bytes, or undefined when there is none; `LIMIT_EXCEEDED` above `maxBytes`. */
async function readJournal(folder: LocalFolder, maxBytes: number): Promise<Uint8Array | undefined> {
  const info = await folder.stat(NPK_JOURNAL_FILE);
  if (info === undefined) return undefined;
  if (info.kind !== 'file') throw new TensioError('INVALID_METADATA', `npk: ${NPK_JOURNAL_FILE} in ${folder.root} is not a file`, { format: 'npk', path: folder.root });
  npkCheckJournalSize(info.size, maxBytes, folder.root);
  return folder.readBytes(NPK_JOURNAL_FILE).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
}

/** True when the store has a journal file. */
export async function npkHasJournal(folder: LocalFolder): Promise<boolean> {
  return (await folder.stat(NPK_JOURNAL_FILE)) !== undefined;
}

/**
 * For a reader that cannot replay (a live writer holds the store): the catalogue as of
 * the journal's last whole record, or `catalogue` itself when there is no journal or
 * it is stale, and the records' writes in order. The writer writes a replace's rows
 * into the data files only when it folds the journal, so the reader lays them over
 * its reads (`row-patches.ts`).
 */
export async function npkJournaledCatalogue(folder: LocalFolder, catalogue: Uint8Array | undefined, maxBytes: number): Promise<{ catalogue: Uint8Array | undefined; writes: NpkJournalWrite[] }> {
  const bytes = await readJournal(folder, maxBytes);
  if (!bytes) return { catalogue, writes: [] };
  const { applies, records } = npkDecodeJournal(bytes, catalogue);
  if (!applies || records.length === 0) return { catalogue, writes: [] };
  return { catalogue: records[records.length - 1]!.catalogue, writes: records.flatMap((record) => record.writes) };
}

/**
 * Replays the journal of a store whose writer is gone (the caller holds the lock, after
 * `npkRecover`): every whole record's writes are redone in order, the data synced when
 * durable, the last record's catalogue published, then the journal removed. A stale or
 * empty journal is just removed. Idempotent: a crash anywhere in here is replayed again.
 */
export async function npkReplayJournal(folder: LocalFolder, durable: boolean, maxBytes: number): Promise<void> {
  const bytes = await readJournal(folder, maxBytes);
  if (!bytes) return;
  const catalogue = await npkReadCatalogueBytes(folder);
  const { applies, records } = npkDecodeJournal(bytes, catalogue);
  if (applies && records.length > 0) {
    const touched = new Set<string>();
    for (const record of records) {
      for (const write of record.writes) {
        const info = await folder.stat(write.file);
        if (info?.kind !== 'file') throw new TensioError('INVALID_METADATA', `npk: ${NPK_JOURNAL_FILE} in ${folder.root} writes to ${write.file}, which is not a file of the store`, { format: 'npk', path: folder.root });
        const handle = await folder.openFile(write.file, 'update');
        try {
          let done = 0;
          while (done < write.bytes.byteLength) done += handle.writeSync(write.bytes, done, write.bytes.byteLength - done, write.position + done);
          if (durable) await handle.datasync();
        } finally {
          await handle.close();
        }
        touched.add(write.file);
      }
    }
    npkCrashPoint('journal replayed');
    await npkPublish(folder.root, { id: npkPublishId(), catalogue: records[records.length - 1]!.catalogue, replace: [], remove: [] }, durable);
  }
  await folder.unlink(NPK_JOURNAL_FILE, { quiet: true });
  npkCrashPoint('journal removed');
}
