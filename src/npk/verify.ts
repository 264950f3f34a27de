/**
 * `verify` for NumPack stores. A store carries no checksums, so soundness is
 * consistency: the catalogue against the files (every data file there and long enough
 * for its shape and dtype, no stray files), every deletion bitmap against its array's
 * row count, no leftovers of an interrupted publish; then every array is read through.
 * Never writes: an interrupted publish is reported, not finished.
 */
import { isTensioError, TensioError } from '../core/errors.js';
import { NPK_MAX_JOURNAL_BYTES, NPK_MAX_ROW_BYTES } from '../core/limits.js';
import { tensorByteLength } from '../core/sizes.js';
import type { TensorFormat, VerifyOptions, VerifyProblem, VerifyReport } from '../model/types.js';
import { verifyByReading } from '../model/verify-by-reading.js';
import { localFolder } from '../storage/local-folder.js';
import { npkRowBytesOf, npkRowsOf } from './array-state.js';
import { npkIsLockFile } from './lock.js';
import { npkDecodeJournal, NPK_JOURNAL_FILE } from './journal.js';
import { npkDecodeMetadata, NPK_METADATA_FILE, type NpkArrayEntry } from './metadata.js';
import { npkBitmapFileName, npkCheckName, npkCheckRelativePath, npkSegmentFolderName } from './names.js';
import { npkIsStagedName, NPK_INTENT_FILE } from './publish.js';
import { npkDecodeManifest, npkIsManifestPath } from './segments.js';
import { quoteInput } from '../core/quote.js';

const BITMAP_HEADER_BYTES = 16;

/** Size of a file of the store at `dir`, or undefined when missing; a folder counts as missing. */
async function fileSize(dir: string, key: string): Promise<number | undefined> {
  const info = await localFolder(dir).stat(key);
  return info?.kind === 'file' ? info.size : undefined;
}

/** The bytes of a file of the store at `dir`, or undefined when it cannot be read. */
function readStoreFile(dir: string, key: string): Promise<Uint8Array | undefined> {
  return localFolder(dir).readBytes(key).catch(() => undefined);
}

function popcount(bytes: Uint8Array): number {
  let count = 0;
  for (const byte of bytes) {
    let b = byte;
    while (b) { b &= b - 1; count++; }
  }
  return count;
}

/** Checks one array's data files; returns the file names it uses. */
async function checkData(dir: string, entry: NpkArrayEntry, problem: (code: TensioError['code'], message: string) => void): Promise<string[]> {
  const name = JSON.stringify(entry.name);
  const rows = npkRowsOf(entry.shape);
  const rowBytes = npkRowBytesOf(entry);
  const used = [entry.dataFile];
  if (!npkIsManifestPath(entry.dataFile)) {
    const size = await fileSize(dir, entry.dataFile);
    if (size === undefined && rows * rowBytes > 0) problem('NOT_FOUND', `data file ${entry.dataFile} of ${name} is missing`);
    else if (size !== undefined && size < rows * rowBytes) problem('TRUNCATED', `data file ${entry.dataFile} of ${name} has ${size} bytes; ${rows} rows of ${rowBytes} bytes need ${rows * rowBytes}`);
    return used;
  }
  used.push(npkSegmentFolderName(entry.name));
  const manifest = await readStoreFile(dir, entry.dataFile);
  if (!manifest) {
    problem('NOT_FOUND', `segment manifest ${entry.dataFile} of ${name} is missing`);
    return used;
  }
  let held = 0;
  for (const segment of npkDecodeManifest(manifest, rowBytes, entry.name)) {
    const folder = segment.file.split('/')[0]!;
    if (!used.includes(folder)) used.push(folder);
    const size = await fileSize(dir, segment.file);
    if (size === undefined) problem('NOT_FOUND', `segment ${segment.file} of ${name} is missing`);
    else if (size < segment.rows * rowBytes) problem('TRUNCATED', `segment ${segment.file} of ${name} has ${size} bytes; its ${segment.rows} rows need ${segment.rows * rowBytes}`);
    held += segment.rows;
  }
  if (held < rows) problem('TRUNCATED', `segments of ${name} hold ${held} rows, the catalogue says ${rows}`);
  return used;
}

/** Checks a deletion bitmap file against the catalogue's row count. */
function checkBitmap(bytes: Uint8Array, entry: NpkArrayEntry, problem: (code: TensioError['code'], message: string) => void): void {
  const name = JSON.stringify(entry.name);
  const rows = npkRowsOf(entry.shape);
  if (entry.shape.length === 0) {
    problem('INVALID_METADATA', `${npkBitmapFileName(entry.name)}: ${name} is 0-d and cannot have deleted rows`);
    return;
  }
  const words = Math.ceil(rows / 64);
  let body: Uint8Array;
  if (bytes.byteLength >= BITMAP_HEADER_BYTES) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const headerRows = view.getBigUint64(0, true);
    if (BigInt(bytes.byteLength) === BigInt(BITMAP_HEADER_BYTES) + 8n * ((headerRows + 63n) / 64n)) {
      if (headerRows !== BigInt(rows)) {
        problem('SIZE_MISMATCH', `deletion bitmap of ${name} covers ${headerRows} rows, the catalogue says ${rows}`);
        return;
      }
      body = bytes.subarray(BITMAP_HEADER_BYTES);
      const active = popcount(body);
      const declared = view.getBigUint64(8, true);
      if (declared !== BigInt(rows - Math.min(rows, active))) {
        problem('INVALID_METADATA', `deletion bitmap of ${name} declares ${declared} deleted rows, its bits say ${rows - Math.min(rows, active)}`);
      }
    } else if (bytes.byteLength === words * 8) {
      body = bytes; // legacy: bare words
    } else {
      problem('SIZE_MISMATCH', `deletion bitmap of ${name} has ${bytes.byteLength} bytes; ${rows} rows need ${BITMAP_HEADER_BYTES + words * 8} (or ${words * 8} without the header)`);
      return;
    }
  } else {
    problem('TRUNCATED', `deletion bitmap of ${name} has ${bytes.byteLength} bytes, fewer than its 16-byte header`);
    return;
  }
  // Bits past the last row must be clear (NumPack writes them so; a set one means another row count).
  for (let row = rows; row < body.byteLength * 8; row++) {
    if (body[row >>> 3]! & (1 << (row & 7))) {
      problem('INVALID_METADATA', `deletion bitmap of ${name} marks row ${row} active, past its ${rows} rows`);
      return;
    }
  }
}

/** What a journal found by verify holds (verify never replays it). */
async function describeJournal(path: string): Promise<string> {
  const [journal, catalogue] = [await readStoreFile(path, NPK_JOURNAL_FILE), await readStoreFile(path, NPK_METADATA_FILE)];
  let records = 0;
  let applies = false;
  try {
    if (journal && journal.byteLength <= NPK_MAX_JOURNAL_BYTES) ({ applies, records: { length: records } } = npkDecodeJournal(journal, catalogue));
  } catch (error) {
    if (!isTensioError(error)) throw error;
    return `${NPK_JOURNAL_FILE}: unreadable journal (${error.message.replace(/^npk: /, '')})`;
  }
  return applies && records > 0
    ? `${NPK_JOURNAL_FILE}: ${records} committed append/replace change(s) not yet folded into ${NPK_METADATA_FILE} (a writer has the store open, or died); opening the store finishes them`
    : `${NPK_JOURNAL_FILE}: stale journal (its changes are already in ${NPK_METADATA_FILE}); opening the store for writing removes it`;
}

/**
 * Verifies the NumPack store in folder `path`; problems are reported, not thrown.
 *
 * @example
 * ```ts
 * const report = await npkVerifyStore('data.npk', npkFormat);
 * if (!report.ok) console.error(report.problems);
 * ```
 */
export async function npkVerifyStore(path: string, format: TensorFormat, options: VerifyOptions = {}): Promise<VerifyReport> {
  const problems: VerifyProblem[] = [];
  const add = (code: TensioError['code'], message: string, tensor?: string) => problems.push({ code, message: `npk: ${message}`, ...(tensor !== undefined ? { tensor } : {}) });
  const names = await localFolder(path).names().catch((cause: NodeJS.ErrnoException) => {
    throw new TensioError('NOT_FOUND', `npk: cannot list ${path}: ${cause.message}`, { format: 'npk', path, cause });
  });
  const expected = new Set([NPK_METADATA_FILE]);
  let entries: readonly NpkArrayEntry[] = [];
  try {
    entries = npkDecodeMetadata(await localFolder(path).readBytes(NPK_METADATA_FILE)).arrays;
  } catch (error) {
    if (!isTensioError(error)) {
      add('NOT_FOUND', `${NPK_METADATA_FILE} is unreadable: ${(error as Error).message}`);
    } else add(error.code, error.message.replace(/^npk: /, ''));
  }
  for (const entry of entries) {
    const problem = (code: TensioError['code'], message: string) => add(code, message, entry.name);
    try {
      npkCheckName(entry.name);
      npkCheckRelativePath(entry.dataFile, `data_file of ${quoteInput(entry.name)}`);
      const bytes = tensorByteLength(entry.dtype, entry.shape, 'npk')!;
      if (entry.sizeBytes !== bytes) problem('SIZE_MISMATCH', `catalogue size_bytes of ${quoteInput(entry.name)} is ${entry.sizeBytes}; shape [${entry.shape.join(', ')}] of ${entry.dtype} is ${bytes} bytes`);
      const rowBytes = npkRowBytesOf(entry);
      if (rowBytes > NPK_MAX_ROW_BYTES) {
        problem('LIMIT_EXCEEDED', `rows of ${quoteInput(entry.name)} are ${rowBytes} bytes each, above ${NPK_MAX_ROW_BYTES}`);
        continue;
      }
      for (const file of await checkData(path, entry, problem)) expected.add(file);
      const bitmapName = npkBitmapFileName(entry.name);
      const bitmap = await readStoreFile(path, bitmapName);
      if (bitmap) {
        expected.add(bitmapName);
        checkBitmap(bitmap, entry, problem);
      }
    } catch (error) {
      if (!isTensioError(error)) throw error;
      problem(error.code, error.message.replace(/^npk: /, ''));
    }
  }
  for (const name of names) {
    if (expected.has(name) || npkIsLockFile(name)) continue;
    if (name === NPK_JOURNAL_FILE) add('INVALID_STATE', await describeJournal(path));
    else if (name === NPK_INTENT_FILE) add('INVALID_STATE', `${name}: a publish was interrupted after its commit; opening the store (read or write) finishes it`);
    else if (npkIsStagedName(name)) add('INVALID_STATE', `${name}: leftover of a publish interrupted before its commit (the store is the old one); opening the store for writing removes it`);
    else add('INVALID_METADATA', `${name}: stray file, not used by any array of the catalogue`);
  }
  // Consistent so far: read every array through to its last byte.
  if (problems.length > 0) {
    return { ok: false, format: format.name, path, tensors: entries.length, checksumsVerified: 0, withoutChecksum: entries.length, problems };
  }
  return verifyByReading(format, path, options);
}
