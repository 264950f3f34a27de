/**
 * `tensio edit` in place is crash-safe (src/storage/file-patch.ts): a child editing a
 * GGUF header of several pages (and a safetensors header) is SIGKILLed after each step
 * of the patch (TENSIO_TEST_CRASH_AFTER=file-patch:k). After every kill the file is the
 * old one, the new one, or one every reader refuses (poisoned first bytes) with the
 * journal beside it, and its tensor bytes are untouched; `tensio edit FILE --recover`
 * (or the next edit) then leaves exactly the file an uninterrupted edit writes. A kill
 * inside the body write (half of it written) and a torn journal are recovered too.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isTensioError } from '../src/core/errors.js';
import { ggufCreateWriter, ggufOpen } from '../src/formats/gguf/index.js';
import { getFormat, openTensorFile } from '../src/operations/index.js';
import { FILE_PATCH_JOURNAL_SUFFIX, recoverFilePatch } from '../src/storage/file-patch.js';
import { runCli } from './helpers/cli.js';
import { tempDir } from './helpers/temp.js';

const CHILD = fileURLToPath(new URL('./helpers/edit-crash-child.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('..', import.meta.url));

function editInChild(format: string, file: string, key: string, value: string, crashAt?: number) {
  return spawnSync(process.execPath, ['--import', 'tsx', CHILD, format, file, key, value], {
    cwd: ROOT, encoding: 'utf8', timeout: 120_000,
    env: { ...process.env, ...(crashAt !== undefined ? { TENSIO_TEST_CRASH_AFTER: `file-patch:${crashAt}` } : {}) },
  });
}

/** A GGUF file whose header spans several pages (3,000 token strings) and an f32 tensor. */
async function writeGguf(path: string): Promise<void> {
  const tokens = Array.from({ length: 3000 }, (_, i) => `token-${i}`);
  const data = new Float32Array(64).map((_, i) => i * 0.5);
  const writer = await ggufCreateWriter(path, {
    tensors: [{ name: 'w', dtype: 'float32', shape: [8, 8] }],
    metadata: { 'general.architecture': 'llama', 'general.name': 'aaaa', 'tokenizer.ggml.tokens': tokens },
  });
  await writer.add('w', new Uint8Array(data.buffer));
  await writer.close();
}

test('edit in place: killed after each step, the file is old, new or refused, its data untouched; recovery gives the uninterrupted result', async (t) => {
  const dir = await tempDir(t);
  const original = join(dir, 'original.gguf');
  await writeGguf(original);
  const before = readFileSync(original);
  // The uninterrupted edit, to compare with.
  const clean = join(dir, 'clean.gguf');
  copyFileSync(original, clean);
  const run = editInChild('gguf', clean, 'general.name', 'bbbb');
  assert.equal(run.status, 0, run.stderr);
  assert.equal((JSON.parse(run.stdout) as { mode: string }).mode, 'in-place');
  const after = readFileSync(clean);
  assert.equal(after.byteLength, before.byteLength);
  await using cleanReader = await ggufOpen(clean);
  const dataStart = cleanReader.gguf.dataStart;
  assert.ok(dataStart > 3 * 4096, `the header spans several pages (${dataStart} bytes)`);
  assert.equal(cleanReader.metadata['general.name'], 'bbbb');
  assert.ok(!existsSync(clean + FILE_PATCH_JOURNAL_SUFFIX));

  for (const k of [1, 2, 3, 4, 5]) {
    const file = join(dir, `k${k}.gguf`);
    copyFileSync(original, file);
    const killed = editInChild('gguf', file, 'general.name', 'bbbb', k);
    assert.equal(killed.signal, 'SIGKILL', `step ${k}: ${killed.stderr}`);
    const now = readFileSync(file);
    assert.ok(now.subarray(dataStart).equals(before.subarray(dataStart)), `step ${k}: the tensor bytes are untouched`);
    const journal = existsSync(file + FILE_PATCH_JOURNAL_SUFFIX);
    if (k === 1) assert.ok(now.equals(before), 'after the journal: still the old file');
    if (k === 4 || k === 5) assert.ok(now.equals(after), `after step ${k}: the new file`);
    if (k === 2 || k === 3) {
      await assert.rejects(ggufOpen(file), (error: unknown) => isTensioError(error, 'BAD_MAGIC') && /interrupted/.test(error.message), `step ${k}: refused`);
    }
    assert.equal(journal, k < 5, `step ${k}: the journal is there until the last step`);
    // Half the runs finish through the CLI's --recover, half through the next edit.
    if (k % 2 === 1) {
      const recovered = await runCli(['edit', file, '--recover', '--json']);
      assert.equal(recovered.code, 0, recovered.stderr);
      assert.equal(JSON.parse(recovered.stdout).recovered, k < 5 ? 'finished' : 'none');
    } else {
      await getFormat('gguf').editMetadata!(file, { set: [['general.name', 'bbbb']] });
    }
    assert.ok(readFileSync(file).equals(after), `step ${k}: recovered to the uninterrupted result`);
    assert.ok(!existsSync(file + FILE_PATCH_JOURNAL_SUFFIX));
  }
});

test('edit in place: a kill inside the body write (half written) and a torn journal are recovered', async (t) => {
  const dir = await tempDir(t);
  const original = join(dir, 'original.gguf');
  await writeGguf(original);
  const before = readFileSync(original);
  const clean = join(dir, 'clean.gguf');
  copyFileSync(original, clean);
  assert.equal(editInChild('gguf', clean, 'general.name', 'bbbb').status, 0);
  const after = readFileSync(clean);
  // Killed after poisoning; then half the new body lands, as a kill inside that write leaves it.
  const half = join(dir, 'half.gguf');
  copyFileSync(original, half);
  assert.equal(editInChild('gguf', half, 'general.name', 'bbbb', 2).signal, 'SIGKILL');
  const torn = readFileSync(half);
  const differing = [...after.keys()].filter((i) => i >= 4 && after[i] !== before[i]);
  assert.ok(differing.length > 0);
  const cut = differing[Math.floor(differing.length / 2)]!;
  after.copy(torn, 4, 4, cut);
  writeFileSync(half, torn);
  assert.equal(await recoverFilePatch(half), 'finished');
  assert.ok(readFileSync(half).equals(after));
  // A journal torn by a kill while it was written: nothing was patched; it is dropped.
  const early = join(dir, 'early.gguf');
  copyFileSync(original, early);
  assert.equal(editInChild('gguf', early, 'general.name', 'bbbb', 1).signal, 'SIGKILL');
  truncateSync(early + FILE_PATCH_JOURNAL_SUFFIX, 100);
  assert.equal(await recoverFilePatch(early), 'dropped');
  assert.ok(readFileSync(early).equals(before));
  assert.ok(!existsSync(early + FILE_PATCH_JOURNAL_SUFFIX));
});

test('edit in place: a safetensors header is poisoned while rewritten and recovered the same way', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'model.safetensors');
  const writer = await getFormat('safetensors').createWriter!(file, { tensors: [{ name: 'w', dtype: 'float32', shape: [4] }], metadata: { name: 'aaaa' } });
  await writer.add('w', new Uint8Array(new Float32Array([1, 2, 3, 4]).buffer));
  await writer.close();
  const killed = editInChild('safetensors', file, 'name', 'bbbb', 3);
  assert.equal(killed.signal, 'SIGKILL', killed.stderr);
  await assert.rejects(openTensorFile(file, { format: 'safetensors' }), (error: unknown) => isTensioError(error));
  const recovered = await runCli(['edit', file, '--recover']);
  assert.equal(recovered.code, 0, recovered.stderr);
  await using reader = await openTensorFile(file);
  assert.equal(reader.metadata.name, 'bbbb');
  assert.deepEqual([...new Float32Array((await reader.read('w')).data.buffer.slice(0))], [1, 2, 3, 4]);
});
