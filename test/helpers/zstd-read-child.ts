/**
 * Child of zstd-addon.test.ts: reads each Parquet or Arrow file given (stacked) and
 * prints one JSON line: the SHA-256 of every tensor and which zstd decoder was in use,
 * so the parent can compare a run without the addon (TENSIO_NO_MMAP=1) with its own.
 */
import { createHash } from 'node:crypto';
import { arrowOpen } from '../../src/formats/arrow/index.js';
import { parquetOpen } from '../../src/formats/parquet/index.js';
import { nativeZstdVersion, zstdDecoderStatus } from '../../src/storage/native-zstd.js';

const hashes: Record<string, string> = {};
for (const path of process.argv.slice(2)) {
  await using reader = path.endsWith('.parquet') ? await parquetOpen(path) : await arrowOpen(path);
  for (const tensor of reader.tensors) hashes[`${path}:${tensor.name}`] = createHash('sha256').update((await reader.read(tensor.name)).data).digest('hex');
}
console.log(JSON.stringify({ hashes, zstd: nativeZstdVersion() ?? 'package', status: zstdDecoderStatus() }));
