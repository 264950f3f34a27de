/**
 * Child of test/parquet-stored-chunks.test.ts (a SIGBUS stays out of the test runner):
 * maps FILE's bytes as a whole read's stored chunks (`parquetStoredChunks`, one chunk over
 * the whole file), checks they are intact, cuts the file in half, touches every byte (the
 * addon's SIGBUS handler reads the cut part as zeros) and checks again. Prints one JSON
 * line: whether the bytes were mapped, the first check's outcome, the second's error code.
 */
import { truncateSync } from 'node:fs';
import type { ColumnMetaData } from 'hyparquet';
import { fileSource } from '../../src/storage/file-source.js';
import { parquetStoredChunks } from '../../src/formats/parquet/stored-chunks.js';
import { errorCodeOf } from './child-memory.js';

const [path] = process.argv.slice(2) as [string];
const source = await fileSource(path);
const meta = { data_page_offset: 0n, total_compressed_size: BigInt(source.size) } as unknown as ColumnMetaData;
const chunks = parquetStoredChunks(source, [meta])!;
const room = chunks.take(0, source.size)!;
const out: Record<string, unknown> = { mapped: room.filled };
out.before = await errorCodeOf(async () => chunks.checkIntact()) ?? 'intact';
truncateSync(path, Math.floor(source.size / 2));
let sum = 0;
for (let i = 0; i < room.bytes.byteLength; i += 4096) sum += room.bytes[i]!;
out.touched = sum >= 0;
out.after = await errorCodeOf(async () => chunks.checkIntact()) ?? 'intact';
await source.close();
console.log(JSON.stringify(out));
