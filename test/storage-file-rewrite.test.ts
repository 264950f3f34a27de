/**
 * `rewriteFileStart` (`src/storage/file-rewrite.ts`), the rewrite half of GGUF's and
 * safetensors' `edit`: a new head before the old data section, published atomically, and
 * nothing written when the file is no longer the one that was read.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isTensioError } from '../src/core/errors.js';
import { fileIdentity } from '../src/storage/file-patch.js';
import { rewriteFileStart } from '../src/storage/file-rewrite.js';
import { fileSource } from '../src/storage/file-source.js';
import { tempDir } from './helpers/temp.js';

test('rewriteFileStart: the new head, then the old bytes from the data start; SOURCE_CHANGED and no output when the file changed', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'in.bin');
  const data = Uint8Array.from({ length: 100_000 }, (_, index) => (index * 7) & 0xff);
  await writeFile(path, Uint8Array.from([9, 9, 9, 9, ...data]));
  const identity = await fileIdentity(path);
  const source = await fileSource(path);
  try {
    const output = join(dir, 'out.bin');
    await rewriteFileStart(path, source, identity, Uint8Array.from([1, 2, 3, 4, 5, 6]), 4, output, { format: 'test' });
    assert.deepEqual(new Uint8Array(await readFile(output)), Uint8Array.from([1, 2, 3, 4, 5, 6, ...data]));
    const other = join(dir, 'other.bin');
    await assert.rejects(
      rewriteFileStart(path, source, { ...identity, size: identity.size + 1 }, Uint8Array.from([1]), 4, other, { format: 'test' }),
      (error: unknown) => isTensioError(error) && error.code === 'SOURCE_CHANGED' && /^test: .* changed while it was being edited/.test(error.message),
    );
    assert.equal(existsSync(other), false);
  } finally {
    await source.close?.();
  }
});
