/**
 * Child of test/parquet-stored-chunks.test.ts (a SIGBUS stays out of the test runner):
 * reads FILE's stacked tensor through a source that cuts the file to CUT bytes once the
 * read has mapped its row group's stored chunks (WHEN "map"), or once it has also set them
 * up and placed the first band (WHEN "band"), so pages past the cut read as zeros (the
 * addon's SIGBUS handler). Prints one JSON line: how many bytes were mapped and
 * the read's outcome (its error code and message, or "read").
 */
import { truncateSync } from 'node:fs';
import { parquetOpen } from '../../src/formats/parquet/index.js';
import { fileSource } from '../../src/storage/file-source.js';
import type { ByteSource } from '../../src/storage/byte-source.js';

const [path, cutText, when] = process.argv.slice(2) as [string, string, 'map' | 'band'];
const cut = Number(cutText);
const source = await fileSource(path);
let mapped = 0;
// WHEN "map": the cut comes right after the mapping is made, before the chunks' pages are
// found; "band": once the read has set up every chunk (its page headers read) and placed
// its first band, at the first check of the mapping, before that band is handed out.
const cutting: ByteSource = {
  ...source,
  map(offset, length) {
    const bytes = source.map!(offset, length);
    // Only the row group's span (the footer and small reads are not mapped this large).
    if (!bytes || length <= 1024 * 1024 || mapped > 0) return bytes;
    mapped = length;
    let cutDone = when === 'map';
    if (cutDone) truncateSync(path, cut);
    return {
      ...bytes,
      bytes: bytes.bytes,
      faulted() {
        if (!cutDone) {
          cutDone = true;
          truncateSync(path, cut);
        }
        return bytes.faulted();
      },
    };
  },
};
const out: Record<string, unknown> = {};
const reader = await parquetOpen(cutting);
try {
  await reader.read(reader.tensors[0]!.name);
  out.outcome = 'read';
} catch (error) {
  out.outcome = (error as { code?: string }).code ?? 'no code';
  out.message = (error as Error).message;
} finally {
  await reader.close().catch(() => undefined);
  await source.close();
}
out.mapped = mapped;
console.log(JSON.stringify(out));
