/**
 * Patching the first bytes of an existing local file in place (a metadata edit that fits
 * in the header's slack), crash-safe through an undo/redo journal beside the file:
 *
 * 1. `FILE.tensio-edit` is written with the old and the new bytes and their SHA-256, and
 *    fsynced (with its folder). Killed here, the file is untouched and the journal, torn
 *    or whole, is dropped by the next recovery (nothing was patched yet).
 * 2. The file's first bytes are overwritten with `poison` (a few bytes that make every
 *    reader refuse the file: GGUF's magic, safetensors' header length), fsync.
 * 3. The rest of the new bytes, fsync. 4. The new first bytes, fsync: the commit point.
 * 5. The journal is removed (and the folder fsynced).
 *
 * Killed at any instant, the file is the old one, the new one, or one every reader
 * refuses (poisoned) with the journal beside it; {@link recoverFilePatch} (run by every
 * edit before it reads) then finishes the patch from the journal. The poison is shorter
 * than a page, so one write of it is whole or absent. The bytes after the patched range
 * are never touched. Before patching, the file must still be the one that was read.
 */
import { createHash } from 'node:crypto';
import { open, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { TensioError } from '../core/errors.js';
import { crashPoint } from './crash-point.js';
import { writeFullyAt } from './write-fully.js';

/** What the file looked like when it was read. */
export interface FileIdentity {
  readonly size: number;
  readonly mtimeMs: number;
}

/** The crash-test hook's name for the steps above (`TENSIO_TEST_CRASH_AFTER=file-patch:K`, K = 1 … 5). */
export const FILE_PATCH_OPERATION = 'file-patch';

/** Suffix of the journal beside the patched file. */
export const FILE_PATCH_JOURNAL_SUFFIX = '.tensio-edit';

const JOURNAL_MAGIC = 'TENSIO-PATCH-1\n';

/** Size and modification time of a local file, to pass to {@link patchFileStart}. */
export async function fileIdentity(path: string): Promise<FileIdentity> {
  const s = await stat(path);
  return { size: s.size, mtimeMs: s.mtimeMs };
}

interface Journal {
  readonly size: number;
  readonly poison: number;
  readonly before: Uint8Array;
  readonly after: Uint8Array;
}

const sha256 = (...parts: Uint8Array[]): string => {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest('hex');
};

function encodeJournal(journal: Journal): Uint8Array {
  const head = JSON.stringify({ size: journal.size, poison: journal.poison, before: journal.before.byteLength, after: journal.after.byteLength, sha256: sha256(journal.before, journal.after) });
  const text = new TextEncoder().encode(`${JOURNAL_MAGIC}${head}\n`);
  const out = new Uint8Array(text.byteLength + journal.before.byteLength + journal.after.byteLength);
  out.set(text);
  out.set(journal.before, text.byteLength);
  out.set(journal.after, text.byteLength + journal.before.byteLength);
  return out;
}

/** The journal's content, or undefined when it is torn (written only partly: the patch never began). */
function decodeJournal(bytes: Uint8Array): Journal | undefined {
  const magic = new TextEncoder().encode(JOURNAL_MAGIC);
  if (bytes.byteLength < magic.byteLength || !magic.every((b, i) => bytes[i] === b)) return undefined;
  const end = bytes.indexOf(0x0a, magic.byteLength);
  if (end < 0) return undefined;
  let head: { size?: unknown; poison?: unknown; before?: unknown; after?: unknown; sha256?: unknown };
  try { head = JSON.parse(new TextDecoder().decode(bytes.subarray(magic.byteLength, end))) as typeof head; } catch { return undefined; }
  const { size, poison, before, after } = head;
  if (![size, poison, before, after].every((n) => Number.isSafeInteger(n) && (n as number) >= 0)) return undefined;
  const start = end + 1;
  if (bytes.byteLength !== start + (before as number) + (after as number)) return undefined;
  const journal = { size: size as number, poison: poison as number, before: bytes.subarray(start, start + (before as number)), after: bytes.subarray(start + (before as number)) };
  return sha256(journal.before, journal.after) === head.sha256 ? journal : undefined;
}

async function syncFolder(path: string): Promise<void> {
  const handle = await open(dirname(path), 'r');
  try { await handle.sync(); } catch { /* some file systems cannot fsync a folder */ } finally { await handle.close(); }
}

function writeAt(handle: Awaited<ReturnType<typeof open>>, path: string, bytes: Uint8Array, at: number): Promise<void> {
  return writeFullyAt(handle, bytes, at, (byte, cause) => new TensioError('IO_ERROR', `patching ${path} failed at byte ${byte} (${bytes.byteLength} bytes from ${at}): ${(cause as Error).message}`, { path, cause }));
}

/** Steps 2-4: poison, body, head, each fsynced. */
async function applyPatch(path: string, journal: Journal, step: (k: number) => void): Promise<void> {
  const handle = await open(path, 'r+');
  try {
    const poisonBytes = Math.min(journal.poison, journal.after.byteLength);
    if (poisonBytes > 0) {
      await writeAt(handle, path, new Uint8Array(poisonBytes).fill(0xff), 0);
      await handle.sync();
    }
    step(2);
    await writeAt(handle, path, journal.after.subarray(poisonBytes), poisonBytes);
    await handle.sync();
    step(3);
    await writeAt(handle, path, journal.after.subarray(0, poisonBytes), 0);
    await handle.sync();
    step(4);
  } finally {
    await handle.close();
  }
}

/**
 * Finishes a patch that a crash interrupted: when `path` has a whole journal beside it,
 * its new bytes are written (again) and the journal removed; a torn journal (the crash
 * came before any byte of the file changed) is removed. Returns what it did. Refuses
 * (`SOURCE_CHANGED`) when the file's size is not the journal's: the file was replaced,
 * and the journal no longer describes it.
 */
export async function recoverFilePatch(path: string): Promise<'none' | 'dropped' | 'finished'> {
  const journalPath = path + FILE_PATCH_JOURNAL_SUFFIX;
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(journalPath));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'none';
    throw error;
  }
  const journal = decodeJournal(bytes);
  if (!journal) {
    await unlink(journalPath);
    await syncFolder(journalPath);
    return 'dropped';
  }
  const now = await stat(path);
  if (now.size !== journal.size) {
    throw new TensioError('SOURCE_CHANGED', `${journalPath} records an interrupted edit of a ${journal.size}-byte file, but ${path} has ${now.size} bytes now; it was replaced since. Remove the journal if the file is right`, { path });
  }
  await applyPatch(path, journal, () => {});
  await unlink(journalPath);
  await syncFolder(journalPath);
  return 'finished';
}

/**
 * Overwrites `bytes.byteLength` bytes at the start of `path`, crash-safe (see the top of
 * this file): `poison` is how many leading bytes to invalidate while the rest is written
 * (0: none). `SOURCE_CHANGED` when the file is no longer the one described by `expected`.
 *
 * @example
 * ```ts
 * await recoverFilePatch('model.gguf');
 * const id = await fileIdentity('model.gguf');
 * await patchFileStart('model.gguf', newHeader, id, { poison: 4 });
 * ```
 */
export async function patchFileStart(path: string, bytes: Uint8Array, expected: FileIdentity, options: { poison?: number } = {}): Promise<void> {
  const journalPath = path + FILE_PATCH_JOURNAL_SUFFIX;
  const handle = await open(path, 'r');
  let before: Uint8Array;
  try {
    const now = await handle.stat();
    if (now.size !== expected.size || now.mtimeMs !== expected.mtimeMs) {
      throw new TensioError('SOURCE_CHANGED', `${path} changed while it was being edited (size ${expected.size} → ${now.size}); nothing was written`, { path });
    }
    if (bytes.byteLength > now.size) throw new TensioError('INVALID_ARGUMENT', `a ${bytes.byteLength}-byte patch does not fit in ${path} (${now.size} bytes)`, { path });
    before = new Uint8Array(bytes.byteLength);
    const { bytesRead } = await handle.read(before, 0, before.byteLength, 0);
    if (bytesRead !== before.byteLength) throw new TensioError('IO_ERROR', `short read of ${path}`, { path });
  } finally {
    await handle.close();
  }
  const journal: Journal = { size: expected.size, poison: options.poison ?? 0, before, after: bytes };
  // 'wx': a journal already there is an interrupted edit that recovery must finish first.
  try {
    await writeFile(journalPath, encodeJournal(journal), { flag: 'wx', flush: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new TensioError('SOURCE_CHANGED', `${journalPath} exists: an edit of ${path} was interrupted or is running; run tensio edit again to finish it`, { path });
    throw error;
  }
  await syncFolder(journalPath);
  crashPoint(FILE_PATCH_OPERATION, 1, 'journal written');
  await applyPatch(path, journal, (k) => crashPoint(FILE_PATCH_OPERATION, k, ['', '', 'poisoned', 'body written', 'head written (committed)'][k]));
  await unlink(journalPath);
  await syncFolder(journalPath);
  crashPoint(FILE_PATCH_OPERATION, 5, 'journal removed');
}
